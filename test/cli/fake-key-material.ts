import { constants, createHash, generateKeyPairSync, KeyObject, privateDecrypt, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  DisabledException,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  IncorrectKeyMaterialException,
  InvalidCiphertextException,
  InvalidImportTokenException,
  KMSInvalidStateException,
  KMSServiceException,
  LimitExceededException,
  ListKeyRotationsCommand,
  RotateKeyOnDemandCommand,
  UnsupportedOperationException,
} from '@aws-sdk/client-kms';
import {
  GetSecretValueCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { decodeEscrowRecord, encodeEscrowRecord, EscrowRecord } from '../../lambda/import-key-material/escrow-record';
import { evaluate } from '../deploy/iam-policy';
import { ACCOUNT, FakeAws, FakeKey, fakeMocks, FakeOn, fakePart } from './fake-aws';
import { tempDir } from './harness';

/**
 * The fake's key material: ListKeyRotations, RotateKeyOnDemand (with KMS's
 * 25 on-demand rotations per key), GetParametersForImport with real RSA
 * wrapping keys, ImportKeyMaterial that unwraps with the private key (so a
 * test sees exactly the bytes that were wrapped), and the escrow secret's
 * GetSecretValue and PutSecretValue under its resource policy. Importing this
 * module adds them to every FakeAws.install() of the test file.
 */

export const HANDLER_ROLE = `arn:aws:iam::${ACCOUNT}:role/kms-key-lab-primary-ImportKeyMaterialHandler`;
export const ADMIN_ACCESS_KEY = 'AKIAKEYADMIN00000001';
export const USER_ACCESS_KEY = 'AKIAKEYUSER000000001';
export const ON_DEMAND_LIMIT = 25;

export interface FakeMaterial {
  readonly id: string;
  readonly material: Buffer;
  state: 'CURRENT' | 'NON_CURRENT' | 'PENDING_ROTATION';
  importState?: 'IMPORTED' | 'PENDING_IMPORT';
  rotationType?: 'AUTOMATIC' | 'ON_DEMAND';
  rotationDate?: Date;
  /** For a multi-Region key with imported material: the Regions whose key has imported it (unset: all of them). */
  importedIn?: Set<string>;
}

// RSA key generation is slow (4096 bits takes about a second), so each spec is generated once per test file.
const keyPairs = new Map<string, { publicKey: KeyObject; privateKey: KeyObject }>();
function wrappingKeyPair(spec: string) {
  if (!keyPairs.has(spec)) keyPairs.set(spec, generateKeyPairSync('rsa', { modulusLength: Number(spec.replace('RSA_', '')) }));
  return keyPairs.get(spec)!;
}
const OAEP_HASH: Record<string, string> = { RSAES_OAEP_SHA_1: 'sha1', RSAES_OAEP_SHA_256: 'sha256' };

const kmsError = <E extends Error>(Ctor: new (o: { message: string; $metadata: object }) => E, message: string) => new Ctor({ message, $metadata: {} });
const smError = <E extends Error>(Ctor: new (o: { message: string; $metadata: object }) => E, message: string) => new Ctor({ message, $metadata: {} });

/** KMS names material by key and bytes; a hash of both stands in for its id here. */
export const materialId = (keyId: string, material: Buffer) => createHash('sha256').update(keyId).update(material).digest('hex');

const principalArn = (principal: string) => (principal === 'operator' ? `arn:aws:iam::${ACCOUNT}:user/operator` : principal);

export class KeyMaterialFake {
  /** By key id: a multi-Region primary and its replica share one list, as they share material. */
  readonly materials = new Map<string, FakeMaterial[]>();
  /** Each secret's values, oldest first; the last is AWSCURRENT. */
  readonly secretValues = new Map<string, string[]>();
  /** The escrow's resource policy: who may GetSecretValue and PutSecretValue. */
  readonly escrowPolicy: { readers: string[]; writers: string[] };
  /** Every material an import unwrapped with the private key, in order. */
  readonly unwrapped: Buffer[] = [];
  readonly tokens = new Map<string, { keyArn: string; algorithm: string; spec: string }>();
  /** ListKeyRotations' page size, so tests can make it page. */
  pageSize = 100;

  constructor(private readonly aws: FakeAws) {
    // The key administrators the lab names: its own KeyAdmin role, or keyAdminArns.
    this.escrowPolicy = { readers: [HANDLER_ROLE, aws.adminRole], writers: [HANDLER_ROLE, aws.adminRole] };
  }

  /** The key's materials, the first one made up from its material when nothing has been recorded yet. */
  of(key: FakeKey): FakeMaterial[] {
    let list = this.materials.get(key.keyId);
    if (!list) {
      list = [];
      // A replica left PendingImport still shares its primary's material list; only its own Region lacks the import.
      const related = [...this.aws.keys.values()].filter((k) => k.keyId === key.keyId);
      const holders = related.filter((k) => k.origin === 'AWS_KMS' || (k.origin === 'EXTERNAL' && k.state !== 'PendingImport'));
      if (holders.length > 0) {
        const multi = key.origin === 'EXTERNAL' && related.length > 1 ? { importedIn: new Set(holders.map((k) => k.region)) } : {};
        list.push({ id: materialId(key.keyId, key.material), material: key.material, state: 'CURRENT', ...(key.origin === 'EXTERNAL' ? { importState: 'IMPORTED' } : {}), ...multi });
      }
      this.materials.set(key.keyId, list);
      this.sync(key.keyId);
    }
    return list;
  }

  /** Adds n finished rotations of a type to a key's history. */
  addRotations(key: FakeKey, n: number, type: 'AUTOMATIC' | 'ON_DEMAND' = 'ON_DEMAND'): void {
    const list = this.of(key);
    for (let i = 0; i < n; i++) {
      for (const m of list) if (m.state === 'CURRENT') m.state = 'NON_CURRENT';
      const material = randomBytes(32);
      list.push({ id: materialId(key.keyId, material), material, state: 'CURRENT', rotationType: type, rotationDate: new Date(Date.UTC(2025, 0, 1 + i)), ...(key.origin === 'EXTERNAL' ? { importState: 'IMPORTED' as const } : {}) });
    }
    this.sync(key.keyId);
  }

  /** Every key with this id (a primary and its replicas) uses the current material, as DescribeKey reports. */
  sync(keyId: string): void {
    const current = this.materials.get(keyId)?.find((m) => m.state === 'CURRENT');
    for (const k of this.aws.keys.values()) {
      if (k.keyId !== keyId) continue;
      k.currentKeyMaterialId = current?.id;
      if (current) k.material = current.material;
    }
  }

  /** The escrow secret of the lab's key (c), from the primary stack's output. */
  get escrowName(): string {
    return this.aws.stacks.get(`${this.aws.primary}|${this.aws.prefix}-primary`)!.outputs.ImportedMaterialEscrowSecretName;
  }

  /** The escrow secret of the lab's key (e), in the primary Region (replicated, read-only, to the secondary). */
  get multiRegionEscrowName(): string {
    return this.aws.stacks.get(`${this.aws.primary}|${this.aws.prefix}-primary`)!.outputs.MultiRegionImportedEscrowSecretName;
  }

  escrowRecord(name = this.escrowName): EscrowRecord | undefined {
    const versions = this.secretValues.get(name) ?? [];
    return decodeEscrowRecord(versions[versions.length - 1]);
  }

  /** Every material any escrow version ever held, current and earlier: for the tests that no text shows one. */
  escrowedMaterials(): Buffer[] {
    return [...this.secretValues.values()].flat().flatMap((v) => {
      const r = decodeEscrowRecord(v);
      return r ? [r.material, ...(r.previous ?? []).map((p) => p.material)] : [];
    });
  }

  private authorizeManagement(who: { principal: string; region: string }, action: string, arn: string): void {
    const key = this.aws.keys.get(arn);
    if (key?.policy) return this.aws.authorize(who, action, key);
    if (who.principal === 'operator' || this.aws.roles.get(who.principal) === 'admin') return;
    throw new KMSServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: {},
      message: `User: ${who.principal} is not authorized to perform: kms:${action} on resource: ${arn} because no resource-based policy allows the kms:${action} action`,
    });
  }

  private escrowAllowed(who: { principal: string; region: string }, action: 'GetSecretValue' | 'PutSecretValue', name: string): void {
    const deployed = this.aws.secrets.get(name)?.policy;
    if (deployed) {
      // A secret a deploy made: its resource policy and the caller's identity policies (test/deploy/iam-policy.ts). A replica
      // is the secret of the Region called, with the primary's resource policy, which Secrets Manager replicates with it:
      // https://docs.aws.amazon.com/secretsmanager/latest/userguide/replicate-secrets.html
      const request = { principal: principalArn(who.principal), account: ACCOUNT, action: `secretsmanager:${action}`, resource: `arn:aws:secretsmanager:${who.region}:${ACCOUNT}:secret:${name}-AbCdEf` };
      if (who.principal === 'operator' || evaluate(request, deployed, this.aws.identityPolicies.get(who.principal) ?? [], 'other')) return;
    } else {
      const allowed = action === 'GetSecretValue' ? this.escrowPolicy.readers : this.escrowPolicy.writers;
      if (allowed.includes(who.principal)) return;
    }
    throw new SecretsManagerServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: {},
      message: `User: ${principalArn(who.principal)} is not authorized to perform: secretsmanager:${action} on resource: ${name} with an explicit deny in a resource-based policy`,
    });
  }

  install(on: FakeOn): void {
    const { aws } = this;
    // What `cdk deploy` leaves: every key with its first material, and (c)'s escrow holding its record.
    for (const key of aws.keys.values()) this.of(key);
    const primary = aws.stacks.get(`${aws.primary}|${aws.prefix}-primary`);
    const escrow = primary?.outputs.ImportedMaterialEscrowSecretName;
    if (escrow && !this.secretValues.has(escrow)) {
      const c = aws.keys.get(primary!.outputs.ImportedMaterialKeyArn)!;
      c.expirationModel = 'KEY_MATERIAL_DOES_NOT_EXPIRE';
      this.secretValues.set(escrow, [encodeEscrowRecord({ keyArn: c.arn, material: c.material, keyMaterialId: c.currentKeyMaterialId })]);
    }
    const eEscrow = primary?.outputs.MultiRegionImportedEscrowSecretName;
    if (eEscrow && !this.secretValues.has(eEscrow)) {
      const e = aws.keys.get(primary!.outputs.MultiRegionImportedKeyArn)!;
      for (const k of aws.keys.values()) if (k.keyId === e.keyId) k.expirationModel = 'KEY_MATERIAL_DOES_NOT_EXPIRE';
      this.secretValues.set(eEscrow, [encodeEscrowRecord({ keyArn: e.arn, material: e.material, keyMaterialId: e.currentKeyMaterialId })]);
    }

    on(fakeMocks.kms, ListKeyRotationsCommand, 'ListKeyRotations', (i: { KeyId: string; IncludeKeyMaterial?: string; Limit?: number; Marker?: string }, who) => {
      const key = aws.resolve(i.KeyId, who.region);
      this.authorizeManagement(who, 'ListKeyRotations', key.arn);
      if (key.origin === 'AWS_CLOUDHSM') throw kmsError(UnsupportedOperationException, `${key.arn} is in a custom key store, which does not support key rotation.`);
      const all = this.of(key).filter((m) => i.IncludeKeyMaterial === 'ALL_KEY_MATERIAL' || m.rotationType);
      const start = Number(i.Marker ?? 0);
      const end = start + Math.min(i.Limit ?? 100, this.pageSize);
      const external = key.origin === 'EXTERNAL';
      return {
        Rotations: all.slice(start, end).map((m) => ({
          KeyId: key.arn,
          KeyMaterialId: m.id,
          KeyMaterialState: m.state,
          ...(external ? { ImportState: m.importedIn && !m.importedIn.has(key.region) ? 'PENDING_IMPORT' : m.importState, ExpirationModel: key.expirationModel } : {}),
          ...(m.rotationType ? { RotationType: m.rotationType, RotationDate: m.rotationDate } : {}),
        })),
        Truncated: end < all.length,
        ...(end < all.length ? { NextMarker: String(end) } : {}),
      };
    });

    on(fakeMocks.kms, RotateKeyOnDemandCommand, 'RotateKeyOnDemand', (i: { KeyId: string }, who) => {
      const key = aws.resolve(i.KeyId, who.region);
      this.authorizeManagement(who, 'RotateKeyOnDemand', key.arn);
      if (key.origin === 'AWS_CLOUDHSM') throw kmsError(UnsupportedOperationException, `${key.arn} is in a custom key store, which does not support key rotation.`);
      if (key.multiRegion === 'REPLICA') throw kmsError(UnsupportedOperationException, `${key.arn} is a replica key; rotate its primary key.`);
      if (key.state === 'Disabled') throw kmsError(DisabledException, `${key.arn} is disabled.`);
      if (key.state !== 'Enabled') throw kmsError(KMSInvalidStateException, `${key.arn} is ${key.state}.`);
      const list = this.of(key);
      if (list.filter((m) => m.rotationType === 'ON_DEMAND').length >= ON_DEMAND_LIMIT) {
        throw kmsError(LimitExceededException, `${key.arn} has reached the limit of ${ON_DEMAND_LIMIT} on-demand rotations.`);
      }
      let next: FakeMaterial;
      if (key.origin === 'EXTERNAL') {
        if (list.some((m) => (m.state as string) === 'PENDING_MULTI_REGION_IMPORT_AND_ROTATION')) {
          throw kmsError(KMSInvalidStateException, `${key.arn} has key material pending import into its replica keys; import it into every replica before rotating.`);
        }
        const pending = list.find((m) => m.state === 'PENDING_ROTATION');
        if (!pending) throw kmsError(KMSInvalidStateException, `${key.arn} has no imported key material pending rotation.`);
        next = pending;
      } else {
        const material = randomBytes(32);
        next = { id: materialId(key.keyId, material), material, state: 'PENDING_ROTATION' };
        list.push(next);
      }
      for (const m of list) if (m.state === 'CURRENT') m.state = 'NON_CURRENT';
      Object.assign(next, { state: 'CURRENT', rotationType: 'ON_DEMAND', rotationDate: new Date() });
      this.sync(key.keyId);
      return { KeyId: key.arn };
    });

    on(fakeMocks.kms, GetParametersForImportCommand, 'GetParametersForImport', (i: { KeyId: string; WrappingAlgorithm: string; WrappingKeySpec: string }, who) => {
      const key = aws.resolve(i.KeyId, who.region);
      this.authorizeManagement(who, 'GetParametersForImport', key.arn);
      if (key.origin !== 'EXTERNAL') throw kmsError(UnsupportedOperationException, `${key.arn} origin is ${key.origin} which is not valid for this operation.`);
      if (key.state === 'PendingDeletion') throw kmsError(KMSInvalidStateException, `${key.arn} is pending deletion.`);
      const token = randomBytes(32).toString('hex');
      this.tokens.set(token, { keyArn: key.arn, algorithm: i.WrappingAlgorithm, spec: i.WrappingKeySpec });
      return {
        KeyId: key.arn,
        ImportToken: new Uint8Array(Buffer.from(token)),
        PublicKey: new Uint8Array(wrappingKeyPair(i.WrappingKeySpec).publicKey.export({ format: 'der', type: 'spki' })),
        ParametersValidTo: new Date(Date.now() + 24 * 3600 * 1000),
      };
    });

    on(
      fakeMocks.kms,
      ImportKeyMaterialCommand,
      'ImportKeyMaterial',
      (i: { KeyId: string; ImportToken: Uint8Array; EncryptedKeyMaterial: Uint8Array; ExpirationModel?: string; ValidTo?: Date; ImportType?: string; KeyMaterialId?: string }, who) => {
        const key = aws.resolve(i.KeyId, who.region);
        this.authorizeManagement(who, 'ImportKeyMaterial', key.arn);
        const token = this.tokens.get(Buffer.from(i.ImportToken).toString());
        if (!token || token.keyArn !== key.arn) throw kmsError(InvalidImportTokenException, 'The import token is invalid.');
        if (key.state === 'PendingDeletion') throw kmsError(KMSInvalidStateException, `${key.arn} is pending deletion.`);
        let material: Buffer;
        try {
          material = privateDecrypt(
            { key: wrappingKeyPair(token.spec).privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: OAEP_HASH[token.algorithm] },
            Buffer.from(i.EncryptedKeyMaterial),
          );
        } catch {
          throw kmsError(InvalidCiphertextException, 'Unable to decrypt the key material.');
        }
        this.tokens.delete(Buffer.from(i.ImportToken).toString());
        this.unwrapped.push(material);
        const id = materialId(key.keyId, material);
        const list = this.of(key);
        const type = i.ImportType ?? (list.length === 0 && key.multiRegion !== 'REPLICA' ? 'NEW_KEY_MATERIAL' : 'EXISTING_KEY_MATERIAL');
        const replicaRegions = [...aws.keys.values()].filter((k) => k.keyId === key.keyId && k.multiRegion === 'REPLICA').map((k) => k.region);
        if (type === 'NEW_KEY_MATERIAL') {
          if (key.multiRegion === 'REPLICA') throw kmsError(UnsupportedOperationException, `${key.arn} is a multi-Region replica key: import new key material into its primary key.`);
          if (i.KeyMaterialId) throw Object.assign(new Error('KeyMaterialId cannot be combined with NEW_KEY_MATERIAL.'), { name: 'ValidationException' });
          if (list.some((m) => m.id === id)) throw kmsError(IncorrectKeyMaterialException, 'The key material is already associated with the key.');
          if (list.some((m) => m.state.startsWith('PENDING'))) throw kmsError(KMSInvalidStateException, `${key.arn} already has key material pending rotation.`);
          const pendingState = replicaRegions.length > 0 ? 'PENDING_MULTI_REGION_IMPORT_AND_ROTATION' : 'PENDING_ROTATION';
          list.push({
            id,
            material,
            state: (list.length === 0 ? 'CURRENT' : pendingState) as FakeMaterial['state'],
            importState: 'IMPORTED',
            ...(key.multiRegion ? { importedIn: new Set([key.region]) } : {}),
          });
        } else {
          // Material is named by key id and bytes, and a replica shares its primary's key id: it takes exactly the bytes its primary holds.
          const known = list.find((m) => m.id === (i.KeyMaterialId ?? id));
          if (!known || known.id !== id) throw kmsError(IncorrectKeyMaterialException, 'The key material does not match the key material associated with the key.');
          known.importState = 'IMPORTED';
          known.importedIn?.add(key.region);
          if ((known.state as string) === 'PENDING_MULTI_REGION_IMPORT_AND_ROTATION' && replicaRegions.every((r) => known.importedIn?.has(r))) known.state = 'PENDING_ROTATION';
        }
        const holdsAll = list.filter((m) => !m.state.startsWith('PENDING')).every((m) => m.importState === 'IMPORTED' && (!m.importedIn || m.importedIn.has(key.region)));
        if (key.state === 'PendingImport' && holdsAll) key.state = 'Enabled';
        key.expirationModel = i.ExpirationModel ?? 'KEY_MATERIAL_EXPIRES';
        key.validTo = i.ValidTo;
        this.sync(key.keyId);
        return { KeyId: key.arn, KeyMaterialId: id };
      },
    );

    const secret = (id: string, region: string) => {
      const s = aws.secrets.get(id);
      if (!s || (region !== aws.primary && !(s.replicaRegions ?? []).includes(region))) throw smError(ResourceNotFoundException, "Secrets Manager can't find the specified secret.");
      if (s.deletedDate) throw smError(InvalidRequestException, "You can't perform this operation on the secret because it was marked for deletion.");
      return s;
    };
    on(fakeMocks.secrets, GetSecretValueCommand, 'GetSecretValue', (i: { SecretId: string }, who) => {
      secret(i.SecretId, who.region);
      this.escrowAllowed(who, 'GetSecretValue', i.SecretId);
      const versions = this.secretValues.get(i.SecretId) ?? [];
      if (versions.length === 0) throw smError(ResourceNotFoundException, "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT");
      return { Name: i.SecretId, SecretString: versions[versions.length - 1], VersionId: `v${versions.length}` };
    });
    on(fakeMocks.secrets, PutSecretValueCommand, 'PutSecretValue', (i: { SecretId: string; SecretString: string }, who) => {
      secret(i.SecretId, who.region);
      if (who.region !== aws.primary) throw smError(InvalidRequestException, 'Operation not permitted on a replica secret. Call must be made in primary secret\'s region.');
      this.escrowAllowed(who, 'PutSecretValue', i.SecretId);
      const versions = this.secretValues.get(i.SecretId) ?? [];
      versions.push(i.SecretString);
      this.secretValues.set(i.SecretId, versions);
      return { Name: i.SecretId, VersionId: `v${versions.length}` };
    });
  }
}

