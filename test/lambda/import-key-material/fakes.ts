import { createHash, generateKeyPairSync, KeyObject, constants, privateDecrypt, randomBytes } from 'node:crypto';

/** An SDK v3 style service error: the handler tells errors apart by name. */
export function serviceError(name: string, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: {} });
}

// RSA key generation is slow (4096 bits takes ~1 s), so each spec is generated once per test file.
const keyPairs = new Map<string, { publicKey: KeyObject; privateKey: KeyObject }>();
export function wrappingKeyPair(spec: string) {
  if (!keyPairs.has(spec)) {
    const bits = Number(spec.replace('RSA_', ''));
    keyPairs.set(spec, generateKeyPairSync('rsa', { modulusLength: bits }));
  }
  return keyPairs.get(spec)!;
}

export const OAEP_HASH: Record<string, string> = { RSAES_OAEP_SHA_1: 'sha1', RSAES_OAEP_SHA_256: 'sha256' };

interface FakeKey {
  arn: string;
  keyId: string;
  origin: string;
  state: string;
  /** The material KMS bound the key to at the first import; later imports must match it. */
  boundMaterial?: Buffer;
  keyMaterialId?: string;
  expirationModel?: string;
  validTo?: Date;
}

/**
 * A stateful stand-in for KMS's import API: it hands out real RSA wrapping
 * keys, unwraps what the handler sends with the private key, and enforces the
 * rules KMS enforces (one material per key, tokens bound to a key and algorithm).
 */
export class FakeKms {
  readonly keys = new Map<string, FakeKey>();
  readonly tokens = new Map<string, { keyArn: string; algorithm: string; spec: string }>();
  /** Every material a successful import unwrapped, in order. */
  readonly unwrapped: Buffer[] = [];
  notFoundBeforeVisible = 0;

  addExternalKey(arn: string, state = 'PendingImport'): FakeKey {
    const key: FakeKey = { arn, keyId: arn.split('/').pop()!, origin: 'EXTERNAL', state };
    this.keys.set(arn, key);
    return key;
  }

  private key(id: string | undefined): FakeKey {
    const key = this.keys.get(id ?? '');
    if (!key) throw serviceError('NotFoundException', `Key '${id}' does not exist`);
    return key;
  }

  describeKey(input: { KeyId?: string }) {
    if (this.notFoundBeforeVisible > 0) {
      this.notFoundBeforeVisible--;
      throw serviceError('NotFoundException', `Key '${input.KeyId}' does not exist`);
    }
    const k = this.key(input.KeyId);
    return {
      KeyMetadata: {
        KeyId: k.keyId,
        Arn: k.arn,
        Origin: k.origin,
        KeyState: k.state,
        Enabled: k.state === 'Enabled',
        ExpirationModel: k.expirationModel,
        ValidTo: k.validTo,
        CurrentKeyMaterialId: k.keyMaterialId,
      },
    };
  }

  getParametersForImport(input: { KeyId?: string; WrappingAlgorithm?: string; WrappingKeySpec?: string }) {
    const k = this.key(input.KeyId);
    if (k.state === 'PendingDeletion') throw serviceError('KMSInvalidStateException', `${k.arn} is pending deletion.`);
    const token = randomBytes(64).toString('base64');
    this.tokens.set(token, { keyArn: k.arn, algorithm: input.WrappingAlgorithm!, spec: input.WrappingKeySpec! });
    return {
      KeyId: k.arn,
      ImportToken: Buffer.from(token),
      PublicKey: wrappingKeyPair(input.WrappingKeySpec!).publicKey.export({ format: 'der', type: 'spki' }),
      ParametersValidTo: new Date(Date.now() + 24 * 3600 * 1000),
    };
  }

