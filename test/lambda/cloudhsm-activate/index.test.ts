import * as handler from '../../../lambda/cloudhsm-activate/index';
import { MANAGED_BY_TAG } from '../../../lambda/shared/secret-lifecycle';
import { cfnEvent, STACK_ID } from '../../helpers/events';
import { ADMIN_SECRET, buildLab, expectNoSecretValueIn, IP_A, KMSUSER_SECRET, Lab, ownedSecret, SECRET_POLICY, SECRET_TAGS } from '../cloudhsm/lab';
import { LAB_WAITS, outcomeText, Outcome, runEvent, useFakeWorld } from '../cloudhsm/provider';
import { MINUTE, World } from '../cloudhsm/world';

let world: World;
let logs: string[];

useFakeWorld((w, l) => {
  world = w;
  logs = l;
});


const props = (lab: Lab, overrides: Record<string, unknown> = {}) => ({
  ClusterId: lab.clusterId,
  InstanceId: lab.host.instanceId,
  HsmIp: IP_A,
  TrustAnchor: lab.ca!.certificatePem,
  ...ownedSecret('Admin', ADMIN_SECRET),
  ...ownedSecret('KmsUser', KMSUSER_SECRET),
  Mode: 'automated',
  ...overrides,
});
const create = (lab: Lab, overrides: Record<string, unknown> = {}, requestId = 'request-1') => ({
  ...cfnEvent('Create', props(lab, overrides), { resourceType: 'Custom::CloudHsmActivation', logicalId: 'Activation' }),
  RequestId: requestId,
});
const remove = (lab: Lab) =>
  cfnEvent('Delete', props(lab), { physicalId: `${lab.clusterId}/activation`, resourceType: 'Custom::CloudHsmActivation', logicalId: 'Activation' });
const WAIT = LAB_WAITS['cloudhsm-activate'];
const run = (event: ReturnType<typeof cfnEvent>) => runEvent(world, handler, event, WAIT);
const secretValue = (name: string) => world.secrets.secrets.get(name)!.string!;

/** Every surface a password could leak to: SSM's record of each command, its output, the logs, and what CloudFormation sees. */
function surfaces(...outcomes: Outcome[]): string[] {
  return [...world.commands.flatMap((c) => [c.text, c.comment, c.stdout, c.stderr]), ...logs, outcomeText(...outcomes)];
}

