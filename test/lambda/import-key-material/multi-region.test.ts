import { constants, privateDecrypt, publicEncrypt } from 'node:crypto';
import { GetParametersForImportCommand, ImportKeyMaterialCommand } from '@aws-sdk/client-kms';
import { CreateSecretCommand, ReplicateSecretToRegionsCommand } from '@aws-sdk/client-secrets-manager';
import 'aws-sdk-client-mock-jest';
import { decodeEscrowRecord, encodeEscrowRecord } from '../../../lambda/import-key-material/escrow-record';
import { materialSpellings } from '../../../lambda/import-key-material/material';
import { cfnEvent } from '../../helpers/events';
import { OAEP_HASH, PRIMARY_REGION, SECONDARY_REGION, serviceError, wrappingKeyPair } from './fakes';
import { ImportHarness } from './harness';
import { MRK_ESCROW, MRK_ID, mrkPrimaryProps, mrkReplicaProps, PRIMARY_ARN, REPLICA_ARN } from './multi-region-props';

const KEY_ID = MRK_ID;
const ESCROW = MRK_ESCROW;
const PRIMARY_STACK = `arn:aws:cloudformation:${PRIMARY_REGION}:111111111111:stack/kms-key-lab-primary/guid`;
const SECONDARY_STACK = `arn:aws:cloudformation:${SECONDARY_REGION}:111111111111:stack/kms-key-lab-secondary/guid`;
const POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'OnlyNamedReadersAndKeyAdministratorsRead',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'secretsmanager:GetSecretValue',
      Resource: '*',
      Condition: {
        ArnNotEquals: {
          'aws:PrincipalArn': ['arn:aws:iam::111111111111:role/PrimaryImportRole', `arn:aws:iam::111111111111:role/kms-key-lab-mrk-import-${SECONDARY_REGION}`],
        },
      },
    },
  ],
};
const DAY_MS = 24 * 3600 * 1000;

const h = new ImportHarness();
const { sleeps } = h;

beforeEach(() => {
  h.reset();
  h.kms.addMultiRegionPrimary(PRIMARY_ARN);
  h.kms.addReplica(PRIMARY_ARN, SECONDARY_REGION);
  h.capture();
});

afterEach(() => h.release());

const primaryProps = (overrides: Record<string, unknown> = {}) =>
  mrkPrimaryProps(POLICY, { 'kms-key-lab:lab': 'kms-key-lab', 'kms-key-lab:owner': 'platform' }, overrides);
const replicaProps = mrkReplicaProps;

type RequestType = 'Create' | 'Update' | 'Delete';
const inStack = (stackId: string, event: ReturnType<typeof cfnEvent>) => ({ ...event, StackId: stackId }) as ReturnType<typeof cfnEvent>;
const primaryEvent = (type: RequestType, props = primaryProps(), oldProperties?: Record<string, unknown>) =>
  inStack(PRIMARY_STACK, cfnEvent(type, props, { physicalId: PRIMARY_ARN, oldProperties, logicalId: 'MultiRegionImportedKeyImportMaterial' }));
const replicaEvent = (type: RequestType, props = replicaProps(), oldProperties?: Record<string, unknown>) =>
  inStack(SECONDARY_STACK, cfnEvent(type, props, { physicalId: REPLICA_ARN, oldProperties, logicalId: 'MultiRegionImportedReplicaImportMaterial' }));

const escrowSecret = () => h.sm.secrets.get(ESCROW);
const escrowReplica = () => h.smIn(SECONDARY_REGION).secrets.get(ESCROW);
const escrowed = () => decodeEscrowRecord(escrowSecret()?.string);
const key = (arn: string) => h.kms.keys.get(arn)!;

/** One event in the Lambda's Region, checked for leaks of the escrowed material too. */
async function run(region: string, event: ReturnType<typeof cfnEvent>) {
  h.region = region;
  return h.run(event, escrowed() ? [escrowed()!.material] : []);
}

async function deployBoth() {
  const primary = await run(PRIMARY_REGION, primaryEvent('Create'));
  const replica = await run(SECONDARY_REGION, replicaEvent('Create'));
  expect(primary.error).toBeUndefined();
  expect(replica.error).toBeUndefined();
  return { primary, replica };
}

const secondaryCalls = () => h.regionalJournal.filter((c) => c.startsWith(`${SECONDARY_REGION} `)).map((c) => c.split(' ')[1]);

