import { constants, privateDecrypt } from 'node:crypto';
import { DeleteImportedKeyMaterialCommand, DescribeKeyCommand, GetParametersForImportCommand, ImportKeyMaterialCommand } from '@aws-sdk/client-kms';
import {
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import 'aws-sdk-client-mock-jest';
import { onEvent, setSleepForTests } from '../../../lambda/import-key-material/index';
import { decodeEscrowRecord } from '../../../lambda/import-key-material/escrow-record';
import { MANAGED_BY_TAG } from '../../../lambda/shared/secret-lifecycle';
import { cfnEvent, STACK_ID } from '../../helpers/events';
import { OAEP_HASH, serviceError, wrappingKeyPair } from './fakes';
import { ImportHarness } from './harness';

const KEY_ARN = 'arn:aws:kms:ap-southeast-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const ESCROW = 'kms-key-lab/imported-material/escrow-1234abcd-12ab-34cd-56ef-1234567890ab';
const HANDLER_ROLE = 'arn:aws:iam::111111111111:role/ImportHandlerRole';
const POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'OnlyTheImportHandlerAndKeyAdministratorsRead',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'secretsmanager:GetSecretValue',
      Resource: '*',
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': [HANDLER_ROLE] } },
    },
  ],
};
const BYO_NAME = 'lab/material';
const DAY_MS = 24 * 3600 * 1000;
/** The owner identity of the default test resource. */
const ME = `${STACK_ID}/Resource`;

const h = new ImportHarness();
const { sleeps } = h;

beforeEach(() => {
  h.reset();
  h.kms.addExternalKey(KEY_ARN);
  h.capture();
});

afterEach(() => h.release());

function props(overrides: Record<string, unknown> = {}) {
  return {
    KeyArn: KEY_ARN,
    WrappingAlgorithm: 'RSAES_OAEP_SHA_256',
    WrappingKeySpec: 'RSA_4096',
    ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    MaterialSource: 'generate',
    EscrowSecretName: ESCROW,
    EscrowSecretPolicy: POLICY,
    SecretTags: { 'kms-key-lab:lab': 'kms-key-lab', 'kms-key-lab:owner': 'platform' },
    PendingWindowDays: '7',
    DeleteMaterialOnDelete: 'false',
    ...overrides,
  };
}

const escrowSecret = () => h.sm.secrets.get(ESCROW);
const escrowed = () => decodeEscrowRecord(escrowSecret()?.string);

