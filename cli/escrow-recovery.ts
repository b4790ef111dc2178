import { escrowRecoveryWindowDays } from '../lambda/shared/secret-lifecycle';
import { EscrowScenario } from './lab-stacks';

/**
 * Who can bring back an escrow secret scheduled for deletion, and until when.
 * The escrow's resource policy lets only its readers and the key
 * administrators read it, and the key administrators restore it
 * (lib/policies/lab-secret-policy.ts): with the lab's own KeyAdmin role, that
 * role is the one principal other than the account root user that can, so
 * `kms-lab teardown` keeps the roles stack while an escrow is recoverable.
 */

/** An escrow secret of the lab that Secrets Manager has scheduled for deletion (DescribeSecret or ListSecrets said so). */
export interface PendingEscrow {
  readonly name: string;
  readonly region: string;
  /** (c) or (e), when known (from the primary stack's outputs, or the secret's name); undefined counts as the longer (e). */
  readonly scenario?: EscrowScenario;
  /** DescribeSecret's DeletedDate: when its deletion was scheduled (see recoverableUntil). */
  readonly deletedDate: Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The recovery window the import handler gave the escrow when its stack was
 * deleted (lambda/shared/secret-lifecycle.ts): the key's pending window and a
 * day, and for (e) the replica's window in front, within Secrets Manager's 7
 * to 30 days. Secrets Manager does not report the window itself.
 */
export function escrowWindowDays(scenario: EscrowScenario | undefined, pendingWindowDays: number): number {
  return escrowRecoveryWindowDays(pendingWindowDays, undefined, new Date(0), scenario === 'c' ? 0 : pendingWindowDays);
}

/**
 * Until when the escrow can be restored: its DeletedDate plus its window.
 * DeleteSecret's own answer, DeletionDate, is "the date and time of the delete
 * request plus the number of days specified in RecoveryWindowInDays"
 * (Secrets Manager API reference, DeleteSecret); DescribeSecret's DeletedDate
 * is documented as "the date the secret is scheduled for deletion ... Some
 * time after the deleted date, Secrets Manager deletes the secret" (API
 * reference, DescribeSecret), which the lab reads, as `kms-lab status` does,
 * as the day the deletion was asked for. Were it the end of the window, this
 * date would be later than the real one: the roles are then kept longer,
 * never shorter, since the teardown keeps them while the secret still exists.
 */
export function recoverableUntil(escrow: PendingEscrow, pendingWindowDays: number): Date {
  return new Date(escrow.deletedDate.getTime() + escrowWindowDays(escrow.scenario, pendingWindowDays) * DAY_MS);
}

/** The scenario of an escrow by its name (`<prefix>/imported-material/escrow-...`, `<prefix>/multi-region-imported/escrow-...`). */
export function escrowScenarioOf(name: string): EscrowScenario | undefined {
  if (/\/multi-region-imported\/escrow-/.test(name)) return 'e';
  if (/\/imported-material\/escrow-/.test(name)) return 'c';
  return undefined;
}

/** True for a name the lab gives an escrow secret: `<prefix>/<alias path>/escrow-<key id>`. */
export function isEscrowName(name: string, prefix: string): boolean {
  return name.startsWith(`${prefix}/`) && /\/escrow-[^/]+$/.test(name);
}

export function restoreCommand(escrow: Pick<PendingEscrow, 'name' | 'region'>): string {
  return `aws secretsmanager restore-secret --secret-id ${escrow.name} --region ${escrow.region}`;
}

/** One escrow pending deletion as `kms-lab status` reports it. */
export interface EscrowRecovery {
  /** The secret's name. */
  readonly secret: string;
  readonly region: string;
  /** DescribeSecret's DeletedDate (ISO): when the deletion was scheduled. */
  readonly deletedDate: string;
  /** DeletedDate plus the escrow's recovery window (ISO): until then RestoreSecret brings it back. */
  readonly recoverableUntil: string;
  /**
   * The principals other than the account root user that the escrow's policy lets restore and read it: the lab's
   * KeyAdmin role while the roles stack stands, else the configured keyAdminArns. Empty: only the root user can.
   */
  readonly recoverBy: readonly string[];
  /** The command to run as one of recoverBy (for a role: with credentials from `aws sts assume-role`). */
  readonly command: string;
}

export function escrowRecovery(escrow: PendingEscrow, pendingWindowDays: number, recoverBy: readonly string[]): EscrowRecovery {
  return {
    secret: escrow.name,
    region: escrow.region,
    deletedDate: escrow.deletedDate.toISOString(),
    recoverableUntil: recoverableUntil(escrow, pendingWindowDays).toISOString(),
    recoverBy,
    command: restoreCommand(escrow),
  };
}

/** One line: who can restore the escrow, until when, and how. */
export function escrowRecoveryLine(r: EscrowRecovery): string {
  const who =
    r.recoverBy.length > 0
      ? `by ${r.recoverBy.join(' or ')}${r.recoverBy.some((a) => a.includes(':role/')) ? ' (assume it: `aws sts assume-role --role-arn <arn> --role-session-name escrow-recovery`)' : ''}`
      : 'only by the account root user (the roles stack that held the key administrator role is gone)';
  return `${r.secret} (${r.region}): recoverable until ${r.recoverableUntil} ${who}: \`${r.command}\``;
}
