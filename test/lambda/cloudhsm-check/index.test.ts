import * as handler from '../../../lambda/cloudhsm-check/index';
import { cfnEvent } from '../../helpers/events';
import { ADMIN_SECRET, AZ_B, buildLab, createKmsUser, expectNoSecretValueIn, IP_A, KMSUSER_SECRET, Lab, LabStage, testCa } from '../cloudhsm/lab';
import { LAB_WAITS, outcomeText, runEvent, useFakeWorld } from '../cloudhsm/provider';
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
  AdminSecretName: ADMIN_SECRET,
  KmsUserSecretName: KMSUSER_SECRET,
  Mode: 'automated',
  ...overrides,
});
const create = (lab: Lab, overrides: Record<string, unknown> = {}) =>
  cfnEvent('Create', props(lab, overrides), { resourceType: 'Custom::KmsUserSetupCheck', logicalId: 'KmsUserCheck' });
/** The wait lib/ gives the check in each mode. */
const waitFor = (event: ReturnType<typeof cfnEvent>) =>
  LAB_WAITS[(event.ResourceProperties as { Mode?: string }).Mode === 'manual' ? 'cloudhsm-check-manual' : 'cloudhsm-check-automated'];
const run = (event: ReturnType<typeof cfnEvent>) => runEvent(world, handler, event, waitFor(event));

async function labAt(stage: LabStage, options: { kmsUser?: boolean } = {}): Promise<Lab> {
  return buildLab(world, stage, options);
}

/** The automated check's error: the numbered problems, one per condition that does not hold. */
async function failure(lab: Lab, overrides: Record<string, unknown> = {}): Promise<string> {
  const outcome = await run(create(lab, overrides));
  expect(outcome.stage).toBe('isComplete');
  return outcome.error!.message;
}

const asAdmin = `sudo CLOUDHSM_ROLE=admin CLOUDHSM_PIN="admin:$(aws secretsmanager get-secret-value --secret-id '${ADMIN_SECRET}' --query SecretString --output text)" /opt/cloudhsm/bin/cloudhsm-cli`;
const createKmsUserCommand =
  `\`${asAdmin} user create --username kmsuser --role crypto-user --password ` +
  `"$(aws secretsmanager get-secret-value --secret-id '${KMSUSER_SECRET}' --query SecretString --output text)"\``;

