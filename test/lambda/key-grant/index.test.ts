import { CreateGrantCommand, KMSClient, RevokeGrantCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { onEvent, setSleepForTests } from '../../../lambda/key-grant/index';
import { cfnEvent, RESPONSE_URL } from '../../helpers/events';

const KEY_ARN = 'arn:aws:kms:ap-southeast-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const ROLE_ARN = 'arn:aws:iam::111111111111:role/LabApplication';
const GRANT_TOKEN = 'AQpAM2RhZTk1MGMyNTk2ZmZmMzEyYWVhOWViN2I1MWM4Mzc0MWFiYjc0ZDE1ODkyNGFlNTIzODZhMzgyZjBlNGY3NiKIAQEBAgB4';
const kms = mockClient(KMSClient);
const props = { KeyArn: KEY_ARN, GranteePrincipal: ROLE_ARN, Operations: ['Encrypt', 'Decrypt'], Name: 'kms-key-lab-application' };
const notFound = () => Object.assign(new Error('not found'), { name: 'NotFoundException' });
let logged: string[];
let sleeps: number[];

beforeEach(() => {
  kms.reset();
  logged = [];
  jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
  sleeps = [];
  setSleepForTests(async (ms) => void sleeps.push(ms));
});
afterEach(() => {
  jest.restoreAllMocks();
  setSleepForTests(undefined);
});

describe('key-grant handler', () => {
  test('Create issues a named grant for exactly the listed operations', async () => {
    kms.on(CreateGrantCommand).resolves({ GrantId: 'g-1', GrantToken: GRANT_TOKEN });
    const response = await onEvent(cfnEvent('Create', props));
    expect(kms).toHaveReceivedCommandWith(CreateGrantCommand, {
      KeyId: KEY_ARN,
      GranteePrincipal: ROLE_ARN,
      Operations: ['Decrypt', 'Encrypt'],
      Name: 'kms-key-lab-application',
    });
    expect(response).toEqual({ PhysicalResourceId: `${KEY_ARN}|g-1`, Data: { GrantId: 'g-1' } });
    const everything = JSON.stringify(response) + logged.join('\n');
    expect(everything).not.toContain(GRANT_TOKEN);
    expect(everything).not.toContain(RESPONSE_URL);
  });

  test('Create retries while the new key or role is not yet visible', async () => {
    kms.on(CreateGrantCommand).rejectsOnce(notFound()).rejectsOnce(notFound()).resolves({ GrantId: 'g-2' });
    const response = await onEvent(cfnEvent('Create', props));
    expect(response.PhysicalResourceId).toBe(`${KEY_ARN}|g-2`);
    expect(sleeps).toEqual([1000, 2000]);
  });

  test('Create waits out AccessDenied while the handler role policy propagates', async () => {
    const denied = () => Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' });
    kms.on(CreateGrantCommand).rejectsOnce(denied()).rejectsOnce(denied()).resolves({ GrantId: 'g-3' });
    const response = await onEvent(cfnEvent('Create', props));
    expect(response.PhysicalResourceId).toBe(`${KEY_ARN}|g-3`);
    expect(sleeps).toEqual([2000, 4000]);
  });

  test('Create failure says what to check once AccessDenied outlasts IAM propagation', async () => {
    kms.on(CreateGrantCommand).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    await expect(onEvent(cfnEvent('Create', props))).rejects.toThrow(
      /CreateGrant on .* failed \(AccessDeniedException\): User is not authorized\. What to do: check that the key is Enabled/,
    );
  });

  test('Create refuses operations outside the lab list', async () => {
    await expect(onEvent(cfnEvent('Create', { ...props, Operations: ['Decrypt', 'CreateGrant'] }))).rejects.toThrow(
      'Operation "CreateGrant" is not accepted',
    );
    expect(kms).not.toHaveReceivedCommand(CreateGrantCommand);
  });

  test('Update issues a grant for the new properties; CloudFormation revokes the old one', async () => {
    kms.on(CreateGrantCommand).resolves({ GrantId: 'g-3' });
    const response = await onEvent(cfnEvent('Update', { ...props, Operations: ['Decrypt'] }, { physicalId: `${KEY_ARN}|g-1` }));
    expect(response.PhysicalResourceId).toBe(`${KEY_ARN}|g-3`);
    expect(kms).not.toHaveReceivedCommand(RevokeGrantCommand);
  });

  test('Delete revokes the grant named by the physical id', async () => {
    kms.on(RevokeGrantCommand).resolves({});
    await onEvent(cfnEvent('Delete', props, { physicalId: `${KEY_ARN}|g-1` }));
    expect(kms).toHaveReceivedCommandWith(RevokeGrantCommand, { KeyId: KEY_ARN, GrantId: 'g-1' });
  });

  test.each(['NotFoundException', 'KMSInvalidStateException', 'InvalidGrantIdException'])(
    'Delete succeeds when RevokeGrant answers %s (grant or key already gone)',
    async (name) => {
      kms.on(RevokeGrantCommand).rejects(Object.assign(new Error(name), { name }));
      await expect(onEvent(cfnEvent('Delete', props, { physicalId: `${KEY_ARN}|g-1` }))).resolves.toEqual({ PhysicalResourceId: `${KEY_ARN}|g-1` });
    },
  );

  test('Delete fails on other errors, so a grant is never silently left behind', async () => {
    kms.on(RevokeGrantCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(onEvent(cfnEvent('Delete', props, { physicalId: `${KEY_ARN}|g-1` }))).rejects.toThrow('denied');
  });

  test('Delete of a physical id that names no grant makes no call', async () => {
    await onEvent(cfnEvent('Delete', props, { physicalId: 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED' }));
    expect(kms.calls()).toHaveLength(0);
  });
});