describe('Create', () => {
  test('generates the admin and kmsuser passwords into secrets it owns: 32 letters and digits each', async () => {
    const lab = await buildLab(world, 'initialized');
    await handler.onEvent(create(lab));
    expect(world.calls({ operation: 'GetRandomPassword' })).toHaveLength(2);
    for (const name of [ADMIN_SECRET, KMSUSER_SECRET]) {
      const secret = world.secrets.secrets.get(name)!;
      expect(secret.string).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(JSON.parse(secret.policy!)).toEqual(SECRET_POLICY);
      expect(secret.tags).toEqual({ ...SECRET_TAGS, [MANAGED_BY_TAG]: `${STACK_ID}/Activation` });
    }
    expect(secretValue(ADMIN_SECRET)).not.toBe(secretValue(KMSUSER_SECRET));
  });

  test('activates the cluster and creates kmsuser as a crypto user through one SSM command, then completes', async () => {
    const lab = await buildLab(world, 'initialized');
    const outcome = await run(create(lab));
    expect(outcome.status).toBe('SUCCESS');
    expect(outcome.physicalId).toBe(`${lab.clusterId}/activation`);
    expect(outcome.data).toEqual({ KmsUser: 'kmsuser' });
    expect(lab.cluster.state).toBe('ACTIVE');
    const [admin] = world.user(lab.clusterId, 'admin');
    const [kmsUser] = world.user(lab.clusterId, 'kmsuser');
    expect(admin.user).toMatchObject({ role: 'admin', password: secretValue(ADMIN_SECRET) });
    expect(kmsUser.user).toMatchObject({ role: 'crypto-user', password: secretValue(KMSUSER_SECRET) });
    expect(world.commands).toHaveLength(1);
    expect(world.commands[0].comment).toMatch(/^kms-key-lab:activate:[0-9a-f]{12}$/);
    expect(world.commands[0].stdout).toContain('KMSLAB step=activate result=done');
    expect(world.commands[0].stdout).toContain('KMSLAB step=kmsuser result=created');
  });

  test('waits for the client host to come online in SSM before sending the script', async () => {
    const lab = await buildLab(world, 'initialized');
    const host = world.launchInstance();
    const outcome = await run(create(lab, { InstanceId: host.instanceId }));
    expect(outcome.status).toBe('SUCCESS');
    const sent = world.calls({ operation: 'SendCommand' });
    expect(sent).toHaveLength(1);
    expect(sent[0].at - host.launchedAt).toBeGreaterThanOrEqual(world.latency.agentOnline);
  });

  test('no password value appears in a command text, command output, log line, response or error', async () => {
    const lab = await buildLab(world, 'initialized');
    const ok = await run(create(lab));
    // A failing run too: its error quotes the host's stderr.
    world.faults.cliMissing = true;
    const failed = await run(create(lab, {}, 'request-2'));
    expect(failed.status).toBe('FAILED');
    expectNoSecretValueIn(world, surfaces(ok, failed));
    // Only the secrets' names travel: the host reads the values when the script runs.
    expect(world.commands[0].text).toContain(`--secret-id '${ADMIN_SECRET}'`);
    expect(world.commands[0].text).toContain(`--secret-id '${KMSUSER_SECRET}'`);
  });

  test('a repeated Create reuses the passwords, skips the activation and finds kmsuser present', async () => {
    const lab = await buildLab(world, 'initialized');
    await run(create(lab));
    const passwords = [secretValue(ADMIN_SECRET), secretValue(KMSUSER_SECRET)];
    const again = await run(create(lab, {}, 'request-2'));
    expect(again.status).toBe('SUCCESS');
    expect([secretValue(ADMIN_SECRET), secretValue(KMSUSER_SECRET)]).toEqual(passwords);
    expect(world.calls({ operation: 'CreateSecret' })).toHaveLength(2);
    expect(world.commands).toHaveLength(2);
    expect(world.commands[1].text).not.toContain('cluster activate');
    expect(world.commands[1].stdout).toContain('KMSLAB step=activate result=already-active');
    expect(world.commands[1].stdout).toContain('KMSLAB step=kmsuser result=present');
    expect(world.user(lab.clusterId, 'kmsuser')).toHaveLength(1);
  });

  test('a cluster that is not INITIALIZED yet fails with its state', async () => {
    const lab = await buildLab(world, 'first-hsm');
    lab.ca = { certificatePem: 'unused', privateKeyPem: 'unused' };
    const outcome = await run(create(lab));
    expect(outcome.stage).toBe('isComplete');
    expect(outcome.error!.message).toBe(`Cluster ${lab.clusterId} is UNINITIALIZED; it must be INITIALIZED before it can be activated.`);
    expect(world.commands).toHaveLength(0);
  });

  test('kmsuser reaching only some HSMs fails with the cluster-coverage remedy', async () => {
    const lab = await buildLab(world, 'two-hsms', { kmsUser: false });
    world.faults.kmsUserFirstHsmOnly = true;
    const outcome = await run(create(lab));
    expect(outcome.stage).toBe('isComplete');
    expect(outcome.error!.message).toContain('kmsuser exists on only some HSMs (cluster-coverage: inconsistent); KMS would fail to connect with USER_NOT_FOUND.');
    expect(outcome.error!.message).toContain('delete and create kmsuser again');
  });

  test('a script that fails on the host fails the deploy with its error and how to look at it', async () => {
    const lab = await buildLab(world, 'initialized');
    world.faults.cliMissing = true;
    const outcome = await run(create(lab));
    expect(outcome.error!.message).toBe(
      `The activation script failed on client host ${lab.host.instanceId} (Failed: KMSLAB error: the CloudHSM CLI is not installed on this host ` +
        '(see /var/log/cloud-init-output.log)). What to do: open a shell on it with ' +
        `\`aws ssm start-session --target ${lab.host.instanceId}\`, look at the command's output in the SSM console, fix the cause, then deploy again.`,
    );
  });

  test('an admin password that does not log in fails with that cause, not with a missing kmsuser', async () => {
    const lab = await buildLab(world, 'activated', { kmsUser: false });
    world.secrets.putSecretValue({ SecretId: ADMIN_SECRET, SecretString: 'NotTheAdminPassword1' });
    const outcome = await run(create(lab));
    expect(outcome.stage).toBe('isComplete');
    expect(outcome.error!.message).toContain(`could not log in to cluster ${lab.clusterId} as admin with the password in secret ${ADMIN_SECRET}`);
  });

  test('manual mode makes the passwords and completes without sending any command', async () => {
    const lab = await buildLab(world, 'initialized');
    const outcome = await run(create(lab, { Mode: 'manual' }));
    expect(outcome).toMatchObject({ status: 'SUCCESS', polls: 1, data: { KmsUser: 'set up by hand' } });
    expect(world.secrets.billable().sort()).toEqual([ADMIN_SECRET, KMSUSER_SECRET].sort());
    expect(world.commands).toHaveLength(0);
    expect(lab.cluster.state).toBe('INITIALIZED');
  });

  test('throttling and 5xx errors of SSM and CloudHSM while waiting are ridden out', async () => {
    const lab = await buildLab(world, 'initialized');
    const outcome = await runEvent(world, handler, create(lab), {
      ...WAIT,
      afterOnEvent: () => {
        world.failNext('ListCommands', 2, 'throttle');
        world.failNext('DescribeClusters', 1, '5xx');
        world.failNext('GetCommandInvocation', 1, '5xx');
      },
    });
    expect(outcome.status).toBe('SUCCESS');
    expect(world.commands).toHaveLength(1);
  });

  test('an invocation SSM does not know yet right after the command is waited for', async () => {
    const lab = await buildLab(world, 'initialized');
    world.eventualConsistency.command = 2;
    const outcome = await run(create(lab));
    expect(outcome.status).toBe('SUCCESS');
    expect(world.commands).toHaveLength(1);
  });

  test('a Create that fails after making the admin secret deletes it', async () => {
    const lab = await buildLab(world, 'initialized');
    world.failNext('CreateSecret', 1, '5xx', 1);
    const outcome = await run(create(lab));
    expect(outcome.stage).toBe('onEvent');
    expect(world.secrets.secrets.has(ADMIN_SECRET)).toBe(false);
    expect(world.secrets.billable()).toEqual([]);
  });
});

describe('Delete', () => {
  test('deletes both password secrets at once: they are useless once the cluster goes', async () => {
    const lab = await buildLab(world, 'initialized');
    await run(create(lab));
    const outcome = await run(remove(lab));
    expect(outcome.status).toBe('SUCCESS');
    for (const name of [ADMIN_SECRET, KMSUSER_SECRET]) expect(world.secrets.secrets.has(name)).toBe(false);
    expect(world.commands).toHaveLength(1);
  });

  test('succeeds when the secrets are already gone', async () => {
    const lab = await buildLab(world, 'initialized');
    const outcome = await run(remove(lab));
    expect(outcome.status).toBe('SUCCESS');
    expect(world.calls({ operation: 'DeleteSecret' })).toHaveLength(0);
  });

  test('succeeds when the secrets are already scheduled for deletion', async () => {
    const lab = await buildLab(world, 'initialized');
    await run(create(lab));
    await run(remove(lab));
    world.advance(MINUTE);
    const again = await run(remove(lab));
    expect(again.status).toBe('SUCCESS');
  });
});
