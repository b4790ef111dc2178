import * as handler from '../../../lambda/hsm-key/index';
import { cfnEvent } from '../../helpers/events';
import { buildLab, Lab } from '../cloudhsm/lab';
import { runEvent, useFakeWorld } from '../cloudhsm/provider';
import { DAY, MINUTE, World } from '../cloudhsm/world';

let world: World;

useFakeWorld((w, l) => {
  world = w;
});


const ALIAS = 'alias/kms-key-lab/hsm-key';
const POLICY = { Version: '2012-10-17', Statement: [{ Sid: 'Root', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: 'kms:*', Resource: '*' }] };

/** A CONNECTED key store on a lab cluster, made directly on the world. */
async function connectedStore(name = 'lab-store'): Promise<{ lab: Lab; storeId: string }> {
  const lab = await buildLab(world, 'two-hsms');
  const { CustomKeyStoreId } = world.createCustomKeyStore({
    CustomKeyStoreName: name,
    CloudHsmClusterId: lab.clusterId,
    TrustAnchorCertificate: lab.ca!.certificatePem,
    KeyStorePassword: world.user(lab.clusterId, 'kmsuser')[0].user.password,
  });
  world.connectCustomKeyStore({ CustomKeyStoreId });
  world.advance(world.latency.connect);
  expect(world.stores.get(CustomKeyStoreId)!.state).toBe('CONNECTED');
  return { lab, storeId: CustomKeyStoreId };
}

const props = (storeId: string, overrides: Record<string, unknown> = {}) => ({
  CustomKeyStoreId: storeId,
  AliasName: ALIAS,
  Description: 'KMS Key Lab: scenario (d), key in the CloudHSM key store',
  KeyPolicy: POLICY,
  PendingWindowDays: '7',
  Tags: { 'kms-key-lab:lab': 'kms-key-lab' },
  ...overrides,
});
const create = (storeId: string, overrides: Record<string, unknown> = {}) => cfnEvent('Create', props(storeId, overrides), { resourceType: 'Custom::CloudHsmKey' });
const run = (event: ReturnType<typeof cfnEvent>) => runEvent(world, handler, event);
const keys = () => [...world.keys.values()];