describe('scenario (e): first deploy of both Regions', () => {
  test('the primary and the replica receive the same bytes, equal to the escrowed material', async () => {
    const { primary, replica } = await deployBoth();
    const sent = h.kmsMock.commandCalls(ImportKeyMaterialCommand).map((c) => c.args[0].input);
    expect(sent.map((i) => [i.KeyId, i.ImportType])).toEqual([
      [PRIMARY_ARN, 'NEW_KEY_MATERIAL'],
      [REPLICA_ARN, 'EXISTING_KEY_MATERIAL'],
    ]);
    const unwrap = (wrapped: Uint8Array) =>
      privateDecrypt(
        { key: wrappingKeyPair('RSA_4096').privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: OAEP_HASH.RSAES_OAEP_SHA_256 },
        Buffer.from(wrapped),
      );
    const [toPrimary, toReplica] = sent.map((i) => unwrap(i.EncryptedKeyMaterial!));
    expect(toPrimary).toHaveLength(32);
    expect(toPrimary.equals(toReplica)).toBe(true);
    expect(toPrimary.equals(escrowed()!.material)).toBe(true);
    expect(h.kms.imports.map((i) => i.region)).toEqual([PRIMARY_REGION, SECONDARY_REGION]);
    expect(key(PRIMARY_ARN).state).toBe('Enabled');
    expect(key(REPLICA_ARN).state).toBe('Enabled');
    expect(primary.response!.Data).toMatchObject({ KeyId: KEY_ID, Imported: 'true', EscrowSecretName: ESCROW });
    expect(replica.response).toEqual({ PhysicalResourceId: REPLICA_ARN, Data: expect.objectContaining({ Imported: 'true', EscrowSecretName: ESCROW }) });
  });

  test('each Region gets its own wrapping key and token from its own GetParametersForImport', async () => {
    await deployBoth();
    expect(h.regionalJournal.filter((c) => c.endsWith('GetParametersForImport'))).toEqual([
      `${PRIMARY_REGION} GetParametersForImport`,
      `${SECONDARY_REGION} GetParametersForImport`,
    ]);
    const [primaryToken, replicaToken] = h.kmsMock.commandCalls(ImportKeyMaterialCommand).map((c) => Buffer.from(c.args[0].input.ImportToken!).toString());
    expect(primaryToken).not.toBe(replicaToken);
    expect(h.kmsMock).toHaveReceivedCommandWith(GetParametersForImportCommand, { KeyId: REPLICA_ARN });
  });

  test('the escrow is replicated to the secondary Region once its policy and value are in place, encrypted there by its aws/secretsmanager key', async () => {
    await deployBoth();
    expect(h.smMock.commandCalls(CreateSecretCommand)[0].args[0].input.AddReplicaRegions).toBeUndefined();
    const primarySecretCalls = h.regionalJournal
      .filter((c) => c.startsWith(`${PRIMARY_REGION} `))
      .map((c) => c.split(' ')[1])
      .filter((c) => ['CreateSecret', 'PutResourcePolicy', 'PutSecretValue', 'ReplicateSecretToRegions'].includes(c));
    expect(primarySecretCalls.slice(0, 4)).toEqual(['CreateSecret', 'PutResourcePolicy', 'PutSecretValue', 'ReplicateSecretToRegions']);
    expect(h.smMock).toHaveReceivedCommandWith(ReplicateSecretToRegionsCommand, { SecretId: ESCROW, AddReplicaRegions: [{ Region: SECONDARY_REGION }] });
    expect(h.smMock.commandCalls(ReplicateSecretToRegionsCommand)[0].args[0].input.AddReplicaRegions![0].KmsKeyId).toBeUndefined();
    expect(escrowReplica()).toBeDefined();
    expect(h.smIn(SECONDARY_REGION).describeSecret({ SecretId: ESCROW }).PrimaryRegion).toBe(PRIMARY_REGION);
    // Secrets Manager replicates the resource policy with the secret: the replica handler's role is among its readers.
    expect(JSON.parse(escrowSecret()!.policy!)).toEqual(POLICY);
    expect(escrowSecret()!.tags['kms-key-lab:escrow-for']).toBe(PRIMARY_ARN);
  });

  test('the replica handler only reads the escrow replica: it never writes, creates or deletes a secret', async () => {
    await deployBoth();
    expect(secondaryCalls()).toEqual(['DescribeKey', 'GetSecretValue', 'GetParametersForImport', 'ImportKeyMaterial', 'DescribeKey']);
  });

  test('the escrow records the material id, which the replica shares (same key id, same material)', async () => {
    await deployBoth();
    expect(escrowed()!.keyMaterialId).toBe(key(PRIMARY_ARN).keyMaterialId);
    expect(key(REPLICA_ARN).keyMaterialId).toBe(key(PRIMARY_ARN).keyMaterialId);
  });
});

