/**
 * Rules for the secrets a lab handler owns (escrowed key material today;
 * passwords and CA keys alike). A handler, not CloudFormation, creates them,
 * so no template change can regenerate a value, and only their owner ever
 * schedules their deletion. Pure functions: the handler feeds them what
 * DescribeSecret and DescribeKey said.
 */

/** Tag naming the custom resource (`<StackId>/<LogicalResourceId>`) that owns the secret. */
export const MANAGED_BY_TAG = 'kms-key-lab:managed-by';

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
  | { readonly exists: true; readonly arn: string; readonly scheduledForDeletion: boolean; readonly managedBy?: string };

export function secretState(described: { ARN?: string; DeletedDate?: Date; Tags?: { Key?: string; Value?: string }[] } | undefined): SecretState {
  if (!described?.ARN) return { exists: false };
  return {
    exists: true,
    arn: described.ARN,
    scheduledForDeletion: described.DeletedDate !== undefined,
    managedBy: described.Tags?.find((t) => t.Key === MANAGED_BY_TAG)?.Value,
  };
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

export type ReleaseDecision = { readonly action: 'schedule' } | { readonly action: 'keep'; readonly reason: string };

/**
 * Whether the Delete of resource `me` schedules the secret's deletion. It
 * needs no secret value, so it works when the value cannot be decrypted.
 * The only reason to keep a live secret is proof that another resource owns
 * it now: a replacement that took it over (its Create ran before this Delete).
 */
export function releaseDecision(state: SecretState, me: string): ReleaseDecision {
  if (!state.exists) return { action: 'keep', reason: 'the secret is already gone' };
  if (state.scheduledForDeletion) return { action: 'keep', reason: 'the secret is already scheduled for deletion' };
  if (state.managedBy && state.managedBy !== me) {
    return { action: 'keep', reason: `the secret is now owned by ${state.managedBy}` };
  }
  return { action: 'schedule' };
}

/**
 * A recovery window that ends after the key is deleted: one day past the
 * key's own deletion date when it is already scheduled, otherwise one day
 * past its pending window (CloudFormation schedules the key moments after
 * this). Within Secrets Manager's 7 to 30 days.
 */
export function escrowRecoveryWindowDays(keyPendingWindowDays: number, keyDeletionDate: Date | undefined, now: Date): number {
  const keyDays = keyDeletionDate ? Math.ceil((keyDeletionDate.getTime() - now.getTime()) / DAY_MS) : keyPendingWindowDays;
  return Math.min(MAX_RECOVERY_WINDOW_DAYS, Math.max(MIN_RECOVERY_WINDOW_DAYS, keyDays + ESCROW_EXTRA_DAYS));
}

/** The longest pending window a key can have while its escrow still outlives it. */
export const MAX_ESCROWED_KEY_PENDING_WINDOW_DAYS = MAX_RECOVERY_WINDOW_DAYS - ESCROW_EXTRA_DAYS;
