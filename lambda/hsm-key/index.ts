import {
  CreateAliasCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  KeyMetadata,
  KMSClient,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  UpdateAliasCommand,
  UpdateKeyDescriptionCommand,
} from '@aws-sdk/client-kms';
import type { Context } from 'aws-lambda';
import { Caller, ExplainedError, makeCaller, rootCause } from '../shared/aws-call';
import { CLIENT_CONFIG } from '../shared/clients';
import { CustomResourceEvent, OnEventResponse, requiredString, resourceProperties } from '../shared/custom-resource';
import { log, loggableEvent } from '../shared/log';
import { errorName, isNamed } from '../shared/retry';
import { beginCleanup, beginInvocation, transientKindsFor } from '../shared/transient';
import { explainKeyCall } from './remedies';

export { setSleepForTests } from '../shared/transient';

const kms = new KMSClient(CLIENT_CONFIG);
const WHAT = 'Custom::CloudHsmKey';

/**
 * KMS refuses a key policy naming a principal it cannot see yet with
 * MalformedPolicyDocumentException (CreateKey and PutKeyPolicy, Policy: "you
 * might need to enforce a delay before including the new principal"): the
 * lab's roles may be minutes old. Waited out within its own budget
 * (lambda/shared/transient.ts); a policy that stays refused fails with the remedy.
 */
const NEW_PRINCIPAL = { newPrincipalNames: ['MalformedPolicyDocumentException'] } as const;

interface KeyProperties {
  readonly customKeyStoreId: string;
  readonly aliasName: string;
  readonly description: string;
  readonly policy: string;
  readonly pendingWindowDays: number;
  readonly tags: Readonly<Record<string, string>>;
}

function keyProperties(props: Record<string, unknown>): KeyProperties {
  const policy = props.KeyPolicy;
  if (typeof policy !== 'object' || policy === null) throw new Error(`${WHAT}: resource property KeyPolicy must be a policy document.`);
  const pendingWindowDays = Number(props.PendingWindowDays);
  if (!Number.isInteger(pendingWindowDays) || pendingWindowDays < 7 || pendingWindowDays > 30) {
    throw new Error(`${WHAT}: PendingWindowDays must be a whole number from 7 to 30.`);
  }
  return {
    customKeyStoreId: requiredString(props, 'CustomKeyStoreId', WHAT),
    aliasName: requiredString(props, 'AliasName', WHAT),
    description: requiredString(props, 'Description', WHAT),
    policy: JSON.stringify(policy),
    pendingWindowDays,
    tags: (props.Tags ?? {}) as Record<string, string>,
  };
}

/**
 * Scenario (d)'s key: CreateKey with Origin AWS_CLOUDHSM in the custom key
 * store (CloudFormation's AWS::KMS::Key cannot), under the lab's key policy
 * and alias. The alias is also what makes a repeated Create converge: a key
 * already behind it, in this store, is taken instead of making another.
 * Delete removes the alias and schedules the key's deletion.
 */
export async function onEvent(event: CustomResourceEvent, context?: Context): Promise<OnEventResponse> {
  beginInvocation(context);
  log('hsm-key event', loggableEvent(event));
  const call = makeCaller(transientKindsFor(event.RequestType), explainKeyCall);
  const props = keyProperties(resourceProperties(event));
  if (event.RequestType === 'Delete') return removeKey(call, event.PhysicalResourceId, props);
  if (event.RequestType === 'Update') {
    const old = keyProperties(event.OldResourceProperties);
    if (old.customKeyStoreId === props.customKeyStoreId) return updateKey(call, event.PhysicalResourceId, props, old);
  }
  const existing = await keyBehindAlias(call, props.aliasName);
  if (existing && existing.CustomKeyStoreId === props.customKeyStoreId && existing.KeyState !== 'PendingDeletion') {
    log('the alias already names a key in this store; taking it', { keyArn: existing.Arn });
    return answer(existing);
  }
  const created = await call('CreateKey', () =>
    kms.send(
      new CreateKeyCommand({
        Origin: 'AWS_CLOUDHSM',
        CustomKeyStoreId: props.customKeyStoreId,
        KeySpec: 'SYMMETRIC_DEFAULT',
        KeyUsage: 'ENCRYPT_DECRYPT',
        Description: props.description,
        Policy: props.policy,
        Tags: Object.entries(props.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
      }),
    ),
    NEW_PRINCIPAL,
  );
  const key = created.KeyMetadata!;
  log('created key in the custom key store', { keyArn: key.Arn, customKeyStoreId: props.customKeyStoreId });
  try {
    await setAlias(call, props.aliasName, key.KeyId!, existing !== undefined);
  } catch (error) {
    // The key would be left behind, unnamed and billed, and would keep the key store from ever being deleted:
    // schedule it before reporting, and say so if even that fails.
    beginCleanup();
    const cleanup = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.Arn, PendingWindowInDays: 7 })).then(
      () => undefined,
      (e: Error) => e,
    );
    if (cleanup) {
      throw new ExplainedError(
        `${(error as Error).message} The key ${key.Arn} it had just created could not be scheduled for deletion (${cleanup.name}): ` +
          `run \`aws kms schedule-key-deletion --key-id ${key.Arn} --pending-window-in-days 7\`.`,
      );
    }
    throw error;
  }
  return answer(key);
}