/** The key-material half of a fake, made when it is first installed. */
export const keyMaterial = fakePart((aws) => new KeyMaterialFake(aws));

FakeAws.extensions.push((aws, on) => keyMaterial(aws).install(on));

/**
 * Credentials of a profile for --profile, whose access key the fake knows as
 * roleArn (by default the key administrator the lab's policies name), in a
 * credentials file of its own.
 */
export function profileAs(aws: FakeAws, name: string, accessKey = ADMIN_ACCESS_KEY, roleArn = aws.adminRole): string[] {
  aws.sessions.set(accessKey, roleArn);
  // Only the profile: with the operator's keys in the environment too, the SDK warns of two sources.
  delete process.env.AWS_ACCESS_KEY_ID;
  delete process.env.AWS_SECRET_ACCESS_KEY;
  const file = path.join(tempDir(), 'credentials');
  fs.writeFileSync(file, `[${name}]\naws_access_key_id = ${accessKey}\naws_secret_access_key = s\n`);
  process.env.AWS_SHARED_CREDENTIALS_FILE = file;
  return ['--profile', name];
}

/** Every request input the CLI sent to any fake service, for checks that raw material never left the process. */
export function sentInputs(): { operation: string; input: Record<string, unknown> }[] {
  return Object.values(fakeMocks).flatMap((m) =>
    (m as unknown as { calls(): { args: [{ constructor: { name: string }; input: Record<string, unknown> }] }[] })
      .calls()
      .map((c) => ({ operation: c.args[0].constructor.name.replace(/Command$/, ''), input: c.args[0].input })),
  );
}
