import { randomBytes } from 'node:crypto';
import {
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  KMSClient,
  KeyMetadata,
} from '@aws-sdk/client-kms';
import {
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { CustomResourceEvent, OnEventResponse, resourceProperties } from '../shared/custom-resource';
import { log, loggableEvent } from '../shared/log';
import { errorName, isNamed, RetryOptions, withRetries } from '../shared/retry';
import { decideImport, importBlocker } from './converge';
import { decodeEscrowRecord, encodeEscrowRecord, EscrowRecord } from './escrow-record';
import { decodeSecretMaterial, redactMaterial } from './material';
import { ImportProperties, parseImportProperties } from './properties';
import { explain } from './remedies';
import { wrapKeyMaterial } from './wrap';

const kms = new KMSClient({});
const secrets = new SecretsManagerClient({});

/** Straight after CreateKey, KMS may answer NotFound for a few seconds. */
export const NOT_FOUND_RETRY: Omit<RetryOptions, 'retryOn'> = { attempts: 6, baseDelayMs: 1000, maxDelayMs: 8000 };
let sleep: ((ms: number) => Promise<void>) | undefined;
/** Lets tests run the backoff without waiting. */
export function setSleepForTests(fn: ((ms: number) => Promise<void>) | undefined): void {
  sleep = fn;
}

/** An error whose message is already written for a person; thrown as is. */
class ExplainedError extends Error {}

export async function onEvent(event: CustomResourceEvent): Promise<OnEventResponse> {
  log('import-key-material event', loggableEvent(event));
  // A Delete must succeed even when a ValidTo in the old properties has passed.
  const props = parseImportProperties(resourceProperties(event), new Date(), { checkExpiry: event.RequestType !== 'Delete' });
  if (event.RequestType === 'Delete') return onDelete(event.PhysicalResourceId, props);

  let material: Buffer | undefined;
  try {
    const key = await describeKey(props.keyArn);
    const blocker = importBlocker(key);
    if (blocker) throw new ExplainedError(`Cannot import into ${props.keyArn}: ${blocker}.`);
    const source = await loadMaterial(props, key.Arn ?? props.keyArn);
    material = source.material;
    const decision = decideImport(key, source.record?.keyMaterialId, props.validTo);
    log('import decision', { keyId: key.KeyId, keyState: key.KeyState, decision: decision.action });

    let keyMaterialId = key.CurrentKeyMaterialId;
    if (decision.action === 'import') {
      keyMaterialId = await importMaterial(props, material);
      if (source.record && keyMaterialId && keyMaterialId !== source.record.keyMaterialId && props.materialSource === 'generate') {
        await putEscrow(props.escrowSecretArn, { ...source.record, keyMaterialId });
      }
    }
    return {
      PhysicalResourceId: props.keyArn,
      Data: {
        KeyId: key.KeyId ?? '',
        KeyMaterialId: keyMaterialId ?? '',
        ExpirationModel: props.validTo ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE',
        ValidTo: props.validTo?.toISOString() ?? '',
        Imported: decision.action === 'import' ? 'true' : 'false',
      },
    };
  } catch (error) {
    if (event.RequestType === 'Create') await releaseEscrowOfFailedCreate(props);
    throw asSafeError(error, material);
  }
}

async function describeKey(keyArn: string): Promise<KeyMetadata> {
  const out = await call('DescribeKey', () =>
    withRetries(() => kms.send(new DescribeKeyCommand({ KeyId: keyArn })), {
      ...NOT_FOUND_RETRY,
      sleep,
      retryOn: isNamed('NotFoundException'),
      onRetry: (attempt, delayMs) => log('key not visible yet, retrying', { keyArn, attempt, delayMs }),
    }),
  );
  if (!out.KeyMetadata) throw new ExplainedError(`DescribeKey returned no metadata for ${keyArn}.`);
  return out.KeyMetadata;
}

interface MaterialSource {
  readonly material: Buffer;
  readonly record?: EscrowRecord;
}

/** Generated material is escrowed before it is imported, so no key ever holds material that is not escrowed. */
async function loadMaterial(props: ImportProperties, keyArn: string): Promise<MaterialSource> {
  if (props.materialSource === 'secret') {
    const value = await call('GetSecretValue', () =>
      secrets.send(new GetSecretValueCommand({ SecretId: props.materialSecretName })),
    );
    return { material: decodeSecretMaterial(props.materialSecretName, value) };
  }
  await restoreIfScheduledForDeletion(props.escrowSecretArn);
  const current = await call('GetSecretValue', () => readEscrow(props.escrowSecretArn));
  if (current) {
    if (current.keyArn !== keyArn) {
      throw new ExplainedError(
        `Escrow secret ${props.escrowSecretArn} already holds material for another key (${current.keyArn}). ` +
          'Each imported key has its own escrow secret; deploy the lab again so the new key gets a new one.',
      );
    }
    log('reusing escrowed material', { keyArn, escrowSecretArn: props.escrowSecretArn });
    return { material: current.material, record: current };
  }
  const record: EscrowRecord = { keyArn, material: randomBytes(32) };
  await putEscrow(props.escrowSecretArn, record);
  log('generated and escrowed new material', { keyArn, escrowSecretArn: props.escrowSecretArn });
  return { material: record.material, record };
}

async function readEscrow(secretArn: string): Promise<EscrowRecord | undefined> {
  try {
    const value = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
    return decodeEscrowRecord(value.SecretString);
  } catch (error) {
    // A secret without a current version has nothing escrowed yet.
    if (isNamed('ResourceNotFoundException')(error)) return undefined;
    throw error;
  }
}

async function putEscrow(secretArn: string, record: EscrowRecord): Promise<void> {
  await call('PutSecretValue', () =>
    secrets.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: encodeEscrowRecord(record) })),
  );
}

