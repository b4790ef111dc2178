/** The parts of DescribeKey's KeyMetadata that decide whether an import is needed. */
export interface KeyView {
  readonly KeyId?: string;
  readonly KeyState?: string;
  readonly Origin?: string;
  readonly ExpirationModel?: string;
  readonly ValidTo?: Date;
  readonly CurrentKeyMaterialId?: string;
}

export type ImportDecision = { readonly action: 'import' } | { readonly action: 'none'; readonly reason: string };

/** Why the key cannot take material at all, or undefined when it can. Checked before any material is touched. */
export function importBlocker(key: KeyView): string | undefined {
  if (key.Origin !== undefined && key.Origin !== 'EXTERNAL') {
    return `the key's Origin is ${key.Origin}, not EXTERNAL, so it cannot take imported material`;
  }
  if (key.KeyState === 'PendingDeletion' || key.KeyState === 'PendingReplicaDeletion') {
    return `the key is ${key.KeyState}. Cancel the deletion with \`aws kms cancel-key-deletion\` or deploy a new lab`;
  }
  return undefined;
}

/** An Enabled or Disabled key holds material; PendingImport means it has none (never imported, expired or deleted). */
export function holdsMaterial(key: KeyView): boolean {
  return key.KeyState === 'Enabled' || key.KeyState === 'Disabled';
}

/**
 * Why material must not be generated for this key: it already holds material
 * that the escrow does not have. New material would be refused
 * (IncorrectKeyMaterialException), and overwriting the escrow would lose the
 * only copy, so the handler stops and says how to put the record back.
 */
export function unescrowedMaterial(key: KeyView, secretName: string): string | undefined {
  if (!holdsMaterial(key)) return undefined;
  return (
    `the key already holds material, but the escrow secret ${secretName} has no record of it, so the lab will not ` +
    'generate new material (KMS would refuse it, and the escrow would lose track of the key). Put the original escrow ' +
    'record back (restore the secret or an earlier version of it with `aws secretsmanager`), or destroy and redeploy the lab'
  );
}

/** Why a needed import cannot run now, beyond importBlocker: a Disabled key must be enabled first. */
export function reimportBlocker(key: KeyView): string | undefined {
  if (key.KeyState !== 'Disabled') return undefined;
  return (
    'the key is Disabled, and its material must be imported again (the expiry changed or the escrowed material differs ' +
    'from the current one). Enable it with `aws kms enable-key --key-id ' +
    `${key.KeyId ?? '<key id>'}\` (a key administrator may), then deploy again`
  );
}

/**
 * Decides whether a key that can take material (see importBlocker) already
 * holds this material with the wanted expiry. Anything uncertain leads to an
 * import: importing the same material again is always accepted by KMS, so it
 * converges.
 */
export function decideImport(key: KeyView, knownMaterialId: string | undefined, validTo: Date | undefined): ImportDecision {
  if (!holdsMaterial(key) || !knownMaterialId || key.CurrentKeyMaterialId !== knownMaterialId) {
    return { action: 'import' };
  }
  const wantedModel = validTo ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE';
  if (key.ExpirationModel !== wantedModel) return { action: 'import' };
  if (validTo && key.ValidTo?.getTime() !== validTo.getTime()) return { action: 'import' };
  return { action: 'none', reason: 'the key already holds this material with the requested expiry' };
}

/** How a key is imported into, from the resource's properties: scenario (c) is single-Region, (e) a primary and its replica. */
export type KeyRole = 'single-region' | 'multi-region-primary' | 'multi-region-replica';

export type ImportType = 'NEW_KEY_MATERIAL' | 'EXISTING_KEY_MATERIAL';

/**
 * The ImportType of an import. A multi-Region key set holds one material:
 * the primary takes it as NEW_KEY_MATERIAL on its very first import only
 * (NEW into a key that has material would start a rotation), and every later
 * import into it, and every import into a replica, brings the same material
 * as EXISTING_KEY_MATERIAL. Either the key (CurrentKeyMaterialId) or the
 * escrow (the id recorded after an import) showing an earlier import is
 * enough. A single-Region key leaves it to KMS's default, which is the same
 * rule for a key that holds one material.
 */
export function importTypeFor(role: KeyRole, key: KeyView, recordedMaterialId: string | undefined): ImportType | undefined {
  if (role === 'single-region') return undefined;
  if (role === 'multi-region-replica') return 'EXISTING_KEY_MATERIAL';
  return key.CurrentKeyMaterialId || recordedMaterialId ? 'EXISTING_KEY_MATERIAL' : 'NEW_KEY_MATERIAL';
}

/** The key id at the end of a key ARN (or the id itself): `mrk-...` for every key of a multi-Region set. */
export function keyIdOf(keyArnOrId: string): string {
  return keyArnOrId.slice(keyArnOrId.lastIndexOf('/') + 1);
}

/**
 * Whether an escrow record belongs to this key. A multi-Region replica's ARN
 * differs from the primary's (recorded in the escrow) only by Region, so the
 * keys of a multi-Region set are compared by key id.
 */
export function escrowBelongsTo(recordKeyArn: string, keyArn: string, role: KeyRole): boolean {
  return role === 'single-region' ? recordKeyArn === keyArn : keyIdOf(recordKeyArn) === keyIdOf(keyArn);
}

/**
 * Why a replica's import was refused when the escrow has no record that the
 * primary ever took the material (no material id in it yet): KMS takes
 * material into a replica only once the key set holds it.
 */
export function replicaBeforePrimary(replicaArn: string, primaryArn: string): string {
  return (
    `KMS refused the material for the replica ${replicaArn}: a replica takes only material that its primary key ` +
    `${primaryArn} already holds, and the escrow has no record of an import into the primary yet. Deploy the primary ` +
    "Region's stack first (its import resource imports the material), then deploy this stack again"
  );
}

/** The Region of an ARN (`arn:<partition>:<service>:<region>:...`). */
export function regionOfArn(arn: string): string {
  return arn.split(':')[3] ?? '';
}