describe('automated mode', () => {
  test('passes when the cluster is ready for a key store, after one user list on the host', async () => {
    const lab = await labAt('two-hsms');
    const outcome = await run(create(lab));
    expect(outcome.status).toBe('SUCCESS');
    expect(outcome.physicalId).toBe(`${lab.clusterId}/kmsuser-check`);
    expect(outcome.data).toEqual({ Checked: 'cluster-active,two-hsms-in-two-azs,free-addresses,kmsuser-everywhere,trust-anchor' });
    expect(world.commands).toHaveLength(1);
  });

  test('waits for the client host to come online in SSM', async () => {
    const lab = await labAt('two-hsms');
    const host = world.launchInstance();
    const outcome = await run(create(lab, { InstanceId: host.instanceId }));
    expect(outcome.status).toBe('SUCCESS');
    expect(world.calls({ operation: 'SendCommand' })[0].at - host.launchedAt).toBeGreaterThanOrEqual(3 * MINUTE);
  });

  test('fails fast: the first answer that finds a problem ends the deploy', async () => {
    const lab = await labAt('two-hsms', { kmsUser: false });
    const outcome = await run(create(lab));
    expect(outcome.stage).toBe('isComplete');
    expect(outcome.endedAt - outcome.startedAt).toBeLessThanOrEqual(MINUTE);
  });

  test('a cluster not ACTIVE: it says the cluster was not activated and gives the activate command', async () => {
    const lab = await labAt('initialized');
    const message = await failure(lab);
    expect(message).toContain(
      `[cluster-active] cluster ${lab.clusterId} is INITIALIZED, not ACTIVE: it has not been activated. On the client host ` +
        `(\`aws ssm start-session --target ${lab.host.instanceId}\`) run \`sudo /opt/cloudhsm/bin/cloudhsm-cli cluster activate --password ` +
        `"$(aws secretsmanager get-secret-value --secret-id '${ADMIN_SECRET}' --query SecretString --output text)"\`.`,
    );
  });

  test('fewer than two ACTIVE HSMs in two AZs: it counts them and names the zones', async () => {
    const lab = await labAt('kmsuser');
    const message = await failure(lab);
    expect(message).toBe(
      `The kmsuser setup check of cluster ${lab.clusterId} found 1 problem(s) before creating the key store: (1) [two-hsms-in-two-azs] the cluster has ` +
        '1 ACTIVE HSM(s) in 1 Availability Zone(s) (ap-southeast-1a); a key store needs at least 2 in 2 AZs. Wait for the HSMs being created, or deploy ' +
        'again to add the missing one. Deploy again once they hold.',
    );
  });

  test('a cluster subnet without a free address: it names the subnet', async () => {
    const lab = await labAt('two-hsms');
    lab.subnetB.freeAddresses = 0;
    const message = await failure(lab);
    expect(message).toContain('found 1 problem(s)');
    expect(message).toContain(`[free-addresses] cluster subnet(s) ${lab.subnetB.subnetId} (${AZ_B}) have no free IP address; KMS needs one`);
  });

  test('kmsuser missing: it predicts USER_NOT_FOUND and gives the user create command', async () => {
    const lab = await labAt('two-hsms', { kmsUser: false });
    const message = await failure(lab);
    expect(message).toContain('found 1 problem(s)');
    expect(message).toContain(`[kmsuser-everywhere] kmsuser does not exist: KMS would fail to connect with USER_NOT_FOUND.`);
    expect(message).toContain(createKmsUserCommand);
  });

  test('kmsuser on only some HSMs: it reports the partial coverage and how to recreate it', async () => {
    const lab = await labAt('two-hsms');
    world.activeHsms(lab.clusterId)[1].users.delete('kmsuser');
    const message = await failure(lab);
    expect(message).toContain('found 1 problem(s)');
    expect(message).toContain('[kmsuser-everywhere] kmsuser exists on only some HSMs (cluster-coverage: inconsistent): KMS would fail to connect with USER_NOT_FOUND');
    expect(message).toContain(`user delete --username kmsuser --role crypto-user`);
  });

  test('kmsuser locked out: it predicts USER_LOCKED_OUT and gives the change-password command', async () => {
    const lab = await labAt('two-hsms');
    for (const { user } of world.user(lab.clusterId, 'kmsuser')) user.locked = true;
    const message = await failure(lab);
    expect(message).toContain('found 1 problem(s)');
    expect(message).toContain('[kmsuser-everywhere] kmsuser is locked out after too many failed logins: KMS would fail with USER_LOCKED_OUT.');
    expect(message).toContain(`user change-password --username kmsuser --role crypto-user --password <new>\`, put the new password into secret ${KMSUSER_SECRET}`);
  });

  test('kmsuser with the wrong role: it says to delete it and create it as a crypto-user', async () => {
    const lab = await labAt('two-hsms', { kmsUser: false });
    createKmsUser(lab, 'admin');
    const message = await failure(lab);
    expect(message).toContain('found 1 problem(s)');
    expect(message).toContain(`[kmsuser-everywhere] kmsuser is a admin, not a crypto-user. On the client host`);
    expect(message).toContain('user delete --username kmsuser --role admin');
  });

  test('a trust anchor that did not sign the cluster certificate: it says to use the CA that initialised the cluster', async () => {
    const lab = await labAt('two-hsms');
    const other = await testCa('other');
    const message = await failure(lab, { TrustAnchor: other.certificatePem });
    expect(message).toContain(
      `[trust-anchor] the trust anchor did not sign cluster ${lab.clusterId}'s certificate, so KMS would not trust the cluster. ` +
        'Give the key store the CA certificate that initialised the cluster.',
    );
    // The host's CLI, given the same wrong CA file, cannot reach the HSMs either.
    expect(message).toContain('[kmsuser-everywhere] kmsuser could not be checked: logging in as admin failed.');
  });

  test('an admin login that fails: it says kmsuser could not be checked and how to test the admin password', async () => {
    const lab = await labAt('two-hsms');
    world.secrets.putSecretValue({ SecretId: ADMIN_SECRET, SecretString: 'NotTheAdminPassword1' });
    const message = await failure(lab);
    expect(message).toContain('found 1 problem(s)');
    expect(message).toContain(
      `[kmsuser-everywhere] kmsuser could not be checked: logging in as admin failed. On the client host (\`aws ssm start-session --target ` +
        `${lab.host.instanceId}\`), check that the admin password is the one in secret ${ADMIN_SECRET} (\`${asAdmin} user list\`).`,
    );
  });

  test('throttling and 5xx errors of SSM, CloudHSM and EC2 while waiting are ridden out', async () => {
    const lab = await labAt('two-hsms');
    const outcome = await runEvent(world, handler, create(lab), {
      ...LAB_WAITS['cloudhsm-check-automated'],
      afterOnEvent: () => {
        world.failNext('ListCommands', 1, 'throttle');
        world.failNext('DescribeClusters', 1, '5xx');
        world.failNext('DescribeSubnets', 1, 'throttle');
        world.failNext('DescribeSubnets', 1, '5xx');
      },
    });
    expect(outcome.status).toBe('SUCCESS');
    expect(world.commands).toHaveLength(1);
  });

  test('no password value appears in a command text, command output, log line, response or error', async () => {
    const lab = await labAt('two-hsms');
    const ok = await run(create(lab));
    world.activeHsms(lab.clusterId)[1].users.delete('kmsuser');
    const failed = await run({ ...create(lab), RequestId: 'request-2' });
    expect(failed.status).toBe('FAILED');
    expectNoSecretValueIn(world, [...world.commands.flatMap((c) => [c.text, c.stdout, c.stderr]), ...logs, outcomeText(ok, failed)]);
  });

  test('a Mode other than automated or manual is refused with what is accepted', async () => {
    const lab = await labAt('cluster');
    lab.ca = { certificatePem: 'x', privateKeyPem: 'x' };
    const outcome = await run(create(lab, { Mode: 'auto' }));
    expect(outcome.error!.message).toBe('Custom::KmsUserSetupCheck: Mode is "auto"; accepted: automated, manual.');
  });
});