/** One event, checked for leaks of the escrowed and bring-your-own material too. */
async function run(event: ReturnType<typeof cfnEvent>) {
  const byo = h.sm.secrets.get(BYO_NAME);
  return h.run(event, [...(escrowed() ? [escrowed()!.material] : []), ...(byo?.binary ? [Buffer.from(byo.binary)] : [])]);
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

    const sent = h.kmsMock.commandCalls(ImportKeyMaterialCommand)[0].args[0].input;
    const unwrapped = privateDecrypt(
      { key: wrappingKeyPair(spec).privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: OAEP_HASH[algorithm] },
      Buffer.from(sent.EncryptedKeyMaterial!),
    );
    expect(unwrapped).toHaveLength(32);
    expect(unwrapped.equals(escrowed()!.material)).toBe(true);
    expect(sent.ExpirationModel).toBe('KEY_MATERIAL_DOES_NOT_EXPIRE');
    expect(sent.ValidTo).toBeUndefined();
    expect(h.kmsMock).toHaveReceivedCommandWith(GetParametersForImportCommand, { KeyId: KEY_ARN, WrappingAlgorithm: algorithm, WrappingKeySpec: spec });
    expect(response).toEqual({
      PhysicalResourceId: KEY_ARN,
      Data: expect.objectContaining({
        KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
        Imported: 'true',
        ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
        EscrowSecretName: ESCROW,
      }),
    });
    expect(h.kms.keys.get(KEY_ARN)!.state).toBe('Enabled');
  });

  test('creates the escrow itself, locks it with its policy before writing the material, then imports and checks the key is Enabled', async () => {
    await run(cfnEvent('Create', props()));
    expect(h.journal).toEqual([
      'DescribeKey',
      'DescribeSecret',
      'CreateSecret',
      'PutResourcePolicy',
      'PutSecretValue',
      'GetParametersForImport',
      'ImportKeyMaterial',
      'DescribeKey',
      'PutSecretValue',
    ]);
    const [first, second] = h.smMock.commandCalls(PutSecretValueCommand).map((c) => decodeEscrowRecord(c.args[0].input.SecretString)!);
    expect(first.keyMaterialId).toBeUndefined();
    expect(first.material.equals(second.material)).toBe(true);
    expect(second.keyMaterialId).toBe(h.kms.keys.get(KEY_ARN)!.keyMaterialId);
  });

  test('the escrow carries the lab tags, names its key and owner, and has the resource policy', async () => {
    await run(cfnEvent('Create', props()));
    expect(escrowSecret()!.tags).toEqual({
      'kms-key-lab:lab': 'kms-key-lab',
      'kms-key-lab:owner': 'platform',
      'kms-key-lab:escrow-for': KEY_ARN,
      [MANAGED_BY_TAG]: ME,
    });
    expect(JSON.parse(escrowSecret()!.policy!)).toEqual(POLICY);
    expect(h.smMock.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  test('material is 32 fresh random bytes for every key', async () => {
    await run(cfnEvent('Create', props()));
    const first = escrowed()!.material;
    const otherArn = KEY_ARN.replace('1234abcd', '9999abcd');
    const otherEscrow = ESCROW.replace('1234abcd', '9999abcd');
    h.kms.addExternalKey(otherArn);
    await run(cfnEvent('Create', props({ KeyArn: otherArn, EscrowSecretName: otherEscrow })));
    const second = decodeEscrowRecord(h.sm.secrets.get(otherEscrow)!.string)!.material;
    expect(first).toHaveLength(32);
    expect(first.equals(second)).toBe(false);
  });

  test('expiring material is imported with KEY_MATERIAL_EXPIRES and its ValidTo', async () => {
    const validTo = new Date(Date.now() + 30 * DAY_MS);
    validTo.setUTCMilliseconds(0);
    const { response } = await run(cfnEvent('Create', props({ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo.toISOString() })));
    expect(h.kmsMock).toHaveReceivedCommandWith(ImportKeyMaterialCommand, { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo });
    expect(response!.Data!.ValidTo).toBe(validTo.toISOString());
  });
});

describe('idempotency', () => {
  test('a repeated Create on a key that already holds this material changes nothing', async () => {
    await run(cfnEvent('Create', props()));
    h.kmsMock.resetHistory();
    h.smMock.resetHistory();
    const { response, error } = await run(cfnEvent('Create', props()));
    expect(error).toBeUndefined();
    expect(response!.Data!.Imported).toBe('false');
    expect(h.kmsMock).not.toHaveReceivedCommand(GetParametersForImportCommand);
    expect(h.kmsMock).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
    expect(h.smMock).not.toHaveReceivedCommand(PutSecretValueCommand);
  });

  test('a repeated Create makes 5 calls and a Delete 3, as the README says', async () => {
    await run(cfnEvent('Create', props()));
    h.journal = [];
    await run(cfnEvent('Create', props()));
    expect(h.journal).toEqual(['DescribeKey', 'DescribeSecret', 'PutResourcePolicy', 'TagResource', 'GetSecretValue']);
    h.journal = [];
    await run(cfnEvent('Delete', props(), { physicalId: KEY_ARN }));
    expect(h.journal).toEqual(['DescribeSecret', 'DescribeKey', 'DeleteSecret']);
  });

  test('a Create retried after a lost import response re-imports the escrowed material, not new material', async () => {
    await run(cfnEvent('Create', props()));
    const material = escrowed()!.material;
    // The record lost its material id, as if the handler died after ImportKeyMaterial.
    escrowSecret()!.string = JSON.stringify({ ...JSON.parse(escrowSecret()!.string!), keyMaterialId: undefined });
    const { error } = await run(cfnEvent('Create', props()));
    expect(error).toBeUndefined();
    expect(h.kms.unwrapped).toHaveLength(2);
    expect(h.kms.unwrapped[1].equals(material)).toBe(true);
  });

  test('Update re-imports the same material when the expiry changes', async () => {
    await run(cfnEvent('Create', props()));
    const material = escrowed()!.material;
    const validTo = new Date(Date.now() + 90 * DAY_MS);
    validTo.setUTCMilliseconds(0);
    const { response } = await run(
      cfnEvent('Update', props({ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo.toISOString() }), { physicalId: KEY_ARN, oldProperties: props() }),
    );
    expect(response).toMatchObject({ PhysicalResourceId: KEY_ARN, Data: { Imported: 'true', ExpirationModel: 'KEY_MATERIAL_EXPIRES' } });
    expect(h.kms.unwrapped[1].equals(material)).toBe(true);
    expect(h.kms.keys.get(KEY_ARN)!.validTo).toEqual(validTo);
  });

  test('Update that changes only the wrapping algorithm does not re-import', async () => {
    await run(cfnEvent('Create', props()));
    h.kmsMock.resetHistory();
    await run(cfnEvent('Update', props({ WrappingAlgorithm: 'RSAES_OAEP_SHA_1' }), { physicalId: KEY_ARN, oldProperties: props() }));
    expect(h.kmsMock).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
  });

  test('after DeleteImportedKeyMaterial, Create imports the escrowed material again', async () => {
    await run(cfnEvent('Create', props()));
    h.kms.deleteImportedKeyMaterial({ KeyId: KEY_ARN });
    const { error } = await run(cfnEvent('Create', props()));
    expect(error).toBeUndefined();
    expect(h.kms.keys.get(KEY_ARN)!.state).toBe('Enabled');
    expect(h.kms.unwrapped[1].equals(h.kms.unwrapped[0])).toBe(true);
  });

  test('an escrow secret scheduled for deletion is restored before use', async () => {
    await run(cfnEvent('Create', props()));
    h.sm.deleteSecret({ SecretId: ESCROW, RecoveryWindowInDays: 8 });
    const { error } = await run(cfnEvent('Create', props()));
    expect(error).toBeUndefined();
    expect(h.smMock).toHaveReceivedCommandWith(RestoreSecretCommand, { SecretId: ESCROW });
    expect(escrowSecret()!.deletedDate).toBeUndefined();
  });
});

describe('the escrow cannot be overwritten', () => {
  test('a rewritten escrow value never leads to new material for a key that holds material', async () => {
    await run(cfnEvent('Create', props()));
    const original = escrowed()!.material;
    // What CloudFormation's GenerateSecretString would have done to a template-declared secret.
    escrowSecret()!.string = 'Xy7#pQ9!regenerated-by-cloudformation';
    h.smMock.resetHistory();
    h.kmsMock.resetHistory();
    const { error } = await run(cfnEvent('Update', props({ WrappingAlgorithm: 'RSAES_OAEP_SHA_1' }), { physicalId: KEY_ARN, oldProperties: props() }));
    expect(error!.message).toContain('the key already holds material, but the escrow secret');
    expect(error!.message).toContain('Put the original escrow record back');
    expect(h.smMock).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(h.kmsMock).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
    expect(h.kms.keys.get(KEY_ARN)!.boundMaterial!.equals(original)).toBe(true);
  });

  test('a missing escrow for a key that holds material is refused before anything is created', async () => {
    await run(cfnEvent('Create', props()));
    h.sm.secrets.clear();
    const { error } = await run(cfnEvent('Create', props()));
    expect(error!.message).toContain('has no record of it');
    expect(h.sm.secrets.size).toBe(0);
  });
});

describe('a first deploy that fails leaves no billable secret', () => {
  test('a failure while parsing the properties makes no call and creates nothing', async () => {
    const { error } = await run(cfnEvent('Create', props({ WrappingKeySpec: 'RSA_1024' })));
    expect(error!.message).toContain('WrappingKeySpec is "RSA_1024"');
    expect(h.journal).toEqual([]);
    expect(h.sm.billable()).toEqual([]);
  });

  test('AccessDenied that outlasts IAM propagation schedules the new escrow for deletion', async () => {
    h.smMock.on(PutSecretValueCommand).rejects(serviceError('AccessDeniedException', 'not authorized'));
    const { error } = await run(cfnEvent('Create', props()));
    expect(error!.message).toContain(`AWS denied the import handler a call on its escrow secret ${ESCROW} (PutSecretValue failed (AccessDeniedException)`);
    expect(escrowSecret()!.deletedDate).toBeDefined();
    expect(h.sm.billable()).toEqual([]);
  });

  test("an escrow whose policy names an earlier owner role says how an administrator lets the new role in, and is left alone", async () => {
    await run(cfnEvent('Create', props()));
    h.kmsMock.resetHistory();
    // The policy of an escrow written before its owner was named by role path denies the role that replaced the old one.
    h.smMock.on(PutResourcePolicyCommand).rejects(serviceError('AccessDeniedException', 'User: arn:aws:sts::111111111111:assumed-role/new/x is not authorized to perform: secretsmanager:PutResourcePolicy with an explicit deny in a resource-based policy'));
    const { error } = await run(cfnEvent('Update', props({ WrappingAlgorithm: 'RSAES_OAEP_SHA_1' }), { physicalId: KEY_ARN, oldProperties: props() }));
    expect(error!.message).toContain('names the handler\'s earlier role by its ARN');
    expect(error!.message).toContain(`aws secretsmanager delete-resource-policy --secret-id ${ESCROW} --region ap-southeast-1`);
    // An earlier version's policy allows the lab's KeyAdmin role no DeleteResourcePolicy (test/deploy/escrow-policy-repair.test.ts):
    // the remedy names who can, and the way out that needs no one.
    expect(error!.message).not.toMatch(/as a key administrator, delete/);
    expect(error!.message).toContain('one an earlier version wrote lets only the account root user, or a principal named in keyAdminArns whose own IAM policy allows secretsmanager:DeleteResourcePolicy');
    expect(error!.message).toContain('`npx cdk destroy --all` and then a fresh `npx cdk deploy --all`');
    expect(escrowSecret()!.deletedDate).toBeUndefined();
    expect(h.kmsMock).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
  });

  test('a KMS error schedules the new escrow for deletion, to end a day after the key', async () => {
    h.kmsMock.on(ImportKeyMaterialCommand).rejects(serviceError('ExpiredImportTokenException'));
    await run(cfnEvent('Create', props({ PendingWindowDays: '14' })));
    expect(escrowSecret()!.deletedDate).toBeDefined();
    expect(escrowSecret()!.recoveryWindowInDays).toBe(15);
    expect(h.sm.billable()).toEqual([]);
  });

  test('a rollback after the import succeeded sends a Delete, which schedules the escrow', async () => {
    await run(cfnEvent('Create', props()));
    const { error } = await run(cfnEvent('Delete', props(), { physicalId: KEY_ARN }));
    expect(error).toBeUndefined();
    expect(h.sm.billable()).toEqual([]);
  });

  test('a Create retried after a failure restores the escrow and imports the same material', async () => {
    h.kmsMock.on(ImportKeyMaterialCommand).rejectsOnce(serviceError('ExpiredImportTokenException')).callsFake((i) => h.kms.importKeyMaterial(i));
    await run(cfnEvent('Create', props()));
    const escrowedBefore = escrowed()!.material;
    const { error } = await run(cfnEvent('Create', props()));
    expect(error).toBeUndefined();
    expect(h.smMock).toHaveReceivedCommandWith(RestoreSecretCommand, { SecretId: ESCROW });
    expect(escrowSecret()!.deletedDate).toBeUndefined();
    expect(h.kms.unwrapped[0].equals(escrowedBefore)).toBe(true);
  });
});

describe('a live escrow is never scheduled while its key lives on', () => {
  const replacement = 'ImportMaterialRenamed';

  test('a replaced import resource whose key lives on leaves the escrow to the replacement', async () => {
    await run(cfnEvent('Create', props()));
    // CloudFormation creates the replacement first, then deletes the old resource.
    const { error } = await run(cfnEvent('Create', props(), { logicalId: replacement }));
    expect(error).toBeUndefined();
    expect(escrowSecret()!.tags[MANAGED_BY_TAG]).toBe(`${STACK_ID}/${replacement}`);
    await run(cfnEvent('Delete', props(), { physicalId: KEY_ARN }));
    expect(h.smMock).not.toHaveReceivedCommand(DeleteSecretCommand);
    expect(h.sm.billable()).toEqual([ESCROW]);

    await run(cfnEvent('Delete', props(), { physicalId: KEY_ARN, logicalId: replacement }));
    expect(h.sm.billable()).toEqual([]);
  });

  test('a rolled-back replacement hands the escrow back to the resource it took it from', async () => {
    await run(cfnEvent('Create', props()));
    await run(cfnEvent('Create', props(), { logicalId: replacement }));
    expect(escrowSecret()!.tags['kms-key-lab:previous-managed-by']).toBe(ME);
    // The update fails elsewhere: CloudFormation deletes the replacement, and the original stays.
    const { error } = await run(cfnEvent('Delete', props(), { physicalId: KEY_ARN, logicalId: replacement }));
    expect(error).toBeUndefined();
    expect(escrowSecret()!.deletedDate).toBeUndefined();
    expect(escrowSecret()!.tags[MANAGED_BY_TAG]).toBe(ME);
    expect(escrowSecret()!.tags['kms-key-lab:previous-managed-by']).toBeUndefined();
    // And the original's own Delete, at destroy, schedules it.
    await run(cfnEvent('Delete', props(), { physicalId: KEY_ARN }));
    expect(h.sm.billable()).toEqual([]);
  });

  test('a settled replacement drops the hand-back note when the old resource is deleted', async () => {
    await run(cfnEvent('Create', props()));
    await run(cfnEvent('Create', props(), { logicalId: replacement }));
    await run(cfnEvent('Delete', props(), { physicalId: KEY_ARN }));
    expect(escrowSecret()!.tags['kms-key-lab:previous-managed-by']).toBeUndefined();
    expect(escrowSecret()!.tags[MANAGED_BY_TAG]).toBe(`${STACK_ID}/${replacement}`);
    expect(h.sm.billable()).toEqual([ESCROW]);
  });

  test('a failed Create during an update leaves the live escrow and its owner alone', async () => {
    await run(cfnEvent('Create', props()));
    h.kmsMock.on(DescribeKeyCommand).rejects(serviceError('KMSInternalException', 'internal error'));
    const { error } = await run(cfnEvent('Create', props(), { logicalId: replacement }));
    expect(error).toBeDefined();
    expect(escrowSecret()!.deletedDate).toBeUndefined();
    expect(escrowSecret()!.tags[MANAGED_BY_TAG]).toBe(ME);
  });

  test('a failed Create that found the escrow live, after reading it, still leaves it alone', async () => {
    await run(cfnEvent('Create', props()));
    h.kms.deleteImportedKeyMaterial({ KeyId: KEY_ARN });
    h.kmsMock.on(ImportKeyMaterialCommand).rejects(serviceError('ExpiredImportTokenException'));
    const { error } = await run(cfnEvent('Create', props(), { logicalId: replacement }));
    expect(error!.message).toContain('ExpiredImportTokenException');
    expect(escrowSecret()!.deletedDate).toBeUndefined();
  });

  test('an escrow that holds another key’s record is refused and left alone', async () => {
    h.sm.add(ESCROW, {
      string: JSON.stringify({
        format: 'kms-key-lab/imported-material-escrow@1',
        keyArn: KEY_ARN.replace('1234abcd', '5555abcd'),
        material: Buffer.alloc(32, 1).toString('base64'),
      }),
    });
    const { error } = await run(cfnEvent('Create', props()));
    expect(error!.message).toContain('holds material for another key');
    expect(h.kmsMock).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
    expect(escrowSecret()!.deletedDate).toBeUndefined();
  });
});

describe('transient errors are waited out within bounds', () => {
  test('NotFound straight after key creation is retried with a bounded backoff', async () => {
    h.kms.notFoundBeforeVisible = 3;
    const { error } = await run(cfnEvent('Create', props()));
    expect(error).toBeUndefined();
    expect(sleeps).toEqual([1000, 2000, 4000]);
    // Four before the key was seen, one after the import.
    expect(h.kmsMock).toHaveReceivedCommandTimes(DescribeKeyCommand, 5);
  });

  test('NotFound on GetParametersForImport, after DescribeKey already saw the key, is retried too', async () => {
    h.kmsMock
      .on(GetParametersForImportCommand)
      .rejectsOnce(serviceError('NotFoundException'))
      .rejectsOnce(serviceError('NotFoundException'))
      .callsFake((i) => h.kms.getParametersForImport(i));
    const { error } = await run(cfnEvent('Create', props()));
    expect(error).toBeUndefined();
    expect(h.kmsMock).toHaveReceivedCommandTimes(GetParametersForImportCommand, 3);
    expect(sleeps).toEqual([1000, 2000]);
  });

  test('NotFound on ImportKeyMaterial is retried with the same import token', async () => {
    h.kmsMock.on(ImportKeyMaterialCommand).rejectsOnce(serviceError('NotFoundException')).callsFake((i) => h.kms.importKeyMaterial(i));
    const { error } = await run(cfnEvent('Create', props()));
    expect(error).toBeUndefined();
    expect(h.kms.keys.get(KEY_ARN)!.state).toBe('Enabled');
  });

  test('a key that never appears fails after six attempts with an explanation', async () => {
    h.kms.notFoundBeforeVisible = 100;
    const { error } = await run(cfnEvent('Create', props()));
    expect(error!.message).toMatch(/^DescribeKey failed \(NotFoundException\): KMS does not know the key/);
    expect(error!.message).toContain('What to do:');
    expect(sleeps).toEqual([1000, 2000, 4000, 8000, 8000]);
  });

  test('AccessDenied on the first calls, while the role policy propagates, is retried', async () => {
    h.accessDeniedCalls = 3;
    const { error } = await run(cfnEvent('Create', props()));
    expect(error).toBeUndefined();
    expect(h.journal.slice(0, 4)).toEqual(['DescribeKey', 'DescribeKey', 'DescribeKey', 'DescribeKey']);
    expect(sleeps).toEqual([2000, 4000, 8000]);
  });

  test('AccessDenied that lasts fails after 54 s with the explanation of the role and key policy', async () => {
    h.accessDeniedCalls = 100;
    const { error } = await run(cfnEvent('Create', props()));
    expect(error!.message).toMatch(/^DescribeKey failed \(AccessDeniedException\): the handler's role or the key policy does not allow the call/);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBe(54_000);
  });

  test('a Delete does not wait out AccessDenied: its role is long in place', async () => {
    await run(cfnEvent('Create', props()));
    sleeps.length = 0;
    h.accessDeniedCalls = 1;
    const { error } = await run(cfnEvent('Delete', props(), { physicalId: KEY_ARN }));
    expect(error!.message).toContain('AccessDeniedException');
    expect(sleeps).toEqual([]);
  });

  test('a secret that Secrets Manager cannot see yet right after CreateSecret is waited for', async () => {
    h.smMock.on(PutResourcePolicyCommand).rejectsOnce(serviceError('ResourceNotFoundException')).callsFake((i) => h.sm.putResourcePolicy(i));
    const { error } = await run(cfnEvent('Create', props()));
    expect(error).toBeUndefined();
    expect(sleeps).toEqual([1000]);
  });

  test('a change of the lab tags reaches the escrow on the next deploy', async () => {
    await run(cfnEvent('Create', props()));
    await run(cfnEvent('Update', props({ SecretTags: { 'kms-key-lab:lab': 'kms-key-lab', 'kms-key-lab:owner': 'new-team' } }), { physicalId: KEY_ARN, oldProperties: props() }));
    expect(escrowSecret()!.tags['kms-key-lab:owner']).toBe('new-team');
  });

  test('once within the cleanup reserve, no further call is started and the new escrow is scheduled', async () => {
    let clock = Date.now();
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    // The import call is slow: it uses up the time the invocation had.
    h.kmsMock.on(GetParametersForImportCommand).callsFake((i) => {
      clock += 30_000;
      return h.kms.getParametersForImport(i);
    });
    let error: Error | undefined;
    try {
      await onEvent(cfnEvent('Create', props()), { getRemainingTimeInMillis: () => 45_000 } as never);
    } catch (e) {
      error = e as Error;
    }
    expect(error!.message).toContain('Stopped before ImportKeyMaterial');
    expect(h.kmsMock).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
    expect(h.sm.billable()).toEqual([]);
  });

  test('backoffs stop early when the Lambda would run out of time, leaving time to clean up', async () => {
    h.accessDeniedCalls = 100;
    // Each wait moves the clock, as a real sleep would.
    let clock = Date.now();
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    setSleepForTests(async (ms) => {
      sleeps.push(ms);
      clock += ms;
    });
    const context = { getRemainingTimeInMillis: () => 30_000 } as never;
    let error: Error | undefined;
    try {
      await onEvent(cfnEvent('Create', props()), context);
    } catch (e) {
      error = e as Error;
    }
    expect(error!.message).toContain('AccessDeniedException');
    // 30 s left, 20 s kept for cleanup: only waits that end within 10 s are taken.
    expect(sleeps).toEqual([2000, 4000]);
  });
});

describe('KMS errors say what happened and what to do', () => {
  test.each([
    ['ExpiredImportTokenException', 'expired', 'deploy again'],
    ['IncorrectKeyMaterialException', 'already holds different material', 'put the original material back'],
    ['InvalidImportTokenException', 'does not belong to this key', 'deploy again'],
    ['KMSInvalidStateException', 'not in a state that accepts imports', 'look at the key with `aws kms describe-key`'],
  ])('%s', async (name, what, todo) => {
    h.kmsMock.on(ImportKeyMaterialCommand).rejects(serviceError(name, 'service text'));
    const { error } = await run(cfnEvent('Create', props()));
    expect(error!.message).toContain(`ImportKeyMaterial failed (${name})`);
    expect(error!.message).toContain(what);
    expect(error!.message).toContain(`What to do: ${todo}`);
  });

  test('real IncorrectKeyMaterial: other material for a key that holds some', async () => {
    await run(cfnEvent('Create', props()));
    escrowSecret()!.string = JSON.stringify({
      format: 'kms-key-lab/imported-material-escrow@1',
      keyArn: KEY_ARN,
      material: Buffer.alloc(32, 7).toString('base64'),
    });
    const { error } = await run(cfnEvent('Create', props()));
    expect(error!.message).toContain('IncorrectKeyMaterialException');
  });

  test('a key pending deletion fails before any import call', async () => {
    h.kms.keys.get(KEY_ARN)!.state = 'PendingDeletion';
    const { error } = await run(cfnEvent('Create', props()));
    expect(error!.message).toContain('PendingDeletion');
    expect(error!.message).toContain('cancel-key-deletion');
    expect(h.kmsMock).not.toHaveReceivedCommand(GetParametersForImportCommand);
    expect(h.sm.secrets.size).toBe(0);
  });

  test('a Disabled key whose material must be imported again gets its own explanation', async () => {
    await run(cfnEvent('Create', props()));
    h.kms.keys.get(KEY_ARN)!.state = 'Disabled';
    h.kmsMock.resetHistory();
    const validTo = new Date(Date.now() + 60 * DAY_MS).toISOString();
    const { error } = await run(
      cfnEvent('Update', props({ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo }), { physicalId: KEY_ARN, oldProperties: props() }),
    );
    expect(error!.message).toContain('the key is Disabled, and its material must be imported again');
    expect(error!.message).toContain('aws kms enable-key --key-id 1234abcd-12ab-34cd-56ef-1234567890ab');
    expect(h.kmsMock).not.toHaveReceivedCommand(GetParametersForImportCommand);
  });

  test('a Disabled key that already holds the escrowed material needs nothing', async () => {
    await run(cfnEvent('Create', props()));
    h.kms.keys.get(KEY_ARN)!.state = 'Disabled';
    const { response, error } = await run(cfnEvent('Create', props()));
    expect(error).toBeUndefined();
    expect(response!.Data!.Imported).toBe('false');
  });

  test('an Update that keeps a ValidTo that has passed (a rollback) goes through without importing', async () => {
    const past = '2026-01-01T00:00:00.000Z';
    await run(cfnEvent('Create', props()));
    h.kms.deleteImportedKeyMaterial({ KeyId: KEY_ARN }); // expired: KMS deleted the material
    h.kmsMock.resetHistory();
    const expiring = props({ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: past });
    const { response, error } = await run(cfnEvent('Update', expiring, { physicalId: KEY_ARN, oldProperties: expiring }));
    expect(error).toBeUndefined();
    expect(response!.Data!.Imported).toBe('false');
    expect(h.kmsMock).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
  });

  test('an Update to a ValidTo that has passed is refused when material must be imported', async () => {
    await run(cfnEvent('Create', props()));
    const { error } = await run(
      cfnEvent('Update', props({ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: '2026-01-01T00:00:00Z' }), { physicalId: KEY_ARN, oldProperties: props() }),
    );
    expect(error!.message).toContain('has passed');
    expect(escrowSecret()!.deletedDate).toBeUndefined();
  });

  test('an expiry that has passed by deploy time fails before any AWS call', async () => {
    const { error } = await run(cfnEvent('Create', props({ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: '2020-01-01T00:00:00Z' })));
    expect(error!.message).toContain('has passed');
    expect(h.journal).toEqual([]);
  });

  test('a failed Update of a live escrow leaves it alone', async () => {
    await run(cfnEvent('Create', props()));
    h.kmsMock.on(ImportKeyMaterialCommand).rejects(serviceError('ExpiredImportTokenException'));
    const validTo = new Date(Date.now() + 30 * DAY_MS).toISOString();
    const { error } = await run(
      cfnEvent('Update', props({ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo }), { physicalId: KEY_ARN, oldProperties: props() }),
    );
    expect(error).toBeDefined();
    expect(escrowSecret()!.deletedDate).toBeUndefined();
  });
});

describe('bring-your-own material', () => {
  const byoProps = () =>
    props({ MaterialSource: 'secret', MaterialSecretName: BYO_NAME, EscrowSecretName: undefined, EscrowSecretPolicy: undefined });

  test('imports the SecretBinary of the named secret and escrows nothing', async () => {
    const material = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) material[i] = (i * 37 + 11) % 256;
    h.sm.add(BYO_NAME, { binary: material });
    const { error } = await run(cfnEvent('Create', byoProps()));
    expect(error).toBeUndefined();
    expect(h.kms.unwrapped[0].equals(material)).toBe(true);
    expect(h.smMock).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(h.smMock).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: BYO_NAME });
    expect([...h.sm.secrets.keys()]).toEqual([BYO_NAME]);
  });

  test('a secret of the wrong length fails without quoting it', async () => {
    const material = Buffer.alloc(31, 0x5a);
    h.sm.add(BYO_NAME, { binary: material });
    const { error } = await run(cfnEvent('Create', byoProps()));
    expect(error!.message).toContain('holds 31 bytes');
    expect(error!.message).not.toContain(material.toString('base64'));
    expect(h.kmsMock).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
  });

  test('a missing secret explains what to create', async () => {
    const { error } = await run(cfnEvent('Create', byoProps()));
    expect(error!.message).toContain('GetSecretValue failed (ResourceNotFoundException)');
    expect(error!.message).toContain('for bring-your-own material the materialSecretName secret');
  });
});