describe('scenario (e): repeated deploys', () => {
  test('a repeated Create and an Update in either Region import nothing', async () => {
    await deployBoth();
    h.kmsMock.resetHistory();
    h.regionalJournal = [];
    const firstDeployCalls = h.journal.length;
    const changed = primaryProps({ WrappingAlgorithm: 'RSAES_OAEP_SHA_1' });
    for (const [region, event] of [
      [PRIMARY_REGION, primaryEvent('Create')],
      [SECONDARY_REGION, replicaEvent('Create')],
      [PRIMARY_REGION, primaryEvent('Update', changed, primaryProps())],
      [SECONDARY_REGION, replicaEvent('Update', replicaProps({ WrappingAlgorithm: 'RSAES_OAEP_SHA_1' }), replicaProps())],
    ] as const) {
      const { response, error } = await run(region, event);
      expect(error).toBeUndefined();
      expect(response!.Data!.Imported).toBe('false');
    }
    expect(h.kmsMock).not.toHaveReceivedCommand(GetParametersForImportCommand);
    expect(h.kmsMock).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
    expect(h.journal.slice(firstDeployCalls)).not.toContain('ReplicateSecretToRegions');
    expect(h.journal.slice(0, firstDeployCalls)).toContain('ReplicateSecretToRegions');
  });

  test('a restored escrow is replicated again, and the replica reads it there', async () => {
    await deployBoth();
    await run(PRIMARY_REGION, primaryEvent('Delete'));
    expect(escrowReplica()).toBeUndefined();
    h.regionalJournal = [];
    const { error } = await run(PRIMARY_REGION, primaryEvent('Create'));
    expect(error).toBeUndefined();
    expect(h.regionalJournal).toEqual(expect.arrayContaining([`${PRIMARY_REGION} RestoreSecret`, `${PRIMARY_REGION} ReplicateSecretToRegions`]));
    expect(escrowReplica()).toBeDefined();
    expect((await run(SECONDARY_REGION, replicaEvent('Create'))).error).toBeUndefined();
  });
});

describe('scenario (e): an expired import token fails with the remedy, and the next deploy imports', () => {
  test('in the primary Region: the new escrow and its replica are removed, and a retry restores both', async () => {
    h.kms.tokenLifetimeMs = -1;
    const failed = await run(PRIMARY_REGION, primaryEvent('Create'));
    expect(failed.error!.message).toMatch(/^ImportKeyMaterial failed \(ExpiredImportTokenException\): .*What to do: deploy again/);
    expect(h.sm.billable()).toEqual([]);
    expect(h.smIn(SECONDARY_REGION).billable()).toEqual([]);

    h.kms.tokenLifetimeMs = DAY_MS;
    const { error } = await run(PRIMARY_REGION, primaryEvent('Create'));
    expect(error).toBeUndefined();
    expect(escrowReplica()).toBeDefined();
    expect(h.kms.imports.map((i) => i.importType)).toEqual(['NEW_KEY_MATERIAL']);
  });

  test('in the secondary Region: the escrow is left alone, and a retry imports the same material', async () => {
    await run(PRIMARY_REGION, primaryEvent('Create'));
    h.kms.tokenLifetimeMs = -1;
    const failed = await run(SECONDARY_REGION, replicaEvent('Create'));
    expect(failed.error!.message).toContain('ExpiredImportTokenException');
    expect(failed.error!.message).toContain('fetches fresh import parameters');
    expect(escrowReplica()).toBeDefined();
    expect(escrowSecret()!.deletedDate).toBeUndefined();
    h.kms.tokenLifetimeMs = DAY_MS;
    expect((await run(SECONDARY_REGION, replicaEvent('Create'))).error).toBeUndefined();
    expect(h.kms.imports[1].material.equals(h.kms.imports[0].material)).toBe(true);
  });
});