describe('manual mode', () => {
  test('waits for the commands to be run by hand, reading the user list every 5 minutes, then fails naming what is missing', async () => {
    const lab = await labAt('two-hsms', { kmsUser: false });
    const outcome = await run(create(lab, { Mode: 'manual', ManualWaitMinutes: '20' }));
    expect(outcome.stage).toBe('isComplete');
    expect(outcome.endedAt - outcome.startedAt).toBeGreaterThanOrEqual(20 * MINUTE);
    expect(outcome.endedAt - outcome.startedAt).toBeLessThan(26 * MINUTE);
    expect(outcome.error!.message).toContain('[kmsuser-everywhere] kmsuser does not exist: KMS would fail to connect with USER_NOT_FOUND.');
    expect(world.commands.length).toBeGreaterThanOrEqual(4);
    expect(world.commands.length).toBeLessThanOrEqual(6);
    const waitingLines = logs.filter((l) => JSON.parse(l).message === 'waiting for the manual setup');
    expect(waitingLines.length).toBeGreaterThan(0);
    expect(JSON.parse(waitingLines[0]).missing).toEqual(['kmsuser-everywhere']);
  });

  test('before the cluster is activated it logs in to nothing, and names the activate command while it waits', async () => {
    const lab = await labAt('initialized');
    const outcome = await run(create(lab, { Mode: 'manual', ManualWaitMinutes: '10' }));
    expect(outcome.stage).toBe('isComplete');
    expect(outcome.error!.message).toContain('[cluster-active]');
    expect(outcome.error!.message).toContain('cluster activate --password');
    // Only the marker that starts the wait ran on the host: no user list, so no failed admin login.
    expect(world.commands.map((c) => c.text)).toEqual(['true']);
  });

  test('an admin login that fails ends the wait at once, so the admin is not locked out by repeated tries', async () => {
    const lab = await labAt('two-hsms');
    world.secrets.putSecretValue({ SecretId: ADMIN_SECRET, SecretString: 'not-the-admin-password' });
    const outcome = await run(create(lab, { Mode: 'manual' }));
    expect(outcome.stage).toBe('isComplete');
    expect(outcome.error!.message).toContain('logging in as admin failed');
    expect(outcome.endedAt - outcome.startedAt).toBeLessThan(5 * MINUTE);
    expect(world.commands.filter((c) => c.text.includes('user list'))).toHaveLength(1);
  });

  test('passes once a person has created kmsuser by hand', async () => {
    const lab = await labAt('two-hsms', { kmsUser: false });
    const outcome = await runEvent(world, handler, create(lab, { Mode: 'manual' }), {
      ...LAB_WAITS['cloudhsm-check-manual'],
      afterOnEvent: () => world.schedule(12 * MINUTE, () => createKmsUser(lab)),
    });
    expect(outcome.status).toBe('SUCCESS');
    expect(outcome.endedAt - outcome.startedAt).toBeGreaterThanOrEqual(12 * MINUTE);
    expect(outcome.endedAt - outcome.startedAt).toBeLessThan(20 * MINUTE);
  });
});

describe('Delete', () => {
  test('completes at once and calls nothing', async () => {
    const lab = await labAt('cluster');
    lab.ca = { certificatePem: 'x', privateKeyPem: 'x' };
    const outcome = await run(cfnEvent('Delete', props(lab), { physicalId: `${lab.clusterId}/kmsuser-check` }));
    expect(outcome).toMatchObject({ status: 'SUCCESS', polls: 1 });
    expect(world.journal).toHaveLength(0);
  });
});
