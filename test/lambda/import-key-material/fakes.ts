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
  deletionDate?: Date;
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
  /**
   * Eventual consistency right after CreateKey: the next N calls on any key,
   * of any kind, answer NotFound, not only the first DescribeKey.
   */
  notFoundBeforeVisible = 0;

  addExternalKey(arn: string, state = 'PendingImport'): FakeKey {
    const key: FakeKey = { arn, keyId: arn.split('/').pop()!, origin: 'EXTERNAL', state };
    this.keys.set(arn, key);
    return key;
  }

  private key(id: string | undefined): FakeKey {
    if (this.notFoundBeforeVisible > 0) {
      this.notFoundBeforeVisible--;
      throw serviceError('NotFoundException', `Key '${id}' does not exist`);
    }
    const key = this.keys.get(id ?? '');
    if (!key) throw serviceError('NotFoundException', `Key '${id}' does not exist`);
    return key;
  }

  /** What CloudFormation does to the key on destroy, after the import resource's Delete. */
  scheduleKeyDeletion(input: { KeyId?: string; PendingWindowInDays?: number }, now = new Date()) {
    const k = this.key(input.KeyId);
    k.state = 'PendingDeletion';
    k.deletionDate = new Date(now.getTime() + (input.PendingWindowInDays ?? 30) * 24 * 3600 * 1000);
    return { KeyId: k.arn, DeletionDate: k.deletionDate, KeyState: k.state };
  }

  describeKey(input: { KeyId?: string }) {
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
        DeletionDate: k.deletionDate,
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
    if (k.state === 'PendingDeletion' || k.state === 'Disabled') throw serviceError('KMSInvalidStateException', `${k.arn} is ${k.state}.`);
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

export const ACCOUNT_ARN_PREFIX = 'arn:aws:secretsmanager:ap-southeast-1:111111111111:secret:';

interface FakeSecret {
  name: string;
  arn: string;
  string?: string;
  binary?: Uint8Array;
  deletedDate?: Date;
  recoveryWindowInDays?: number;
  tags: Record<string, string>;
  policy?: string;
  versions: number;
  /** Set to make every read fail as a value would when its KMS key is disabled or pending deletion. */
  undecryptable?: boolean;
}

/**
 * A stateful stand-in for Secrets Manager: secrets addressed by name or ARN,
 * a six-character ARN suffix, tags, resource policies, deletion schedules and
 * the errors the real service gives for each state.
 */
export class FakeSecrets {
  private readonly byName = new Map<string, FakeSecret>();

  /** Every secret by name, for assertions. */
  get secrets(): Map<string, FakeSecret> {
    return this.byName;
  }

  add(name: string, value: Partial<Omit<FakeSecret, 'name' | 'arn'>> = {}): FakeSecret {
    const s: FakeSecret = { name, arn: `${ACCOUNT_ARN_PREFIX}${name}-AbCdEf`, tags: {}, versions: value.string || value.binary ? 1 : 0, ...value };
    this.byName.set(name, s);
    return s;
  }

  private secret(id: string | undefined): FakeSecret {
    const s = this.byName.get(id ?? '') ?? [...this.byName.values()].find((x) => x.arn === id);
    if (!s) throw serviceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return s;
  }

  createSecret(input: { Name?: string; SecretString?: string; Tags?: { Key?: string; Value?: string }[] }) {
    const existing = this.byName.get(input.Name ?? '');
    if (existing?.deletedDate) {
      throw serviceError('InvalidRequestException', "You can't create this secret because a secret with this name is already scheduled for deletion.");
    }
    if (existing) throw serviceError('ResourceExistsException', 'The operation failed because the secret already exists.');
    const s = this.add(input.Name!, { string: input.SecretString });
    for (const t of input.Tags ?? []) s.tags[t.Key!] = t.Value!;
    return { ARN: s.arn, Name: s.name };
  }

  describeSecret(input: { SecretId?: string }) {
    const s = this.secret(input.SecretId);
    return { ARN: s.arn, Name: s.name, DeletedDate: s.deletedDate, Tags: Object.entries(s.tags).map(([Key, Value]) => ({ Key, Value })) };
  }

  getSecretValue(input: { SecretId?: string }) {
    const s = this.secret(input.SecretId);
    if (s.deletedDate) throw serviceError('InvalidRequestException', 'You can’t perform this operation on the secret because it was marked for deletion.');
    if (s.undecryptable) throw serviceError('DecryptionFailure', 'Secrets Manager can’t decrypt the protected secret text using the provided KMS key.');
    if (s.string === undefined && s.binary === undefined) {
      throw serviceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT");
    }
    return { ARN: s.arn, SecretString: s.string, SecretBinary: s.binary };
  }

  putSecretValue(input: { SecretId?: string; SecretString?: string }) {
    const s = this.secret(input.SecretId);
    if (s.deletedDate) throw serviceError('InvalidRequestException', 'marked for deletion');
    s.string = input.SecretString;
    s.versions++;
    return { ARN: s.arn };
  }

  tagResource(input: { SecretId?: string; Tags?: { Key?: string; Value?: string }[] }) {
    const s = this.secret(input.SecretId);
    for (const t of input.Tags ?? []) s.tags[t.Key!] = t.Value!;
    return {};
  }

  untagResource(input: { SecretId?: string; TagKeys?: string[] }) {
    const s = this.secret(input.SecretId);
    for (const key of input.TagKeys ?? []) delete s.tags[key];
    return {};
  }

  putResourcePolicy(input: { SecretId?: string; ResourcePolicy?: string }) {
    const s = this.secret(input.SecretId);
    JSON.parse(input.ResourcePolicy!);
    s.policy = input.ResourcePolicy;
    return { ARN: s.arn };
  }

  restoreSecret(input: { SecretId?: string }) {
    const s = this.secret(input.SecretId);
    s.deletedDate = undefined;
    s.recoveryWindowInDays = undefined;
    return { ARN: s.arn };
  }

  deleteSecret(input: { SecretId?: string; RecoveryWindowInDays?: number; ForceDeleteWithoutRecovery?: boolean }, now = new Date()) {
    const s = this.secret(input.SecretId);
    if (input.ForceDeleteWithoutRecovery) {
      if (input.RecoveryWindowInDays !== undefined) throw serviceError('InvalidParameterException', 'You can’t use ForceDeleteWithoutRecovery with RecoveryWindowInDays.');
      // Gone at once, scheduled or not: nothing is left to bill or to restore.
      this.byName.delete(s.name);
      return { ARN: s.arn, DeletionDate: now };
    }
    if (s.deletedDate) throw serviceError('InvalidRequestException', 'already scheduled for deletion');
    s.deletedDate = now;
    s.recoveryWindowInDays = input.RecoveryWindowInDays;
    return { ARN: s.arn, DeletionDate: new Date(now.getTime() + (input.RecoveryWindowInDays ?? 30) * 24 * 3600 * 1000) };
  }

  /** Secrets that are billed: those not scheduled for deletion. */
  billable(): string[] {
    return [...this.byName.values()].filter((s) => !s.deletedDate).map((s) => s.name);
  }
}
