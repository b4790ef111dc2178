import { constants, privateDecrypt } from 'node:crypto';
import {
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  KMSClient,
} from '@aws-sdk/client-kms';
import {
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { onEvent, setSleepForTests } from '../../../lambda/import-key-material/index';
import { decodeEscrowRecord } from '../../../lambda/import-key-material/escrow-record';
import { materialSpellings } from '../../../lambda/import-key-material/material';
import { cfnEvent, RESPONSE_URL } from '../../helpers/events';
import { FakeKms, FakeSecrets, OAEP_HASH, serviceError, wrappingKeyPair } from './fakes';

const KEY_ARN = 'arn:aws:kms:ap-southeast-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const ESCROW_ARN = 'arn:aws:secretsmanager:ap-southeast-1:111111111111:secret:escrow-AbCdEf';
const BYO_NAME = 'lab/material';

const kmsMock = mockClient(KMSClient);
const smMock = mockClient(SecretsManagerClient);
let kms: FakeKms;
let sm: FakeSecrets;
let logged: string[];
let sleeps: number[];
/** Every AWS call in the order the handler made it. */
let journal: string[];

beforeEach(() => {
  kms = new FakeKms();
  sm = new FakeSecrets();
  kms.addExternalKey(KEY_ARN);
  sm.add(ESCROW_ARN, { string: 'placeholder-generated-by-cloudformation' });
  kmsMock.reset();
  smMock.reset();
  journal = [];
  const noted =
    <I, O>(name: string, fn: (input: I) => O) =>
    (input: I) => {
      journal.push(name);
      return fn(input);
    };
  kmsMock.on(DescribeKeyCommand).callsFake(noted('DescribeKey', (i) => kms.describeKey(i)));
  kmsMock.on(GetParametersForImportCommand).callsFake(noted('GetParametersForImport', (i) => kms.getParametersForImport(i)));
  kmsMock.on(ImportKeyMaterialCommand).callsFake(noted('ImportKeyMaterial', (i) => kms.importKeyMaterial(i)));
  kmsMock.on(DeleteImportedKeyMaterialCommand).callsFake(noted('DeleteImportedKeyMaterial', (i) => kms.deleteImportedKeyMaterial(i)));
  smMock.on(DescribeSecretCommand).callsFake(noted('DescribeSecret', (i) => sm.describeSecret(i)));
  smMock.on(GetSecretValueCommand).callsFake(noted('GetSecretValue', (i) => sm.getSecretValue(i)));
  smMock.on(PutSecretValueCommand).callsFake(noted('PutSecretValue', (i) => sm.putSecretValue(i)));
  smMock.on(RestoreSecretCommand).callsFake(noted('RestoreSecret', (i) => sm.restoreSecret(i)));
  smMock.on(DeleteSecretCommand).callsFake(noted('DeleteSecret', (i) => sm.deleteSecret(i)));
  logged = [];
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
  }
  sleeps = [];
  setSleepForTests(async (ms) => void sleeps.push(ms));
});

afterEach(() => {
  jest.restoreAllMocks();
  setSleepForTests(undefined);
});

function props(overrides: Record<string, unknown> = {}) {
  return {
    KeyArn: KEY_ARN,
    WrappingAlgorithm: 'RSAES_OAEP_SHA_256',
    WrappingKeySpec: 'RSA_4096',
    ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    MaterialSource: 'generate',
    EscrowSecretArn: ESCROW_ARN,
    PendingWindowDays: '7',
    DeleteMaterialOnDelete: 'false',
    ...overrides,
  };
}

function escrowed() {
  return decodeEscrowRecord(sm.secrets.get(ESCROW_ARN)?.string);
}

/**
 * Runs one event and checks what leaves the handler: no log line, response or
 * error may hold any material the fakes have seen, in any spelling.
 */
