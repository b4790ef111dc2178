/**
 * Rules for the secrets a lab handler owns (escrowed key material today;
 * passwords and CA keys alike). A handler, not CloudFormation, creates them,
 * so no template change can regenerate a value, and only their owner ever
 * schedules their deletion. Pure functions: the handler feeds them what
 * DescribeSecret and DescribeKey said.
 */

/** Tag naming the custom resource (`<StackId>/<LogicalResourceId>`) that owns the secret. */
export const MANAGED_BY_TAG = 'kms-key-lab:managed-by';
/**
 * Tag naming the owner before a takeover, until the takeover is settled: a
 * replacement that took the secret over may still be rolled back, and then the
 * secret goes back to the resource it came from instead of being scheduled.
 */
export const PREVIOUS_MANAGED_BY_TAG = 'kms-key-lab:previous-managed-by';

/** Secrets Manager's recovery window bounds. */
export const MIN_RECOVERY_WINDOW_DAYS = 7;
export const MAX_RECOVERY_WINDOW_DAYS = 30;
/** How much longer than its key an escrow waits, so the material is recoverable while the key is. */
export const ESCROW_EXTRA_DAYS = 1;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface OwnerEvent {
  readonly StackId: string;
  readonly LogicalResourceId: string;
}

/** The identity of one custom resource in one stack: stable across updates, new after a replacement. */
export function managedByValue(event: OwnerEvent): string {
  return `${event.StackId}/${event.LogicalResourceId}`;
}

/** What DescribeSecret says, reduced to what the rules need. */
export type SecretState =
  | { readonly exists: false }
  | {
      readonly exists: true;
      readonly arn: string;
      readonly scheduledForDeletion: boolean;
      readonly managedBy?: string;
      readonly previousManagedBy?: string;
      /** The Regions Secrets Manager replicates the secret to; absent when it has no replica. */
      readonly replicas?: readonly ReplicaState[];
    };

/** One replica Region of a secret, as DescribeSecret's ReplicationStatus shows it. */
export interface ReplicaState {
  readonly region: string;
  /** InSync, InProgress or Failed. */
  readonly status: string;
  readonly statusMessage?: string;
}

export interface DescribedSecret {
  ARN?: string;
  DeletedDate?: Date;
  Tags?: { Key?: string; Value?: string }[];
  ReplicationStatus?: { Region?: string; Status?: string; StatusMessage?: string }[];
}

export function secretState(described: DescribedSecret | undefined): SecretState {
  if (!described?.ARN) return { exists: false };
  const tag = (key: string) => described.Tags?.find((t) => t.Key === key)?.Value;
  const replicas = (described.ReplicationStatus ?? [])
    .filter((r) => r.Region)
    .map((r) => ({ region: r.Region!, status: r.Status ?? 'InProgress', ...(r.StatusMessage ? { statusMessage: r.StatusMessage } : {}) }));
  return {
    exists: true,
    arn: described.ARN,
    scheduledForDeletion: described.DeletedDate !== undefined,
    managedBy: tag(MANAGED_BY_TAG),
    previousManagedBy: tag(PREVIOUS_MANAGED_BY_TAG),
    ...(replicas.length > 0 ? { replicas } : {}),
  };
}

export type ReplicationStep =
  | { readonly action: 'none' }
  /** Regions that have no replica: a restored secret lost its replicas when it was scheduled. */
  | { readonly action: 'replicate'; readonly regions: readonly string[] }
  | { readonly action: 'failed'; readonly region: string; readonly reason: string };

/**
 * What a live secret needs so that every wanted Region holds a replica. A
 * replica still InProgress counts as there: Secrets Manager finishes it.
 */
export function replicationStep(state: SecretState, wantedRegions: readonly string[]): ReplicationStep {
  const replicas = state.exists ? (state.replicas ?? []) : [];
  const failed = replicas.find((r) => wantedRegions.includes(r.region) && r.status === 'Failed');
  if (failed) return { action: 'failed', region: failed.region, reason: failed.statusMessage ?? 'no reason given' };
  const missing = wantedRegions.filter((region) => !replicas.some((r) => r.region === region));
  return missing.length > 0 ? { action: 'replicate', regions: missing } : { action: 'none' };
}

