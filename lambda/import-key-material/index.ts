import { randomBytes } from 'node:crypto';
import {
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  KMSClient,
  KeyMetadata,
  ListKeyRotationsCommand,
  RotationsListEntry,
} from '@aws-sdk/client-kms';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { Caller, ExplainedError, explainedError, makeCaller, rootCause } from '../shared/aws-call';
import { CustomResourceEvent, OnEventResponse, resourceProperties } from '../shared/custom-resource';
import { CLIENT_CONFIG } from '../shared/clients';
import { LabSecrets, LabSecretSpec } from '../shared/lab-secrets';
import { log, loggableEvent } from '../shared/log';
import { errorName, isNamed } from '../shared/retry';
import { escrowRecoveryWindowDays, managedByValue, PriorState, priorState, scheduleAfterFailure } from '../shared/secret-lifecycle';
import { beginCleanup, beginInvocation, TransientKind, transientKindsFor } from '../shared/transient';
import {
  decideImport,
  escrowAccessDenied,
  escrowBelongsTo,
  importBlocker,
  MaterialImport,
  importPlan,
  KeyRole,
  MaterialOrigin,
  materialsPendingImport,
  notEnabledProblem,
  regionOfArn,
  reimportBlocker,
  rotationInProgress,
  replicaBeforePrimary,
  unescrowedMaterial,
} from './converge';
import { decodeEscrowRecord, encodeEscrowRecord, EscrowRecord } from './escrow-record';
import { decodeSecretMaterial, redactMaterial } from './material';
import { EscrowProperties, expiryProblem, ImportProperties, parseImportProperties } from './properties';
import { explain } from './remedies';
import { wrapKeyMaterial } from './wrap';

export { setSleepForTests } from '../shared/transient';

const kms = new KMSClient(CLIENT_CONFIG);
const secretsClient = new SecretsManagerClient(CLIENT_CONFIG);


interface OpenedEscrow {
  readonly spec: LabSecretSpec;
  readonly record: EscrowRecord;
  /** Who owned the secret when this invocation found it. */
  readonly managedBy?: string;
}

/** What this invocation did to the escrow secret, so a failure can undo exactly that. */
interface EscrowTouch {
  readonly spec: LabSecretSpec;
  readonly prior: PriorState;
}

