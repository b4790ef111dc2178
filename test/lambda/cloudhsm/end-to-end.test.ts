import * as activate from '../../../lambda/cloudhsm-activate/index';
import * as check from '../../../lambda/cloudhsm-check/index';
import * as hsm from '../../../lambda/cloudhsm-hsm/index';
import * as init from '../../../lambda/cloudhsm-init/index';
import * as store from '../../../lambda/custom-key-store/index';
import * as key from '../../../lambda/hsm-key/index';
import { cfnEvent } from '../../helpers/events';
import { ADMIN_SECRET, AZ_A, AZ_B, buildLab, CA_SECRET, expectNoSecretValueIn, IP_A, IP_B, KMSUSER_SECRET, ownedSecret } from './lab';
import { LAB_WAITS, LifecycleHandler, Outcome, outcomeText, runEvent, runTogether, useFakeWorld } from './provider';
import { HOUR, World } from './world';

/**
 * The whole CloudHSM scenario on one world, in the order the stack's
 * dependencies impose, then torn down in reverse: each handler's output is
 * the next one's input, as in a deploy.
 */
let world: World;
let logs: string[];

useFakeWorld((w, l) => {
  world = w;
  logs = l;
});


test('the lab deploys within CloudFormation limits, gets a key in its HSMs, and tears down leaving no HSM and no password anywhere', async () => {
  const lab = await buildLab(world, 'cluster');
  const outcomes: Outcome[] = [];
  const ok = (o: Outcome) => {
    outcomes.push(o);
    expect(o.error?.message ?? 'no error').toBe('no error');
    return o;
  };
  const resource = (handler: LifecycleHandler, type: string, logicalId: string, props: Record<string, unknown>) => ({
    handler,
    create: cfnEvent('Create', props, { resourceType: type, logicalId }),
    remove: (physicalId: string) => cfnEvent('Delete', props, { resourceType: type, logicalId, physicalId }),
  });
  const started = world.now;

  const hsmA = resource(hsm, 'Custom::CloudHsmHsm', 'HsmA', { ClusterId: lab.clusterId, AvailabilityZone: AZ_A, IpAddress: IP_A });
  const hsmB = resource(hsm, 'Custom::CloudHsmHsm', 'HsmB', { ClusterId: lab.clusterId, AvailabilityZone: AZ_B, IpAddress: IP_B });
  const initRes = resource(init, 'Custom::CloudHsmInitialization', 'Init', { ClusterId: lab.clusterId, CaCommonName: 'KMS Key Lab CA', ...ownedSecret('Ca', CA_SECRET) });
  const [hsmAOut, initOut] = (await runTogether(world, [
    { handler: hsm, event: hsmA.create, wait: LAB_WAITS['cloudhsm-hsm'] },
    { handler: init, event: initRes.create, wait: LAB_WAITS['cloudhsm-init'] },
  ])).map(ok);
  const trustAnchor = initOut.data.TrustAnchor;

  const common = { ClusterId: lab.clusterId, InstanceId: lab.host.instanceId, HsmIp: IP_A, TrustAnchor: trustAnchor };
  const activation = resource(activate, 'Custom::CloudHsmActivation', 'Activation', {
    ...common,
    ...ownedSecret('Admin', ADMIN_SECRET),
    ...ownedSecret('KmsUser', KMSUSER_SECRET),
    Mode: 'automated',
  });
  // The second HSM is refused until the cluster is activated: it runs alongside the activation.
  const [activationOut, hsmBOut] = (await runTogether(world, [
    { handler: activate, event: activation.create, wait: LAB_WAITS['cloudhsm-activate'] },
    { handler: hsm, event: hsmB.create, wait: LAB_WAITS['cloudhsm-hsm'] },
  ])).map(ok);

  const checkRes = resource(check, 'Custom::KmsUserSetupCheck', 'KmsUserCheck', {
    ...common,
    AdminSecretName: ADMIN_SECRET,
    KmsUserSecretName: KMSUSER_SECRET,
    Mode: 'automated',
  });
  const checkOut = ok(await runEvent(world, check, checkRes.create, LAB_WAITS['cloudhsm-check-automated']));
  const storeRes = resource(store, 'Custom::KmsCustomKeyStore', 'KeyStore', {
    Name: 'kms-key-lab-store',
    ClusterId: lab.clusterId,
    TrustAnchor: trustAnchor,
    KmsUserSecretName: KMSUSER_SECRET,
    KeyPendingWindowDays: '7',
  });
  const storeOut = ok(await runEvent(world, store, storeRes.create, LAB_WAITS['custom-key-store']));
  const keyRes = resource(key, 'Custom::CloudHsmKey', 'HsmKey', {
    CustomKeyStoreId: storeOut.data.CustomKeyStoreId,
    AliasName: 'alias/kms-key-lab/hsm',
    Description: 'KMS Key Lab (d)',
    KeyPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: 'kms:*', Resource: '*' }] },
    PendingWindowDays: '7',
  });
  const keyOut = ok(await runEvent(world, key, keyRes.create));

  expect(world.keys.get(keyOut.data.KeyId)).toMatchObject({ origin: 'AWS_CLOUDHSM', cloudHsmClusterId: lab.clusterId });
  expect(world.activeHsms(lab.clusterId).map((h) => h.availabilityZone)).toEqual([AZ_A, AZ_B]);
  // Each resource stays within CloudFormation's hour, and the whole deploy takes about an hour.
  for (const o of outcomes) expect(o.endedAt - o.startedAt).toBeLessThanOrEqual(HOUR);
  expect(world.now - started).toBeLessThan(1.5 * HOUR);

  // Teardown, in reverse dependency order.
  ok(await runEvent(world, key, keyRes.remove(keyOut.physicalId!)));
  ok(await runEvent(world, store, storeRes.remove(storeOut.physicalId!), LAB_WAITS['custom-key-store']));
  ok(await runEvent(world, check, checkRes.remove(checkOut.physicalId!), LAB_WAITS['cloudhsm-check-automated']));
  ok(await runEvent(world, activate, activation.remove(activationOut.physicalId!), LAB_WAITS['cloudhsm-activate']));
  await runTogether(world, [
    { handler: hsm, event: hsmA.remove(hsmAOut.physicalId!), wait: LAB_WAITS['cloudhsm-hsm'] },
    { handler: hsm, event: hsmB.remove(hsmBOut.physicalId!), wait: LAB_WAITS['cloudhsm-hsm'] },
  ]).then((os) => os.map(ok));
  ok(await runEvent(world, init, initRes.remove(initOut.physicalId!), LAB_WAITS['cloudhsm-init']));

  expect(world.remainingHsms(lab.clusterId)).toEqual([]);
  // The store waits, renamed, for its key's pending deletion; it is disconnected and holds no address.
  expect([...world.stores.values()]).toEqual([expect.objectContaining({ state: 'DISCONNECTED', enis: [] })]);
  expect(world.secrets.billable()).toEqual([]);
  expectNoSecretValueIn(world, [...world.commands.flatMap((c) => [c.text, c.stdout, c.stderr]), ...logs, outcomeText(...outcomes)]);
});
