/** The parts of DescribeKey's KeyMetadata that decide whether an import is needed. */
export interface KeyView {
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

/**
 * Decides whether a key that can take material (see importBlocker) already
 * holds this material with the wanted expiry. Anything uncertain leads to an
 * import: importing the same material again is always accepted by KMS, so it
 * converges.
 */
export function decideImport(key: KeyView, knownMaterialId: string | undefined, validTo: Date | undefined): ImportDecision {
  if (key.KeyState !== 'Enabled' || !knownMaterialId || key.CurrentKeyMaterialId !== knownMaterialId) {
    return { action: 'import' };
  }
  const wantedModel = validTo ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE';
  if (key.ExpirationModel !== wantedModel) return { action: 'import' };
  if (validTo && key.ValidTo?.getTime() !== validTo.getTime()) return { action: 'import' };
  return { action: 'none', reason: 'the key already holds this material with the requested expiry' };
}