describe('scenario (e): the replica before the primary', () => {
  test('refused with a clear message while the key set has no material', async () => {
    // The moment between the primary escrowing its material and importing it.
    const material = Buffer.alloc(32, 0x42);
    h.sm.createSecret({ Name: ESCROW, AddReplicaRegions: [{ Region: SECONDARY_REGION }] });
    h.sm.putSecretValue({ SecretId: ESCROW, SecretString: encodeEscrowRecord({ keyArn: PRIMARY_ARN, material }) });
    const { error } = await run(SECONDARY_REGION, replicaEvent('Create'));
    expect(error!.message).toContain(`KMS refused the material for the replica ${REPLICA_ARN}`);
    expect(error!.message).toContain("Deploy the primary Region's stack first");
    expect(error!.message).toContain('(ImportKeyMaterial answered KMSInvalidStateException)');
    for (const spelling of materialSpellings(material)) expect(error!.message).not.toContain(spelling);
    expect(key(REPLICA_ARN).state).toBe('PendingImport');
    expect(secondaryCalls()).not.toEqual(expect.arrayContaining(['PutSecretValue', 'DeleteSecret', 'CreateSecret']));
  });

  test("accepted when the primary's material expired but the key set knows it", async () => {
    await run(PRIMARY_REGION, primaryEvent('Create'));
    h.kms.expireMaterial(PRIMARY_ARN);
    const { error } = await run(SECONDARY_REGION, replicaEvent('Create'));
    expect(error).toBeUndefined();
    expect(key(REPLICA_ARN).state).toBe('Enabled');
    expect(key(PRIMARY_ARN).state).toBe('PendingImport');
    // The primary's redeploy brings the same material back as EXISTING, never NEW.
    expect((await run(PRIMARY_REGION, primaryEvent('Update', primaryProps(), primaryProps()))).error).toBeUndefined();
    expect(h.kms.imports.map((i) => [i.region, i.importType])).toEqual([
      [PRIMARY_REGION, 'NEW_KEY_MATERIAL'],
      [SECONDARY_REGION, 'EXISTING_KEY_MATERIAL'],
      [PRIMARY_REGION, 'EXISTING_KEY_MATERIAL'],
    ]);
    expect(key(PRIMARY_ARN).state).toBe('Enabled');
  });

  test('material that expired in one Region only is imported again there, and the other Region is not touched', async () => {
    await deployBoth();
    h.kms.expireMaterial(REPLICA_ARN);
    h.kmsMock.resetHistory();
    expect((await run(PRIMARY_REGION, primaryEvent('Create'))).error).toBeUndefined();
    expect(h.kmsMock).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
    expect((await run(SECONDARY_REGION, replicaEvent('Create'))).error).toBeUndefined();
    expect(h.kmsMock).toHaveReceivedCommandWith(ImportKeyMaterialCommand, { KeyId: REPLICA_ARN, ImportType: 'EXISTING_KEY_MATERIAL' });
    expect(key(REPLICA_ARN).state).toBe('Enabled');
  });
});

describe('scenario (e): replication lag', () => {
  test('a replica that Secrets Manager shows only after a few NotFound answers is waited for', async () => {
    h.smIn(SECONDARY_REGION).replicaNotFoundAnswers = 3;
    await run(PRIMARY_REGION, primaryEvent('Create'));
    sleeps.length = 0;
    const { error } = await run(SECONDARY_REGION, replicaEvent('Create'));
    expect(error).toBeUndefined();
    expect(sleeps).toEqual([1000, 2000, 4000]);
    expect(key(REPLICA_ARN).state).toBe('Enabled');
  });

  test('a replica still missing after the NotFound budget fails saying what is missing and what to do', async () => {
    h.smIn(SECONDARY_REGION).replicaNotFoundAnswers = 100;
    await run(PRIMARY_REGION, primaryEvent('Create'));
    sleeps.length = 0;
    const { error } = await run(SECONDARY_REGION, replicaEvent('Create'));
    expect(sleeps).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(error!.message).toContain(`The escrow secret ${ESCROW} has no replica with a value in ${SECONDARY_REGION} yet`);
    expect(error!.message).toContain(`aws secretsmanager describe-secret --secret-id ${ESCROW} --region ${PRIMARY_REGION}`);
    expect(error!.message).toContain('deploy this stack again');
    expect(h.kmsMock).not.toHaveReceivedCommandWith(GetParametersForImportCommand, { KeyId: REPLICA_ARN });
  });

  test('an escrow replica that holds another key’s record is refused (key ids are compared, not ARNs)', async () => {
    await run(PRIMARY_REGION, primaryEvent('Create'));
    const record = escrowed()!;
    escrowSecret()!.string = encodeEscrowRecord({ ...record, keyArn: PRIMARY_ARN.replace(KEY_ID, 'mrk-99999999999999999999999999999999') });
    const { error } = await run(SECONDARY_REGION, replicaEvent('Create'));
    expect(error!.message).toContain('holds material for another key');
    expect(key(REPLICA_ARN).state).toBe('PendingImport');
  });
});

