import type { RotationsListEntry } from '@aws-sdk/client-kms';
import type { EscrowRecord } from '../../lambda/import-key-material/escrow-record';
import type { ChangingCommand } from '../confirm';
import { keyLabel, type KeyScenario } from '../lab-stacks';
import { keyIdOf } from '../verify/outcomes';

/** On-demand rotations KMS allows one key, over its whole life; not adjustable (KMS quotas, since 2026-02). */
export const ON_DEMAND_ROTATION_LIMIT = 25;

/** One material of a key, as ListKeyRotations (ALL_KEY_MATERIAL) lists it. */
export interface MaterialEntry {
  readonly keyMaterialId?: string;
  /** CURRENT, NON_CURRENT, PENDING_ROTATION or PENDING_MULTI_REGION_IMPORT_AND_ROTATION. */
  readonly state?: string;
  /** IMPORTED or PENDING_IMPORT, for EXTERNAL keys. */
  readonly importState?: string;
  /** AUTOMATIC or ON_DEMAND; absent for the first material and for pending material. */
  readonly rotationType?: string;
  readonly rotationDate?: string;
}

export function materialEntries(rotations: readonly RotationsListEntry[]): MaterialEntry[] {
  return rotations.map((r) => ({
    keyMaterialId: r.KeyMaterialId,
    state: r.KeyMaterialState,
    importState: r.ImportState,
    rotationType: r.RotationType,
    rotationDate: r.RotationDate?.toISOString(),
  }));
}

export interface OnDemandUsage {
  readonly used: number;
  readonly limit: number;
  readonly left: number;
}

/** Counts the ON_DEMAND rotations in the key's history against the limit. */
export function onDemandUsage(materials: readonly MaterialEntry[]): OnDemandUsage {
  const used = materials.filter((m) => m.rotationType === 'ON_DEMAND').length;
  return { used, limit: ON_DEMAND_ROTATION_LIMIT, left: Math.max(0, ON_DEMAND_ROTATION_LIMIT - used) };
}

const PENDING_MATERIAL = ['PENDING_ROTATION', 'PENDING_MULTI_REGION_IMPORT_AND_ROTATION'];

export function pendingMaterial(materials: readonly MaterialEntry[]): MaterialEntry[] {
  return materials.filter((m) => PENDING_MATERIAL.includes(m.state ?? ''));
}

/** States in which KMS may refuse the rotation reads, and in which rotating is moot. */
export const NO_ROTATION_STATES = ['PendingDeletion', 'PendingReplicaDeletion', 'Unavailable', 'Creating'];

export type PlanKind = 'rotate-on-demand' | 'rotate-imported-material' | 'follows-primary' | 'cannot-rotate' | 'skip' | 'refused';

export interface KeyPlan {
  readonly kind: PlanKind;
  /** One line for the table. */
  readonly detail: string;
  /** For `refused`: the paragraph for stderr. */
  readonly paragraph?: string;
}

/** What the plan of one key depends on. */
export interface PlanInput {
  readonly scenario: KeyScenario;
  readonly where: 'primary' | 'secondary';
  readonly region: string;
  readonly keyArn: string;
  readonly state: string;
  readonly origin?: string;
  readonly multiRegion?: string;
  readonly customKeyStoreId?: string;
  /** The automatic rotation period, if it is on: named in the limit's paragraph. */
  readonly periodDays?: number;
  /** From ListKeyRotations; undefined when it was not read. */
  readonly onDemand?: OnDemandUsage;
}

export { keyLabel };

export const ALIAS_SWAP_POINTER = 'move to a new key with an alias swap (`kms-lab rotate --help`)';

function skipForState(key: PlanInput): KeyPlan | undefined {
  const enable = `aws kms enable-key --key-id ${key.keyArn} --region ${key.region}`;
  switch (key.state) {
    case 'Enabled':
      return undefined;
    case 'Disabled':
      return { kind: 'skip', detail: `Disabled: KMS rotates only an enabled key; enable it first (\`${enable}\`)` };
    case 'PendingImport':
      return { kind: 'skip', detail: 'PendingImport: it holds no material to rotate; deploy again so the import handler imports the escrowed material' };
    case 'PendingDeletion':
    case 'PendingReplicaDeletion':
      return { kind: 'skip', detail: `${key.state}: a key on its way out is not rotated` };
    default:
      return { kind: 'skip', detail: `${key.state}: KMS rotates only an enabled key` };
  }
}

