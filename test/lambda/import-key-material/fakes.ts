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

export const PRIMARY_REGION = 'ap-southeast-1';
export const SECONDARY_REGION = 'ap-southeast-2';
const DAY_MS = 24 * 3600 * 1000;

/**
 * One material of a key (set). KeyMaterialState as ListKeyRotations reports it
 * (RotationsListEntry): CURRENT encrypts and decrypts, NON_CURRENT only
 * decrypts, PENDING_ROTATION was imported as NEW_KEY_MATERIAL and waits for
 * RotateKeyOnDemand, PENDING_MULTI_REGION_IMPORT_AND_ROTATION is a primary's
 * new material that not every replica has imported yet.
 */
export interface FakeMaterial {
  readonly id: string;
  readonly material: Buffer;
  state: 'CURRENT' | 'NON_CURRENT' | 'PENDING_ROTATION' | 'PENDING_MULTI_REGION_IMPORT_AND_ROTATION';
  rotationType?: 'ON_DEMAND';
  rotationDate?: Date;
}

/**
 * What every key of a multi-Region set shares (a single-Region key is a set of
 * one): the materials associated with it. A replica has the primary's key id,
 * and KMS names material by key id and bytes, so the ids are the same in
 * every Region ("KMS assigns a unique identifier to the key material based on
 * the KMS key ID and the imported key material", ImportKeyMaterialRequest
 * KeyMaterialId).
 */
interface KeySet {
  readonly materials: FakeMaterial[];
}

/** This key's import of one material: each import sets its own expiry (RotationsListEntry ExpirationModel, ValidTo). */
interface FakeImportOfMaterial {
  readonly expirationModel?: string;
  readonly validTo?: Date;
}

/** The material's id: a hash of the key id and the bytes stands in for KMS's. */
export function materialIdOf(keyId: string, material: Buffer): string {
  return createHash('sha256').update(keyId).update(material).digest('hex');
}

/** Materials permanently associated with a key: pending ones are not ("not permanently associated", RotationsListEntry). */
const permanent = (m: FakeMaterial) => m.state === 'CURRENT' || m.state === 'NON_CURRENT';

class FakeKey {
  state: string;
  deletionDate?: Date;
  /**
   * The materials this key holds now, by id, each with the expiry of its last
   * import. Each key of a multi-Region set imports for itself: "The key states
   * of related multi-Region keys are independent of each other" and "You set
   * the expiration model and expiration dates for each key independently"
   * (developer guide, multi-region-keys-import).
   */
  readonly imported = new Map<string, FakeImportOfMaterial>();

  constructor(
    readonly arn: string,
    readonly keySet: KeySet,
    state: string,
    readonly multiRegion?: { readonly type: 'PRIMARY' | 'REPLICA'; readonly primaryArn: string },
  ) {
    this.state = state;
  }

  get keyId(): string {
    return this.arn.split('/').pop()!;
  }

  get region(): string {
    return this.arn.split(':')[3];
  }

  /** The material KMS bound the key (set) to at the first import; it stays associated for good. */
  get boundMaterial(): Buffer | undefined {
    return this.keySet.materials[0]?.material;
  }

  /** DescribeKey CurrentKeyMaterialId. */
  get keyMaterialId(): string | undefined {
    return this.keySet.materials.find((m) => m.state === 'CURRENT')?.id;
  }

  /** The imports of the permanently associated materials this key holds. */
  private heldImports(): FakeImportOfMaterial[] {
    return this.keySet.materials.filter(permanent).flatMap((m) => (this.imported.has(m.id) ? [this.imported.get(m.id)!] : []));
  }

  /**
   * DescribeKey ExpirationModel. With several materials the docs do not say
   * which one it describes; here: KEY_MATERIAL_EXPIRES when any held material
   * expires (ValidTo then being the earliest expiry), and nothing when the key
   * holds none.
   */
  get expirationModel(): string | undefined {
    const held = this.heldImports();
    if (held.length === 0) return undefined;
    return held.some((i) => i.expirationModel === 'KEY_MATERIAL_EXPIRES') ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE';
  }