describe('scenario (e): teardown', () => {
  test('the replica’s Delete never touches the escrow', async () => {
    await deployBoth();
    h.regionalJournal = [];
    const { error } = await run(SECONDARY_REGION, replicaEvent('Delete'));
    expect(error).toBeUndefined();
    expect(h.regionalJournal).toEqual([]);
    expect(escrowReplica()).toBeDefined();
  });

  test('with deleteImportedMaterialOnDestroy the replica’s Delete deletes its material only', async () => {
    await deployBoth();
    h.regionalJournal = [];
    await run(SECONDARY_REGION, replicaEvent('Delete', replicaProps({ DeleteMaterialOnDelete: 'true' })));
    expect(h.regionalJournal).toEqual([`${SECONDARY_REGION} DeleteImportedKeyMaterial`]);
    expect(key(REPLICA_ARN).state).toBe('PendingImport');
    expect(key(PRIMARY_ARN).state).toBe('Enabled');
  });

  test('the primary’s Delete removes the replica Region first, then schedules the escrow for 2W+1 days', async () => {
    await deployBoth();
    const destroyStart = Date.now();
    await run(SECONDARY_REGION, replicaEvent('Delete'));
    h.region = SECONDARY_REGION;
    const replicaGone = h.kms.scheduleKeyDeletion({ KeyId: REPLICA_ARN, PendingWindowInDays: 7 }).DeletionDate!;
    h.regionalJournal = [];
    const { error } = await run(PRIMARY_REGION, primaryEvent('Delete'));
    expect(error).toBeUndefined();
    expect(h.regionalJournal).toEqual([
      `${PRIMARY_REGION} DescribeSecret`,
      `${PRIMARY_REGION} DescribeKey`,
      `${PRIMARY_REGION} RemoveRegionsFromReplication`,
      `${PRIMARY_REGION} DeleteSecret`,
    ]);
    expect(escrowReplica()).toBeUndefined();
    expect(escrowSecret()!.recoveryWindowInDays).toBe(15);

    // CloudFormation then schedules the primary: it waits for the replica, then its own window.
    h.region = PRIMARY_REGION;
    expect(h.kms.scheduleKeyDeletion({ KeyId: PRIMARY_ARN, PendingWindowInDays: 7 }).KeyState).toBe('PendingReplicaDeletion');
    const primaryGoesAtLatest = replicaGone.getTime() + 7 * DAY_MS;
    const escrowGoes = escrowSecret()!.deletedDate!.getTime() + 15 * DAY_MS;
    expect(escrowGoes - primaryGoesAtLatest).toBeGreaterThan(DAY_MS - (Date.now() - destroyStart) - 1000);
  });

  test('with the 14-day cap the escrow waits 29 days, within Secrets Manager’s 30', async () => {
    await run(PRIMARY_REGION, primaryEvent('Create', primaryProps({ PendingWindowDays: '14' })));
    await run(PRIMARY_REGION, primaryEvent('Delete', primaryProps({ PendingWindowDays: '14' })));
    expect(escrowSecret()!.recoveryWindowInDays).toBe(29);
  });

  test('a primary already in PendingReplicaDeletion (no deletion date) still gets 2W+1', async () => {
    await deployBoth();
    key(PRIMARY_ARN).state = 'PendingReplicaDeletion';
    await run(PRIMARY_REGION, primaryEvent('Delete', primaryProps({ PendingWindowDays: '10' })));
    expect(escrowSecret()!.recoveryWindowInDays).toBe(21);
  });

  test('a failed Create removes the escrow’s replica Region before it schedules the escrow', async () => {
    h.kmsMock.on(ImportKeyMaterialCommand).rejects(serviceError('UnsupportedOperationException', 'not for this key'));
    h.regionalJournal = [];
    const { error } = await run(PRIMARY_REGION, primaryEvent('Create'));
    expect(error!.message).toContain('UnsupportedOperationException');
    const calls = h.regionalJournal.map((c) => c.split(' ')[1]);
    // The import itself was refused by the mock above, which keeps no journal.
    expect(calls.slice(calls.indexOf('GetParametersForImport') + 1)).toEqual(['DescribeSecret', 'RemoveRegionsFromReplication', 'DeleteSecret']);
    expect(escrowSecret()!.recoveryWindowInDays).toBe(15);
    expect(h.sm.billable()).toEqual([]);
    expect(h.smIn(SECONDARY_REGION).billable()).toEqual([]);
  });

  test('Deletes never fail on what is already gone', async () => {
    await deployBoth();
    // The replica Region was removed by an earlier attempt that stopped before DeleteSecret.
    h.sm.removeRegionsFromReplication({ SecretId: ESCROW, RemoveReplicaRegions: [SECONDARY_REGION] });
    expect((await run(PRIMARY_REGION, primaryEvent('Delete'))).error).toBeUndefined();
    expect(escrowSecret()!.deletedDate).toBeDefined();
    h.sm.secrets.clear();
    h.kms.keys.clear();
    expect((await run(PRIMARY_REGION, primaryEvent('Delete', primaryProps({ DeleteMaterialOnDelete: 'true' })))).error).toBeUndefined();
    expect((await run(SECONDARY_REGION, replicaEvent('Delete', replicaProps({ DeleteMaterialOnDelete: 'true' })))).error).toBeUndefined();
  });
});