async function restoreIfScheduledForDeletion(secretArn: string): Promise<void> {
  const described = await call('DescribeSecret', () => secrets.send(new DescribeSecretCommand({ SecretId: secretArn })));
  if (described.DeletedDate) {
    log('escrow secret was scheduled for deletion; restoring it', { secretArn });
    await call('RestoreSecret', () => secrets.send(new RestoreSecretCommand({ SecretId: secretArn })));
  }
}

async function importMaterial(props: ImportProperties, material: Buffer): Promise<string | undefined> {
  const params = await call('GetParametersForImport', () =>
    kms.send(
      new GetParametersForImportCommand({
        KeyId: props.keyArn,
        WrappingAlgorithm: props.wrappingAlgorithm,
        WrappingKeySpec: props.wrappingKeySpec,
      }),
    ),
  );
  if (!params.PublicKey || !params.ImportToken) {
    throw new ExplainedError('GetParametersForImport returned no public key or import token. Deploy again.');
  }
  const wrapped = wrapKeyMaterial(material, params.PublicKey, props.wrappingAlgorithm, props.wrappingKeySpec);
  const out = await call('ImportKeyMaterial', () =>
    kms.send(
      new ImportKeyMaterialCommand({
        KeyId: props.keyArn,
        ImportToken: params.ImportToken,
        EncryptedKeyMaterial: wrapped,
        ExpirationModel: props.validTo ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE',
        ValidTo: props.validTo,
      }),
    ),
  );
  log('imported key material', {
    keyArn: props.keyArn,
    wrappingAlgorithm: props.wrappingAlgorithm,
    wrappingKeySpec: props.wrappingKeySpec,
    validTo: props.validTo?.toISOString() ?? 'never',
    keyMaterialId: out.KeyMaterialId,
  });
  return out.KeyMaterialId;
}

/**
 * Leaves the key to its own scheduled deletion. The escrow secret gets a
 * recovery window as long as the key's pending window, so the material can be
 * restored for as long as the key can be.
 */
async function onDelete(physicalId: string, props: ImportProperties): Promise<OnEventResponse> {
  if (props.deleteMaterialOnDelete) {
    try {
      await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: props.keyArn }));
      log('deleted imported key material', { keyArn: props.keyArn });
    } catch (error) {
      // Already gone, already PendingImport or PendingDeletion: nothing left to delete.
      if (!isNamed('NotFoundException', 'KMSInvalidStateException')(error)) throw explained('DeleteImportedKeyMaterial', error);
      log('no imported material to delete', { keyArn: props.keyArn, reason: errorName(error) });
    }
  }
  if (props.materialSource === 'generate') await scheduleEscrowDeletion(props, physicalId);
  return { PhysicalResourceId: physicalId };
}

async function scheduleEscrowDeletion(props: ImportProperties & { materialSource: 'generate' }, keyArn: string): Promise<void> {
  let record: EscrowRecord | undefined;
  try {
    record = await readEscrow(props.escrowSecretArn);
  } catch (error) {
    // Already scheduled for deletion: the value cannot be read, and there is nothing more to do.
    if (isNamed('InvalidRequestException')(error)) return;
    throw explained('GetSecretValue', error);
  }
  if (record && record.keyArn !== keyArn) {
    log('escrow secret now belongs to another key; leaving it', { keyArn, escrowFor: record.keyArn });
    return;
  }
  await scheduleSecretDeletion(props.escrowSecretArn, props.pendingWindowDays);
}

/** DeleteSecret with a recovery window; a secret already gone or already scheduled needs nothing more. */
async function scheduleSecretDeletion(secretArn: string, recoveryWindowDays: number): Promise<void> {
  try {
    await secrets.send(new DeleteSecretCommand({ SecretId: secretArn, RecoveryWindowInDays: recoveryWindowDays }));
    log('scheduled escrow secret deletion', { secretArn, recoveryWindowDays });
  } catch (error) {
    if (!isNamed('ResourceNotFoundException', 'InvalidRequestException')(error)) throw explained('DeleteSecret', error);
    log('escrow secret already gone or scheduled for deletion', { secretArn });
  }
}

/**
 * A failed Create is never followed by a Delete the handler sees, and
 * CloudFormation retains the escrow secret, so it is scheduled for deletion
 * here. The recovery window matches the key's pending window, so the material
 * stays recoverable as long as the key is, and a retried Create restores it.
 */
async function releaseEscrowOfFailedCreate(props: ImportProperties): Promise<void> {
  if (props.materialSource !== 'generate') return;
  try {
    await scheduleSecretDeletion(props.escrowSecretArn, props.pendingWindowDays);
  } catch (error) {
    // The Create's own error is the one to report; this one is only logged.
    log('could not schedule the escrow secret of a failed create for deletion', {
      secretArn: props.escrowSecretArn,
      error: errorName((error as Error).cause ?? error),
    });
  }
}

async function call<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw explained(name, error);
  }
}

function explained(call: string, error: unknown): Error {
  if (error instanceof ExplainedError) return error;
  const e = new ExplainedError(explain(call, errorName(error), error instanceof Error ? error.message : String(error)));
  e.cause = error;
  return e;
}

/** The error CloudFormation will show: our words, the material never in them. */
function asSafeError(error: unknown, material: Buffer | undefined): Error {
  const message = error instanceof Error ? error.message : String(error);
  const safe = new Error(redactMaterial(message, material));
  safe.name = error instanceof ExplainedError ? 'ImportKeyMaterialError' : error instanceof Error ? error.name : 'Error';
  return safe;
}