  importKeyMaterial(input: {
    KeyId?: string;
    ImportToken?: Uint8Array;
    EncryptedKeyMaterial?: Uint8Array;
    ExpirationModel?: string;
    ValidTo?: Date;
  }) {
    const k = this.key(input.KeyId);
    const token = this.tokens.get(Buffer.from(input.ImportToken!).toString());
    if (!token || token.keyArn !== k.arn) throw serviceError('InvalidImportTokenException', 'The import token is invalid.');
    if (k.state === 'PendingDeletion') throw serviceError('KMSInvalidStateException', `${k.arn} is pending deletion.`);
    let material: Buffer;
    try {
      material = privateDecrypt(
        { key: wrappingKeyPair(token.spec).privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: OAEP_HASH[token.algorithm] },
        Buffer.from(input.EncryptedKeyMaterial!),
      );
    } catch {
      throw serviceError('InvalidCiphertextException', 'Unable to decrypt the key material.');
    }
    if (k.boundMaterial && !k.boundMaterial.equals(material)) {
      throw serviceError('IncorrectKeyMaterialException', 'The key material does not match the key.');
    }
    this.tokens.delete(Buffer.from(input.ImportToken!).toString());
    this.unwrapped.push(material);
    k.boundMaterial = material;
    k.keyMaterialId = createHash('sha256').update(material).digest('hex');
    k.state = 'Enabled';
    k.expirationModel = input.ExpirationModel;
    k.validTo = input.ValidTo;
    return { KeyId: k.arn, KeyMaterialId: k.keyMaterialId };
  }

  deleteImportedKeyMaterial(input: { KeyId?: string }) {
    const k = this.key(input.KeyId);
    if (k.state !== 'Enabled' && k.state !== 'Disabled') throw serviceError('KMSInvalidStateException', `${k.arn} is ${k.state}.`);
    k.state = 'PendingImport';
    return {};
  }
}

interface FakeSecret {
  string?: string;
  binary?: Uint8Array;
  deletedDate?: Date;
  recoveryWindowInDays?: number;
  versions: number;
}

/** A stateful stand-in for the Secrets Manager calls the handler makes. */
export class FakeSecrets {
  readonly secrets = new Map<string, FakeSecret>();

  add(id: string, value: Partial<FakeSecret> = {}): FakeSecret {
    const s: FakeSecret = { versions: value.string || value.binary ? 1 : 0, ...value };
    this.secrets.set(id, s);
    return s;
  }

  private secret(id: string | undefined): FakeSecret {
    const s = this.secrets.get(id ?? '');
    if (!s) throw serviceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return s;
  }

  describeSecret(input: { SecretId?: string }) {
    const s = this.secret(input.SecretId);
    return { ARN: input.SecretId, DeletedDate: s.deletedDate };
  }

  getSecretValue(input: { SecretId?: string }) {
    const s = this.secret(input.SecretId);
    if (s.deletedDate) throw serviceError('InvalidRequestException', 'You can’t perform this operation on the secret because it was marked for deletion.');
    if (s.string === undefined && s.binary === undefined) {
      throw serviceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT");
    }
    return { ARN: input.SecretId, SecretString: s.string, SecretBinary: s.binary };
  }

  putSecretValue(input: { SecretId?: string; SecretString?: string }) {
    const s = this.secret(input.SecretId);
    if (s.deletedDate) throw serviceError('InvalidRequestException', 'marked for deletion');
    s.string = input.SecretString;
    s.versions++;
    return { ARN: input.SecretId };
  }

  restoreSecret(input: { SecretId?: string }) {
    const s = this.secret(input.SecretId);
    s.deletedDate = undefined;
    s.recoveryWindowInDays = undefined;
    return { ARN: input.SecretId };
  }

  deleteSecret(input: { SecretId?: string; RecoveryWindowInDays?: number }) {
    const s = this.secret(input.SecretId);
    if (s.deletedDate) throw serviceError('InvalidRequestException', 'already scheduled for deletion');
    s.deletedDate = new Date();
    s.recoveryWindowInDays = input.RecoveryWindowInDays;
    return { ARN: input.SecretId, DeletionDate: s.deletedDate };
  }
}
