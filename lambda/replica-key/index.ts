import {
  CancelKeyDeletionCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  EnableKeyCommand,
  KeyMetadata,
  KMSClient,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  ReplicateKeyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateKeyDescriptionCommand,
} from '@aws-sdk/client-kms';
import type { Context } from 'aws-lambda';
import { Caller, ExplainedError, makeCaller, rootCause } from '../shared/aws-call';
import { CLIENT_CONFIG } from '../shared/clients';
import { CustomResourceEvent, IsCompleteEvent, IsCompleteResponse, OnEventResponse, resourceProperties } from '../shared/custom-resource';
import { log, loggableEvent } from '../shared/log';
import { errorName, isNamed } from '../shared/retry';
import { managedByValue } from '../shared/secret-lifecycle';
import { beginCleanup, beginInvocation, isAskAgainLater, transientKindsFor } from '../shared/transient';
import {
  afterCancel,
  createStep,
  deleteStep,
  MANAGED_BY_TAG,
  regionOf,
  removedTagKeys,
  replicaArnOf,
  ReplicaProperties,
  replicaProperties,
  settled,
  stackNameOf,
} from './decide';

export { setSleepForTests } from '../shared/transient';

/**
 * "The principals in the key policy must exist and be visible to KMS ... the new principal might not be immediately
 * visible" (ReplicateKey and PutKeyPolicy, Policy parameter): KMS answers MalformedPolicyDocumentException, and so it
 * does while this handler's own new role is not yet visible to the lockout check. Waited out within the budget of a
 * new principal (lambda/shared/transient.ts), as lambda/hsm-key does: IAM's propagation takes longer than NotFound's.
 */
const NEW_PRINCIPALS = { newPrincipalNames: ['MalformedPolicyDocumentException'] } as const;

/** This Region's KMS: the replica's. ReplicateKey alone is called in the primary's Region. */
const kms = new KMSClient(CLIENT_CONFIG);
const primaryClients = new Map<string, KMSClient>();
function primaryKms(region: string): KMSClient {
  let client = primaryClients.get(region);
  if (!client) {
    client = new KMSClient({ ...CLIENT_CONFIG, region });
    primaryClients.set(region, client);
  }
  return client;
}

/**
 * `Custom::LabReplicaKey`: the replica of a multi-Region primary in this
 * Region, for scenarios (b) and (e), in place of AWS::KMS::ReplicaKey, which
 * fails for as long as an earlier replica is pending deletion (one replica per
 * Region; a replica pending deletion still exists: ReplicateKey answers
 * AlreadyExistsException, ReplicateKey API reference). Create replicates, or
 * adopts the replica pending deletion: CancelKeyDeletion (the key comes back
 * Disabled, CancelKeyDeletion API), then this resource's policy, description
 * and tags. The owner tag (kms-key-lab:managed-by, as on the escrow secrets)
 * says which resource owns the replica; Delete schedules only a replica this
 * resource owns. isComplete waits out the transient Creating state (ReplicateKey
 * API: "changes to Enabled (or PendingImport) after a few seconds").
 */
export async function onEvent(event: CustomResourceEvent, context?: Context): Promise<OnEventResponse> {
  beginInvocation(context);
  log('replica-key event', loggableEvent(event));
  const call = makeCaller(transientKindsFor(event.RequestType));
  const props = replicaProperties(resourceProperties(event));
  const me = managedByValue(event);
  const replicaArn = replicaArnOf(props.primaryKeyArn, process.env.AWS_REGION ?? '');
  if (event.RequestType === 'Delete') return onDelete(event.PhysicalResourceId, props, me);
  if (event.RequestType === 'Update') {
    const old = replicaProperties(event.OldResourceProperties);
    // A new primary is a new key id, so a new replica: a replacement, whose old replica the Delete that follows schedules.
    if (old.primaryKeyArn === props.primaryKeyArn) return onUpdate(call, replicaArn, props, old, me, stackNameOf(event.StackId));
  }
  return onCreate(call, replicaArn, props, me, stackNameOf(event.StackId));
}

