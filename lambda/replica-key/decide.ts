/**
 * The decisions of the replica-key handler, as plain functions of what
 * DescribeKey and ListResourceTags said. KMS allows one replica of a primary
 * per Region, and a replica pending deletion still counts: ReplicateKey
 * answers AlreadyExistsException until its waiting period ends, and the way
 * back is CancelKeyDeletion (ReplicateKey API reference). So a Create first
 * looks for the replica it would make and adopts one that is pending deletion.
 */

import { MANAGED_BY_TAG } from '../shared/secret-lifecycle';

/** Names the custom resource (`<StackId>/<LogicalResourceId>`) that owns the replica, as on the escrow secrets. */
export { MANAGED_BY_TAG };

/** The parts of DescribeKey's KeyMetadata the decisions need. */
export interface ReplicaView {
  readonly Arn?: string;
  readonly KeyState?: string;
  readonly Origin?: string;
  readonly MultiRegionConfiguration?: { readonly MultiRegionKeyType?: string };
}

export type CreateStep =
  /** No replica in this Region: ReplicateKey. */
  | { readonly action: 'replicate' }
  /** A replica pending deletion, whoever owned it: cancel the deletion and make it this resource's. */
  | { readonly action: 'adopt' }
  /** A live replica this resource already owns (a repeated Create): apply the properties again. */
  | { readonly action: 'converge' }
  | { readonly action: 'refuse'; readonly reason: string };

/**
 * What a Create does with the replica it finds in this Region (undefined:
 * none). A live replica is taken only from this very resource: one that
 * another resource owns, or that carries no owner tag (an earlier version's
 * AWS::KMS::ReplicaKey), is still in use by something CloudFormation manages.
 */
export function createStep(found: ReplicaView | undefined, owner: string | undefined, me: string, stackName: string): CreateStep {
  if (!found) return { action: 'replicate' };
  if (found.MultiRegionConfiguration?.MultiRegionKeyType !== 'REPLICA') {
    return { action: 'refuse', reason: `${found.Arn} is not a multi-Region replica key (it is ${found.MultiRegionConfiguration?.MultiRegionKeyType ?? 'not multi-Region'}), so it cannot be this Region's replica` };
  }
  if (found.KeyState === 'PendingDeletion') return { action: 'adopt' };
  if (owner === me) return { action: 'converge' };
  const holder = owner
    ? `it belongs to ${owner} (tag ${MANAGED_BY_TAG})`
    : `it carries no ${MANAGED_BY_TAG} tag, so an earlier version of the lab (AWS::KMS::ReplicaKey) or someone else made it`;
  return {
    action: 'refuse',
    reason:
      `the primary already has a replica in this Region, ${found.Arn} (${found.KeyState}), and ${holder}. KMS allows one replica ` +
      `per Region, and this resource does not take over a replica something else still manages. What to do: \`npx cdk destroy ${stackName}\`, ` +
      'which schedules that replica for deletion, then deploy this stack again, which adopts it (cancels the deletion and keeps its key id and material). ' +
      `If the stack that made it no longer exists, schedule it yourself (\`aws kms schedule-key-deletion --key-id ${found.Arn} --pending-window-in-days 7 --region ${regionOf(found.Arn ?? '')}\`) and deploy again`,
  };
}

export type AfterCancel =
  /** A replica whose material KMS generated comes back Disabled (CancelKeyDeletion API): enable it. */
  | { readonly action: 'enable' }
  /**
   * A replica with imported material comes back Disabled too, and the import
   * handler that follows does not import into a Disabled key. Deleting its
   * material leaves it PendingImport (DeleteImportedKeyMaterial API: a key not
   * pending deletion becomes PendingImport), and the import resource then
   * imports the escrowed material again, which enables it.
   */
  | { readonly action: 'await-import' }
  | { readonly action: 'none' };

export function afterCancel(key: ReplicaView): AfterCancel {
  if (key.KeyState !== 'Disabled') return { action: 'none' };
  return key.Origin === 'EXTERNAL' ? { action: 'await-import' } : { action: 'enable' };
}

export type DeleteStep = { readonly action: 'schedule' } | { readonly action: 'keep'; readonly reason: string };

/** A Delete schedules only a replica this resource owns; gone or already pending deletion is done. */
export function deleteStep(found: ReplicaView | undefined, owner: string | undefined, me: string): DeleteStep {
  if (!found) return { action: 'keep', reason: 'the replica is already gone' };
  if (found.KeyState === 'PendingDeletion') return { action: 'keep', reason: 'the replica is already pending deletion' };
  if (owner !== me) return { action: 'keep', reason: owner ? `the replica is owned by ${owner}` : 'the replica carries no owner tag of this resource' };
  return { action: 'schedule' };
}

/** KMS's transient states of a multi-Region key (Creating after ReplicateKey, Updating after UpdatePrimaryRegion). */
export function settled(key: ReplicaView): boolean {
  return key.KeyState !== 'Creating' && key.KeyState !== 'Updating';
}

/** The replica's ARN: the primary's, with this Region (a replica keeps the primary's key id). */
export function replicaArnOf(primaryKeyArn: string, region: string): string {
  const parts = primaryKeyArn.split(':');
  if (parts.length < 6 || parts[2] !== 'kms' || !parts[5].startsWith('key/')) {
    throw new Error(`Custom::LabReplicaKey: PrimaryKeyArn ${primaryKeyArn} is not a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>).`);
  }
  parts[3] = region;
  return parts.join(':');
}

export function regionOf(arn: string): string {
  return arn.split(':')[3] ?? '';
}

/** The stack's name, from its ARN (`arn:...:stack/<name>/<guid>`). */
export function stackNameOf(stackId: string): string {
  return stackId.split(':stack/')[1]?.split('/')[0] ?? stackId;
}

export interface ReplicaProperties {
  readonly primaryKeyArn: string;
  readonly policy: string;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly pendingWindowDays: number;
}

const WHAT = 'Custom::LabReplicaKey';

export function replicaProperties(props: Record<string, unknown>): ReplicaProperties {
  const primaryKeyArn = props.PrimaryKeyArn;
  if (typeof primaryKeyArn !== 'string' || primaryKeyArn === '') throw new Error(`${WHAT}: resource property PrimaryKeyArn is missing.`);
  const policy = props.KeyPolicy;
  if (typeof policy !== 'object' || policy === null || !Array.isArray((policy as { Statement?: unknown }).Statement)) {
    throw new Error(`${WHAT}: resource property KeyPolicy must be a policy document with a Statement list.`);
  }
  const description = typeof props.Description === 'string' ? props.Description : '';
  const tags = props.Tags ?? {};
  if (typeof tags !== 'object' || tags === null || Object.values(tags).some((v) => typeof v !== 'string')) {
    throw new Error(`${WHAT}: resource property Tags must map tag keys to string values.`);
  }
  const pendingWindowDays = Number(props.PendingWindowDays);
  if (!Number.isInteger(pendingWindowDays) || pendingWindowDays < 7 || pendingWindowDays > 30) {
    throw new Error(`${WHAT}: resource property PendingWindowDays is ${JSON.stringify(props.PendingWindowDays)}; accepted: a whole number from 7 to 30.`);
  }
  return { primaryKeyArn, policy: JSON.stringify(policy), description, tags: tags as Record<string, string>, pendingWindowDays };
}

/** Tag keys the old properties set and the new ones no longer do. */
export function removedTagKeys(old: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string>>): string[] {
  return Object.keys(old).filter((k) => !(k in wanted));
}