  /** DescribeKey ValidTo: "The earliest time at which any imported key material permanently associated with this KMS key expires." */
  get validTo(): Date | undefined {
    const dates = this.heldImports().flatMap((i) => (i.validTo ? [i.validTo.getTime()] : []));
    return dates.length > 0 ? new Date(Math.min(...dates)) : undefined;
  }

  /**
   * The key is Enabled only when every permanently associated material is
   * imported: "For symmetric encryption keys, you will need to import all of
   * the key materials associated with the KMS key to change its state to
   * Enabled" (ImportKeyMaterial); deleting or letting any of them expire makes
   * it PendingImport (developer guide, importing-keys-import-key-material).
   * Other states (Disabled, pending deletion) are left as they are.
   */
  settleState(): void {
    if (this.state !== 'Enabled' && this.state !== 'PendingImport') return;
    const all = this.keySet.materials.filter(permanent);
    this.state = all.length > 0 && all.every((m) => this.imported.has(m.id)) ? 'Enabled' : 'PendingImport';
  }

  /** Material gone (expired or deleted): DeleteImportedKeyMaterial leaves a PendingDeletion key as it is, and makes any other PendingImport. */
  lose(ids: readonly string[]): void {
    for (const id of ids) this.imported.delete(id);
    if (this.state !== 'PendingDeletion' && this.state !== 'PendingReplicaDeletion') this.state = 'PendingImport';
  }
}

/** One material the fake unwrapped and took, and where. */
export interface FakeImport {
  readonly region: string;
  readonly keyArn: string;
  readonly importType: string;
  readonly material: Buffer;
  readonly keyMaterialId: string;
  readonly validTo?: Date;
}

/**
 * A stateful stand-in for KMS's import API: it hands out real RSA wrapping
 * keys, unwraps what the handler sends with the private key, and enforces the
 * rules KMS documents for keys with several materials (see FakeKey and
 * importKeyMaterial): materials shared by a multi-Region primary and its
 * replicas, NEW_KEY_MATERIAL only into a primary, EXISTING only for
 * material already associated, each key Enabled only once it holds every
 * material; tokens bound to one key in one Region, expiring. Calls go to the
 * Region the harness set, as a Lambda's clients go to the Lambda's Region.
 */
export class FakeKms {
  /** The Region of the client making the calls. */
  region = PRIMARY_REGION;
  readonly keys = new Map<string, FakeKey>();
  readonly tokens = new Map<string, { keyArn: string; region: string; algorithm: string; spec: string; validTo: Date }>();
  /** Every material a successful import unwrapped, in order. */
  readonly unwrapped: Buffer[] = [];
  /** Every successful import, in order. */
  readonly imports: FakeImport[] = [];
  /** How long an import token lives; KMS gives 24 hours. */
  tokenLifetimeMs = DAY_MS;
  /**
   * Eventual consistency right after CreateKey: the next N calls on any key,
   * of any kind, answer NotFound, not only the first DescribeKey.
   */
  notFoundBeforeVisible = 0;

  addExternalKey(arn: string, state = 'PendingImport'): FakeKey {
    const key = new FakeKey(arn, { materials: [] }, state);
    this.keys.set(arn, key);
    return key;
  }

  /** A multi-Region primary with Origin EXTERNAL, as CloudFormation creates it: PendingImport. */
  addMultiRegionPrimary(arn: string): FakeKey {
    const key = new FakeKey(arn, { materials: [] }, 'PendingImport', { type: 'PRIMARY', primaryArn: arn });
    this.keys.set(arn, key);
    return key;
  }

  /**
   * ReplicateKey: the replica shares the primary's key id, so its materials,
   * but holds none until they are imported there ("If the primary key has
   * imported key material, the replica key is created with no key material",
   * ReplicateKey).
   */
  addReplica(primaryArn: string, region: string): FakeKey {
    const primary = this.keys.get(primaryArn)!;
    const parts = primaryArn.split(':');
    parts[3] = region;
    const key = new FakeKey(parts.join(':'), primary.keySet, 'PendingImport', { type: 'REPLICA', primaryArn });
    this.keys.set(key.arn, key);
    return key;
  }

  /** What KMS does when ValidTo passes: the key loses the material (all it holds unless ids are named); the key set still knows it. */
  expireMaterial(arn: string, ids?: readonly string[]): void {
    const key = this.keys.get(arn)!;
    key.lose(ids ?? [...key.imported.keys()]);
  }