/** What a secret was before this invocation touched it: a failed Create or Update puts it back. */
export type PriorState = 'absent' | 'scheduled' | 'live';

export function priorState(state: SecretState): PriorState {
  if (!state.exists) return 'absent';
  return state.scheduledForDeletion ? 'scheduled' : 'live';
}

/**
 * A failed Create or Update schedules the deletion of a secret it created or
 * restored; one that was live before belongs to a resource that still uses it.
 */
export function scheduleAfterFailure(prior: PriorState): boolean {
  return prior !== 'live';
}

export type ReleaseDecision =
  | { readonly action: 'schedule' }
  /** The takeover by this resource is being rolled back: the secret goes back to its previous owner. */
  | { readonly action: 'hand-back'; readonly to: string }
  /** This resource was replaced and its successor keeps the secret: the hand-back note is no longer needed. */
  | { readonly action: 'settle-takeover'; readonly owner: string }
  | { readonly action: 'keep'; readonly reason: string };

/**
 * What the Delete of resource `me` does with the secret. It needs no secret
 * value, so it works when the value cannot be decrypted. A live secret is kept
 * only on proof that another resource owns it: a replacement that took it
 * over (its Create ran before this Delete), or the previous owner of a
 * takeover that is being rolled back.
 */
export function releaseDecision(state: SecretState, me: string): ReleaseDecision {
  if (!state.exists) return { action: 'keep', reason: 'the secret is already gone' };
  if (state.scheduledForDeletion) return { action: 'keep', reason: 'the secret is already scheduled for deletion' };
  if (state.managedBy && state.managedBy !== me) {
    if (state.previousManagedBy === me) return { action: 'settle-takeover', owner: state.managedBy };
    return { action: 'keep', reason: `the secret is now owned by ${state.managedBy}` };
  }
  if (state.previousManagedBy && state.previousManagedBy !== me) return { action: 'hand-back', to: state.previousManagedBy };
  return { action: 'schedule' };
}

/**
 * A recovery window that ends after the key is deleted: one day past the
 * key's own deletion date when it is already scheduled, otherwise one day
 * past its pending window (CloudFormation schedules the key moments after
 * this). Within Secrets Manager's 7 to 30 days.
 *
 * A multi-Region primary scheduled while a replica is pending deletion waits
 * in PendingReplicaDeletion, with no deletion date, until the replica is gone,
 * and only then starts its own window: `replicaPendingWindowDays` adds the
 * replica's window in front of the key's.
 */
export function escrowRecoveryWindowDays(
  keyPendingWindowDays: number,
  keyDeletionDate: Date | undefined,
  now: Date,
  replicaPendingWindowDays = 0,
): number {
  const keyDays = keyDeletionDate
    ? Math.ceil((keyDeletionDate.getTime() - now.getTime()) / DAY_MS)
    : replicaPendingWindowDays + keyPendingWindowDays;
  return Math.min(MAX_RECOVERY_WINDOW_DAYS, Math.max(MIN_RECOVERY_WINDOW_DAYS, keyDays + ESCROW_EXTRA_DAYS));
}

/** The longest pending window a key can have while its escrow still outlives it. */
export const MAX_ESCROWED_KEY_PENDING_WINDOW_DAYS = MAX_RECOVERY_WINDOW_DAYS - ESCROW_EXTRA_DAYS;

/**
 * The same for a multi-Region primary and its replica, which both wait that
 * long: the primary can stay recoverable for twice the window (see
 * escrowRecoveryWindowDays), and its escrow a day longer.
 */
export const MAX_MULTI_REGION_ESCROWED_KEY_PENDING_WINDOW_DAYS = Math.floor(MAX_ESCROWED_KEY_PENDING_WINDOW_DAYS / 2);