describe('the fakes keep the rules the tests stand on', () => {
  const wrapFor = (arn: string, region: string, material: Buffer) => {
    h.region = region;
    const params = h.kms.getParametersForImport({ KeyId: arn, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
    const wrapped = publicEncrypt(
      { key: wrappingKeyPair('RSA_2048').publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      material,
    );
    return { KeyId: arn, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' };
  };
  const errorOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return (e as Error).name;
    }
    return 'no error';
  };

  test('a replica refuses NEW material, other bytes, and a token of another key or Region', () => {
    const material = Buffer.alloc(32, 1);
    expect(errorOf(() => h.kms.importKeyMaterial({ ...wrapFor(REPLICA_ARN, SECONDARY_REGION, material), ImportType: 'EXISTING_KEY_MATERIAL' }))).toBe(
      'KMSInvalidStateException',
    );
    h.kms.importKeyMaterial({ ...wrapFor(PRIMARY_ARN, PRIMARY_REGION, material), ImportType: 'NEW_KEY_MATERIAL' });
    expect(errorOf(() => h.kms.importKeyMaterial({ ...wrapFor(REPLICA_ARN, SECONDARY_REGION, material), ImportType: 'NEW_KEY_MATERIAL' }))).toBe(
      'UnsupportedOperationException',
    );
    expect(
      errorOf(() => h.kms.importKeyMaterial({ ...wrapFor(REPLICA_ARN, SECONDARY_REGION, Buffer.alloc(32, 2)), ImportType: 'EXISTING_KEY_MATERIAL' })),
    ).toBe('IncorrectKeyMaterialException');
    const primaryToken = wrapFor(PRIMARY_ARN, PRIMARY_REGION, material);
    h.region = SECONDARY_REGION;
    expect(errorOf(() => h.kms.importKeyMaterial({ ...primaryToken, KeyId: REPLICA_ARN, ImportType: 'EXISTING_KEY_MATERIAL' }))).toBe(
      'InvalidImportTokenException',
    );
    expect(h.kms.importKeyMaterial({ ...wrapFor(REPLICA_ARN, SECONDARY_REGION, material), ImportType: 'EXISTING_KEY_MATERIAL' }).KeyMaterialId).toBe(
      key(PRIMARY_ARN).keyMaterialId,
    );
  });

  test('an escrow replica is read-only, and a primary with replicas cannot be deleted', () => {
    h.sm.createSecret({ Name: ESCROW, SecretString: 'v', AddReplicaRegions: [{ Region: SECONDARY_REGION }] });
    const replica = h.smIn(SECONDARY_REGION);
    expect(replica.getSecretValue({ SecretId: ESCROW }).SecretString).toBe('v');
    expect(errorOf(() => replica.putSecretValue({ SecretId: ESCROW, SecretString: 'w' }))).toBe('InvalidRequestException');
    expect(errorOf(() => replica.deleteSecret({ SecretId: ESCROW, RecoveryWindowInDays: 7 }))).toBe('InvalidRequestException');
    expect(errorOf(() => h.sm.deleteSecret({ SecretId: ESCROW, RecoveryWindowInDays: 7 }))).toBe('InvalidRequestException');
    h.sm.removeRegionsFromReplication({ SecretId: ESCROW, RemoveReplicaRegions: [SECONDARY_REGION] });
    expect(errorOf(() => replica.getSecretValue({ SecretId: ESCROW }))).toBe('ResourceNotFoundException');
    expect(errorOf(() => h.sm.deleteSecret({ SecretId: ESCROW, RecoveryWindowInDays: 7 }))).toBe('no error');
  });
});