function answer(key: KeyMetadata): OnEventResponse {
  return { PhysicalResourceId: key.Arn!, Data: { KeyId: key.KeyId!, KeyArn: key.Arn! } };
}

async function keyBehindAlias(call: Caller, aliasName: string): Promise<KeyMetadata | undefined> {
  try {
    return (await call('DescribeKey', () => kms.send(new DescribeKeyCommand({ KeyId: aliasName })))).KeyMetadata;
  } catch (error) {
    if (isNamed('NotFoundException')(rootCause(error))) return undefined;
    throw error;
  }
}

/** CreateAlias, or UpdateAlias when the alias still names an old key (one pending deletion, or in another store). */
async function setAlias(call: Caller, aliasName: string, keyId: string, aliasExists: boolean): Promise<void> {
  const command = aliasExists ? new UpdateAliasCommand({ AliasName: aliasName, TargetKeyId: keyId }) : new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: keyId });
  await call(aliasExists ? 'UpdateAlias' : 'CreateAlias', () => kms.send(command as CreateAliasCommand));
}

async function updateKey(call: Caller, keyArn: string, props: KeyProperties, old: KeyProperties): Promise<OnEventResponse> {
  if (props.policy !== old.policy) {
    await call('PutKeyPolicy', () => kms.send(new PutKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default', Policy: props.policy })), NEW_PRINCIPAL);
  }
  if (props.description !== old.description) {
    await call('UpdateKeyDescription', () => kms.send(new UpdateKeyDescriptionCommand({ KeyId: keyArn, Description: props.description })));
  }
  if (props.aliasName !== old.aliasName) {
    await setAlias(call, props.aliasName, keyArn, (await keyBehindAlias(call, props.aliasName)) !== undefined);
    await deleteAlias(old.aliasName, keyArn);
  }
  const key = (await call('DescribeKey', () => kms.send(new DescribeKeyCommand({ KeyId: keyArn })))).KeyMetadata!;
  return answer(key);
}

async function removeKey(call: Caller, keyArn: string, props: KeyProperties): Promise<OnEventResponse> {
  await deleteAlias(props.aliasName, keyArn);
  try {
    await call('ScheduleKeyDeletion', () => kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyArn, PendingWindowInDays: props.pendingWindowDays })));
    log('scheduled key deletion', { keyArn, pendingWindowDays: props.pendingWindowDays });
  } catch (error) {
    // Gone, or already pending deletion: either way it is on its way out.
    if (!isNamed('NotFoundException', 'KMSInvalidStateException')(rootCause(error))) throw error;
    log('key already gone or pending deletion', { keyArn, reason: errorName(rootCause(error)) });
  }
  return { PhysicalResourceId: keyArn };
}

/** Only an alias that still names this key is removed: after a replacement, the alias belongs to the new key. */
async function deleteAlias(aliasName: string, keyArn: string): Promise<void> {
  try {
    const named = (await kms.send(new DescribeKeyCommand({ KeyId: aliasName }))).KeyMetadata;
    if (named?.Arn !== keyArn) return;
    await kms.send(new DeleteAliasCommand({ AliasName: aliasName }));
    log('deleted alias', { aliasName });
  } catch (error) {
    if (!isNamed('NotFoundException')(error)) throw error;
  }
}