export async function onEvent(event: CustomResourceEvent, context?: Context): Promise<OnEventResponse> {
  beginInvocation(context);
  log('import-key-material event', loggableEvent(event));
  const retry = transientKindsFor(event.RequestType);
  const call = callWith(retry);
  const secrets = new LabSecrets(secretsClient, call);
  // Only a Create refuses a ValidTo that has passed before it calls anything: an Update may be a rollback
  // to the properties the lab was deployed with, and a Delete must always go through.
  const props = parseImportProperties(resourceProperties(event), new Date(), { checkExpiry: event.RequestType === 'Create' });
  const managedBy = managedByValue(event);
  const role = keyRole(props);
  if (event.RequestType === 'Delete') return onDelete(event.PhysicalResourceId, props, secrets, managedBy);

  /** Every material this invocation read, so that no error can spell any of them. */
  const materials: Buffer[] = [];
  let touched: EscrowTouch | undefined;
  let escrow: OpenedEscrow | undefined;
  try {
    const key = await describeKey(props.keyArn, retry);
    const blocker = importBlocker(key);
    if (blocker) throw new ExplainedError(`Cannot import into ${props.keyArn}: ${blocker}.`);
    const keyArn = key.Arn ?? props.keyArn;

    let record: EscrowRecord | undefined;
    let material: Buffer;
    if (props.materialSource === 'secret') {
      const value = await call('GetSecretValue', () =>
        secretsClient.send(new GetSecretValueCommand({ SecretId: props.materialSecretName })),
      );
      material = decodeSecretMaterial(props.materialSecretName, value);
    } else if (props.materialSource === 'escrow-replica') {
      record = await readEscrowReplica(props.escrowSecretName, key, keyArn, call);
      material = record.material;
    } else {
      try {
        escrow = await openEscrow(secrets, escrowSpec(props.escrow, managedBy, props.keyArn), key, keyArn, role, (t) => (touched = t));
      } catch (error) {
        if (!isNamed('AccessDeniedException')(rootCause(error))) throw error;
        throw new ExplainedError(escrowAccessDenied(props.escrow.secretName, regionOfArn(keyArn), error instanceof Error ? error.message : String(error)));
      }
      record = escrow.record;
      material = record.material;
    }
    materials.push(material, ...(record?.previous ?? []).map((p) => p.material));

    const decision = decideImport(key, record?.keyMaterialId, props.validTo);
    log('import decision', { keyId: key.KeyId, keyState: key.KeyState, decision: decision.action });
    let keyMaterialId = key.CurrentKeyMaterialId;
    const unchangedPastExpiry = decision.action === 'import' && event.RequestType === 'Update' && pastExpiryKept(event, props.validTo);
    if (unchangedPastExpiry) {
      log('material needs importing, but its ValidTo has passed and this update keeps it; nothing is imported', {
        keyArn: props.keyArn,
        validTo: props.validTo?.toISOString(),
      });
    } else if (decision.action === 'import') {
      const expired = expiryProblem(props.validTo, new Date());
      if (expired) throw new ExplainedError(expired);
      const disabled = reimportBlocker(key);
      if (disabled) throw new ExplainedError(`Cannot import into ${props.keyArn}: ${disabled}.`);
      // Every material of the record: a key rotated on demand is Enabled only once it holds all of them.
      const plan = importPlan(role, key, record ?? { material });
      if (record && rotationInProgress(key, record)) {
        log('the escrow holds new material of a rotation that has not imported it yet; only the key\'s own materials are imported', { keyArn });
      }
      const imported = new Map<MaterialImport, string | undefined>();
      try {
        for (const item of plan) imported.set(item, await importMaterial(props, item, retry));
      } catch (error) {
        const refused = isNamed('KMSInvalidStateException', 'IncorrectKeyMaterialException')(rootCause(error));
        if (role === 'multi-region-replica' && record && !record.keyMaterialId && refused) {
          throw new ExplainedError(`${replicaBeforePrimary(keyArn, record.keyArn)} (ImportKeyMaterial answered ${errorName(rootCause(error))}).`);
        }
        throw error;
      }
      keyMaterialId = imported.get(plan[plan.length - 1]);
      await requireEnabled(props, keyArn, [...imported.values()], materialOrigin(props), retry);
      if (record && props.materialSource === 'generate') {
        const withIds = recordWithIds(record, plan, imported);
        if (withIds) await recordMaterialId(secrets, props.escrow.secretName, withIds);
      }
    }
    // Last, once the import stands: from now on only this resource's Delete schedules the escrow's deletion.
    if (escrow && escrow.managedBy !== managedBy) await secrets.claim(escrow.spec, escrow.managedBy);
    return {
      PhysicalResourceId: props.keyArn,
      Data: {
        KeyId: key.KeyId ?? '',
        KeyMaterialId: keyMaterialId ?? '',
        ExpirationModel: props.validTo ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE',
        ValidTo: props.validTo?.toISOString() ?? '',
        Imported: decision.action === 'import' && !unchangedPastExpiry ? 'true' : 'false',
        EscrowSecretName: escrowSecretNameOf(props) ?? '',
      },
    };
  } catch (error) {
    beginCleanup();
    if (touched) await undoEscrow(secrets, touched, props.pendingWindowDays, replicaWindowDays(props));
    throw asSafeError(error, materials);
  }
}

/**
 * The record with the ids KMS returned for its materials, or undefined when it
 * already had them all: later deploys compare the current id, and a replica
 * or the next re-import sends each id with its material.
 */
function recordWithIds(record: EscrowRecord, plan: readonly MaterialImport[], imported: ReadonlyMap<MaterialImport, string | undefined>): EscrowRecord | undefined {
  const idOf = (material: Buffer) => {
    const item = plan.find((p) => p.material.equals(material));
    return item ? imported.get(item) : undefined;
  };
  const keyMaterialId = idOf(record.material) ?? record.keyMaterialId;
  const previous = record.previous?.map((p) => ({ ...p, ...(p.keyMaterialId ? {} : idOf(p.material) ? { keyMaterialId: idOf(p.material) } : {}) }));
  const changed = keyMaterialId !== record.keyMaterialId || (previous ?? []).some((p, i) => p.keyMaterialId !== record.previous![i].keyMaterialId);
  return changed ? { ...record, keyMaterialId, ...(previous ? { previous } : {}) } : undefined;
}

function materialOrigin(props: ImportProperties): MaterialOrigin {
  if (props.materialSource === 'secret') return { kind: 'secret', secretName: props.materialSecretName };
  return { kind: 'escrow', secretName: escrowSecretNameOf(props)! };
}