  private key(id: string | undefined): FakeKey {
    if (this.notFoundBeforeVisible > 0) {
      this.notFoundBeforeVisible--;
      throw serviceError('NotFoundException', `Key '${id}' does not exist`);
    }
    const key = this.keys.get(id ?? '');
    // A client of one Region does not see keys of another.
    if (!key || key.region !== this.region) throw serviceError('NotFoundException', `Key '${id}' does not exist`);
    return key;
  }

  /**
   * What CloudFormation does to the key on destroy, after the import resource's
   * Delete. A multi-Region primary whose replicas are not all deleted waits in
   * PendingReplicaDeletion, with no deletion date.
   */
  scheduleKeyDeletion(input: { KeyId?: string; PendingWindowInDays?: number }, now = new Date()) {
    const k = this.key(input.KeyId);
    const liveReplicas = [...this.keys.values()].filter(
      (r) => r.multiRegion?.type === 'REPLICA' && r.multiRegion.primaryArn === k.arn && r.state !== 'Deleted',
    );
    if (k.multiRegion?.type === 'PRIMARY' && liveReplicas.length > 0) {
      k.state = 'PendingReplicaDeletion';
      return { KeyId: k.arn, KeyState: k.state };
    }
    k.state = 'PendingDeletion';
    k.deletionDate = new Date(now.getTime() + (input.PendingWindowInDays ?? 30) * DAY_MS);
    return { KeyId: k.arn, DeletionDate: k.deletionDate, KeyState: k.state };
  }

  describeKey(input: { KeyId?: string }) {
    const k = this.key(input.KeyId);
    const primaryArn = k.multiRegion?.primaryArn;
    return {
      KeyMetadata: {
        KeyId: k.keyId,
        Arn: k.arn,
        Origin: 'EXTERNAL',
        KeyState: k.state,
        Enabled: k.state === 'Enabled',
        ExpirationModel: k.expirationModel,
        ValidTo: k.validTo,
        CurrentKeyMaterialId: k.keyMaterialId,
        DeletionDate: k.deletionDate,
        MultiRegion: k.multiRegion !== undefined,
        ...(k.multiRegion
          ? {
              MultiRegionConfiguration: {
                MultiRegionKeyType: k.multiRegion.type,
                PrimaryKey: { Arn: primaryArn, Region: primaryArn!.split(':')[3] },
              },
            }
          : {}),
      },
    };
  }

  /**
   * ListKeyRotations with IncludeKeyMaterial=ALL_KEY_MATERIAL "adds the first
   * key material and any imported key material pending rotation"; without it,
   * only the materials of completed rotations. ImportState, ExpirationModel and
   * ValidTo are this key's, for symmetric EXTERNAL keys (RotationsListEntry).
   * Paged by Limit (default 100) and Marker.
   */
  listKeyRotations(input: { KeyId?: string; IncludeKeyMaterial?: string; Limit?: number; Marker?: string }) {
    const k = this.key(input.KeyId);
    const all = k.keySet.materials.filter((m) => input.IncludeKeyMaterial === 'ALL_KEY_MATERIAL' || m.rotationType);
    const start = Number(input.Marker ?? 0);
    const end = start + (input.Limit ?? 100);
    return {
      Rotations: all.slice(start, end).map((m) => {
        const imported = k.imported.get(m.id);
        return {
          KeyId: k.arn,
          KeyMaterialId: m.id,
          KeyMaterialState: m.state,
          ImportState: imported ? 'IMPORTED' : 'PENDING_IMPORT',
          ...(imported ? { ExpirationModel: imported.expirationModel, ...(imported.validTo ? { ValidTo: imported.validTo } : {}) } : {}),
          ...(m.rotationType ? { RotationType: m.rotationType, RotationDate: m.rotationDate } : {}),
        };
      }),
      Truncated: end < all.length,
      ...(end < all.length ? { NextMarker: String(end) } : {}),
    };
  }

