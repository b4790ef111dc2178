import 'reflect-metadata';
import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import {
  CertificateError,
  createLabCa,
  decodeCaRecord,
  encodeCaRecord,
  issuedBy,
  LabCa,
  signClusterCsr,
} from '../../../lambda/cloudhsm-init/certificates';

x509.cryptoProvider.set(webcrypto);

const CLUSTER_SUBJECT = 'CN=HSM:cluster-abc12345, O=AWS';
const NOW = new Date('2030-06-01T12:00:00Z');
const DAY_MS = 24 * 60 * 60 * 1000;
const FIVE_MINUTES_MS = 5 * 60 * 1000;
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

let ca: LabCa;
let otherCa: LabCa;
let csrPem: string;
let signedPem: string;

/** A CSR as the cluster would produce it: RSA 2048, self-signed with SHA-256. */
async function clusterCsr(): Promise<string> {
  const keys = await webcrypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  );
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: CLUSTER_SUBJECT, keys, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } });
  return csr.toString('pem');
}

function derOf(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

function csrPemOf(der: Buffer): string {
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

function spki(key: X509Certificate['publicKey']): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

async function thrown(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to throw');
}

beforeAll(async () => {
  [ca, otherCa, csrPem] = await Promise.all([
    createLabCa({ commonName: 'KMS Key Lab CA (kms-key-lab)', now: NOW }),
    createLabCa({ commonName: 'Some other CA' }),
    clusterCsr(),
  ]);
  signedPem = await signClusterCsr(csrPem, ca, { now: NOW });
});

describe('createLabCa', () => {
  test('makes a self-signed RSA 2048 CA certificate with CA:TRUE', () => {
    const cert = new X509Certificate(ca.certificatePem);
    expect(cert.subject).toBe('CN=KMS Key Lab CA (kms-key-lab)');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.ca).toBe(true);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyType).toBe('rsa');
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  test('marks BasicConstraints and KeyUsage (keyCertSign, cRLSign) critical and adds a SubjectKeyIdentifier, signed with SHA-256', () => {
    const cert = new x509.X509Certificate(ca.certificatePem);
    const basic = cert.getExtension(x509.BasicConstraintsExtension);
    const usage = cert.getExtension(x509.KeyUsagesExtension);
    expect(basic).toMatchObject({ ca: true, critical: true });
    expect(usage?.critical).toBe(true);
    expect(usage?.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    expect(cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toMatch(/^[0-9a-f]{40}$/);
    expect(cert.signatureAlgorithm).toMatchObject({ name: 'RSASSA-PKCS1-v1_5', hash: { name: 'SHA-256' } });
  });

  test('starts five minutes before now and lasts validityDays', async () => {
    const cert = new X509Certificate(ca.certificatePem);
    expect(new Date(cert.validFrom).getTime()).toBe(NOW.getTime() - FIVE_MINUTES_MS);
    expect(new Date(cert.validTo).getTime()).toBe(NOW.getTime() - FIVE_MINUTES_MS + 3652 * DAY_MS);

    const short = new X509Certificate((await createLabCa({ commonName: 'Short', now: NOW, validityDays: 30 })).certificatePem);
    expect(new Date(short.validTo).getTime() - new Date(short.validFrom).getTime()).toBe(30 * DAY_MS);
  });

  test('returns a PKCS#8 private key that belongs to the certificate', () => {
    expect(ca.privateKeyPem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
    expect(new X509Certificate(ca.certificatePem).checkPrivateKey(createPrivateKey(ca.privateKeyPem))).toBe(true);
  });

  test('writes standard PEM: 64-character lines and a trailing newline', () => {
    for (const pem of [ca.certificatePem, ca.privateKeyPem, signedPem]) {
      const lines = pem.split('\n');
      expect(pem.endsWith('-----\n')).toBe(true);
      expect(lines.slice(1, -3).every((line) => line.length === 64)).toBe(true);
      expect(lines[lines.length - 3].length).toBeLessThanOrEqual(64);
    }
    expect(signedPem).toMatch(/^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n$/);
  });
});

describe('signClusterCsr', () => {
  test('issues a certificate that verifies with the CA public key and is issued by the CA', () => {
    const cert = new X509Certificate(signedPem);
    const caCert = new X509Certificate(ca.certificatePem);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.checkIssued(new X509Certificate(otherCa.certificatePem))).toBe(false);
    expect(cert.issuer).toBe(caCert.subject);
  });

  test('takes the subject and public key from the CSR', () => {
    const cert = new X509Certificate(signedPem);
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    expect(cert.subject).toBe('CN=HSM:cluster-abc12345\nO=AWS');
    expect(new x509.X509Certificate(signedPem).subject).toBe(csr.subject);
    expect(spki(cert.publicKey).equals(Buffer.from(csr.publicKey.rawData))).toBe(true);
    expect(cert.ca).toBe(false);
  });

  test('signs with SHA-256 and RSA, a positive random serial, and fits InitializeCluster’s 5000-character limit', async () => {
    const cert = new x509.X509Certificate(signedPem);
    expect(cert.signatureAlgorithm).toMatchObject({ name: 'RSASSA-PKCS1-v1_5', hash: { name: 'SHA-256' } });
    expect(cert.serialNumber).toMatch(/^[4-7][0-9a-f]{31}$/);
    expect(new x509.X509Certificate(await signClusterCsr(csrPem, ca)).serialNumber).not.toBe(cert.serialNumber);
    expect(signedPem.length).toBeLessThanOrEqual(5000);
  });

  test('is valid from five minutes before now for about ten years, or for validityDays', async () => {
    const cert = new X509Certificate(signedPem);
    expect(new Date(cert.validFrom).getTime()).toBe(NOW.getTime() - FIVE_MINUTES_MS);
    expect(new Date(cert.validTo).getTime()).toBe(NOW.getTime() - FIVE_MINUTES_MS + 3652 * DAY_MS);

    const short = new X509Certificate(await signClusterCsr(csrPem, ca, { now: NOW, validityDays: 7 }));
    expect(new Date(short.validTo).getTime() - new Date(short.validFrom).getTime()).toBe(7 * DAY_MS);

    const before = Date.now();
    const fresh = new X509Certificate(await signClusterCsr(csrPem, ca));
    expect(new Date(fresh.validFrom).getTime()).toBeGreaterThanOrEqual(Math.floor((before - FIVE_MINUTES_MS) / 1000) * 1000);
    expect(new Date(fresh.validFrom).getTime()).toBeLessThanOrEqual(Date.now() - FIVE_MINUTES_MS);
  });

  (hasOpenssl ? test : test.skip)(
    `passes \`openssl verify -CAfile\`${hasOpenssl ? '' : ' (skipped: openssl is not on PATH)'}`,
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'cloudhsm-ca-'));
      try {
        writeFileSync(join(dir, 'ca.crt'), ca.certificatePem);
        writeFileSync(join(dir, 'cluster.crt'), signedPem);
        // attime: the certificates are dated from NOW, which may be after the machine's clock.
        const atTime = String(Math.floor(NOW.getTime() / 1000) + 3600);
        const out = execFileSync('openssl', ['verify', '-attime', atTime, '-CAfile', join(dir, 'ca.crt'), join(dir, 'cluster.crt')], {
          encoding: 'utf8',
        });
        expect(out.trim()).toBe(`${join(dir, 'cluster.crt')}: OK`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  test.each([
    ['a broken signature', (der: Buffer) => der[der.length - 1] ^= 0x01],
    ['an altered subject', (der: Buffer) => der.write('abc12346', der.indexOf('abc12345'), 'latin1')],
  ])('refuses a CSR with %s', async (_name, tamper) => {
    const der = derOf(csrPem);
    tamper(der);
    const error = await thrown(() => signClusterCsr(csrPemOf(der), ca));
    expect(error).toBeInstanceOf(CertificateError);
    expect((error as Error).message).toMatch(/signature does not verify/);
  });

  test.each([
    ['empty', () => ''],
    ['not PEM', () => 'hello'],
    ['a certificate, not a CSR', () => ca.certificatePem],
    ['PEM around junk', () => csrPemOf(Buffer.from('not a certificate request'))],
  ])('refuses a CSR that is %s', async (_name, input) => {
    const error = await thrown(() => signClusterCsr(input(), ca));
    expect(error).toBeInstanceOf(CertificateError);
    expect((error as Error).message).toMatch(/cluster CSR is not/);
  });

  test('refuses a CA record whose key does not match its certificate', async () => {
    const mismatched = { certificatePem: ca.certificatePem, privateKeyPem: otherCa.privateKeyPem };
    const error = await thrown(() => signClusterCsr(csrPem, mismatched));
    expect(error).toBeInstanceOf(CertificateError);
    expect((error as Error).message).toMatch(/does not match its certificate/);
  });

  test('never puts the CA record or its private key in an error message', async () => {
    const body = (pem: string) => pem.split('\n').filter((line) => line && !line.startsWith('-----'));
    const broken: LabCa[] = [
      { certificatePem: ca.certificatePem, privateKeyPem: otherCa.privateKeyPem },
      { certificatePem: ca.certificatePem, privateKeyPem: ca.privateKeyPem.replace(/A/g, 'B') },
      { certificatePem: 'junk', privateKeyPem: ca.privateKeyPem },
    ];
    const errors = [
      ...(await Promise.all(broken.map((record) => thrown(() => signClusterCsr(csrPem, record))))),
      await thrown(() => signClusterCsr(csrPem.replace('MII', 'MIJ'), ca)),
    ];
    for (const [error, record] of errors.map((e, i) => [e as Error, broken[i] ?? ca] as const)) {
      expect(error).toBeInstanceOf(CertificateError);
      const said = `${error.message}\n${error.stack ?? ''}\n${JSON.stringify(error)}`;
      expect(said).not.toContain(encodeCaRecord(record));
      for (const line of [...body(record.privateKeyPem), ...body(ca.privateKeyPem), ...body(otherCa.privateKeyPem)]) {
        expect(said).not.toContain(line);
      }
    }
  });
});

describe('issuedBy', () => {
  test('is true for the signed cluster certificate and for the CA itself', () => {
    expect(issuedBy(signedPem, ca.certificatePem)).toBe(true);
    expect(issuedBy(ca.certificatePem, ca.certificatePem)).toBe(true);
  });

  test('is false for a certificate from another CA', async () => {
    expect(issuedBy(signedPem, otherCa.certificatePem)).toBe(false);
    expect(issuedBy(await signClusterCsr(csrPem, otherCa), ca.certificatePem)).toBe(false);
  });

  test.each([
    ['a junk certificate', 'junk', 'trust anchor'],
    ['a junk trust anchor', 'certificate', 'junk'],
    ['empty strings', '', ''],
  ])('is false, without throwing, for %s', (_name, cert, anchor) => {
    const pick = (s: string) => (s === 'certificate' ? signedPem : s === 'trust anchor' ? ca.certificatePem : s);
    expect(issuedBy(pick(cert), pick(anchor))).toBe(false);
  });
});

describe('the CA record', () => {
  test('survives encode and decode unchanged', () => {
    const encoded = encodeCaRecord(ca);
    expect(JSON.parse(encoded)).toEqual({ format: 'kms-key-lab/cloudhsm-ca@1', ...ca });
    expect(decodeCaRecord(encoded)).toEqual(ca);
  });

  test.each([
    ['undefined', undefined],
    ['empty', ''],
    ['a placeholder', 'placeholder'],
    ['JSON null', 'null'],
    ['a JSON array', '[]'],
    ['a JSON number', '42'],
    ['another format', JSON.stringify({ format: 'kms-key-lab/imported-material-escrow@1', certificatePem: 'x', privateKeyPem: 'y' })],
    ['missing the key', JSON.stringify({ format: 'kms-key-lab/cloudhsm-ca@1', certificatePem: '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n' })],
    ['non-PEM fields', JSON.stringify({ format: 'kms-key-lab/cloudhsm-ca@1', certificatePem: 'x', privateKeyPem: 'y' })],
    ['numbers for fields', JSON.stringify({ format: 'kms-key-lab/cloudhsm-ca@1', certificatePem: 1, privateKeyPem: 2 })],
  ])('decodes to undefined when the secret holds %s', (_name, value) => {
    expect(decodeCaRecord(value)).toBeUndefined();
  });
});
