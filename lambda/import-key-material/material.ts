import { KEY_MATERIAL_BYTES } from './wrap';

export class MaterialError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MaterialError';
  }
}

/**
 * Reads bring-your-own material from a secret value: SecretBinary of 32 bytes,
 * or a SecretString holding 64 hex digits or base64 of 32 bytes.
 * Errors speak of lengths and encodings only, never of the bytes.
 */
export function decodeSecretMaterial(secretName: string, value: { SecretBinary?: Uint8Array; SecretString?: string }): Buffer {
  const expected = `${KEY_MATERIAL_BYTES} bytes as SecretBinary, or 64 hex digits or base64 of ${KEY_MATERIAL_BYTES} bytes as SecretString`;
  let material: Buffer;
  if (value.SecretBinary && value.SecretBinary.length > 0) {
    material = Buffer.from(value.SecretBinary);
  } else if (typeof value.SecretString === 'string') {
    const s = value.SecretString.trim();
    if (/^[0-9a-fA-F]{64}$/.test(s)) material = Buffer.from(s, 'hex');
    else if (/^[A-Za-z0-9+/]+={0,2}$/.test(s) && s.length % 4 === 0) material = Buffer.from(s, 'base64');
    else throw new MaterialError(`Secret ${secretName} holds a SecretString that is neither hex nor base64. Store ${expected}.`);
  } else {
    throw new MaterialError(`Secret ${secretName} has no value. Store ${expected}.`);
  }
  if (material.length !== KEY_MATERIAL_BYTES) {
    throw new MaterialError(`Secret ${secretName} holds ${material.length} bytes of key material. Store ${expected}.`);
  }
  return material;
}

/**
 * Every spelling in which material could leak into text: raw, hex, base64 (both alphabets).
 * Used as a last guard on error messages and as the search list in tests.
 */
export function materialSpellings(material: Uint8Array): string[] {
  const b = Buffer.from(material);
  return [b.toString('hex'), b.toString('hex').toUpperCase(), b.toString('base64'), b.toString('base64url'), b.toString('latin1')];
}

/** Replaces any spelling of the material in text. */
export function redactMaterial(text: string, material: Uint8Array | undefined): string {
  if (!material) return text;
  return materialSpellings(material).reduce((t, s) => (s && t.includes(s) ? t.split(s).join('[REDACTED]') : t), text);
}