  /**
   * RotateKeyOnDemand of a key with imported material: the new material must
   * already be imported and PENDING_ROTATION (a multi-Region primary's only
   * once every replica imported it); never on a replica ("invoke the on-demand
   * rotation on the primary Region key"). What `kms-lab rotate` ends with.
   */
  rotateKeyOnDemand(input: { KeyId?: string }) {
    const k = this.key(input.KeyId);
    if (k.multiRegion?.type === 'REPLICA') throw serviceError('UnsupportedOperationException', `${k.arn} is a replica key; rotate its primary key.`);
    if (k.state !== 'Enabled') throw serviceError('KMSInvalidStateException', `${k.arn} is ${k.state}.`);
    const pending = k.keySet.materials.find((m) => m.state === 'PENDING_ROTATION');
    if (!pending) throw serviceError('KMSInvalidStateException', `${k.arn} has no imported key material in PENDING_ROTATION.`);
    for (const m of k.keySet.materials) if (m.state === 'CURRENT') m.state = 'NON_CURRENT';
    Object.assign(pending, { state: 'CURRENT', rotationType: 'ON_DEMAND', rotationDate: new Date() });
    return { KeyId: k.arn };
  }

  getParametersForImport(input: { KeyId?: string; WrappingAlgorithm?: string; WrappingKeySpec?: string }) {
    const k = this.key(input.KeyId);
    if (k.state === 'PendingDeletion' || k.state === 'PendingReplicaDeletion') throw serviceError('KMSInvalidStateException', `${k.arn} is ${k.state}.`);
    const token = randomBytes(64).toString('base64');
    const validTo = new Date(Date.now() + this.tokenLifetimeMs);
    this.tokens.set(token, { keyArn: k.arn, region: this.region, algorithm: input.WrappingAlgorithm!, spec: input.WrappingKeySpec!, validTo });
    return {
      KeyId: k.arn,
      ImportToken: Buffer.from(token),
      PublicKey: wrappingKeyPair(input.WrappingKeySpec!).publicKey.export({ format: 'der', type: 'spki' }),
      ParametersValidTo: validTo,
    };
  }