/**
 * After the imports, the key must be Enabled: ImportKeyMaterial succeeds for
 * each material, but KMS enables a key with several materials only once all
 * of them are imported. Otherwise the deploy fails, naming the materials
 * ListKeyRotations shows as pending import, rather than report a key that
 * cannot be used.
 */
async function requireEnabled(
  props: ImportProperties,
  keyArn: string,
  known: readonly (string | undefined)[],
  origin: MaterialOrigin,
  retry: readonly TransientKind[],
): Promise<void> {
  const after = await describeKey(props.keyArn, retry);
  if (after.KeyState === 'Enabled') return;
  let pending: string[] | undefined;
  try {
    pending = materialsPendingImport(await listMaterials(props.keyArn, retry));
  } catch (error) {
    log('could not list the key materials', { keyArn, error: errorName(rootCause(error)) });
  }
  throw new ExplainedError(notEnabledProblem({ keyArn, region: regionOfArn(keyArn), state: after.KeyState, pending, known, origin }));
}

/** Every material of the key, first and pending ones included (IncludeKeyMaterial=ALL_KEY_MATERIAL), over every page. */
async function listMaterials(keyArn: string, retry: readonly TransientKind[]): Promise<RotationsListEntry[]> {
  const call = callWith(retry);
  const all: RotationsListEntry[] = [];
  let marker: string | undefined;
  do {
    const page = await call('ListKeyRotations', () =>
      kms.send(new ListKeyRotationsCommand({ KeyId: keyArn, IncludeKeyMaterial: 'ALL_KEY_MATERIAL', ...(marker ? { Marker: marker } : {}) })),
    );
    all.push(...(page.Rotations ?? []));
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return all;
}

function keyRole(props: ImportProperties): KeyRole {
  if (props.multiRegion === 'primary') return 'multi-region-primary';
  if (props.multiRegion === 'replica') return 'multi-region-replica';
  return 'single-region';
}

function escrowSecretNameOf(props: ImportProperties): string | undefined {
  if (props.materialSource === 'generate') return props.escrow.secretName;
  if (props.materialSource === 'escrow-replica') return props.escrowSecretName;
  return undefined;
}

/**
 * The replica's pending window, which a multi-Region primary's deletion waits
 * out first (PendingReplicaDeletion). Both keys of scenario (e) wait the same.
 */
function replicaWindowDays(props: ImportProperties): number {
  return props.multiRegion === 'primary' ? props.pendingWindowDays : 0;
}

/** An Update that keeps a ValidTo that has passed (a rollback, or a change elsewhere) must not fail on it. */
function pastExpiryKept(event: CustomResourceEvent, validTo: Date | undefined): boolean {
  if (event.RequestType !== 'Update' || !validTo || validTo.getTime() > Date.now()) return false;
  const old = event.OldResourceProperties?.ValidTo;
  return typeof old === 'string' && new Date(old).getTime() === validTo.getTime();
}

function escrowSpec(escrow: EscrowProperties, managedBy: string, keyArn: string): LabSecretSpec {
  return {
    name: escrow.secretName,
    description: `KMS Key Lab: escrowed key material of ${keyArn}. Restore it to import the same material again.`,
    tags: { ...escrow.tags, 'kms-key-lab:escrow-for': keyArn },
    resourcePolicy: escrow.resourcePolicy,
    managedBy,
    replicaRegions: escrow.replicaRegions,
  };
}

/**
 * A multi-Region replica's material: the escrow record in this Region's
 * replica of the primary's escrow secret, which Secrets Manager keeps in step
 * and which this handler only reads. Replication takes a while after the
 * primary creates (or restores) the escrow, so NotFound is waited out like a
 * resource that was only just created.
 */
async function readEscrowReplica(name: string, key: KeyMetadata, keyArn: string, call: Caller): Promise<EscrowRecord> {
  const region = regionOfArn(keyArn);
  const primaryRegion = key.MultiRegionConfiguration?.PrimaryKey?.Region ?? 'the primary Region';
  let value: string | undefined;
  try {
    const out = await call('GetSecretValue', () => secretsClient.send(new GetSecretValueCommand({ SecretId: name })), {
      notFoundNames: ['ResourceNotFoundException'],
    });
    value = out.SecretString;
  } catch (error) {
    if (!isNamed('ResourceNotFoundException')(rootCause(error))) throw error;
    throw new ExplainedError(
      `The escrow secret ${name} has no replica with a value in ${region} yet: the primary Region's import resource creates ` +
        `the escrow and Secrets Manager replicates it here, which can take a while. Check its ReplicationStatus with ` +
        `\`aws secretsmanager describe-secret --secret-id ${name} --region ${primaryRegion}\`, and once ${region} shows there ` +
        "as InSync, deploy this stack again (deploy the primary Region's stack first if the escrow does not exist).",
    );
  }
  const record = decodeEscrowRecord(value);
  if (!record) {
    throw new ExplainedError(
      `The replica of the escrow secret ${name} in ${region} holds no escrow record. Deploy the primary Region's stack ` +
        `(its import resource writes the record in ${primaryRegion}), then this stack again.`,
    );
  }
  if (!escrowBelongsTo(record.keyArn, keyArn, 'multi-region-replica')) {
    throw new ExplainedError(
      `Escrow secret ${name} holds material for another key (${record.keyArn}), not for the primary of ${keyArn}. ` +
        'Each imported key has its own escrow secret; deploy the lab again so the new key gets a new one.',
    );
  }
  log('read escrowed material from the escrow replica', { keyArn, escrowSecret: name, region });
  return record;
}

/**
 * Finds the key's escrow, or creates it with fresh material. Material is
 * escrowed before it is imported, so no key ever holds material that is not
 * escrowed; and no material is generated for a key that already holds some.
 */
async function openEscrow(
  secrets: LabSecrets,
  spec: LabSecretSpec,
  key: KeyMetadata,
  keyArn: string,
  role: KeyRole,
  touch: (t: EscrowTouch) => void,
): Promise<OpenedEscrow> {
  const state = await secrets.state(spec.name);
  const prior = priorState(state);
  const opened = (record: EscrowRecord): OpenedEscrow => ({
    spec,
    record,
    managedBy: prior === 'absent' ? spec.managedBy : state.exists ? state.managedBy : undefined,
  });
  const refuseIfKeyHoldsMaterial = () => {
    const reason = unescrowedMaterial(key, spec.name);
    if (reason) throw new ExplainedError(`Cannot import into ${keyArn}: ${reason}.`);
  };
  if (prior === 'absent') {
    refuseIfKeyHoldsMaterial();
    const record: EscrowRecord = { keyArn, material: randomBytes(32) };
    touch({ spec, prior });
    await secrets.create(spec, encodeEscrowRecord(record));
    log('generated and escrowed new material', { keyArn, escrowSecret: spec.name });
    return opened(record);
  }
  if (prior === 'scheduled') {
    touch({ spec, prior });
    await secrets.restore(spec.name);
  }
  await secrets.converge(spec);
  await secrets.ensureReplicas(spec, state);
  const current = decodeEscrowRecord(await secrets.read(spec.name));
  if (current && !escrowBelongsTo(current.keyArn, keyArn, role)) {
    throw new ExplainedError(
      `Escrow secret ${spec.name} holds material for another key (${current.keyArn}), not ${keyArn}. ` +
        'Each imported key has its own escrow secret; deploy the lab again so the new key gets a new one.',
    );
  }
  if (current) {
    log('reusing escrowed material', { keyArn, escrowSecret: spec.name });
    return opened(current);
  }
  refuseIfKeyHoldsMaterial();
  const record: EscrowRecord = { keyArn, material: randomBytes(32) };
  await secrets.put(spec.name, encodeEscrowRecord(record));
  log('generated and escrowed new material', { keyArn, escrowSecret: spec.name });
  return opened(record);
}

/** The material id only saves a later re-import; losing it costs one import, so a failure here is logged, not raised. */
async function recordMaterialId(secrets: LabSecrets, secretName: string, record: EscrowRecord): Promise<void> {
  try {
    await secrets.put(secretName, encodeEscrowRecord(record));
  } catch (error) {
    log('could not record the material id in the escrow; the next deploy imports the same material again', {
      escrowSecret: secretName,
      error: errorName(rootCause(error)),
    });
  }
}

/**
 * A failed Create or Update is never followed by a Delete the handler sees,
 * so it schedules the deletion of an escrow it created or restored. One that
 * was live before belongs to a resource that still uses it and is left alone.
 * The recovery window outlasts the key's, and a retried deploy restores it.
 */
async function undoEscrow(secrets: LabSecrets, touched: EscrowTouch, keyPendingWindowDays: number, replicaPendingWindowDays: number): Promise<void> {
  if (!scheduleAfterFailure(touched.prior)) return;
  try {
    // What DescribeSecret shows now, not the spec: the replica may never have been made, or made by this invocation.
    const state = touched.spec.replicaRegions?.length ? await secrets.state(touched.spec.name) : undefined;
    const replicas = state?.exists ? (state.replicas ?? []).map((r) => r.region) : [];
    const window = escrowRecoveryWindowDays(keyPendingWindowDays, undefined, new Date(), replicaPendingWindowDays);
    await secrets.scheduleDeletion(touched.spec.name, window, replicas);
  } catch (error) {
    // The Create's own error is the one to report; this one is only logged.
    log('could not schedule the escrow secret of a failed deploy for deletion', {
      escrowSecret: touched.spec.name,
      error: errorName(rootCause(error)),
    });
  }
}

async function describeKey(keyArn: string, retry: readonly TransientKind[]): Promise<KeyMetadata> {
  const out = await callWith(retry)('DescribeKey', () => kms.send(new DescribeKeyCommand({ KeyId: keyArn })));
  if (!out.KeyMetadata) throw new ExplainedError(`DescribeKey returned no metadata for ${keyArn}.`);
  return out.KeyMetadata;
}

/**
 * One material, with its own GetParametersForImport: a token and its public
 * key "are permanently linked and must be used together" and are valid for
 * 24 hours; the docs do not say whether a token serves more than one import,
 * so none is reused.
 */
async function importMaterial(props: ImportProperties, item: MaterialImport, retry: readonly TransientKind[]): Promise<string | undefined> {
  const { material, importType, keyMaterialId } = item;
  const call = callWith(retry);
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
        ...(importType ? { ImportType: importType } : {}),
        ...(keyMaterialId ? { KeyMaterialId: keyMaterialId } : {}),
      }),
    ),
  );
  log('imported key material', {
    keyArn: props.keyArn,
    wrappingAlgorithm: props.wrappingAlgorithm,
    wrappingKeySpec: props.wrappingKeySpec,
    validTo: props.validTo?.toISOString() ?? 'never',
    importType: importType ?? 'default',
    keyMaterialId: out.KeyMaterialId,
    material: item.current ? 'current' : 'earlier',
  });
  return out.KeyMaterialId;
}

