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

/** One material to import, with how KMS is told what it is. */
export interface MaterialImport {
  readonly material: Buffer;
  /** Undefined: KMS's default (see importTypeFor). */
  readonly importType?: ImportType;
  /** Sent with EXISTING_KEY_MATERIAL when known: KMS checks that the bytes are that material of this key. */
  readonly keyMaterialId?: string;
  /** The record's current material (the last import), as opposed to an earlier one. */
  readonly current: boolean;
}

/** The materials of an escrow record (or the one bring-your-own material), as importPlan reads them. */
export interface MaterialsToImport {
  readonly material: Buffer;
  readonly keyMaterialId?: string;
  /** Newest first, as `kms-lab rotate` records them. */
  readonly previous?: readonly { readonly material: Buffer; readonly keyMaterialId?: string }[];
}

/**
 * Every material the key must hold, in the order they are imported. A key
 * rotated on demand keeps its earlier materials, and KMS enables it only once
 * all of them are imported (ImportKeyMaterial), so after they expire (or in a
 * replica created after the rotation) each is imported again: the earlier
 * ones as EXISTING_KEY_MATERIAL with their KeyMaterialId, oldest first, then
 * the current one, typed by importTypeFor (EXISTING, since a key with earlier
 * materials has had imports). The docs set no order; the current one comes
 * last so that its id is the one the import reports.
 */
export function importPlan(role: KeyRole, key: KeyView, materials: MaterialsToImport): MaterialImport[] {
  const previous = [...(materials.previous ?? [])].reverse();
  const earlier: MaterialImport[] = previous.map((p) => ({
    material: p.material,
    importType: 'EXISTING_KEY_MATERIAL',
    ...(p.keyMaterialId ? { keyMaterialId: p.keyMaterialId } : {}),
    current: false,
  }));
  if (rotationInProgress(key, materials)) return earlier;
  const importType = previous.length > 0 ? 'EXISTING_KEY_MATERIAL' : importTypeFor(role, key, materials.keyMaterialId);
  const current: MaterialImport = {
    material: materials.material,
    importType,
    ...(importType === 'EXISTING_KEY_MATERIAL' && materials.keyMaterialId ? { keyMaterialId: materials.keyMaterialId } : {}),
    current: true,
  };
  return [...earlier, current];
}

/**
 * Whether the record's current material is a rotation's new material that
 * `kms-lab rotate` escrowed but has not imported yet: the record has no id
 * for it, and the key's current material is the newest earlier one. KMS would
 * refuse it as EXISTING_KEY_MATERIAL (it is not the key's yet), and the key
 * needs only the materials it has, so the import leaves it to the rotation
 * (which a second `kms-lab rotate` finishes).
 */
export function rotationInProgress(key: KeyView, materials: MaterialsToImport): boolean {
  const newest = materials.previous?.[0];
  return !materials.keyMaterialId && !!newest?.keyMaterialId && key.CurrentKeyMaterialId === newest.keyMaterialId;
}

/** What ListKeyRotations (IncludeKeyMaterial=ALL_KEY_MATERIAL) says of one material. */
export interface ListedMaterial {
  readonly KeyMaterialId?: string;
  readonly KeyMaterialState?: string;
  readonly ImportState?: string;
}

/**
 * The materials a key still needs before KMS enables it: permanently
 * associated ones (CURRENT or NON_CURRENT) that are PENDING_IMPORT. Material
 * pending rotation is not yet the key's, so it does not count.
 */
export function materialsPendingImport(listed: readonly ListedMaterial[]): string[] {
  return listed
    .filter((m) => m.ImportState === 'PENDING_IMPORT' && (m.KeyMaterialState === 'CURRENT' || m.KeyMaterialState === 'NON_CURRENT'))
    .map((m) => m.KeyMaterialId ?? 'an unnamed material');
}

/** Where the material came from, for the message of a key that stays not Enabled. */
export type MaterialOrigin = { readonly kind: 'escrow'; readonly secretName: string } | { readonly kind: 'secret'; readonly secretName: string };

/**
 * Why a key is not Enabled after every known material was imported, and what
 * to do. pending: the materials ListKeyRotations lists as PENDING_IMPORT, or
 * undefined when it could not be read; known: the ids the import had.
 */