  /**
   * ImportKeyMaterial (API reference, ImportKeyMaterialRequest):
   * - ImportType defaults to NEW_KEY_MATERIAL before any material was
   *   imported and to EXISTING_KEY_MATERIAL after; a replica takes no new
   *   material ("You cannot directly import new key material into the replica
   *   Region keys").
   * - NEW_KEY_MATERIAL of bytes already associated is IncorrectKeyMaterial
   *   ("KMS expected new key material but the key material being imported is
   *   already associated"); into a key that has material it is a rotation's
   *   new material, PENDING_ROTATION (PENDING_MULTI_REGION_IMPORT_AND_ROTATION
   *   while a replica lacks it, RotationsListEntry).
   * - KeyMaterialId cannot go with NEW_KEY_MATERIAL; with EXISTING, KMS
   *   computes the id of the bytes, matches it against the one given and
   *   verifies that it is associated with the key.
   * - Each import sets that material's expiry for this key.
   * Not documented, and chosen here: EXISTING before the key set has any
   * material answers KMSInvalidStateException; a second new material while one
   * is pending answers KMSInvalidStateException.
   */
  importKeyMaterial(input: {
    KeyId?: string;
    ImportToken?: Uint8Array;
    EncryptedKeyMaterial?: Uint8Array;
    ExpirationModel?: string;
    ValidTo?: Date;
    ImportType?: string;
    KeyMaterialId?: string;
  }) {
    const k = this.key(input.KeyId);
    const tokenText = Buffer.from(input.ImportToken!).toString();
    const token = this.tokens.get(tokenText);
    if (!token || token.keyArn !== k.arn || token.region !== this.region) throw serviceError('InvalidImportTokenException', 'The import token is invalid.');
    if (token.validTo.getTime() <= Date.now()) throw serviceError('ExpiredImportTokenException', 'The import token has expired.');
    if (['PendingDeletion', 'PendingReplicaDeletion', 'Disabled'].includes(k.state)) throw serviceError('KMSInvalidStateException', `${k.arn} is ${k.state}.`);
    let material: Buffer;
    try {
      material = privateDecrypt(
        { key: wrappingKeyPair(token.spec).privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: OAEP_HASH[token.algorithm] },
        Buffer.from(input.EncryptedKeyMaterial!),
      );
    } catch {
      throw serviceError('InvalidCiphertextException', 'Unable to decrypt the key material.');
    }
    const set = k.keySet;
    const id = materialIdOf(k.keyId, material);
    const associated = set.materials.find((m) => m.id === id);
    const importType = input.ImportType ?? (set.materials.length > 0 ? 'EXISTING_KEY_MATERIAL' : 'NEW_KEY_MATERIAL');
    const replicas = [...this.keys.values()].filter((r) => r.multiRegion?.type === 'REPLICA' && r.multiRegion.primaryArn === k.arn);
    if (importType === 'NEW_KEY_MATERIAL') {
      if (k.multiRegion?.type === 'REPLICA') {
        throw serviceError('UnsupportedOperationException', 'New key material can be imported into the primary key only.');
      }
      if (input.KeyMaterialId) throw serviceError('ValidationException', 'You cannot specify a key material ID with ImportType NEW_KEY_MATERIAL.');
      if (associated) throw serviceError('IncorrectKeyMaterialException', 'The key material is already associated with the key.');
      if (set.materials.some((m) => !permanent(m))) throw serviceError('KMSInvalidStateException', `${k.arn} already has key material pending rotation.`);
      const state = set.materials.length === 0 ? 'CURRENT' : replicas.length > 0 ? 'PENDING_MULTI_REGION_IMPORT_AND_ROTATION' : 'PENDING_ROTATION';
      set.materials.push({ id, material, state });
    } else {
      if (set.materials.length === 0) throw serviceError('KMSInvalidStateException', 'No key material has been imported into this key (set) yet.');
      if (input.KeyMaterialId !== undefined && input.KeyMaterialId !== id) {
        throw serviceError('IncorrectKeyMaterialException', 'The key material does not match the key material ID.');
      }
      if (!associated) throw serviceError('IncorrectKeyMaterialException', 'The key material does not match the key.');
    }
    this.tokens.delete(tokenText);
    this.unwrapped.push(material);
    this.imports.push({ region: this.region, keyArn: k.arn, importType, material, keyMaterialId: id, validTo: input.ValidTo });
    k.imported.set(id, { expirationModel: input.ExpirationModel ?? 'KEY_MATERIAL_EXPIRES', validTo: input.ValidTo });
    const entry = set.materials.find((m) => m.id === id)!;
    const primary = k.multiRegion?.type === 'REPLICA' ? this.keys.get(k.multiRegion.primaryArn) : k;
    const everyReplica = [...this.keys.values()].filter((r) => r.multiRegion?.type === 'REPLICA' && r.multiRegion.primaryArn === primary?.arn);
    if (entry.state === 'PENDING_MULTI_REGION_IMPORT_AND_ROTATION' && everyReplica.every((r) => r.imported.has(id))) entry.state = 'PENDING_ROTATION';
    // A key that had no material becomes Enabled with it; any other once it holds them all.
    if (k.state === 'PendingImport' || k.state === 'Enabled') k.settleState();
    return { KeyId: k.arn, KeyMaterialId: id };
  }

  /** "If no KeyMaterialId is specified, KMS deletes the current key material" (DeleteImportedKeyMaterialRequest). */
  deleteImportedKeyMaterial(input: { KeyId?: string; KeyMaterialId?: string }) {
    const k = this.key(input.KeyId);
    if (k.state !== 'Enabled' && k.state !== 'Disabled') throw serviceError('KMSInvalidStateException', `${k.arn} is ${k.state}.`);
    k.lose([input.KeyMaterialId ?? k.keyMaterialId ?? '']);
    return {};
  }
}

export const ACCOUNT_ARN_PREFIX = `arn:aws:secretsmanager:${PRIMARY_REGION}:111111111111:secret:`;

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
  /** On a primary: the Regions that hold a replica. */
  replicaRegions?: string[];
  /** On a replica: the primary it mirrors (value, tags and policy are read through it). */
  primary?: FakeSecret;
  /** On a replica: how many more calls answer NotFound before replication shows it. */
  hiddenFor?: number;
}

const REPLICA_REFUSAL = "Operation not permitted on a replica secret. Call must be made in primary secret's region.";