async function run(event: ReturnType<typeof cfnEvent>) {
  let response: Awaited<ReturnType<typeof onEvent>> | undefined;
  let error: Error | undefined;
  try {
    response = await onEvent(event);
  } catch (e) {
    error = e as Error;
  }
  const materials = [...kms.unwrapped, ...(escrowed() ? [escrowed()!.material] : [])];
  const byo = sm.secrets.get(BYO_NAME);
  if (byo?.binary) materials.push(Buffer.from(byo.binary));
  const surfaces = [...logged, JSON.stringify(response ?? {}), error?.message ?? '', error?.stack ?? ''].join('\n');
  for (const material of materials) {
    for (const spelling of materialSpellings(material)) expect(surfaces).not.toContain(spelling);
  }
  expect(surfaces).not.toContain(RESPONSE_URL);
  return { response, error };
}

describe('Create with generated material', () => {
  test.each([
    ['RSAES_OAEP_SHA_256', 'RSA_4096'],
    ['RSAES_OAEP_SHA_1', 'RSA_4096'],
    ['RSAES_OAEP_SHA_256', 'RSA_2048'],
    ['RSAES_OAEP_SHA_1', 'RSA_3072'],
  ])('wraps with %s under %s; the private key unwraps exactly the escrowed material', async (algorithm, spec) => {
    const { response, error } = await run(cfnEvent('Create', props({ WrappingAlgorithm: algorithm, WrappingKeySpec: spec })));
    expect(error).toBeUndefined();

    const sent = kmsMock.commandCalls(ImportKeyMaterialCommand)[0].args[0].input;
    const unwrapped = privateDecrypt(
      { key: wrappingKeyPair(spec).privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: OAEP_HASH[algorithm] },
      Buffer.from(sent.EncryptedKeyMaterial!),
    );
    expect(unwrapped).toHaveLength(32);
    expect(unwrapped.equals(escrowed()!.material)).toBe(true);
    expect(sent.ExpirationModel).toBe('KEY_MATERIAL_DOES_NOT_EXPIRE');
    expect(sent.ValidTo).toBeUndefined();
    expect(kmsMock).toHaveReceivedCommandWith(GetParametersForImportCommand, { KeyId: KEY_ARN, WrappingAlgorithm: algorithm, WrappingKeySpec: spec });
    expect(response).toEqual({
      PhysicalResourceId: KEY_ARN,
      Data: expect.objectContaining({ KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab', Imported: 'true', ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }),
    });
    expect(kms.keys.get(KEY_ARN)!.state).toBe('Enabled');
  });

  test('escrows the material before it imports it, then records the material id', async () => {
    await run(cfnEvent('Create', props()));
    expect(journal).toEqual([
      'DescribeKey',
      'DescribeSecret',
      'GetSecretValue',
      'PutSecretValue',
      'GetParametersForImport',
      'ImportKeyMaterial',
      'PutSecretValue',
    ]);
    const [first, second] = smMock.commandCalls(PutSecretValueCommand).map((c) => decodeEscrowRecord(c.args[0].input.SecretString)!);
    expect(first.keyMaterialId).toBeUndefined();
    expect(first.material.equals(second.material)).toBe(true);
    expect(second.keyMaterialId).toBe(kms.keys.get(KEY_ARN)!.keyMaterialId);
  });

  test('material is 32 fresh random bytes for every key', async () => {
    await run(cfnEvent('Create', props()));
    const first = escrowed()!.material;
    const otherArn = KEY_ARN.replace('1234abcd', '9999abcd');
    const otherEscrow = ESCROW_ARN.replace('escrow', 'escrow2');
    kms.addExternalKey(otherArn);
    sm.add(otherEscrow);
    await run(cfnEvent('Create', props({ KeyArn: otherArn, EscrowSecretArn: otherEscrow })));
    const second = decodeEscrowRecord(sm.secrets.get(otherEscrow)!.string)!.material;
    expect(first).toHaveLength(32);
    expect(first.equals(second)).toBe(false);
  });

  test('expiring material is imported with KEY_MATERIAL_EXPIRES and its ValidTo', async () => {
    const validTo = new Date(Date.now() + 30 * 24 * 3600 * 1000);
    validTo.setUTCMilliseconds(0);
    const { response } = await run(cfnEvent('Create', props({ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo.toISOString() })));
    expect(kmsMock).toHaveReceivedCommandWith(ImportKeyMaterialCommand, { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo });
    expect(response!.Data!.ValidTo).toBe(validTo.toISOString());
  });
});

describe('idempotency', () => {
  test('a repeated Create on a key that already holds this material changes nothing', async () => {
    await run(cfnEvent('Create', props()));
    kmsMock.resetHistory();
    smMock.resetHistory();
    const { response, error } = await run(cfnEvent('Create', props()));
    expect(error).toBeUndefined();
    expect(response!.Data!.Imported).toBe('false');
    expect(kmsMock).not.toHaveReceivedCommand(GetParametersForImportCommand);
    expect(kmsMock).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
    expect(smMock).not.toHaveReceivedCommand(PutSecretValueCommand);
  });

  test('a Create retried after a lost import response re-imports the escrowed material, not new material', async () => {
    await run(cfnEvent('Create', props()));
    const material = escrowed()!.material;
    // The record lost its material id, as if the handler died after ImportKeyMaterial.
    sm.secrets.get(ESCROW_ARN)!.string = JSON.stringify({ ...JSON.parse(sm.secrets.get(ESCROW_ARN)!.string!), keyMaterialId: undefined });
    const { error } = await run(cfnEvent('Create', props()));
    expect(error).toBeUndefined();
    expect(kms.unwrapped).toHaveLength(2);
    expect(kms.unwrapped[1].equals(material)).toBe(true);
  });

  test('Update re-imports the same material when the expiry changes', async () => {
    await run(cfnEvent('Create', props()));
    const material = escrowed()!.material;
    const validTo = new Date(Date.now() + 90 * 24 * 3600 * 1000);
    validTo.setUTCMilliseconds(0);
    const { response } = await run(
      cfnEvent('Update', props({ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo.toISOString() }), { physicalId: KEY_ARN, oldProperties: props() }),
    );
    expect(response).toMatchObject({ PhysicalResourceId: KEY_ARN, Data: { Imported: 'true', ExpirationModel: 'KEY_MATERIAL_EXPIRES' } });
    expect(kms.unwrapped[1].equals(material)).toBe(true);
    expect(kms.keys.get(KEY_ARN)!.validTo).toEqual(validTo);
  });

  test('Update that changes only the wrapping algorithm does not re-import', async () => {
    await run(cfnEvent('Create', props()));
    kmsMock.resetHistory();
    await run(cfnEvent('Update', props({ WrappingAlgorithm: 'RSAES_OAEP_SHA_1' }), { physicalId: KEY_ARN, oldProperties: props() }));
    expect(kmsMock).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
  });

  test('after DeleteImportedKeyMaterial, Create imports the escrowed material again', async () => {
    await run(cfnEvent('Create', props()));
    kms.deleteImportedKeyMaterial({ KeyId: KEY_ARN });
    const { error } = await run(cfnEvent('Create', props()));
    expect(error).toBeUndefined();
    expect(kms.keys.get(KEY_ARN)!.state).toBe('Enabled');
    expect(kms.unwrapped[1].equals(kms.unwrapped[0])).toBe(true);
  });

  test('an escrow secret scheduled for deletion is restored before use', async () => {
    sm.secrets.get(ESCROW_ARN)!.deletedDate = new Date();
    const { error } = await run(cfnEvent('Create', props()));
    expect(error).toBeUndefined();
    expect(smMock).toHaveReceivedCommandWith(RestoreSecretCommand, { SecretId: ESCROW_ARN });
  });
});

describe('eventual consistency', () => {
  test('NotFound straight after key creation is retried with a bounded backoff', async () => {
    kms.notFoundBeforeVisible = 3;
    const { error } = await run(cfnEvent('Create', props()));
    expect(error).toBeUndefined();
    expect(sleeps).toEqual([1000, 2000, 4000]);
    expect(kmsMock).toHaveReceivedCommandTimes(DescribeKeyCommand, 4);
  });

  test('a key that never appears fails after six attempts with an explanation', async () => {
    kms.notFoundBeforeVisible = 100;
    const { error } = await run(cfnEvent('Create', props()));
    expect(error!.message).toMatch(/^DescribeKey failed \(NotFoundException\): KMS does not know the key/);
    expect(error!.message).toContain('What to do:');
    expect(sleeps).toEqual([1000, 2000, 4000, 8000, 8000]);
  });
});

describe('KMS errors say what happened and what to do', () => {
  test.each([
    ['ExpiredImportTokenException', 'expired', 'deploy again'],
    ['IncorrectKeyMaterialException', 'already holds different material', 'put the original material back'],
    ['InvalidImportTokenException', 'does not belong to this key', 'deploy again'],
    ['KMSInvalidStateException', 'not in a state that accepts imports', 'look at the key with `aws kms describe-key`'],
  ])('%s', async (name, what, todo) => {
    kmsMock.on(ImportKeyMaterialCommand).rejects(serviceError(name, 'service text'));
    const { error } = await run(cfnEvent('Create', props()));
    expect(error!.message).toContain(`ImportKeyMaterial failed (${name})`);
    expect(error!.message).toContain(what);
    expect(error!.message).toContain(`What to do: ${todo}`);
  });

  test('real IncorrectKeyMaterial: other material for a key that holds some', async () => {
    await run(cfnEvent('Create', props()));
    sm.secrets.get(ESCROW_ARN)!.string = JSON.stringify({
      format: 'kms-key-lab/imported-material-escrow@1',
      keyArn: KEY_ARN,
      material: Buffer.alloc(32, 7).toString('base64'),
    });
    const { error } = await run(cfnEvent('Create', props()));
    expect(error!.message).toContain('IncorrectKeyMaterialException');
  });

  test('a key pending deletion fails before any import call', async () => {
    kms.keys.get(KEY_ARN)!.state = 'PendingDeletion';
    const { error } = await run(cfnEvent('Create', props()));
    expect(error!.message).toContain('PendingDeletion');
    expect(error!.message).toContain('cancel-key-deletion');
    expect(kmsMock).not.toHaveReceivedCommand(GetParametersForImportCommand);
    expect(smMock).not.toHaveReceivedCommand(PutSecretValueCommand);
  });

  test('an escrow secret that belongs to another key is refused', async () => {
    sm.secrets.get(ESCROW_ARN)!.string = JSON.stringify({
      format: 'kms-key-lab/imported-material-escrow@1',
      keyArn: KEY_ARN.replace('1234abcd', '5555abcd'),
      material: Buffer.alloc(32, 1).toString('base64'),
    });
    const { error } = await run(cfnEvent('Create', props()));
    expect(error!.message).toContain('already holds material for another key');
    expect(kmsMock).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
  });

  test('an expiry that has passed by deploy time fails before any AWS call', async () => {
    const { error } = await run(cfnEvent('Create', props({ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: '2020-01-01T00:00:00Z' })));
    expect(error!.message).toContain('has passed');
    expect(kmsMock.calls()).toHaveLength(0);
  });

  test('a failed Create schedules the escrow secret for deletion with the key pending window', async () => {
    kmsMock.on(ImportKeyMaterialCommand).rejects(serviceError('ExpiredImportTokenException'));
    await run(cfnEvent('Create', props({ PendingWindowDays: '14' })));
    expect(sm.secrets.get(ESCROW_ARN)!.deletedDate).toBeDefined();
    expect(sm.secrets.get(ESCROW_ARN)!.recoveryWindowInDays).toBe(14);
  });

  test('a Create retried after a failure restores the escrow and imports the same material', async () => {
    kmsMock.on(ImportKeyMaterialCommand).rejectsOnce(serviceError('ExpiredImportTokenException')).callsFake((i) => kms.importKeyMaterial(i));
    await run(cfnEvent('Create', props()));
    const escrowedBefore = decodeEscrowRecord(sm.secrets.get(ESCROW_ARN)!.string)!.material;
    const { error } = await run(cfnEvent('Create', props()));
    expect(error).toBeUndefined();
    expect(smMock).toHaveReceivedCommandWith(RestoreSecretCommand, { SecretId: ESCROW_ARN });
    expect(sm.secrets.get(ESCROW_ARN)!.deletedDate).toBeUndefined();
    expect(kms.unwrapped[0].equals(escrowedBefore)).toBe(true);
  });

  test('a failed Update leaves the escrow secret alone', async () => {
    await run(cfnEvent('Create', props()));
    kmsMock.on(ImportKeyMaterialCommand).rejects(serviceError('ExpiredImportTokenException'));
    const validTo = new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString();
    const { error } = await run(
      cfnEvent('Update', props({ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo }), { physicalId: KEY_ARN, oldProperties: props() }),
    );
    expect(error).toBeDefined();
    expect(sm.secrets.get(ESCROW_ARN)!.deletedDate).toBeUndefined();
  });
});

describe('bring-your-own material', () => {
  const byoProps = () => props({ MaterialSource: 'secret', MaterialSecretName: BYO_NAME, EscrowSecretArn: undefined });

  test('imports the SecretBinary of the named secret and escrows nothing', async () => {
    const material = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) material[i] = (i * 37 + 11) % 256;
    sm.add(BYO_NAME, { binary: material });
    const { error } = await run(cfnEvent('Create', byoProps()));
    expect(error).toBeUndefined();
    expect(kms.unwrapped[0].equals(material)).toBe(true);
    expect(smMock).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(smMock).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: BYO_NAME });
  });

  test('a secret of the wrong length fails without quoting it', async () => {
    const material = Buffer.alloc(31, 0x5a);
    sm.add(BYO_NAME, { binary: material });
    const { error } = await run(cfnEvent('Create', byoProps()));
    expect(error!.message).toContain('holds 31 bytes');
    expect(error!.message).not.toContain(material.toString('base64'));
    expect(kmsMock).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
  });

  test('a missing secret explains what to create', async () => {
    const { error } = await run(cfnEvent('Create', byoProps()));
    expect(error!.message).toContain('GetSecretValue failed (ResourceNotFoundException)');
    expect(error!.message).toContain('for bring-your-own material the materialSecretName secret');
  });
});