/** The rotatable scenarios but one, for a `--scenario` that leaves it out. */
export function otherScenarios(scenario: KeyScenario): string {
  return ROTATE_SCENARIOS.filter((s) => s !== scenario && s !== 'd').join(',');
}

/** The paragraph for a key that has used every on-demand rotation it is allowed. */
export function limitReachedMessage(key: PlanInput): string {
  const automatic =
    key.origin === 'AWS_KMS'
      ? key.periodDays
        ? ` Its automatic rotation (every ${key.periodDays} days) goes on.`
        : ''
      : ' Imported material rotates on demand only, so this key cannot rotate again.';
  return (
    `${keyLabel(key)} ${key.keyArn} in ${key.region} has used all ${ON_DEMAND_ROTATION_LIMIT} on-demand rotations KMS allows a key ` +
    `(ListKeyRotations lists ${key.onDemand?.used ?? ON_DEMAND_ROTATION_LIMIT} ON_DEMAND rotations; the quota is not adjustable), so kms-lab will not rotate it, and rotated nothing.${automatic} ` +
    `What to do: leave it out with --scenario (e.g. --scenario ${otherScenarios(key.scenario)}); for fresh material, ${ALIAS_SWAP_POINTER}.`
  );
}

/**
 * What `kms-lab rotate` does with one key. KMS-generated keys rotate on
 * demand; a multi-Region replica follows its primary; imported material (c)
 * is rotated by importing new material (the escrow decides how, see
 * importedRotationStep); CloudHSM keys cannot rotate at all.
 */
export function planRotation(key: PlanInput): KeyPlan {
  if (key.origin === 'AWS_CLOUDHSM' || key.customKeyStoreId) {
    return { kind: 'cannot-rotate', detail: `keys in a CloudHSM key store rotate neither automatically nor on demand: ${ALIAS_SWAP_POINTER}` };
  }
  if (key.multiRegion === 'REPLICA') {
    if (key.origin === 'EXTERNAL') {
      return { kind: 'follows-primary', detail: `a replica takes no new material of its own: rotating the (${key.scenario}) primary imports the same new material into it (EXISTING_KEY_MATERIAL) first` };
    }
    return { kind: 'follows-primary', detail: `a replica shares its primary's material: rotating the (${key.scenario}) primary rotates it too` };
  }
  const skip = skipForState(key);
  if (skip) return skip;
  if (key.origin !== 'AWS_KMS' && key.origin !== 'EXTERNAL') {
    return { kind: 'skip', detail: `Origin ${key.origin ?? 'unknown'}: kms-lab rotates only KMS-generated and imported material` };
  }
  const usage = key.onDemand ?? { used: 0, limit: ON_DEMAND_ROTATION_LIMIT, left: ON_DEMAND_ROTATION_LIMIT };
  if (usage.left === 0) {
    return { kind: 'refused', detail: `refused: all ${ON_DEMAND_ROTATION_LIMIT} on-demand rotations used`, paragraph: limitReachedMessage(key) };
  }
  if (key.origin === 'AWS_KMS') return { kind: 'rotate-on-demand', detail: `rotate on demand (RotateKeyOnDemand), ${usage.left} of ${usage.limit} left` };
  return { kind: 'rotate-imported-material', detail: `rotate imported material: new material escrowed first, then imported and rotated to; ${usage.left} of ${usage.limit} left` };
}

/** How the imported key (c) is rotated, given what its escrow and KMS say; or why it is not. */
export type ImportedStep =
  /** The escrow records the key's current material: generate new material, escrow it first, import, rotate. */
  | { readonly step: 'generate' }
  /** An earlier run escrowed new material and stopped before importing it: import that material, rotate. */
  | { readonly step: 'import-escrowed' }
  /** An earlier run imported the escrowed material and stopped before rotating: rotate to it. */
  | { readonly step: 'rotate-pending'; readonly keyMaterialId: string }
  | { readonly refuse: string };

export interface ImportedFacts {
  /** c (the default), or e for the multi-Region key, whose escrow names its primary. */
  readonly scenario?: 'c' | 'e';
  readonly keyArn: string;
  readonly region: string;
  readonly currentKeyMaterialId?: string;
  readonly materials: readonly MaterialEntry[];
  readonly escrowSecretName: string;
  /** The escrow's record; undefined when the secret holds none. */
  readonly record?: EscrowRecord;
}

/**
 * Decides from the escrow record and the key's materials. The escrow must
 * hold the key's current material before anything changes (the key keeps it
 * to decrypt older ciphertext, and the lab's deploys re-import it), so every
 * case in which it does not is refused rather than guessed.
 */
