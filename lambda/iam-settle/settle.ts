/**
 * How long a new IAM role is left to become visible to the other services
 * before the key stacks name it in key policies. IAM "uses a distributed
 * computing model called eventual consistency. Any change that you make in
 * IAM ... takes time to become visible from all possible endpoints" (IAM User
 * Guide, "Changes that I make are not always immediately visible"); KMS
 * refuses a key policy naming a principal it cannot see yet with
 * MalformedPolicyDocumentException ("you might need to enforce a delay before
 * including the new principal in a key policy", KMS API reference, CreateKey,
 * Policy), and CloudFormation's AWS::KMS::Key does not retry that. Neither
 * gives a figure: a role seen to be a minute old has in practice been
 * visible for most of it; the lab's own handlers retry on top (see
 * lambda/shared/transient.ts).
 */
export const ROLE_SETTLE_MS = 60_000;

/** True once every role has existed for ROLE_SETTLE_MS (by IAM's own CreateDate), so the first call after creation is not the one that counts. */
export function rolesSettled(createDates: readonly Date[], now: Date, settleMs = ROLE_SETTLE_MS): boolean {
  return createDates.length > 0 && createDates.every((created) => now.getTime() - created.getTime() >= settleMs);
}