/** `removed`: tag keys an Update no longer gives, taken off a replica that is adopted or converged on. */
async function onCreate(call: Caller, replicaArn: string, props: ReplicaProperties, me: string, stackName: string, removed: string[] = []): Promise<OnEventResponse> {
  const found = await describeIfAny(replicaArn);
  const owner = found ? await ownerOf(call, replicaArn) : undefined;
  const step = createStep(found, owner, me, stackName);
  log('replica decision', { replicaArn, keyState: found?.KeyState, owner, action: step.action });
  switch (step.action) {
    case 'refuse':
      throw new ExplainedError(`Cannot create the replica of ${props.primaryKeyArn} in ${regionOf(replicaArn)}: ${step.reason}.`);
    case 'converge':
      await applyProperties(call, replicaArn, props, me, removed);
      return answer(replicaArn);
    case 'adopt':
      return adopt(call, replicaArn, props, me, removed);
    case 'replicate':
      return replicate(call, replicaArn, props, me, stackName);
  }
}

async function replicate(call: Caller, replicaArn: string, props: ReplicaProperties, me: string, stackName: string): Promise<OnEventResponse> {
  const primaryRegion = regionOf(props.primaryKeyArn);
  try {
    await call('ReplicateKey', () =>
      primaryKms(primaryRegion).send(
        new ReplicateKeyCommand({
          KeyId: props.primaryKeyArn,
          ReplicaRegion: regionOf(replicaArn),
          Policy: props.policy,
          Description: props.description,
          Tags: tagList({ ...props.tags, [MANAGED_BY_TAG]: me }),
        }),
      ),
      NEW_PRINCIPALS,
    );
  } catch (error) {
    // DescribeKey did not see it yet, but a replica is there (eventual consistency, or one made a moment ago): decide again.
    if (!isNamed('AlreadyExistsException')(rootCause(error))) throw error;
    const found = await call('DescribeKey', () => kms.send(new DescribeKeyCommand({ KeyId: replicaArn })));
    const step = createStep(found.KeyMetadata, await ownerOf(call, replicaArn), me, stackName);
    log('ReplicateKey found a replica already there', { replicaArn, action: step.action });
    if (step.action === 'adopt') return adopt(call, replicaArn, props, me);
    if (step.action === 'converge') {
      await applyProperties(call, replicaArn, props, me);
      return answer(replicaArn);
    }
    throw new ExplainedError(`Cannot create the replica of ${props.primaryKeyArn} in ${regionOf(replicaArn)}: ${step.action === 'refuse' ? step.reason : 'ReplicateKey answered AlreadyExistsException'}.`);
  }
  log('replicated the primary key', { primaryKeyArn: props.primaryKeyArn, replicaArn });
  return answer(replicaArn);
}

/**
 * Brings a replica pending deletion back as this resource's. Anything that
 * fails after the cancel schedules it again, so a failed deploy leaves it
 * where it was: pending deletion, within a window.
 */
async function adopt(call: Caller, replicaArn: string, props: ReplicaProperties, me: string, removed: string[] = []): Promise<OnEventResponse> {
  await call('CancelKeyDeletion', () => kms.send(new CancelKeyDeletionCommand({ KeyId: replicaArn })));
  log('cancelled the deletion of the replica pending deletion; adopting it', { replicaArn });
  try {
    await applyProperties(call, replicaArn, props, me, removed);
    const key = await describe(call, replicaArn);
    const next = afterCancel(key);
    if (next.action === 'enable') {
      await call('EnableKey', () => kms.send(new EnableKeyCommand({ KeyId: replicaArn })));
      log('enabled the adopted replica', { replicaArn });
    } else if (next.action === 'await-import') {
      await call('DeleteImportedKeyMaterial', () => kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: replicaArn })));
      log('the adopted replica waits for its material to be imported again (PendingImport)', { replicaArn });
    }
  } catch (error) {
    beginCleanup();
    const cleanup = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: replicaArn, PendingWindowInDays: props.pendingWindowDays })).then(
      () => undefined,
      (e: Error) => e,
    );
    if (cleanup) {
      throw new ExplainedError(
        `${(error as Error).message} The replica ${replicaArn}, whose deletion this deploy had cancelled, could not be scheduled for ` +
          `deletion again (${cleanup.name}): run \`aws kms schedule-key-deletion --key-id ${replicaArn} --pending-window-in-days ${props.pendingWindowDays} --region ${regionOf(replicaArn)}\`.`,
      );
    }
    throw error;
  }
  return answer(replicaArn);
}