/**
 * A stateful stand-in for Secrets Manager in one Region: secrets addressed by
 * name or ARN, a six-character ARN suffix, tags, resource policies, deletion
 * schedules and the errors the real service gives for each state. Fakes of
 * several Regions share a `world` for replication: a replica mirrors its
 * primary, is read-only, shows up only after `replicaNotFoundAnswers`
 * NotFound answers, and a primary that has replicas cannot be deleted.
 */
export class FakeSecrets {
  private readonly byName = new Map<string, FakeSecret>();
  /** How many calls a new replica in this Region answers NotFound (replication lag). */
  replicaNotFoundAnswers = 0;

  constructor(
    readonly region = PRIMARY_REGION,
    private readonly world: Map<string, FakeSecrets> = new Map(),
  ) {
    world.set(region, this);
  }

  /** The fake of another Region of the same world, made on first use. */
  inRegion(region: string): FakeSecrets {
    return this.world.get(region) ?? new FakeSecrets(region, this.world);
  }

  /** Every secret by name, for assertions. */
  get secrets(): Map<string, FakeSecret> {
    return this.byName;
  }

  private arnFor(name: string): string {
    return `arn:aws:secretsmanager:${this.region}:111111111111:secret:${name}-AbCdEf`;
  }

  add(name: string, value: Partial<Omit<FakeSecret, 'name' | 'arn'>> = {}): FakeSecret {
    const s: FakeSecret = { name, arn: this.arnFor(name), tags: {}, versions: value.string || value.binary ? 1 : 0, ...value };
    this.byName.set(name, s);
    return s;
  }

  private secret(id: string | undefined): FakeSecret {
    const s = this.byName.get(id ?? '') ?? [...this.byName.values()].find((x) => x.arn === id);
    if (!s || (s.hiddenFor !== undefined && s.hiddenFor-- > 0)) {
      throw serviceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    }
    return s;
  }

  /** The secret, refusing a replica: only its primary's Region changes it. */
  private writable(id: string | undefined): FakeSecret {
    const s = this.secret(id);
    if (s.primary) throw serviceError('InvalidRequestException', REPLICA_REFUSAL);
    return s;
  }

  /** What a replica shows of its primary. */
  private view(s: FakeSecret): FakeSecret {
    return s.primary ? { ...s.primary, name: s.name, arn: s.arn, replicaRegions: undefined, deletedDate: undefined } : s;
  }

  createSecret(input: { Name?: string; SecretString?: string; Tags?: { Key?: string; Value?: string }[]; AddReplicaRegions?: { Region?: string }[] }) {
    const existing = this.byName.get(input.Name ?? '');
    if (existing?.deletedDate) {
      throw serviceError('InvalidRequestException', "You can't create this secret because a secret with this name is already scheduled for deletion.");
    }
    if (existing) throw serviceError('ResourceExistsException', 'The operation failed because the secret already exists.');
    const s = this.add(input.Name!, { string: input.SecretString });
    for (const t of input.Tags ?? []) s.tags[t.Key!] = t.Value!;
    const status = this.replicate(s, (input.AddReplicaRegions ?? []).map((r) => r.Region!));
    return { ARN: s.arn, Name: s.name, ...(status.length ? { ReplicationStatus: status } : {}) };
  }

  private replicate(s: FakeSecret, regions: string[]) {
    return regions.map((region) => {
      const target = this.inRegion(region);
      if (target.byName.has(s.name)) return { Region: region, Status: 'Failed', StatusMessage: 'Destination secret already exists.' };
      target.add(s.name, { primary: s, hiddenFor: target.replicaNotFoundAnswers });
      s.replicaRegions = [...(s.replicaRegions ?? []), region];
      return { Region: region, Status: 'InProgress' };
    });
  }

  replicateSecretToRegions(input: { SecretId?: string; AddReplicaRegions?: { Region?: string }[] }) {
    const s = this.writable(input.SecretId);
    const fresh = (input.AddReplicaRegions ?? []).map((r) => r.Region!).filter((r) => !(s.replicaRegions ?? []).includes(r));
    return { ARN: s.arn, ReplicationStatus: this.replicate(s, fresh) };
  }