/**
 * Leaves the key to its own scheduled deletion and schedules the escrow's
 * deletion to end a day after the key's (after a multi-Region primary's, which
 * first waits for its replica: its escrow's replicas are removed first, as
 * Secrets Manager deletes no secret that has any). Reads no secret value and
 * decrypts nothing, so it works whatever state any key is in. A replica's
 * Delete never touches the escrow: the primary's owns it.
 */
async function onDelete(physicalId: string, props: ImportProperties, secrets: LabSecrets, managedBy: string): Promise<OnEventResponse> {
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
  if (props.materialSource === 'generate') {
    await secrets.release(props.escrow.secretName, managedBy, () =>
      recoveryWindowFor(props.keyArn, props.pendingWindowDays, replicaWindowDays(props)),
    );
  }
  return { PhysicalResourceId: physicalId };
}

/**
 * DescribeKey needs no key material: it answers for disabled keys and keys pending deletion alike. A
 * primary in PendingReplicaDeletion has no deletion date yet, so its replica's window counts too.
 */
async function recoveryWindowFor(keyArn: string, keyPendingWindowDays: number, replicaPendingWindowDays: number): Promise<number> {
  let deletionDate: Date | undefined;
  try {
    const out = await kms.send(new DescribeKeyCommand({ KeyId: keyArn }));
    deletionDate = out.KeyMetadata?.DeletionDate;
  } catch (error) {
    log('could not describe the key; the escrow waits its default window', { keyArn, error: errorName(error) });
  }
  return escrowRecoveryWindowDays(keyPendingWindowDays, deletionDate, new Date(), replicaPendingWindowDays);
}

/** Every SDK call goes through this: transient errors are waited out, the rest explained with the import remedies. */
function callWith(retry: readonly TransientKind[]): Caller {
  return makeCaller(retry, explain);
}

function explained(call: string, error: unknown): Error {
  return explainedError(call, error, explain);
}

/** The error CloudFormation will show: our words, the material never in them. */
function asSafeError(error: unknown, materials: readonly Buffer[]): Error {
  const message = error instanceof Error ? error.message : String(error);
  const safe = new Error(materials.reduce((text, material) => redactMaterial(text, material), message));
  safe.name = error instanceof ExplainedError ? 'ImportKeyMaterialError' : error instanceof Error ? error.name : 'Error';
  return safe;
}
