import { constants, createPublicKey, publicEncrypt } from 'node:crypto';

export type WrappingAlgorithm = 'RSAES_OAEP_SHA_1' | 'RSAES_OAEP_SHA_256';
export type WrappingKeySpec = 'RSA_2048' | 'RSA_3072' | 'RSA_4096';

/** OAEP hash for each algorithm; OpenSSL uses the same hash for MGF1, as KMS expects. */
const OAEP_HASH: Record<WrappingAlgorithm, 'sha1' | 'sha256'> = {
  RSAES_OAEP_SHA_1: 'sha1',
  RSAES_OAEP_SHA_256: 'sha256',
};

const MODULUS_BITS: Record<WrappingKeySpec, number> = { RSA_2048: 2048, RSA_3072: 3072, RSA_4096: 4096 };

/** Symmetric imported keys take exactly 256 bits of material. */
export const KEY_MATERIAL_BYTES = 32;

export class WrapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WrapError';
  }
}

/**
 * Wraps key material for ImportKeyMaterial: RSA-OAEP under the DER (SPKI)
 * public key that GetParametersForImport returned.
 */
export function wrapKeyMaterial(
  material: Uint8Array,
  publicKeyDer: Uint8Array,
  algorithm: WrappingAlgorithm,
  expectedSpec?: WrappingKeySpec,
): Buffer {
  const hash = OAEP_HASH[algorithm];
  if (!hash) throw new WrapError(`Unsupported wrapping algorithm ${String(algorithm)}; use ${Object.keys(OAEP_HASH).join(' or ')}.`);
  if (material.length !== KEY_MATERIAL_BYTES) {
    throw new WrapError(`Key material must be ${KEY_MATERIAL_BYTES} bytes for a symmetric key, not ${material.length}.`);
  }
  const key = createPublicKey({ key: Buffer.from(publicKeyDer), format: 'der', type: 'spki' });
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (key.asymmetricKeyType !== 'rsa' || !bits) throw new WrapError('The wrapping public key is not an RSA key.');
  if (expectedSpec && bits !== MODULUS_BITS[expectedSpec]) {
    throw new WrapError(`The wrapping public key has ${bits} bits, but ${expectedSpec} was requested.`);
  }
  return publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, Buffer.from(material));
}
