import { constants, publicEncrypt, randomBytes } from 'node:crypto';
import { ImportKeyMaterialCommand } from '@aws-sdk/client-kms';
import 'aws-sdk-client-mock-jest';
import { decodeEscrowRecord, encodeEscrowRecord } from '../../../lambda/import-key-material/escrow-record';
import { escrowWithMaterialId, escrowWithNewMaterial, expirationOf } from '../../../cli/rotate/plan';
import { cfnEvent } from '../../helpers/events';
import { PRIMARY_REGION, SECONDARY_REGION, wrappingKeyPair } from './fakes';
import { ImportHarness } from './harness';
import { MRK_ESCROW, mrkPrimaryProps, mrkReplicaProps, PRIMARY_ARN, REPLICA_ARN } from './multi-region-props';

/**
 * Keys whose imported material was rotated on demand hold several materials,
 * and KMS enables such a key only when every one of them is imported. The
 * rotation is done here as `kms-lab rotate` does it, with the records it
 * writes: new material escrowed first (the current one moves to `previous`),
 * imported as NEW_KEY_MATERIAL (EXISTING into each replica), RotateKeyOnDemand,
 * then the new id recorded.
 */

const DAY_MS = 24 * 3600 * 1000;
const KEY_ARN = `arn:aws:kms:${PRIMARY_REGION}:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const ESCROW = 'kms-key-lab/imported-material/escrow-1234abcd-12ab-34cd-56ef-1234567890ab';
const POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'secretsmanager:GetSecretValue',
      Resource: '*',
      Condition: { ArnNotLike: { 'aws:PrincipalArn': ['arn:aws:iam::111111111111:role/kms-key-lab/*'] } },
    },
  ],
};
const PRIMARY_STACK = `arn:aws:cloudformation:${PRIMARY_REGION}:111111111111:stack/kms-key-lab-primary/guid`;
const SECONDARY_STACK = `arn:aws:cloudformation:${SECONDARY_REGION}:111111111111:stack/kms-key-lab-secondary/guid`;

const h = new ImportHarness();

beforeEach(() => {
  h.reset();
  h.capture();
});

afterEach(() => h.release());

const at = (days: number) => {
  const d = new Date(Date.now() + days * DAY_MS);
  d.setUTCMilliseconds(0);
  return d;
};

function singleProps(validTo: Date) {
  return {
    KeyArn: KEY_ARN,
    WrappingAlgorithm: 'RSAES_OAEP_SHA_256',
    WrappingKeySpec: 'RSA_4096',
    ExpirationModel: 'KEY_MATERIAL_EXPIRES',
    ValidTo: validTo.toISOString(),
    MaterialSource: 'generate',
    EscrowSecretName: ESCROW,
    EscrowSecretPolicy: POLICY,
    SecretTags: { 'kms-key-lab:lab': 'kms-key-lab' },
    PendingWindowDays: '7',
    DeleteMaterialOnDelete: 'false',
  };
}

const primaryProps = () => mrkPrimaryProps(POLICY, { 'kms-key-lab:lab': 'kms-key-lab' });
const replicaProps = () => mrkReplicaProps();

const record = (name: string) => decodeEscrowRecord(h.sm.secrets.get(name)?.string);
const allEscrowed = (name: string) => {
  const r = record(name);
  return r ? [r.material, ...(r.previous ?? []).map((p) => p.material)] : [];
};

/** One event in a Region, checked for leaks of every material the escrow holds. */
async function run(region: string, event: ReturnType<typeof cfnEvent>, escrow: string) {
  h.region = region;
  return h.run(event, allEscrowed(escrow));
}

/** An import as `kms-lab rotate` makes it: its own wrapping key and token, the wrapped bytes. */
function importAsTheCli(arn: string, region: string, material: Buffer, importType: string) {
  h.region = region;
  const meta = h.kms.describeKey({ KeyId: arn }).KeyMetadata;
  const params = h.kms.getParametersForImport({ KeyId: arn, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
  const wrapped = publicEncrypt({ key: wrappingKeyPair('RSA_2048').publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material);
  const expiration = expirationOf(meta);
  return h.kms.importKeyMaterial({
    KeyId: arn,
    ImportToken: params.ImportToken,
    EncryptedKeyMaterial: wrapped,
    ExpirationModel: expiration.model,
    ValidTo: expiration.validTo,
    ImportType: importType,
  }).KeyMaterialId;
}

/** `kms-lab rotate` of an imported key: escrow first, NEW into the primary, EXISTING into each replica, rotate, record the id. */
function rotateAsTheCli(primaryArn: string, escrow: string, replicas: { arn: string; region: string }[] = []): Buffer {
  const fresh = randomBytes(32);
  const escrowed = escrowWithNewMaterial(record(escrow)!, fresh);
  h.sm.putSecretValue({ SecretId: escrow, SecretString: encodeEscrowRecord(escrowed) });
  const newId = importAsTheCli(primaryArn, PRIMARY_REGION, fresh, 'NEW_KEY_MATERIAL');
  for (const r of replicas) importAsTheCli(r.arn, r.region, fresh, 'EXISTING_KEY_MATERIAL');
  h.region = PRIMARY_REGION;
  h.kms.rotateKeyOnDemand({ KeyId: primaryArn });
  h.sm.putSecretValue({ SecretId: escrow, SecretString: encodeEscrowRecord(escrowWithMaterialId(escrowed, newId)) });
  return fresh;
}

const materialsOf = (arn: string, region: string) => {
  h.region = region;
  return h.kms.listKeyRotations({ KeyId: arn, IncludeKeyMaterial: 'ALL_KEY_MATERIAL' }).Rotations;
};

describe('scenario (c): rotated material that expired', () => {
  test('a deploy with a later materialExpiresOn imports every material again, each with its id, and the key is Enabled', async () => {
    h.kms.addExternalKey(KEY_ARN);
    const first = at(30);
    expect((await run(PRIMARY_REGION, cfnEvent('Create', singleProps(first)), ESCROW)).error).toBeUndefined();
    rotateAsTheCli(KEY_ARN, ESCROW);
    expect(materialsOf(KEY_ARN, PRIMARY_REGION)).toHaveLength(2);
    h.kms.expireMaterial(KEY_ARN);
    expect(h.kms.keys.get(KEY_ARN)!.state).toBe('PendingImport');
    const importsBefore = h.kms.imports.length;
    h.kmsMock.resetHistory();

    const later = at(90);
    const { response, error } = await run(
      PRIMARY_REGION,
      cfnEvent('Update', singleProps(later), { physicalId: KEY_ARN, oldProperties: singleProps(first) }),
      ESCROW,
    );
    expect(error).toBeUndefined();
    expect(h.kms.keys.get(KEY_ARN)!.state).toBe('Enabled');
    const escrowed = record(ESCROW)!;
    const previous = escrowed.previous![0];
    // The earlier material first, with its id, then the current one; both as EXISTING_KEY_MATERIAL.
    const sent = h.kmsMock.commandCalls(ImportKeyMaterialCommand).map((c) => c.args[0].input);
    expect(sent.map((i) => [i.ImportType, i.KeyMaterialId, i.ValidTo])).toEqual([
      ['EXISTING_KEY_MATERIAL', previous.keyMaterialId, later],
      ['EXISTING_KEY_MATERIAL', escrowed.keyMaterialId, later],
    ]);
    const taken = h.kms.imports.slice(importsBefore);
    expect(taken.map((i) => i.material.equals(previous.material))).toEqual([true, false]);
    expect(taken[1].material.equals(escrowed.material)).toBe(true);
    // Each with its own token: the docs do not say a token serves two imports.
    const tokens = sent.map((i) => Buffer.from(i.ImportToken!).toString());
    expect(new Set(tokens).size).toBe(2);
    expect(materialsOf(KEY_ARN, PRIMARY_REGION).map((m) => [m.ImportState, m.ValidTo])).toEqual([
      ['IMPORTED', later],
      ['IMPORTED', later],
    ]);
    expect(response!.Data).toMatchObject({ Imported: 'true', KeyMaterialId: escrowed.keyMaterialId });

    // And the next deploy finds everything in place.
    h.kmsMock.resetHistory();
    const again = await run(PRIMARY_REGION, cfnEvent('Update', singleProps(later), { physicalId: KEY_ARN, oldProperties: singleProps(later) }), ESCROW);
    expect(again.error).toBeUndefined();
    expect(again.response!.Data!.Imported).toBe('false');
    expect(h.kmsMock).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
  });

  test('a key that stays PendingImport fails, naming the material the escrow lacks and how to put it back', async () => {
    h.kms.addExternalKey(KEY_ARN);
    const first = at(30);
    await run(PRIMARY_REGION, cfnEvent('Create', singleProps(first)), ESCROW);
    rotateAsTheCli(KEY_ARN, ESCROW);
    const lost = record(ESCROW)!.previous![0];
    // The escrow lost its earlier material, as if a record written before the rotation was put back over it.
    h.sm.putSecretValue({ SecretId: ESCROW, SecretString: encodeEscrowRecord({ ...record(ESCROW)!, previous: undefined }) });
    h.kms.expireMaterial(KEY_ARN);

    const { error } = await h.run(
      cfnEvent('Update', singleProps(at(90)), { physicalId: KEY_ARN, oldProperties: singleProps(first) }),
      [...allEscrowed(ESCROW), lost.material],
    );
    expect(error).toBeDefined();
    expect(error!.message).toContain(`The key ${KEY_ARN} is PendingImport after its materials were imported, not Enabled`);
    expect(error!.message).toContain(`these are still pending import: ${lost.keyMaterialId}`);
    expect(error!.message).toContain(`The escrow secret ${ESCROW} has no copy of ${lost.keyMaterialId}`);
    expect(error!.message).toContain(`aws secretsmanager list-secret-version-ids --secret-id ${ESCROW}`);
    expect(h.journal).toContain('ListKeyRotations');
    // The escrow was live before this deploy: it stays, with the material it has.
    expect(h.sm.secrets.get(ESCROW)!.deletedDate).toBeUndefined();
    expect(h.kms.keys.get(KEY_ARN)!.state).toBe('PendingImport');
  });
});

describe('scenario (c): a rotation that escrowed new material and stopped before importing it', () => {
  test('a deploy imports the materials the key has and leaves the escrowed new one to the rotation', async () => {
    h.kms.addExternalKey(KEY_ARN);
    const first = at(30);
    await run(PRIMARY_REGION, cfnEvent('Create', singleProps(first)), ESCROW);
    const held = record(ESCROW)!;
    // What `kms-lab rotate` writes first; it stopped before ImportKeyMaterial.
    h.sm.putSecretValue({ SecretId: ESCROW, SecretString: encodeEscrowRecord(escrowWithNewMaterial(held, randomBytes(32))) });
    h.kms.expireMaterial(KEY_ARN);
    h.kmsMock.resetHistory();

    const later = at(90);
    const { error } = await run(PRIMARY_REGION, cfnEvent('Update', singleProps(later), { physicalId: KEY_ARN, oldProperties: singleProps(first) }), ESCROW);
    expect(error).toBeUndefined();
    expect(h.kms.keys.get(KEY_ARN)!.state).toBe('Enabled');
    expect(h.kmsMock.commandCalls(ImportKeyMaterialCommand).map((c) => [c.args[0].input.ImportType, c.args[0].input.KeyMaterialId])).toEqual([
      ['EXISTING_KEY_MATERIAL', held.keyMaterialId],
    ]);
    // The rotation's new material stays escrowed, without an id, for `kms-lab rotate` to import.
    expect(record(ESCROW)!.keyMaterialId).toBeUndefined();
    expect(record(ESCROW)!.previous![0].keyMaterialId).toBe(held.keyMaterialId);
  });
});

describe('scenario (e): a replica created after the primary was rotated', () => {
  test('imports every material of the key set as EXISTING_KEY_MATERIAL with its id, and is Enabled', async () => {
    h.kms.addMultiRegionPrimary(PRIMARY_ARN);
    const primaryEvent = (type: 'Create' | 'Update') => ({ ...cfnEvent(type, primaryProps(), { physicalId: PRIMARY_ARN }), StackId: PRIMARY_STACK }) as ReturnType<typeof cfnEvent>;
    expect((await run(PRIMARY_REGION, primaryEvent('Create'), MRK_ESCROW)).error).toBeUndefined();
    rotateAsTheCli(PRIMARY_ARN, MRK_ESCROW);
    h.kms.addReplica(PRIMARY_ARN, SECONDARY_REGION);
    h.kmsMock.resetHistory();

    const replicaEvent = { ...cfnEvent('Create', replicaProps(), { physicalId: REPLICA_ARN }), StackId: SECONDARY_STACK } as ReturnType<typeof cfnEvent>;
    const { error } = await run(SECONDARY_REGION, replicaEvent, MRK_ESCROW);
    expect(error).toBeUndefined();
    const escrowed = record(MRK_ESCROW)!;
    const sent = h.kmsMock.commandCalls(ImportKeyMaterialCommand).map((c) => c.args[0].input);
    expect(sent.map((i) => [i.KeyId, i.ImportType, i.KeyMaterialId])).toEqual([
      [REPLICA_ARN, 'EXISTING_KEY_MATERIAL', escrowed.previous![0].keyMaterialId],
      [REPLICA_ARN, 'EXISTING_KEY_MATERIAL', escrowed.keyMaterialId],
    ]);
    expect(h.kms.keys.get(REPLICA_ARN)!.state).toBe('Enabled');
    expect(materialsOf(REPLICA_ARN, SECONDARY_REGION).map((m) => [m.KeyMaterialState, m.ImportState])).toEqual([
      ['NON_CURRENT', 'IMPORTED'],
      ['CURRENT', 'IMPORTED'],
    ]);
    expect(h.kms.keys.get(REPLICA_ARN)!.keyMaterialId).toBe(escrowed.keyMaterialId);
  });
});

describe('the fake keeps the rules of keys with several materials', () => {
  test('a key is Enabled only once every associated material is imported; material pending rotation does not count', () => {
    h.kms.addExternalKey(KEY_ARN);
    const a = randomBytes(32);
    const b = randomBytes(32);
    const aId = importAsTheCli(KEY_ARN, PRIMARY_REGION, a, 'NEW_KEY_MATERIAL');
    const bId = importAsTheCli(KEY_ARN, PRIMARY_REGION, b, 'NEW_KEY_MATERIAL');
    expect(materialsOf(KEY_ARN, PRIMARY_REGION).map((m) => m.KeyMaterialState)).toEqual(['CURRENT', 'PENDING_ROTATION']);
    expect(h.kms.keys.get(KEY_ARN)!.state).toBe('Enabled');
    h.kms.rotateKeyOnDemand({ KeyId: KEY_ARN });
    expect(h.kms.describeKey({ KeyId: KEY_ARN }).KeyMetadata.CurrentKeyMaterialId).toBe(bId);
    h.kms.expireMaterial(KEY_ARN, [aId]);
    expect(h.kms.keys.get(KEY_ARN)!.state).toBe('PendingImport');
    expect(materialsOf(KEY_ARN, PRIMARY_REGION).map((m) => [m.KeyMaterialState, m.ImportState])).toEqual([
      ['NON_CURRENT', 'PENDING_IMPORT'],
      ['CURRENT', 'IMPORTED'],
    ]);
    importAsTheCli(KEY_ARN, PRIMARY_REGION, a, 'EXISTING_KEY_MATERIAL');
    expect(h.kms.keys.get(KEY_ARN)!.state).toBe('Enabled');
  });

  test('EXISTING with another id, or NEW of material the key has, is IncorrectKeyMaterial; NEW with an id is refused', () => {
    h.kms.addExternalKey(KEY_ARN);
    const a = randomBytes(32);
    const aId = importAsTheCli(KEY_ARN, PRIMARY_REGION, a, 'NEW_KEY_MATERIAL');
    const attempt = (input: Record<string, unknown>) => {
      const params = h.kms.getParametersForImport({ KeyId: KEY_ARN, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
      const wrapped = publicEncrypt({ key: wrappingKeyPair('RSA_2048').publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, a);
      try {
        h.kms.importKeyMaterial({ KeyId: KEY_ARN, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', ...input });
      } catch (e) {
        return (e as Error).name;
      }
      return 'no error';
    };
    expect(attempt({ ImportType: 'EXISTING_KEY_MATERIAL', KeyMaterialId: 'f'.repeat(64) })).toBe('IncorrectKeyMaterialException');
    expect(attempt({ ImportType: 'NEW_KEY_MATERIAL' })).toBe('IncorrectKeyMaterialException');
    expect(attempt({ ImportType: 'NEW_KEY_MATERIAL', KeyMaterialId: aId })).toBe('ValidationException');
    expect(attempt({ ImportType: 'EXISTING_KEY_MATERIAL', KeyMaterialId: aId })).toBe('no error');
  });
});