/** The key policy, description and tags (the owner tag this resource's) on a replica this resource holds. */
async function applyProperties(call: Caller, replicaArn: string, props: ReplicaProperties, me: string, removed: string[] = []): Promise<void> {
  await call('PutKeyPolicy', () => kms.send(new PutKeyPolicyCommand({ KeyId: replicaArn, PolicyName: 'default', Policy: props.policy })), NEW_PRINCIPALS);
  await call('UpdateKeyDescription', () => kms.send(new UpdateKeyDescriptionCommand({ KeyId: replicaArn, Description: props.description })));
  await call('TagResource', () => kms.send(new TagResourceCommand({ KeyId: replicaArn, Tags: tagList({ ...props.tags, [MANAGED_BY_TAG]: me }) })));
  const untag = removed.filter((k) => k !== MANAGED_BY_TAG);
  if (untag.length > 0) await call('UntagResource', () => kms.send(new UntagResourceCommand({ KeyId: replicaArn, TagKeys: untag })));
}

/**
 * An Update re-applies the properties to the replica. One scheduled for
 * deletion outside CloudFormation, or deleted at the end of its window, is
 * what a Create would find: the Update takes the Create's steps, adopting the
 * one (CancelKeyDeletion) and replicating again in place of the other (same
 * key id: a replica keeps its primary's, so the physical id does not change).
 */
async function onUpdate(call: Caller, replicaArn: string, props: ReplicaProperties, old: ReplicaProperties, me: string, stackName: string): Promise<OnEventResponse> {
  const removed = removedTagKeys(old.tags, props.tags);
  const found = await describeIfAny(replicaArn);
  if (!found || found.KeyState === 'PendingDeletion') {
    log('the replica is gone or pending deletion: updating it as a Create would', { replicaArn, keyState: found?.KeyState ?? 'gone' });
    return onCreate(call, replicaArn, props, me, stackName, removed);
  }
  const owner = await ownerOf(call, replicaArn);
  if (owner !== undefined && owner !== me) {
    throw new ExplainedError(`The replica ${replicaArn} is now owned by ${owner}, not by this resource (${me}); this update leaves it alone. Deploy the stack that owns it instead.`);
  }
  await applyProperties(call, replicaArn, props, me, removed);
  log('updated the replica', { replicaArn });
  return answer(replicaArn);
}

async function onDelete(physicalId: string, props: ReplicaProperties, me: string): Promise<OnEventResponse> {
  // The physical id is the replica's ARN; a Create that failed in onEvent never reaches here (the framework answers it).
  const replicaArn = physicalId.startsWith('arn:') ? physicalId : replicaArnOf(props.primaryKeyArn, process.env.AWS_REGION ?? '');
  const call = makeCaller([]);
  const found = await describeIfAny(replicaArn);
  const owner = found && found.KeyState !== 'PendingDeletion' ? await ownerOf(call, replicaArn) : undefined;
  const step = deleteStep(found, owner, me);
  if (step.action === 'keep') {
    log('replica not scheduled', { replicaArn, reason: step.reason });
    return { PhysicalResourceId: physicalId };
  }
  try {
    await call('ScheduleKeyDeletion', () => kms.send(new ScheduleKeyDeletionCommand({ KeyId: replicaArn, PendingWindowInDays: props.pendingWindowDays })));
    log('scheduled the replica for deletion', { replicaArn, pendingWindowDays: props.pendingWindowDays });
  } catch (error) {
    // Gone or already pending deletion since DescribeKey: it is on its way out either way.
    if (!isNamed('NotFoundException', 'KMSInvalidStateException')(rootCause(error))) throw error;
    log('replica already gone or pending deletion', { replicaArn, reason: errorName(rootCause(error)) });
  }
  return { PhysicalResourceId: physicalId };
}

