import { parseFormatRecord } from '../shared/format-record';
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
  /**
   * Material the key held before an on-demand rotation (`kms-lab rotate`),
   * newest first. The key keeps it to decrypt older ciphertext, so the escrow
   * keeps it too; absent in records written before any rotation.
   */
  readonly previous?: readonly PreviousMaterial[];
}

/** One earlier material of the key, kept in the escrow after a rotation. */
export interface PreviousMaterial {
  readonly material: Buffer;
  readonly keyMaterialId?: string;
}

export function encodeEscrowRecord(record: EscrowRecord): string {
  return JSON.stringify({
    format: FORMAT,
    keyArn: record.keyArn,
    material: record.material.toString('base64'),
    ...(record.keyMaterialId ? { keyMaterialId: record.keyMaterialId } : {}),
    ...(record.previous && record.previous.length > 0
      ? {
          previous: record.previous.map((p) => ({
            material: p.material.toString('base64'),
            ...(p.keyMaterialId ? { keyMaterialId: p.keyMaterialId } : {}),
          })),
        }
      : {}),
  });
}

/** The record in a secret value, or undefined for anything else (e.g. the placeholder the secret starts with). */
export function decodeEscrowRecord(secretString: string | undefined): EscrowRecord | undefined {
  const p = parseFormatRecord(secretString, FORMAT);
  if (!p || typeof p.keyArn !== 'string' || typeof p.material !== 'string') return undefined;
  const previous = decodePrevious(p.previous);
  // A damaged list is no record at all: rewriting it without the earlier material would lose it.
  if (previous === null) return undefined;
  return {
    keyArn: p.keyArn,
    material: Buffer.from(p.material, 'base64'),
    keyMaterialId: typeof p.keyMaterialId === 'string' ? p.keyMaterialId : undefined,
    ...(previous ? { previous } : {}),
  };
}

/** The earlier materials of a record: undefined when there are none, null when the list is not one this format writes. */
function decodePrevious(value: unknown): PreviousMaterial[] | undefined | null {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) return null;
  const list: PreviousMaterial[] = [];
  for (const entry of value) {
    if (typeof entry !== 'object' || entry === null || typeof (entry as { material?: unknown }).material !== 'string') return null;
    const e = entry as { material: string; keyMaterialId?: unknown };
    list.push({ material: Buffer.from(e.material, 'base64'), ...(typeof e.keyMaterialId === 'string' ? { keyMaterialId: e.keyMaterialId } : {}) });
  }
  return list.length > 0 ? list : undefined;
}
