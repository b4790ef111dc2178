import { randomBytes } from 'node:crypto';
import {
  AwsKmsMrkAwareSymmetricKeyringNode,
  buildClient,
  CommitmentPolicy,
  KeyringNode,
  MessageHeader,
} from '@aws-crypto/client-node';
import { DecryptCommandInput, EncryptCommandInput, GenerateDataKeyCommandInput, KMS } from '@aws-sdk/client-kms';
import { AwsCallError, awsCall } from '../errors';

/** Key commitment both ways: the SDK's strictest policy, and its default. */
const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

/** Larger than KMS's 4 KiB Encrypt limit, so only envelope encryption can protect it; 16 of the SDK's 4 KiB frames. */
export const ENVELOPE_SAMPLE_BYTES = 64 * 1024;

export function envelopeSample(bytes = ENVELOPE_SAMPLE_BYTES): Buffer {
  return randomBytes(bytes);
}

/**
 * The keyrings' view of a KMS client, tagging each call's failure with the
 * call, and keeping it: the Encryption SDK folds a failed Decrypt into an
 * error whose message carries the stack traces of what went wrong, which is
 * not for the operator's eyes.
 */
export class KeyringKms {
  lastError?: AwsCallError;

  constructor(
    private readonly kms: KMS,
    private readonly region: string,
  ) {}

  generateDataKey(input: GenerateDataKeyCommandInput) {
    return this.watch('GenerateDataKey', input.KeyId, () => this.kms.generateDataKey(input));
  }
  encrypt(input: EncryptCommandInput) {
    return this.watch('Encrypt', input.KeyId, () => this.kms.encrypt(input));
  }
  decrypt(input: DecryptCommandInput) {
    return this.watch('Decrypt', input.KeyId, () => this.kms.decrypt(input));
  }

  private async watch<T>(operation: string, keyId: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await awsCall({ operation: `${operation} (Encryption SDK)`, region: this.region, resource: keyId }, fn);
    } catch (error) {
      this.lastError = error as AwsCallError;
      throw error;
    }
  }
}

/** A multi-Region-aware keyring on one KMS key, through a client in the key's Region. */
export function mrkKeyring(keyArn: string, client: KeyringKms): KeyringNode {
  return new AwsKmsMrkAwareSymmetricKeyringNode({ keyId: keyArn, client });
}

/** The KMS failure behind an Encryption SDK error if there was one; else the SDK's first line, without its traces. */
export function envelopeError(error: unknown, clients: readonly KeyringKms[]): Error {
  const kmsError = clients.find((c) => c.lastError)?.lastError;
  if (kmsError) return kmsError;
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return new Error(`the Encryption SDK failed: ${message}`);
}

export interface EnvelopeResult {
  readonly ciphertextBytes: number;
  readonly plaintext: Buffer;
  readonly header: MessageHeader;
}

/** Encrypts with one keyring and decrypts the message with another, as two Regions would. */
export async function envelopeRoundTrip(input: {
  encryptWith: KeyringNode;
  decryptWith: KeyringNode;
  plaintext: Uint8Array;
  encryptionContext: Record<string, string>;
}): Promise<EnvelopeResult> {
  const { result } = await encrypt(input.encryptWith, input.plaintext, { encryptionContext: input.encryptionContext });
  const { plaintext, messageHeader } = await decrypt(input.decryptWith, result);
  return { ciphertextBytes: result.length, plaintext, header: messageHeader };
}

/** The message must carry back the plaintext and the encryption context it was made with (the SDK adds its own keys). */
export function envelopeProblem(input: { sent: Uint8Array; context: Record<string, string>; result: EnvelopeResult }): string | undefined {
  if (Buffer.compare(Buffer.from(input.sent), input.result.plaintext) !== 0) return 'the decrypted message differs from the plaintext';
  const missing = Object.entries(input.context).filter(([k, v]) => input.result.header.encryptionContext[k] !== v);
  if (missing.length > 0) return `the message lost its encryption context (${missing.map(([k]) => k).join(', ')})`;
  return undefined;
}