describe('Delete', () => {
  test('leaves the key to its scheduled deletion and gives the escrow the same recovery window', async () => {
    await run(cfnEvent('Create', props({ PendingWindowDays: '21' })));
    const { response, error } = await run(cfnEvent('Delete', props({ PendingWindowDays: '21' }), { physicalId: KEY_ARN }));
    expect(error).toBeUndefined();
    expect(response).toEqual({ PhysicalResourceId: KEY_ARN });
    expect(kmsMock).not.toHaveReceivedCommand(DeleteImportedKeyMaterialCommand);
    expect(kms.keys.get(KEY_ARN)!.state).toBe('Enabled');
    expect(smMock).toHaveReceivedCommandWith(DeleteSecretCommand, { SecretId: ESCROW_ARN, RecoveryWindowInDays: 21 });
  });

  test('deletes the imported material when the user opted in', async () => {
    await run(cfnEvent('Create', props()));
    await run(cfnEvent('Delete', props({ DeleteMaterialOnDelete: 'true' }), { physicalId: KEY_ARN }));
    expect(kms.keys.get(KEY_ARN)!.state).toBe('PendingImport');
  });

  test('succeeds when the key and the escrow secret are already gone', async () => {
    kms.keys.clear();
    sm.secrets.clear();
    const { error } = await run(cfnEvent('Delete', props({ DeleteMaterialOnDelete: 'true' }), { physicalId: KEY_ARN }));
    expect(error).toBeUndefined();
  });

  test('succeeds when the escrow secret is already scheduled for deletion', async () => {
    await run(cfnEvent('Create', props()));
    sm.deleteSecret({ SecretId: ESCROW_ARN, RecoveryWindowInDays: 7 });
    const { error } = await run(cfnEvent('Delete', props(), { physicalId: KEY_ARN }));
    expect(error).toBeUndefined();
  });

  test('succeeds when the material expiry in the old properties has passed', async () => {
    const { error } = await run(
      cfnEvent('Delete', props({ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: '2020-01-01T00:00:00Z' }), { physicalId: KEY_ARN }),
    );
    expect(error).toBeUndefined();
  });

  test('leaves an escrow secret that a replacement key now uses', async () => {
    await run(cfnEvent('Create', props()));
    const oldArn = KEY_ARN.replace('1234abcd', '0000abcd');
    await run(cfnEvent('Delete', props({ KeyArn: oldArn }), { physicalId: oldArn }));
    expect(smMock).not.toHaveReceivedCommand(DeleteSecretCommand);
  });
});