  removeRegionsFromReplication(input: { SecretId?: string; RemoveReplicaRegions?: string[] }) {
    const s = this.writable(input.SecretId);
    for (const region of input.RemoveReplicaRegions ?? []) {
      // A replica goes at once, with no recovery window.
      this.inRegion(region).byName.delete(s.name);
      s.replicaRegions = (s.replicaRegions ?? []).filter((r) => r !== region);
    }
    return { ARN: s.arn, ReplicationStatus: (s.replicaRegions ?? []).map((Region) => ({ Region, Status: 'InSync' })) };
  }

  describeSecret(input: { SecretId?: string }) {
    const found = this.secret(input.SecretId);
    const s = this.view(found);
    const replicaOf = found.primary;
    return {
      ARN: s.arn,
      Name: s.name,
      DeletedDate: s.deletedDate,
      Tags: Object.entries(s.tags).map(([Key, Value]) => ({ Key, Value })),
      ...(s.replicaRegions?.length ? { ReplicationStatus: s.replicaRegions.map((Region) => ({ Region, Status: 'InSync' })) } : {}),
      ...(replicaOf ? { PrimaryRegion: replicaOf.arn.split(':')[3] } : {}),
    };
  }

  getSecretValue(input: { SecretId?: string }) {
    const s = this.view(this.secret(input.SecretId));
    if (s.deletedDate) throw serviceError('InvalidRequestException', 'You can’t perform this operation on the secret because it was marked for deletion.');
    if (s.undecryptable) throw serviceError('DecryptionFailure', 'Secrets Manager can’t decrypt the protected secret text using the provided KMS key.');
    if (s.string === undefined && s.binary === undefined) {
      throw serviceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT");
    }
    return { ARN: s.arn, SecretString: s.string, SecretBinary: s.binary };
  }

  putSecretValue(input: { SecretId?: string; SecretString?: string }) {
    const s = this.writable(input.SecretId);
    if (s.deletedDate) throw serviceError('InvalidRequestException', 'marked for deletion');
    s.string = input.SecretString;
    s.versions++;
    return { ARN: s.arn };
  }

  tagResource(input: { SecretId?: string; Tags?: { Key?: string; Value?: string }[] }) {
    const s = this.writable(input.SecretId);
    for (const t of input.Tags ?? []) s.tags[t.Key!] = t.Value!;
    return {};
  }

  untagResource(input: { SecretId?: string; TagKeys?: string[] }) {
    const s = this.writable(input.SecretId);
    for (const key of input.TagKeys ?? []) delete s.tags[key];
    return {};
  }

  putResourcePolicy(input: { SecretId?: string; ResourcePolicy?: string }) {
    const s = this.writable(input.SecretId);
    JSON.parse(input.ResourcePolicy!);
    s.policy = input.ResourcePolicy;
    return { ARN: s.arn };
  }

  restoreSecret(input: { SecretId?: string }) {
    const s = this.writable(input.SecretId);
    s.deletedDate = undefined;
    s.recoveryWindowInDays = undefined;
    return { ARN: s.arn };
  }

  deleteSecret(input: { SecretId?: string; RecoveryWindowInDays?: number; ForceDeleteWithoutRecovery?: boolean }, now = new Date()) {
    const s = this.writable(input.SecretId);
    if (s.replicaRegions?.length) {
      throw serviceError('InvalidRequestException', `You can't delete secret ${s.name} that still has replica regions [${s.replicaRegions.join(', ')}].`);
    }
    if (input.ForceDeleteWithoutRecovery) {
      if (input.RecoveryWindowInDays !== undefined) throw serviceError('InvalidParameterException', 'You can’t use ForceDeleteWithoutRecovery with RecoveryWindowInDays.');
      // Gone at once, scheduled or not: nothing is left to bill or to restore.
      this.byName.delete(s.name);
      return { ARN: s.arn, DeletionDate: now };
    }
    if (s.deletedDate) throw serviceError('InvalidRequestException', 'already scheduled for deletion');
    s.deletedDate = now;
    s.recoveryWindowInDays = input.RecoveryWindowInDays;
    return { ARN: s.arn, DeletionDate: new Date(now.getTime() + (input.RecoveryWindowInDays ?? 30) * DAY_MS) };
  }

  /** Secrets that are billed in this Region: those not scheduled for deletion, replicas included. */
  billable(): string[] {
    return [...this.byName.values()].filter((s) => !s.deletedDate).map((s) => s.name);
  }
}