export function notEnabledProblem(input: {
  keyArn: string;
  region: string;
  state: string | undefined;
  pending: readonly string[] | undefined;
  known: readonly (string | undefined)[];
  origin: MaterialOrigin;
}): string {
  const { keyArn, region, origin } = input;
  const list = `\`aws kms list-key-rotations --key-id ${keyArn} --include-key-material ALL_KEY_MATERIAL --region ${region}\``;
  const head =
    `The key ${keyArn} is ${input.state ?? 'in an unknown state'} after its materials were imported, not Enabled: KMS enables a key ` +
    'that was rotated on demand only once every one of its materials is imported';
  if (!input.pending) return `${head}, and ListKeyRotations could not be read to say which are missing. What to do: list them with ${list}, import each one marked PENDING_IMPORT, then deploy again.`;
  if (input.pending.length === 0) {
    return `${head}. ListKeyRotations lists no material pending import now, so KMS may not have caught up yet. What to do: deploy again; if the key stays ${input.state}, look at it with ${list}.`;
  }
  const unknown = input.pending.filter((id) => !input.known.includes(id));
  const still = `, and these are still pending import: ${input.pending.join(', ')}`;
  if (unknown.length === 0) {
    return `${head}${still}. They were imported moments ago, so KMS may not have caught up yet. What to do: deploy again; if the key stays ${input.state}, look at it with ${list}.`;
  }
  const missing = unknown.join(', ');
  if (origin.kind === 'escrow') {
    const versions = `\`aws secretsmanager list-secret-version-ids --secret-id ${origin.secretName} --include-deprecated\``;
    return (
      `${head}${still}. The escrow secret ${origin.secretName} has no copy of ${missing}: its record does not list that earlier material (previous), ` +
      'as if a version written before the rotation was put back. What to do: as a key administrator, find the version of the escrow ' +
      `that lists it (${versions}; \`kms-lab rotate\` writes every earlier material into each new version), put its value back as ` +
      'the current one (`aws secretsmanager get-secret-value --version-id`, then `put-secret-value`), then deploy again.'
    );
  }
  return (
    `${head}${still}. The secret ${origin.secretName} holds one material, so ${missing} (material imported by an earlier rotation) ` +
    'cannot come from it. What to do: import each of them again with `kms-lab import-material --key ' +
    `${keyArn} --file <its 32 bytes>\` (EXISTING_KEY_MATERIAL), then deploy again.`
  );
}

/**
 * AWS refused the handler a call on its own escrow. The escrow's resource
 * policy names its owner by the IAM path of the handler's role, so a role
 * replaced later still matches; an escrow whose policy was written before
 * that (by a lab of an earlier version) names the earlier role by its ARN,
 * and denies the new one. This version's policy lets its key administrators
 * delete it (its own Allow); an earlier version's has no such Allow and
 * denies everyone but the old role, the administrators and the account root
 * user, so only the root user, or an administrator whose own IAM policy
 * allows DeleteResourcePolicy (the lab's KeyAdmin role has none), can.
 */
export function escrowAccessDenied(secretName: string, region: string, detail: string): string {
  return (
    `AWS denied the import handler a call on its escrow secret ${secretName} (${detail.replace(/\.$/, '')}). ` +
    "The escrow's resource policy lets only the role of its owning handler (any role under the handler's IAM path) and the key " +
    "administrators write it; an escrow written by an earlier version of the lab names the handler's earlier role by its ARN, " +
    "which denies the role that replaced it. Nothing was imported. What to do: delete the escrow's resource policy " +
    `(\`aws secretsmanager delete-resource-policy --secret-id ${secretName} --region ${region}\`), then deploy again: the handler ` +
    "puts the lab's policy back before it reads or writes the value. A policy this version wrote lets any key administrator " +
    'delete it; one an earlier version wrote lets only the account root user, or a principal named in keyAdminArns whose own ' +
    "IAM policy allows secretsmanager:DeleteResourcePolicy (the lab's KeyAdmin role has no such permission). For a lab, the " +
    'simplest way out is, once this deploy has rolled back, `npx cdk destroy --all` and then a fresh `npx cdk deploy --all`: ' +
    'the new keys get new escrows, and the old escrow stays recoverable for its recovery window. If the escrow was created by ' +
    "this deploy, check the handler role's IAM policy instead."
  );
}