describe('Delete', () => {
  test('leaves the key to its scheduled deletion; the escrow waits one day longer than the key', async () => {
    await run(cfnEvent('Create', props({ PendingWindowDays: '21' })));
    const { response, error } = await run(cfnEvent('Delete', props({ PendingWindowDays: '21' }), { physicalId: KEY_ARN }));
    expect(error).toBeUndefined();
    expect(response).toEqual({ PhysicalResourceId: KEY_ARN });
    expect(h.kmsMock).not.toHaveReceivedCommand(DeleteImportedKeyMaterialCommand);
    expect(h.kms.keys.get(KEY_ARN)!.state).toBe('Enabled');
    expect(h.smMock).toHaveReceivedCommandWith(DeleteSecretCommand, { SecretId: ESCROW, RecoveryWindowInDays: 22 });
  });

  test.each([
    [7, 7],
    [29, 29],
  ])('with a %i-day key window, the escrow is deleted after the key that CloudFormation schedules next', async (window) => {
    await run(cfnEvent('Create', props({ PendingWindowDays: String(window) })));
    const destroyStart = new Date();
    await run(cfnEvent('Delete', props({ PendingWindowDays: String(window) }), { physicalId: KEY_ARN }));
    // CloudFormation deletes the key a little later, once the custom resource is gone.
    const key = h.kms.scheduleKeyDeletion({ KeyId: KEY_ARN, PendingWindowInDays: window }, new Date(destroyStart.getTime() + 10 * 60 * 1000));
    const secret = escrowSecret()!;
    const secretGoes = secret.deletedDate!.getTime() + secret.recoveryWindowInDays! * DAY_MS;
    expect(secretGoes).toBeGreaterThan(key.DeletionDate!.getTime());
  });

  test('a key already scheduled for deletion sets the window: the escrow ends a day after its deletion date', async () => {
    await run(cfnEvent('Create', props()));
    h.kms.scheduleKeyDeletion({ KeyId: KEY_ARN, PendingWindowInDays: 20 });
    await run(cfnEvent('Delete', props(), { physicalId: KEY_ARN }));
    expect(escrowSecret()!.recoveryWindowInDays).toBe(21);
  });

  test.each(['Disabled', 'PendingDeletion'])('works without reading the value when the key is %s and the value cannot be decrypted', async (state) => {
    await run(cfnEvent('Create', props()));
    h.kms.keys.get(KEY_ARN)!.state = state;
    escrowSecret()!.undecryptable = true;
    h.smMock.resetHistory();
    const { error } = await run(cfnEvent('Delete', props(), { physicalId: KEY_ARN }));
    expect(error).toBeUndefined();
    expect(h.smMock).not.toHaveReceivedCommand(GetSecretValueCommand);
    expect(h.sm.billable()).toEqual([]);
  });

  test('deletes the imported material when the user opted in', async () => {
    await run(cfnEvent('Create', props()));
    await run(cfnEvent('Delete', props({ DeleteMaterialOnDelete: 'true' }), { physicalId: KEY_ARN }));
    expect(h.kms.keys.get(KEY_ARN)!.state).toBe('PendingImport');
  });

  test('succeeds when the key and the escrow secret are already gone', async () => {
    h.kms.keys.clear();
    const { error } = await run(cfnEvent('Delete', props({ DeleteMaterialOnDelete: 'true' }), { physicalId: KEY_ARN }));
    expect(error).toBeUndefined();
  });

  test('another InvalidRequestException from DeleteSecret is not mistaken for "already scheduled"', async () => {
    await run(cfnEvent('Create', props()));
    h.smMock.on(DeleteSecretCommand).rejects(serviceError('InvalidRequestException', 'a replica must be deleted first'));
    const { error } = await run(cfnEvent('Delete', props(), { physicalId: KEY_ARN }));
    expect(error!.message).toContain('DeleteSecret failed (InvalidRequestException)');
    expect(h.sm.billable()).toEqual([ESCROW]);
  });

  test('succeeds when the escrow secret is already scheduled for deletion', async () => {
    await run(cfnEvent('Create', props()));
    h.sm.deleteSecret({ SecretId: ESCROW, RecoveryWindowInDays: 8 });
    const { error } = await run(cfnEvent('Delete', props(), { physicalId: KEY_ARN }));
    expect(error).toBeUndefined();
    expect(escrowSecret()!.recoveryWindowInDays).toBe(8);
  });

  test('succeeds when the material expiry in the old properties has passed', async () => {
    const { error } = await run(
      cfnEvent('Delete', props({ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: '2020-01-01T00:00:00Z' }), { physicalId: KEY_ARN }),
    );
    expect(error).toBeUndefined();
  });
});
