import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { RotateReport } from '../../cli/rotate/report';
import { VerifyReport } from '../../cli/verify/report';
import { FakeAws } from '../cli/fake-aws';
import '../cli/fake-key-material';
import { lifecycle } from '../cli/fake-lifecycle';
import { json, runCli, tempDir, useOperatorCredentials, writeCdkJson } from '../cli/harness';
import { CDK_JSON_CONTEXT, synthLab } from '../helpers/lab';
import { DAY, World } from '../lambda/cloudhsm/world';
import { CloudHsmLabDeployment } from './cloudhsm-lab-deploy';
import { assemblyStacks } from './cloud-assembly';

/**
 * The offline `cdk deploy --all -c cloudHsm=true -c deletionAlarm=true
 * -c deletionAlarmEmail=ops@example.com` of the synthesized lab, the CloudHSM
 * stack included, into FakeAws and the CloudHSM world together
 * (test/deploy/cloudhsm-lab-deploy.ts), then the CLI in-process on it:
 * verify (scenario (d) too), status, rotate, teardown.
 */
jest.setTimeout(120_000);
useOperatorCredentials();

const settings = { cloudHsm: true, deletionAlarm: true, deletionAlarmEmail: 'ops@example.com' };
let assembly: CloudAssembly;
let aws: FakeAws;
let world: World;
let deployment: CloudHsmLabDeployment;
let cwd: string;
beforeAll(() => {
  assembly = synthLab(settings).app.synth();
  cwd = tempDir();
  writeCdkJson(cwd, { ...CDK_JSON_CONTEXT, ...settings });
  aws = new FakeAws();
  world = new World();
  deployment = new CloudHsmLabDeployment(aws, world);
});
beforeEach(() => void deployment.install());

// The CLI's clock is the deploy's.
const cli = (argv: string[]) => runCli(argv, { cwd, now: new Date(world.now) });
const cloudHsmOutputs = () => aws.stacks.get('ap-southeast-1|kms-key-lab-cloudhsm')!.outputs;

test('cdk deploy --all: every stack of the assembly, the CloudHSM stack included, CREATE_COMPLETE', async () => {
  const deployed = await deployment.deployAll(assembly);
  expect(deployed.map((d) => [d.stack.stackName, d.result.failure])).toEqual(assemblyStacks(assembly).map((s) => [s.stackName, undefined]));
  expect(deployed.map((d) => d.stack.stackName)).toEqual(expect.arrayContaining(['kms-key-lab-cloudhsm', 'kms-key-lab-alarm-primary', 'kms-key-lab-alarm-secondary']));
  // The key is FakeAws's, in the world's key store, whose cluster has its HSMs.
  const out = cloudHsmOutputs();
  const key = aws.keys.get(out.CloudHsmKeyArn)!;
  expect({ origin: key.origin, store: key.customKeyStoreId, state: key.state }).toEqual({ origin: 'AWS_CLOUDHSM', store: out.CustomKeyStoreId, state: 'Enabled' });
  expect(world.stores.get(out.CustomKeyStoreId)?.state).toBe('CONNECTED');
  expect(world.activeHsms(out.ClusterId).length).toBeGreaterThanOrEqual(2);
  // The CloudHSM handlers' secrets are Secrets Manager's (FakeAws's), where the host's scripts read them.
  for (const name of [out.AdminPasswordSecretName, out.KmsUserPasswordSecretName]) expect({ name, exists: aws.secrets.has(name) }).toEqual({ name, exists: true });
  // What bills while the CloudHSM stack exists besides the HSMs, as EC2 lists it by the lab's tag.
  expect(new Set(lifecycle(aws).ec2.map((e) => e.kind))).toEqual(new Set(['nat-gateway', 'instance', 'elastic-ip']));
  expect(world.schedules.size).toBeGreaterThan(0);
});

test('kms-lab verify: every check passes, scenario (d) included', async () => {
  const run = await cli(['verify', '--json']);
  const report = json<VerifyReport>(run);
  expect(report.checks.filter((c) => c.result !== 'PASS')).toEqual([]);
  expect(report.checks.filter((c) => c.scenario === 'd').map((c) => [c.check, c.result])).toEqual([['encrypt-decrypt:primary', 'PASS']]);
  expect(run.code).toBe(0);
});

test('kms-lab status: every key of the lab, the CloudHSM key and its key store among them', async () => {
  const run = await cli(['status', '--json']);
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  const listed = JSON.stringify(json(run));
  for (const k of aws.keys.values()) expect(listed).toContain(k.arn);
  expect(listed).toContain(cloudHsmOutputs().CustomKeyStoreId);
});

test('kms-lab rotate --yes: every key that rotates; the CloudHSM key is not among those rotated', async () => {
  const run = await cli(['rotate', '--yes', '--json']);
  const report = json<RotateReport>(run);
  expect({ code: run.code, stderr: run.stderr, problems: report.problems }).toEqual({ code: 0, stderr: '', problems: [] });
  expect(report.keys.map((k) => [k.scenario, k.where, k.result ?? k.plan])).toEqual([
    ['a', 'primary', 'rotated'],
    ['a', 'secondary', 'rotated'],
    ['b', 'primary', 'rotated'],
    ['b', 'secondary', 'follows-primary'],
    ['c', 'primary', 'rotated'],
    // KMS does not rotate a key in a custom key store: https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html
    ['d', 'primary', 'cannot-rotate'],
    ['e', 'primary', 'rotated'],
    ['e', 'secondary', 'follows-primary'],
  ]);

  const verify = json<VerifyReport>(await cli(['verify', '--json']));
  expect(verify.checks.filter((c) => c.result === 'FAIL')).toEqual([]);
});