describe('Create', () => {
  test('creates a key with Origin AWS_CLOUDHSM in the store, under the key policy, named by the alias', async () => {
    const { lab, storeId } = await connectedStore();
    const outcome = await run(create(storeId));
    expect(outcome.status).toBe('SUCCESS');
    const [key] = keys();
    expect(outcome).toMatchObject({ physicalId: key.arn, data: { KeyId: key.keyId, KeyArn: key.arn } });
    expect(key).toMatchObject({ origin: 'AWS_CLOUDHSM', customKeyStoreId: storeId, cloudHsmClusterId: lab.clusterId, state: 'Enabled' });
    expect(JSON.parse(key.policy)).toEqual(POLICY);
    expect(key.tags).toEqual({ 'kms-key-lab:lab': 'kms-key-lab' });
    expect(world.aliases.get(ALIAS)).toBe(key.keyId);
  });

  test('a repeated Create takes the key behind the alias and makes no second one', async () => {
    const { storeId } = await connectedStore();
    const first = await run(create(storeId));
    const again = await run(create(storeId));
    expect(again).toMatchObject({ status: 'SUCCESS', physicalId: first.physicalId });
    expect(keys()).toHaveLength(1);
    expect(world.calls({ operation: 'CreateKey' })).toHaveLength(1);
  });

  test('a key that KMS does not find yet right after CreateKey is waited for before the alias is set', async () => {
    const { storeId } = await connectedStore();
    world.eventualConsistency.key = 3;
    const outcome = await run(create(storeId));
    expect(outcome.status).toBe('SUCCESS');
    expect(keys()).toHaveLength(1);
    expect(world.aliases.get(ALIAS)).toBe(keys()[0].keyId);
  });

  test('AccessDenied while the role propagates is waited out', async () => {
    const { storeId } = await connectedStore();
    world.failNext('*', 3, 'accessDenied');
    const outcome = await run(create(storeId));
    expect(outcome.status).toBe('SUCCESS');
    expect(keys()).toHaveLength(1);
  });

  test('a store that is not CONNECTED fails with what to do, and makes no key', async () => {
    const { storeId } = await connectedStore();
    world.disconnectCustomKeyStore({ CustomKeyStoreId: storeId });
    world.advance(world.latency.disconnect);
    const outcome = await run(create(storeId));
    expect(outcome.error!.message).toBe(
      'CreateKey failed (CustomKeyStoreInvalidStateException): the custom key store is not CONNECTED. What to do: connect it ' +
        '(`aws kms connect-custom-key-store`) or deploy again, which connects it.',
    );
    expect(keys()).toEqual([]);
  });

  test('a cluster left with one ACTIVE HSM fails with the two-HSM remedy', async () => {
    const { lab, storeId } = await connectedStore();
    world.deleteHsm({ ClusterId: lab.clusterId, HsmId: world.activeHsms(lab.clusterId)[1].hsmId });
    world.advance(world.latency.hsmDelete);
    const outcome = await run(create(storeId));
    expect(outcome.error!.message).toContain('CreateKey failed (CloudHsmClusterInvalidConfigurationException): the cluster does not have two ACTIVE HSMs');
    expect(keys()).toEqual([]);
  });

  test('a key policy KMS refuses fails with the policy remedy', async () => {
    const { storeId } = await connectedStore();
    const outcome = await run(create(storeId, { KeyPolicy: { Version: '2012-10-17' } }));
    expect(outcome.error!.message).toContain('CreateKey failed (MalformedPolicyDocumentException): KMS refused the key policy');
  });

  test('a key policy naming a role IAM created moments before is retried until KMS sees the role', async () => {
    const { storeId } = await connectedStore();
    const role = 'arn:aws:iam::111111111111:role/kms-key-lab-KeyAdmin';
    const policy = { Version: '2012-10-17', Statement: [...POLICY.Statement, { Sid: 'Admin', Effect: 'Allow', Principal: { AWS: role }, Action: 'kms:Describe*', Resource: '*' }] };
    world.principalCreated(role, 3);
    const outcome = await run(create(storeId, { KeyPolicy: policy }));
    expect(outcome.status).toBe('SUCCESS');
    expect(keys()).toHaveLength(1);
    expect(JSON.parse(keys()[0].policy)).toEqual(policy);
  });

  test('a principal KMS never sees fails with the policy remedy once the wait is spent, and leaves no key', async () => {
    const { storeId } = await connectedStore();
    const role = 'arn:aws:iam::111111111111:role/never-made';
    world.principalCreated(role, 1000);
    const policy = { Version: '2012-10-17', Statement: [...POLICY.Statement, { Sid: 'Admin', Effect: 'Allow', Principal: { AWS: role }, Action: 'kms:Describe*', Resource: '*' }] };
    const outcome = await run(create(storeId, { KeyPolicy: policy }));
    expect(outcome.error!.message).toContain('CreateKey failed (MalformedPolicyDocumentException): KMS refused the key policy');
    expect(keys()).toEqual([]);
  });

  test('an alias KMS refuses schedules the new key for deletion before the error is reported', async () => {
    const { storeId } = await connectedStore();
    const outcome = await run(create(storeId, { AliasName: 'alias/aws/not-allowed' }));
    expect(outcome.stage).toBe('onEvent');
    expect(outcome.error!.message).toContain('CreateAlias failed (InvalidAliasNameException)');
    const [key] = keys();
    expect(key.state).toBe('PendingDeletion');
    expect(key.deletionDate!.getTime()).toBe(world.now + 7 * DAY);
  });

  test('an alias still naming an earlier key that is pending deletion is moved to the new key', async () => {
    const { storeId } = await connectedStore();
    const old = world.createKey({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId }).KeyMetadata;
    world.createAlias({ AliasName: ALIAS, TargetKeyId: old.KeyId });
    world.scheduleKeyDeletion({ KeyId: old.KeyId, PendingWindowInDays: 7 });
    const outcome = await run(create(storeId));
    expect(outcome.status).toBe('SUCCESS');
    expect(world.aliases.get(ALIAS)).toBe(outcome.data.KeyId);
    expect(outcome.data.KeyId).not.toBe(old.KeyId);
    expect(world.calls({ operation: 'UpdateAlias' })).toHaveLength(1);
  });

  test('PendingWindowDays outside 7 to 30 is refused before any call', async () => {
    const { storeId } = await connectedStore();
    const outcome = await run(create(storeId, { PendingWindowDays: '3' }));
    expect(outcome.error!.message).toBe('Custom::CloudHsmKey: PendingWindowDays must be a whole number from 7 to 30.');
    expect(world.calls({ service: 'kms' })).toHaveLength(0);
  });
});