export function importedRotationStep(f: ImportedFacts): ImportedStep {
  const refuse = (why: string, todo: string): ImportedStep => ({
    refuse: `Cannot rotate the imported material of (${f.scenario ?? 'c'}) ${f.keyArn} in ${f.region}: ${why}. Nothing was changed. What to do: ${todo}.`,
  });
  const versions = `\`aws secretsmanager list-secret-version-ids --secret-id ${f.escrowSecretName} --region ${f.region}\``;
  const { record } = f;
  if (!record) {
    return refuse(
      `the escrow secret ${f.escrowSecretName} holds no escrow record, so the key's current material is not escrowed and a rotation would lose track of it`,
      `deploy the lab again (the import handler writes the record), or put the record back from an earlier version of the secret (${versions} lists them)`,
    );
  }
  // A multi-Region key's material is one for the primary and its replicas: a record naming any of them by ARN (one key id) is its own.
  const sameKey = f.scenario === 'e' ? keyIdOf(record.keyArn) === keyIdOf(f.keyArn) : record.keyArn === f.keyArn;
  if (!sameKey) {
    const outputs = f.scenario === 'e' ? 'MultiRegionImportedKeyArn and MultiRegionImportedEscrowSecretName' : 'ImportedMaterialKeyArn and ImportedMaterialEscrowSecretName';
    return refuse(
      `the escrow secret ${f.escrowSecretName} holds the material of another key (${record.keyArn})`,
      `check the primary stack's outputs ${outputs}, and deploy the lab again so they belong together`,
    );
  }
  const current = f.currentKeyMaterialId;
  if (!current) {
    return refuse('KMS reports no current material for the key (DescribeKey has no CurrentKeyMaterialId)', 'deploy the lab again so the import handler imports the escrowed material, then rotate');
  }
  const pending = pendingMaterial(f.materials);
  const previousId = record.previous?.[0]?.keyMaterialId;
  if (pending.length === 0 && record.keyMaterialId === current) return { step: 'generate' };
  if (pending.length === 0 && !record.keyMaterialId && previousId === current) return { step: 'import-escrowed' };
  if (pending.length === 1 && pending[0].keyMaterialId && record.keyMaterialId === pending[0].keyMaterialId && previousId === current) {
    return { step: 'rotate-pending', keyMaterialId: pending[0].keyMaterialId };
  }
  if (pending.length > 0) {
    const ids = pending.map((p) => p.keyMaterialId ?? 'unknown id').join(', ');
    return refuse(
      `the key holds material pending rotation (${ids}) that the escrow does not record: it was imported outside \`kms-lab rotate\``,
      `delete it with \`aws kms delete-imported-key-material --key-id ${f.keyArn} --key-material-id ${pending[0].keyMaterialId ?? '<id>'} --region ${f.region}\` (pending material is not yet bound to the key), then run kms-lab rotate again`,
    );
  }
  if (!record.keyMaterialId) {
    return refuse(
      'the escrow record does not say which material it holds (it has no keyMaterialId), so kms-lab cannot tell that it is the material the key uses',
      'deploy the lab again (the import handler imports the escrowed material again and records its id), then rotate',
    );
  }
  return refuse(
    `the escrow records the material ${record.keyMaterialId}, but the key's current material is ${current}: the escrow does not hold the material the key uses`,
    `if a rotation finished moments ago, wait a minute and run kms-lab rotate again; otherwise put the matching record back from an earlier version of the secret (${versions} lists them) before any rotation`,
  );
}

/** The step's line for the plan table; replicas: the multi-Region replicas that take the new material too. */
export function importedStepDetail(step: ImportedStep, currentKeyMaterialId: string | undefined, replicas: readonly string[] = []): string {
  if ('refuse' in step) return 'refused: see below';
  const into = replicas.length > 0 ? ` into the primary, then as EXISTING_KEY_MATERIAL into the replica${replicas.length > 1 ? 's' : ''} in ${replicas.join(', ')}` : '';
  if (step.step === 'generate') {
    return `new material: 32 random bytes escrowed first, then imported as NEW_KEY_MATERIAL${into} and rotated to; the current material ${currentKeyMaterialId} stays in the key${replicas.length > 0 ? 's' : ''} and the escrow for decrypting`;
  }
  if (step.step === 'import-escrowed') return `finish an interrupted rotation: import the new material already escrowed${into ? ` (NEW_KEY_MATERIAL${into})` : ''}, then rotate to it`;
  const toReplicas = replicas.length > 0 ? `; import it into the replica${replicas.length > 1 ? 's' : ''} in ${replicas.join(', ')} (EXISTING_KEY_MATERIAL, again if it is there already)` : '';
  return `finish an interrupted rotation: the escrowed material ${step.keyMaterialId} is imported and pending${toReplicas}; rotate to it`;
}

