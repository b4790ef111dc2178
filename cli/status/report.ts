import { EscrowRecovery } from '../escrow-recovery';
import { KeyScenario, StackRole } from '../lab-stacks';

/** CloudTrail's LookupEvents covers this much history. */
export const CLOUDTRAIL_LOOKBACK_DAYS = 90;
export const NEVER_USED = `never in the last ${CLOUDTRAIL_LOOKBACK_DAYS} days`;

export interface StackStatus {
  readonly role: StackRole;
  readonly name: string;
  readonly region: string;
  /** CloudFormation's StackStatus, or NOT_DEPLOYED. */
  readonly status: string;
  readonly lastUpdated?: string;
}

export interface KeyStatus {
  readonly scenario: KeyScenario;
  /** primary or secondary: which of the scenario's keys (for (b) and (e), secondary is the replica). */
  readonly where: 'primary' | 'secondary';
  readonly region: string;
  readonly keyArn: string;
  readonly alias: string;
  /** KMS KeyState (Enabled, Disabled, PendingDeletion, PendingImport, Unavailable, ...); "unknown" when DescribeKey failed. */
  readonly state: string;
  readonly enabled?: boolean;
  /** AWS_KMS, EXTERNAL or AWS_CLOUDHSM. */
  readonly origin?: string;
  /** PRIMARY or REPLICA for multi-Region keys. */
  readonly multiRegion?: string;
  /** "on, every 365 days, next 2026-01-01T00:00:00.000Z", "off", or why not applicable. */
  readonly rotation: string;
  /** When KMS deletes the key, if it is scheduled. */
  readonly deletionDate?: string;
  /** Newest CloudTrail event naming the key, in its Region. */
  readonly lastUsed?: { readonly at: string; readonly event: string };
  /**
   * What the last-use lookup found: "used" (see lastUsed), "never" (CloudTrail answered, and no event used the
   * key in the last 90 days), or "unknown" (LookupEvents failed: see lastUsedUnknownReason).
   */
  readonly lastUsedStatus: LastUsedStatus;
  /** With lastUsedStatus "unknown": why, e.g. "LookupEvents failed (ThrottlingException): Rate exceeded". */
  readonly lastUsedUnknownReason?: string;
}

export type LastUsedStatus = 'used' | 'never' | 'unknown';

/** What the last-use lookup of one key found; a failed lookup is unknown, never "never". */
export type LastUse =
  | { readonly status: 'used'; readonly at: string; readonly event: string }
  | { readonly status: 'never' }
  | { readonly status: 'unknown'; readonly reason: string };

export interface CloudHsmStatus {
  readonly keyStoreId?: string;
  readonly connectionState?: string;
  readonly connectionErrorCode?: string;
  /** The stack output LabExpiresAt: when the stack deletes itself; unset when labExpiryHours is 0. */
  readonly expiresAt?: string;
  readonly clusterId?: string;
  readonly clusterState?: string;
  readonly hsmCount?: number;
  /** HSMs × hours since the cluster was created: an upper-bound estimate, not a bill. */
  readonly hsmHoursEstimate?: number;
}

export interface PendingDeletion {
  readonly kind: 'key' | 'secret';
  readonly name: string;
  readonly region: string;
  /**
   * For a key, when KMS deletes it. For a secret, when it was scheduled for
   * deletion (DescribeSecret's DeletedDate): Secrets Manager does not expose
   * the recovery window, so the deletion itself comes up to 30 days later.
   */
  readonly date: string;
  readonly dateMeaning: 'deleted-on' | 'scheduled-on';
}

/**
 * What `kms-lab status --json` prints: the lab as AWS reports it, read-only.
 * Stable like the verify report: fields are only ever added.
 */