/** Waits until the replica has left KMS's transient Creating (or Updating) state. */
export async function isComplete(event: IsCompleteEvent, context?: Context): Promise<IsCompleteResponse> {
  beginInvocation(context);
  if (event.RequestType === 'Delete') return { IsComplete: true };
  const replicaArn = event.PhysicalResourceId;
  try {
    // NotFound right after ReplicateKey is eventual consistency: not complete yet, within the framework's total timeout.
    const key = await describeIfAny(replicaArn);
    if (!key || !settled(key)) {
      log('replica not ready yet', { replicaArn, keyState: key?.KeyState ?? 'not visible yet' });
      return { IsComplete: false };
    }
    if (key.KeyState === 'PendingDeletion') {
      // The rollback that follows sends a Delete (of a Create), which leaves it pending deletion, or an Update back to
      // the old properties, which adopts it; either way a Create or Update that comes next finds it and adopts it.
      const region = regionOf(replicaArn);
      throw new ExplainedError(
        `The replica ${replicaArn} was scheduled for deletion while this deploy waited for it. What to do: once this deploy has rolled back, ` +
          'deploy again: a Create or an Update of this resource that finds its replica pending deletion adopts it (cancels the deletion; the key id ' +
          'and material stay). A deploy that changes nothing of this resource sends it no event: if the replica is still pending deletion then, ' +
          `cancel the deletion yourself with \`aws kms cancel-key-deletion --key-id ${replicaArn} --region ${region}\` and ` +
          (key.Origin === 'EXTERNAL'
            ? `then \`aws kms enable-key --key-id ${replicaArn} --region ${region}\` if it comes back Disabled, or \`kms-lab import-material --key ${replicaArn} --from-escrow\` if it comes back PendingImport (a replica of imported material without its material).`
            : `\`aws kms enable-key --key-id ${replicaArn} --region ${region}\`.`),
      );
    }
    log('replica ready', { replicaArn, keyState: key.KeyState });
    return { IsComplete: true, Data: { KeyId: key.KeyId!, Arn: key.Arn! } };
  } catch (error) {
    if (isAskAgainLater(rootCause(error))) return { IsComplete: false };
    throw error;
  }
}

function answer(replicaArn: string): OnEventResponse {
  const keyId = replicaArn.slice(replicaArn.lastIndexOf('/') + 1);
  return { PhysicalResourceId: replicaArn, Data: { KeyId: keyId, Arn: replicaArn } };
}

/** The replica, or undefined when this Region has none: NotFound is the answer here, not a key still appearing. */
async function describeIfAny(replicaArn: string): Promise<KeyMetadata | undefined> {
  try {
    return (await makeCaller(['accessDenied'])('DescribeKey', () => kms.send(new DescribeKeyCommand({ KeyId: replicaArn })))).KeyMetadata;
  } catch (error) {
    if (isNamed('NotFoundException')(rootCause(error))) return undefined;
    throw error;
  }
}

async function describe(call: Caller, keyArn: string): Promise<KeyMetadata> {
  const out = await call('DescribeKey', () => kms.send(new DescribeKeyCommand({ KeyId: keyArn })));
  if (!out.KeyMetadata) throw new ExplainedError(`DescribeKey returned no metadata for ${keyArn}.`);
  return out.KeyMetadata;
}

async function ownerOf(call: Caller, keyArn: string): Promise<string | undefined> {
  let marker: string | undefined;
  do {
    const page = await call('ListResourceTags', () => kms.send(new ListResourceTagsCommand({ KeyId: keyArn, Marker: marker })));
    const tag = page.Tags?.find((t) => t.TagKey === MANAGED_BY_TAG);
    if (tag) return tag.TagValue;
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return undefined;
}

function tagList(tags: Readonly<Record<string, string>>): { TagKey: string; TagValue: string }[] {
  return Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
}
