import { execFileSync } from 'node:child_process';
import { constants, generateKeyPairSync, privateDecrypt, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { wrapKeyMaterial, WrapError } from '../../../lambda/import-key-material/wrap';

const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const spki = (k: typeof rsa2048) => k.publicKey.export({ format: 'der', type: 'spki' });

describe('wrapKeyMaterial', () => {
  test.each([
    ['RSAES_OAEP_SHA_1', 'sha1'],
    ['RSAES_OAEP_SHA_256', 'sha256'],
  ] as const)('%s wraps so that the private key unwraps the same 32 bytes', (algorithm, hash) => {
    const material = randomBytes(32);
    const wrapped = wrapKeyMaterial(material, spki(rsa2048), algorithm, 'RSA_2048');
    expect(wrapped).toHaveLength(256);
    const unwrapped = privateDecrypt({ key: rsa2048.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, wrapped);
    expect(unwrapped.equals(material)).toBe(true);
  });

  test('SHA-1 and SHA-256 wrappings are not interchangeable', () => {
    const wrapped = wrapKeyMaterial(randomBytes(32), spki(rsa2048), 'RSAES_OAEP_SHA_256');
    expect(() => privateDecrypt({ key: rsa2048.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, wrapped)).toThrow();
  });

  // KMS expects MGF1 with the same hash as OAEP; OpenSSL, told so explicitly, is the independent check.
  test.each([
    ['RSAES_OAEP_SHA_256', 'sha256'],
    ['RSAES_OAEP_SHA_1', 'sha1'],
  ] as const)('%s output unwraps with openssl pkeyutl and MGF1 set to the same hash', (algorithm, hash) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wrap-'));
    try {
      const material = randomBytes(32);
      fs.writeFileSync(path.join(dir, 'key.pem'), rsa2048.privateKey.export({ format: 'pem', type: 'pkcs8' }));
      fs.writeFileSync(path.join(dir, 'wrapped.bin'), wrapKeyMaterial(material, spki(rsa2048), algorithm));
      const out = execFileSync('openssl', [
        'pkeyutl', '-decrypt', '-inkey', path.join(dir, 'key.pem'), '-in', path.join(dir, 'wrapped.bin'),
        '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${hash}`, '-pkeyopt', `rsa_mgf1_md:${hash}`,
      ]);
      expect(out.equals(material)).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('refuses material that is not 32 bytes', () => {
    expect(() => wrapKeyMaterial(randomBytes(16), spki(rsa2048), 'RSAES_OAEP_SHA_256')).toThrow(
      new WrapError('Key material must be 32 bytes for a symmetric key, not 16.'),
    );
  });

  test('refuses a public key of another size than requested', () => {
    expect(() => wrapKeyMaterial(randomBytes(32), spki(rsa2048), 'RSAES_OAEP_SHA_256', 'RSA_4096')).toThrow(
      'The wrapping public key has 2048 bits, but RSA_4096 was requested.',
    );
  });

  test('refuses a public key that is not RSA', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => wrapKeyMaterial(randomBytes(32), ec.publicKey.export({ format: 'der', type: 'spki' }), 'RSAES_OAEP_SHA_256')).toThrow(
      'The wrapping public key is not an RSA key.',
    );
  });

  test('refuses an algorithm it does not implement', () => {
    expect(() => wrapKeyMaterial(randomBytes(32), spki(rsa2048), 'RSAES_PKCS1_V1_5' as never)).toThrow(/Unsupported wrapping algorithm/);
  });
});
