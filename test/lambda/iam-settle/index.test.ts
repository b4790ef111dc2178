import { GetRoleCommand, IAMClient, IAMServiceException } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import * as handler from '../../../lambda/iam-settle/index';
import { ROLE_SETTLE_MS, rolesSettled } from '../../../lambda/iam-settle/settle';
import { cfnEvent } from '../../helpers/events';

const iam = mockClient(IAMClient);
const NAMES = ['kms-key-lab-KeyAdmin', 'kms-key-lab-KeyUser'];

beforeEach(() => {
  iam.reset();
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  handler.setSleepForTests(async () => undefined);
});
afterEach(() => {
  handler.setSleepForTests(undefined);
  jest.restoreAllMocks();
});

/** IAM as GetRole answers it: each role by name with its CreateDate, or NoSuchEntity (IAM API reference, GetRole, Errors). */
function rolesCreated(created: Record<string, Date | undefined>) {
  iam.on(GetRoleCommand).callsFake((i: { RoleName: string }) => {
    const at = created[i.RoleName];
    if (!at) throw new IAMServiceException({ name: 'NoSuchEntity', $fault: 'client', message: `The role with name ${i.RoleName} cannot be found.`, $metadata: { httpStatusCode: 404 } });
    return { Role: { RoleName: i.RoleName, Arn: `arn:aws:iam::111122223333:role/${i.RoleName}`, Path: '/', RoleId: 'AROA', CreateDate: at } };
  });
}

const isComplete = (type: 'Create' | 'Update' | 'Delete') =>
  handler.isComplete({ ...cfnEvent(type, { RoleNames: NAMES }, { resourceType: 'Custom::IamRolesSettled', physicalId: 'iam-settle:x' }), PhysicalResourceId: 'iam-settle:x' } as never);

describe('rolesSettled', () => {
  test('every role must be at least the settle time old', () => {
    const now = new Date('2025-06-01T00:10:00Z');
    const old = new Date(now.getTime() - ROLE_SETTLE_MS);
    const fresh = new Date(now.getTime() - ROLE_SETTLE_MS + 1);
    expect(rolesSettled([old, old], now)).toBe(true);
    expect(rolesSettled([old, fresh], now)).toBe(false);
    expect(rolesSettled([], now)).toBe(false);
  });
});

describe('iam-settle handler', () => {
  test('onEvent creates nothing: a repeated Create gives the same id', async () => {
    const event = cfnEvent('Create', { RoleNames: NAMES }, { resourceType: 'Custom::IamRolesSettled' });
    expect(await handler.onEvent(event)).toEqual(await handler.onEvent(event));
    expect(iam.calls()).toHaveLength(0);
  });

  test('is not complete while a role is moments old, or not yet visible to IAM', async () => {
    rolesCreated({ [NAMES[0]]: new Date(Date.now() - 5_000), [NAMES[1]]: new Date(Date.now() - 5 * 60_000) });
    expect(await isComplete('Create')).toEqual({ IsComplete: false });
    rolesCreated({ [NAMES[0]]: new Date(Date.now() - 5 * 60_000) });
    expect(await isComplete('Create')).toEqual({ IsComplete: false });
  });

  test('is complete once both roles are old enough; an Update of old roles at once', async () => {
    rolesCreated({ [NAMES[0]]: new Date(Date.now() - ROLE_SETTLE_MS - 1000), [NAMES[1]]: new Date(Date.now() - 3 * ROLE_SETTLE_MS) });
    expect(await isComplete('Create')).toEqual({ IsComplete: true });
    expect(await isComplete('Update')).toEqual({ IsComplete: true });
  });

  test('Delete is complete without asking IAM', async () => {
    expect(await isComplete('Delete')).toEqual({ IsComplete: true });
    expect(iam.calls()).toHaveLength(0);
  });
});