describe('Update', () => {
  test('a new policy, description and alias are applied to the same key', async () => {
    const { storeId } = await connectedStore();
    const created = await run(create(storeId));
    const policy = { ...POLICY, Statement: [...POLICY.Statement, { Sid: 'Use', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:role/App' }, Action: 'kms:Decrypt', Resource: '*' }] };
    const next = props(storeId, { KeyPolicy: policy, Description: 'new words', AliasName: 'alias/kms-key-lab/renamed' });
    const outcome = await run(cfnEvent('Update', next, { physicalId: created.physicalId, oldProperties: props(storeId), resourceType: 'Custom::CloudHsmKey' }));
    expect(outcome).toMatchObject({ status: 'SUCCESS', physicalId: created.physicalId });
    const [key] = keys();
    expect(JSON.parse(key.policy)).toEqual(policy);
    expect(key.description).toBe('new words');
    expect([...world.aliases.keys()]).toEqual(['alias/kms-key-lab/renamed']);
  });

  test('a new key store replaces the key: the new key takes the alias, and the Delete of the old one leaves it', async () => {
    const { storeId } = await connectedStore();
    const created = await run(create(storeId));
    const { storeId: otherStore } = await connectedStore('other-store');
    const outcome = await run(cfnEvent('Update', props(otherStore), { physicalId: created.physicalId, oldProperties: props(storeId), resourceType: 'Custom::CloudHsmKey' }));
    expect(outcome.physicalId).not.toBe(created.physicalId);
    expect(world.keys.get(outcome.data.KeyId)!.customKeyStoreId).toBe(otherStore);
    expect(world.aliases.get(ALIAS)).toBe(outcome.data.KeyId);
    // CloudFormation then deletes the old physical id.
    await run(cfnEvent('Delete', props(storeId), { physicalId: created.physicalId }));
    expect(world.aliases.get(ALIAS)).toBe(outcome.data.KeyId);
    expect(world.keys.get(created.data.KeyId)!.state).toBe('PendingDeletion');
  });
});

describe('Delete', () => {
  test('removes the alias and schedules the key for deletion with the pending window', async () => {
    const { storeId } = await connectedStore();
    const created = await run(create(storeId));
    const outcome = await run(cfnEvent('Delete', props(storeId, { PendingWindowDays: '30' }), { physicalId: created.physicalId }));
    expect(outcome.status).toBe('SUCCESS');
    const [key] = keys();
    expect(key.state).toBe('PendingDeletion');
    expect(key.deletionDate!.getTime()).toBe(world.now + 30 * DAY);
    expect(world.aliases.size).toBe(0);
  });

  test('succeeds when the key is already pending deletion, or already gone', async () => {
    const { storeId } = await connectedStore();
    const created = await run(create(storeId));
    const remove = cfnEvent('Delete', props(storeId), { physicalId: created.physicalId });
    await run(remove);
    expect((await run(remove)).status).toBe('SUCCESS');
    world.advance(7 * DAY + MINUTE);
    expect(world.keys.size).toBe(0);
    expect((await run(remove)).status).toBe('SUCCESS');
  });

  test('leaves an alias that a replacement key has taken over', async () => {
    const { storeId } = await connectedStore();
    const old = await run(create(storeId));
    const replacement = world.createKey({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId }).KeyMetadata;
    world.updateAlias({ AliasName: ALIAS, TargetKeyId: replacement.KeyId });
    await run(cfnEvent('Delete', props(storeId), { physicalId: old.physicalId }));
    expect(world.aliases.get(ALIAS)).toBe(replacement.KeyId);
    expect(world.keys.get(replacement.KeyId)!.state).toBe('Enabled');
  });
});
