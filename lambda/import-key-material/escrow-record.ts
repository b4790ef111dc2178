const FORMAT = 'kms-key-lab/imported-material-escrow@1';

/**
 * What the escrow secret holds: the material and the key it belongs to, so it
 * can be imported again after expiry or DeleteImportedKeyMaterial.
 */
export interface EscrowRecord {
  readonly keyArn: string;
  readonly material: Buffer;
  /** KMS's id for this material, once an import has returned one. */
  readonly keyMaterialId?: string;
}

export function encodeEscrowRecord(record: EscrowRecord): string {
  return JSON.stringify({
    format: FORMAT,
    keyArn: record.keyArn,
    material: record.material.toString('base64'),
    ...(record.keyMaterialId ? { keyMaterialId: record.keyMaterialId } : {}),
  });
}

/** The record in a secret value, or undefined for anything else (e.g. the placeholder the secret starts with). */
export function decodeEscrowRecord(secretString: string | undefined): EscrowRecord | undefined {
  if (!secretString) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const p = parsed as Record<string, unknown>;
  if (p.format !== FORMAT || typeof p.keyArn !== 'string' || typeof p.material !== 'string') return undefined;
  return {
    keyArn: p.keyArn,
    material: Buffer.from(p.material, 'base64'),
    keyMaterialId: typeof p.keyMaterialId === 'string' ? p.keyMaterialId : undefined,
  };
}
