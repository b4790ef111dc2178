import { ADMIN, synthLab, USER } from '../../helpers/lab';
import { LAB_WAITS, useFakeWorld } from './provider';
import { TemplateDeployer } from './template-deploy';
import { HOUR, MINUTE, World } from './world';

/**
 * The synthesized CloudHSM stack itself, deployed on the fake world with its
 * real handlers, in the order its dependencies impose, then destroyed.
 */
let world: World;
// A whole deploy: synth, a real CA and CSR, some hundred handler calls. Given room on a loaded machine.
jest.setTimeout(60_000);
let synthesized: never;
beforeAll(() => {
  synthesized = synthLab({ cloudHsm: true, keyAdminArns: [ADMIN], keyUserArns: [USER] }).cloudHsm!.toJSON() as never;
});

useFakeWorld((w, l) => {
  world = w;
});


const template = () => synthesized;

test('the synthesized stack deploys: a key in a connected key store on two ACTIVE HSMs in two zones, each wait within its hour', async () => {
  const deployer = new TemplateDeployer(world, template(), 'kms-key-lab-cloudhsm');
  const result = await deployer.deploy();
  expect(result.failure).toBeUndefined();
  expect(result.ok).toBe(true);

  const cluster = [...world.clusters.values()][0];
  expect(cluster.state).toBe('ACTIVE');
  expect(world.activeHsms(cluster.clusterId).map((h) => h.availabilityZone).sort()).toEqual(['ap-southeast-1a', 'ap-southeast-1b']);
  expect([...world.stores.values()].map((s) => s.state)).toEqual(['CONNECTED']);
  expect([...world.keys.values()]).toEqual([expect.objectContaining({ origin: 'AWS_CLOUDHSM', state: 'Enabled' })]);
  for (const row of result.rows) expect(row.end - row.start).toBeLessThanOrEqual(HOUR);
  // Cluster 5, first HSM 10, initialisation 5, activation, second HSM 10, connect 20: about 52 minutes.
  expect(result.endedAt - result.startedAt).toBeGreaterThan(50 * MINUTE);
  expect(result.endedAt - result.startedAt).toBeLessThan(60 * MINUTE);
  // The connect wait spends one call per 30-second poll.
  const store = result.rows.find((r) => r.type === 'Custom::KmsCustomKeyStore')!;
  expect(store.callsWhileWaiting).toBeLessThanOrEqual(store.polls + 1);
});

test('destroy leaves no HSM, a disconnected key store waiting for its key, and no billable secret', async () => {
  const deployer = new TemplateDeployer(world, template(), 'kms-key-lab-cloudhsm');
  expect((await deployer.deploy()).ok).toBe(true);
  const teardown = await deployer.destroy();
  expect(teardown.failure).toBeUndefined();
  const cluster = [...world.clusters.values()][0];
  expect(world.remainingHsms(cluster.clusterId)).toEqual([]);
  expect([...world.stores.values()]).toEqual([expect.objectContaining({ state: 'DISCONNECTED', enis: [] })]);
  expect([...world.stores.values()][0].name).toMatch(/^kms-key-lab-cloudhsm-cluster-[a-z0-9]+-delete-after-\d{4}-\d{2}-\d{2}$/);
  expect([...world.keys.values()].map((k) => k.state)).toEqual(['PendingDeletion']);
  expect(world.secrets.billable()).toEqual([]);
  expect(world.schedules.size).toBe(0);
});

test("the handler tests poll at the intervals the template's waiters use (LAB_WAITS cannot drift from lib/)", () => {
  const waits = new TemplateDeployer(world, template(), 'kms-key-lab-cloudhsm').waits();
  const asTest = (w: { queryIntervalMs: number; totalTimeoutMs: number }) => ({ intervalMs: w.queryIntervalMs, totalMs: w.totalTimeoutMs });
  expect(waits).toEqual({
    'Custom::CloudHsmHsm': asTest(LAB_WAITS['cloudhsm-hsm']),
    'Custom::CloudHsmInitialization': asTest(LAB_WAITS['cloudhsm-init']),
    'Custom::CloudHsmActivation': asTest(LAB_WAITS['cloudhsm-activate']),
    'Custom::KmsUserSetupCheck': asTest(LAB_WAITS['cloudhsm-check-automated']),
    'Custom::KmsCustomKeyStore': asTest(LAB_WAITS['custom-key-store']),
  });
  const manual = new TemplateDeployer(world, synthLab({ cloudHsm: true, kmsUserSetup: 'manual' }).cloudHsm!.toJSON() as never, 'x').waits();
  expect(manual['Custom::KmsUserSetupCheck']).toEqual(asTest(LAB_WAITS['cloudhsm-check-manual']));
});