/** The escrow record written before anything is imported: the new material, and every earlier one, the current first. */
export function escrowWithNewMaterial(record: EscrowRecord, material: Buffer): EscrowRecord {
  return {
    keyArn: record.keyArn,
    material,
    previous: [{ material: record.material, ...(record.keyMaterialId ? { keyMaterialId: record.keyMaterialId } : {}) }, ...(record.previous ?? [])],
  };
}

/** The record once KMS has named the new material. */
export function escrowWithMaterialId(record: EscrowRecord, keyMaterialId: string | undefined): EscrowRecord {
  return keyMaterialId ? { ...record, keyMaterialId } : record;
}

/** The imported key's expiry as DescribeKey reports it, kept for the new material so the lab's deploys find what they expect. */
export function expirationOf(meta: { ExpirationModel?: string; ValidTo?: Date }): { model: 'KEY_MATERIAL_DOES_NOT_EXPIRE' | 'KEY_MATERIAL_EXPIRES'; validTo?: Date } {
  if (meta.ExpirationModel === 'KEY_MATERIAL_EXPIRES' && meta.ValidTo) return { model: 'KEY_MATERIAL_EXPIRES', validTo: meta.ValidTo };
  return { model: 'KEY_MATERIAL_DOES_NOT_EXPIRE' };
}

/**
 * The paragraph when the escrow's resource policy (or IAM) refuses the caller:
 * rotating imported material needs a key administrator, and why.
 */
export function escrowDeniedMessage(input: { scenario?: 'c' | 'e'; operation: string; keyArn: string; region: string; secretName: string; serviceMessage: string }): string {
  const scenario = input.scenario ?? 'c';
  const leaveOut = `Or leave (${scenario}) out with --scenario ${otherScenarios(scenario)}.`;
  const head = `Rotating the imported material of (${scenario}) ${input.keyArn} stopped before touching the key: AWS denied ${input.operation} on its escrow secret ${input.secretName} in ${input.region} (${input.serviceMessage}).`;
  const why =
    ' kms-lab writes new material to the escrow before it imports anything, and keeps the current material there too (the key keeps it to decrypt older ciphertext), so that no material is ever in the key without being escrowed;' +
    " the escrow's resource policy lets only the import handler's role and the key administrators (keyAdminArns) at its value, to keep the raw material from key users and everyone else.";
  if (input.operation === 'GetSecretValue') {
    return `${head}${why} Nothing was changed. What to do: run kms-lab rotate as a key administrator (--profile <an administrator's profile>). ${leaveOut}`;
  }
  return (
    `${head}${why} Nothing was changed: the escrow write comes first, and the new material was discarded. ` +
    "What to do: run kms-lab rotate as a key administrator that the escrow's policy lets write the value (--profile <an administrator's profile>); " +
    `if the policy lets only the import handler write it, it must name the administrators too before kms-lab can rotate (${scenario}). ${leaveOut}`
  );
}

export const ROTATE_SCENARIOS: readonly KeyScenario[] = ['a', 'b', 'c', 'd', 'e'];

/** Parses `--scenario a,c`; undefined (the option left out) selects every scenario. Returns the problem as text. */
export function parseRotateScenarios(value: string | undefined): readonly KeyScenario[] | string {
  if (value === undefined) return ROTATE_SCENARIOS;
  const items = value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  const unknown = items.filter((s) => !(ROTATE_SCENARIOS as readonly string[]).includes(s));
  if (items.length === 0 || unknown.length > 0) {
    const named = unknown.length ? `unknown scenario${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}` : 'no scenario';
    return `--scenario ${JSON.stringify(value)} names ${named}. What to do: give a comma-separated list of ${ROTATE_SCENARIOS.join(', ')}, or leave the option out for them all`;
  }
  return ROTATE_SCENARIOS.filter((s) => items.includes(s));
}

/** For the confirmation's refusals. */
export const ROTATE_COMMAND: ChangingCommand = {
  name: 'kms-lab rotate',
  does: 'rotates KMS keys (each on-demand rotation uses one of the 25 a key is allowed, for good)',
};