test('kms-lab key disable / enable on the CloudHSM key', async () => {
  const arn = cloudHsmOutputs().CloudHsmKeyArn;
  const disabled = await cli(['key', 'disable', 'cloudhsm', '--yes']);
  expect({ code: disabled.code, stderr: disabled.stderr, state: aws.keys.get(arn)!.state }).toEqual({ code: 0, stderr: '', state: 'Disabled' });
  const enabled = await cli(['key', 'enable', 'cloudhsm', '--yes']);
  expect({ code: enabled.code, stderr: enabled.stderr, state: aws.keys.get(arn)!.state }).toEqual({ code: 0, stderr: '', state: 'Enabled' });
});

test('kms-lab teardown --yes: the CloudHSM stack first, nothing billable left but the alarm stacks; then --with-alarms --with-roles deletes the rest', async () => {
  const out = cloudHsmOutputs();
  const run = await cli(['teardown', '--yes']);
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  expect(lifecycle(aws).deleteRequests[0]).toBe('kms-key-lab-cloudhsm');
  expect(deployment.deletions.map((d) => [d.stackName, d.result.failure])).toEqual(
    ['kms-key-lab-cloudhsm', 'kms-key-lab-secondary', 'kms-key-lab-primary'].map((name) => [name, undefined]),
  );
  // The key is pending deletion; its key store disconnected, kept while the key exists (KMS refuses to delete it).
  expect(aws.keys.get(out.CloudHsmKeyArn)?.state).toBe('PendingDeletion');
  expect(world.stores.get(out.CustomKeyStoreId)?.state).toBe('DISCONNECTED');
  // No HSM, no cluster, no NAT gateway, instance or Elastic IP: nothing of the CloudHSM stack bills.
  expect(world.remainingHsms(out.ClusterId)).toEqual([]);
  expect(world.clusters.get(out.ClusterId)?.state ?? 'DELETED').toMatch(/DELETE/);
  expect(lifecycle(aws).ec2).toEqual([]);
  // The lab's expiry schedule went with its stack (else it would later delete a lab deployed again).
  expect([...world.schedules.keys()]).toEqual([]);
  // Every secret, the CloudHSM handlers' included, is scheduled for deletion.
  expect([...aws.secrets.entries()].filter(([, s]) => !s.deletedDate).map(([name]) => name)).toEqual([]);
  expect([...aws.keys.values()].filter((k) => !['PendingDeletion', 'PendingReplicaDeletion'].includes(k.state)).map((k) => k.arn)).toEqual([]);
  expect(new Set([...deployment.records.values()].filter((r) => r.billable).map((r) => r.stackName))).toEqual(new Set(['kms-key-lab-alarm-primary', 'kms-key-lab-alarm-secondary']));

  const all = await cli(['teardown', '--yes', '--with-alarms', '--with-roles']);
  expect(all.code).toBe(0);
  expect([...aws.stacks.keys()]).toEqual([]);
  expect([...deployment.records.values()]).toEqual([]);

  // The key store waits, DISCONNECTED, under a name that says from when it may go. Once KMS has deleted its key at the
  // end of the key's window, the next teardown deletes the store, and nothing of the lab is left.
  const store = world.stores.get(out.CustomKeyStoreId)!;
  const deleteAfter = /-delete-after-(\d{4}-\d{2}-\d{2})$/.exec(store.name)?.[1];
  expect(Date.parse(`${deleteAfter}T00:00:00Z`)).toBeGreaterThan(aws.keys.get(out.CloudHsmKeyArn)!.deletionDate!.getTime());
  deployment.advance(Date.parse(`${deleteAfter}T00:00:00Z`) + DAY - world.now);
  expect(aws.keys.has(out.CloudHsmKeyArn)).toBe(false);
  const last = await cli(['teardown', '--yes']);
  expect({ code: last.code, stderr: last.stderr }).toEqual({ code: 0, stderr: '' });
  expect([...world.stores.keys()]).toEqual([]);
});

describe('Secrets Manager not finding a secret for its first calls after CreateSecret (eventual consistency)', () => {
  let late: CloudHsmLabDeployment;
  beforeAll(() => {
    const lateWorld = new World();
    lateWorld.eventualConsistency.secret = 2;
    late = new CloudHsmLabDeployment(new FakeAws(), lateWorld);
  });
  beforeEach(() => void late.install());

  test('every stack still deploys: the handlers wait for the secrets they made', async () => {
    const deployed = await late.deployAll(assembly);
    expect(deployed.map((d) => [d.stack.stackName, d.result.failure])).toEqual(assemblyStacks(assembly).map((s) => [s.stackName, undefined]));
    expect(late.notVisibleYet.length).toBeGreaterThan(0);
  });
});
