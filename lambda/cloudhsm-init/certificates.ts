// tsyringe, under @peculiar/x509, throws at import time without a Reflect polyfill.
import 'reflect-metadata';
import { createPrivateKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
export { issuedBy } from '../shared/certificate-chain';
import { parseFormatRecord } from '../shared/format-record';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

const RECORD_FORMAT = 'kms-key-lab/cloudhsm-ca@1';
const RSA_SHA256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
const DEFAULT_VALIDITY_DAYS = 3652;
// Backdated so a verifier whose clock runs a little behind ours still accepts the certificate.
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface LabCa {
  /** PEM of the self-signed CA certificate: the cluster's trust anchor (public). */
  readonly certificatePem: string;
  /** PKCS#8 PEM of the CA private key: a secret; callers store it only in Secrets Manager. */
  readonly privateKeyPem: string;
}

/** Messages never quote the CA record or the CSR body, so they are safe to log and to return to CloudFormation. */
export class CertificateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CertificateError';
  }
}

/** A new lab CA. commonName like "KMS Key Lab CA (kms-key-lab)"; valid from notBefore (default now minus 5 minutes, for clock skew) for validityDays (default 3652). */
export async function createLabCa(options: { commonName: string; now?: Date; validityDays?: number }): Promise<LabCa> {
  const keys = await webcrypto.subtle.generateKey({ ...RSA_SHA256, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }, true, [
    'sign',
    'verify',
  ]);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    // JSON form, so a commonName holding commas or other RFC 4514 specials is taken literally.
    name: [{ CN: [options.commonName] }],
    ...validity(options.now, options.validityDays),
    keys,
    signingAlgorithm: RSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certificatePem: toPem(certificate.rawData, 'CERTIFICATE'),
    privateKeyPem: toPem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY'),
  };
}

/** The CA as stored in the secret: JSON with format 'kms-key-lab/cloudhsm-ca@1', certificatePem, privateKeyPem. */
export function encodeCaRecord(ca: LabCa): string {
  return JSON.stringify({ format: RECORD_FORMAT, certificatePem: ca.certificatePem, privateKeyPem: ca.privateKeyPem });
}

/** The record in a secret value, or undefined for anything else (e.g. the placeholder the secret starts with). */
export function decodeCaRecord(secretString: string | undefined): LabCa | undefined {
  const p = parseFormatRecord(secretString, RECORD_FORMAT);
  if (!p || !isPem(p.certificatePem, 'CERTIFICATE') || !isPem(p.privateKeyPem, 'PRIVATE KEY')) return undefined;
  return { certificatePem: p.certificatePem, privateKeyPem: p.privateKeyPem };
}

/**
 * Signs the cluster CSR with the CA, as `openssl x509 -req` does in the AWS
 * guide: the CSR's subject and public key are copied unchanged (CloudHSM
 * matches them against the HSM's own key), returning the certificate PEM.
 */
export async function signClusterCsr(csrPem: string, ca: LabCa, options: { now?: Date; validityDays?: number } = {}): Promise<string> {
  const csr = await readCsr(csrPem);
  const { certificate: caCertificate, signingKey } = await openCa(ca);
  // The guide's openssl command adds no extensions. The key identifiers only help
  // chain building; no BasicConstraints/KeyUsage, so nothing limits what the cluster key may sign.
  const caKeyId = caCertificate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: csr.subjectName,
    issuer: caCertificate.subjectName,
    publicKey: csr.publicKey,
    signingKey,
    signingAlgorithm: RSA_SHA256,
    ...validity(options.now, options.validityDays),
    extensions: [
      await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
      ...(caKeyId ? [new x509.AuthorityKeyIdentifierExtension(caKeyId)] : []),
    ],
  });
  return toPem(certificate.rawData, 'CERTIFICATE');
}

async function readCsr(csrPem: string): Promise<x509.Pkcs10CertificateRequest> {
  const body = pemBody(csrPem, '(?:NEW )?CERTIFICATE REQUEST');
  if (body === undefined) {
    throw new CertificateError('The cluster CSR is not PEM: expected a -----BEGIN CERTIFICATE REQUEST----- block');
  }
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(body);
  } catch {
    throw new CertificateError('The cluster CSR is not a valid PKCS#10 certificate request');
  }
  // A CSR whose signature fails was altered after the HSM produced it, so its key may not be the HSM's.
  const verified = await csr.verify().catch(() => false);
  if (!verified) throw new CertificateError("The cluster CSR's signature does not verify; refusing to sign it");
  return csr;
}

async function openCa(ca: LabCa): Promise<{ certificate: x509.X509Certificate; signingKey: webcrypto.CryptoKey }> {
  // Node's own parser errors are dropped: the record holds a private key and no part of it belongs in a message.
  try {
    const keyObject = createPrivateKey(ca.privateKeyPem);
    if (!new X509Certificate(ca.certificatePem).checkPrivateKey(keyObject)) throw new Error('mismatch');
    const pkcs8 = keyObject.export({ format: 'der', type: 'pkcs8' });
    return {
      certificate: new x509.X509Certificate(ca.certificatePem),
      signingKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, RSA_SHA256, false, ['sign']),
    };
  } catch {
    throw new CertificateError("The CA record's private key is unreadable or does not match its certificate");
  }
}

function validity(now: Date = new Date(), validityDays: number = DEFAULT_VALIDITY_DAYS): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  return { notBefore, notAfter: new Date(notBefore.getTime() + validityDays * DAY_MS) };
}

/** 128 random bits; the first octet is 0x40-0x7f so the DER INTEGER is positive and minimally encoded without padding. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x3f) | 0x40;
  return bytes.toString('hex');
}

/** RFC 7468 layout (64-character lines, trailing newline), which InitializeCluster and OpenSSL accept. */
function toPem(der: ArrayBuffer, label: string): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function pemBody(pem: unknown, label: string): Buffer | undefined {
  if (typeof pem !== 'string') return undefined;
  const match = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(pem);
  return match ? Buffer.from(match[1].replace(/\s+/g, ''), 'base64') : undefined;
}

function isPem(value: unknown, label: string): value is string {
  return pemBody(value, label) !== undefined;
}