export interface StatusReport {
  readonly schemaVersion: 1;
  readonly prefix: string;
  readonly regions: { readonly primary: string; readonly secondary: string };
  readonly generatedAt: string;
  /** Every lab stack: primary, secondary, cloudhsm, roles, alarm-primary, alarm-secondary (NOT_DEPLOYED when not deployed, as the opt-in ones often are). */
  readonly stacks: readonly StackStatus[];
  readonly keys: readonly KeyStatus[];
  /** Present when the cloudhsm stack is deployed. */
  readonly cloudHsm?: CloudHsmStatus;
  /** Present when the roles stack is deployed: the key administrator and key user roles it made (for an empty keyAdminArns or keyUserArns). */
  readonly labRoles?: { readonly stack: string; readonly keyAdminRoleArn?: string; readonly keyUserRoleArn?: string };
  readonly pendingDeletion: readonly PendingDeletion[];
  /**
   * Each escrow secret of the lab scheduled for deletion (found by the primary stack's outputs, or after a teardown by
   * the lab's tag and its name): who besides the account root user can restore it, until when, and the command.
   */
  readonly escrowRecovery: readonly EscrowRecovery[];
  /** One paragraph per thing that will not settle by itself (an alarm stack whose execution role is gone); the exit code stays 0. */
  readonly warnings: readonly string[];
  /** One paragraph per read that failed; the command then exits 1. */
  readonly problems: readonly string[];
  readonly apiCalls: number;
}

/** Hours since the cluster was created, times its HSMs, to one decimal: no HSM can have run longer. */
export function estimateHsmHours(createdAt: Date | undefined, hsmCount: number, now: Date): number | undefined {
  if (!createdAt) return undefined;
  const hours = Math.max(0, now.getTime() - createdAt.getTime()) / 3_600_000;
  return Math.round(hours * hsmCount * 10) / 10;
}

export function rotationText(input: { origin?: string; state: string; enabled?: boolean; periodDays?: number; next?: Date }): string {
  if (input.origin && input.origin !== 'AWS_KMS') return `n/a (${input.origin} material)`;
  if (input.enabled === undefined) return `n/a (${input.state})`;
  if (!input.enabled) return 'off';
  const every = input.periodDays ? `, every ${input.periodDays} days` : '';
  const next = input.next ? `, next ${input.next.toISOString()}` : '';
  return `on${every}${next}`;
}

/** "2025-06-01T10:00:00.000Z (3 hours ago, Decrypt)", the 90-day "never", or "unknown: <why>" when the lookup failed. */
export function lastUsedText(key: Pick<KeyStatus, 'lastUsed' | 'lastUsedStatus' | 'lastUsedUnknownReason'>, now: Date): string {
  if (key.lastUsedStatus === 'unknown') return `unknown: ${key.lastUsedUnknownReason ?? 'the CloudTrail lookup failed'}`;
  if (!key.lastUsed) return NEVER_USED;
  return `${key.lastUsed.at} (${ago(new Date(key.lastUsed.at), now)}, ${key.lastUsed.event})`;
}

/** The KeyStatus fields of a last-use lookup. */
export function lastUseFields(use: LastUse): Pick<KeyStatus, 'lastUsed' | 'lastUsedStatus' | 'lastUsedUnknownReason'> {
  if (use.status === 'used') return { lastUsed: { at: use.at, event: use.event }, lastUsedStatus: 'used' };
  if (use.status === 'unknown') return { lastUsedStatus: 'unknown', lastUsedUnknownReason: use.reason };
  return { lastUsedStatus: 'never' };
}

export function ago(then: Date, now: Date): string {
  const minutes = Math.max(0, Math.round((now.getTime() - then.getTime()) / 60_000));
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

/** Everything scheduled for deletion, soonest first. */
export function pendingDeletions(keys: readonly KeyStatus[], secrets: readonly { name: string; region: string; deletedDate?: string }[]): PendingDeletion[] {
  const items: PendingDeletion[] = [
    ...keys
      .filter((k) => k.deletionDate)
      .map((k): PendingDeletion => ({ kind: 'key', name: k.keyArn, region: k.region, date: k.deletionDate!, dateMeaning: 'deleted-on' })),
    ...secrets
      .filter((s) => s.deletedDate)
      .map((s): PendingDeletion => ({ kind: 'secret', name: s.name, region: s.region, date: s.deletedDate!, dateMeaning: 'scheduled-on' })),
  ];
  return items.sort((a, b) => a.date.localeCompare(b.date));
}
