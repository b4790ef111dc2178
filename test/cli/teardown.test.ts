import { TeardownReport } from '../../cli/teardown/report';
import { FakeAws, PRIMARY, SECONDARY, serviceError } from './fake-aws';
import { lifecycle } from './fake-lifecycle';
import { json, runCli, tempDir, useOperatorCredentials, writeCdkJson } from './harness';

useOperatorCredentials();

const STORE = 'cks-1234567890abcdef0';
const LATER = new Date('2025-06-20T00:00:00Z');

const teardown = async (args: string[] = [], options: Parameters<typeof runCli>[1] = {}) => {
  const run = await runCli(['teardown', '--yes', '--json', ...args], options);
  return { run, report: json<TeardownReport>(run) };
};
const calls = (aws: FakeAws, name: string) => aws.log.filter((l) => l.split(' ')[1] === name);

describe('kms-lab teardown', () => {
  test('deletes the cloudhsm stack, then the secondary, then the primary, then the roles stack, each waited for', async () => {
    const aws = FakeAws.lab({ cloudHsm: true, labRoles: false }).install();
    // A roles stack as its deploy left it: the lab's stack tags, as on the other stacks of the fixture.
    aws.stacks.set(`${PRIMARY}|kms-key-lab-roles`, { status: 'CREATE_COMPLETE', outputs: {}, tags: aws.stacks.get(`${PRIMARY}|kms-key-lab-primary`)!.tags });
    const sleeps: number[] = [];
    const run = await runCli(['teardown', '--yes'], { io: { sleep: async (ms) => void sleeps.push(ms) } });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(lifecycle(aws).deleteRequests).toEqual(['kms-key-lab-cloudhsm', 'kms-key-lab-secondary', 'kms-key-lab-primary', 'kms-key-lab-roles']);
    expect(aws.stacks.size).toBe(0);
    // Each stack: asked for, then one line per event as CloudFormation reports it.
    const cloudhsm = run.stdout.indexOf('kms-key-lab-cloudhsm (ap-southeast-1): CREATE_COMPLETE, deletion requested');
    const secondary = run.stdout.indexOf('kms-key-lab-secondary (ap-southeast-2): CREATE_COMPLETE, deletion requested');
    const primary = run.stdout.indexOf('kms-key-lab-primary (ap-southeast-1): CREATE_COMPLETE, deletion requested');
    const roles = run.stdout.indexOf('kms-key-lab-roles (ap-southeast-1): CREATE_COMPLETE, deletion requested');
    expect(cloudhsm).toBeGreaterThanOrEqual(0);
    expect(secondary).toBeGreaterThan(cloudhsm);
    expect(primary).toBeGreaterThan(secondary);
    expect(roles).toBeGreaterThan(primary);
    expect(run.stdout).toMatch(/^ {2}\d\d:\d\d:\d\d {2}DELETE_IN_PROGRESS {2}kms-key-lab-secondary: User Initiated$/m);
    expect(run.stdout).toMatch(/^ {2}\d\d:\d\d:\d\d {2}DELETE_COMPLETE {5}SingleRegionKey \(AWS::KMS::Key\)$/m);
    expect(run.stdout).toMatch(/^ {2}\d\d:\d\d:\d\d {2}DELETE_COMPLETE {5}kms-key-lab-primary$/m);
    expect(run.stdout).toContain('Nothing billable is left: keys and secrets pending deletion and a custom key store are not billed, and no HSM, NAT gateway, instance or Elastic IP of the lab is left.');
    // Two polls a stack, at the interval.
    expect(sleeps).toEqual(Array(8).fill(10_000));
  });

  test('--json reports what was deleted and what is left, and when it goes; progress goes to stderr', async () => {
    const aws = FakeAws.lab({ cloudHsm: true }).install();
    const { ImportedMaterialEscrowSecretName: escrow, MultiRegionImportedEscrowSecretName: eEscrow } = aws.stacks.get(`${PRIMARY}|kms-key-lab-primary`)!.outputs;
    const cKey = aws.key('ImportedMaterial');
    const eReplica = aws.key('MultiRegionImported', 'secondary');
    const { run, report } = await teardown();
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('deletion requested');
    expect(report).toMatchObject({ schemaVersion: 1, prefix: 'kms-key-lab', complete: true, billableLeft: 0, uncheckedKeys: 0, problems: [] });
    expect(report.stacks.map((s) => [s.name, s.before, s.result, s.after])).toEqual([
      ['kms-key-lab-cloudhsm', 'CREATE_COMPLETE', 'deleted', 'DELETE_COMPLETE'],
      ['kms-key-lab-secondary', 'CREATE_COMPLETE', 'deleted', 'DELETE_COMPLETE'],
      ['kms-key-lab-primary', 'CREATE_COMPLETE', 'deleted', 'DELETE_COMPLETE'],
      // Kept: its key administrator role can restore the escrows, now scheduled for deletion.
      ['kms-key-lab-roles', 'CREATE_COMPLETE', 'kept', undefined],
      // Opt-in, and off in this lab.
      ['kms-key-lab-alarm-secondary', 'NOT_DEPLOYED', 'not-deployed', undefined],
      ['kms-key-lab-alarm-primary', 'NOT_DEPLOYED', 'not-deployed', undefined],
    ]);
    expect(report.deleted.map((d) => `${d.kind} ${d.id}`)).toEqual(['stack kms-key-lab-cloudhsm', 'stack kms-key-lab-secondary', 'stack kms-key-lab-primary']);
    const left = report.left!;
    // (a) and (b) in both Regions, (c), (d), and (e)'s primary and replica.
    expect(left.filter((l) => l.kind === 'key')).toHaveLength(8);
    expect(left.find((l) => l.id === cKey.arn)).toMatchObject({ label: '(c) primary', state: 'PendingDeletion', billable: false, date: '2025-06-08T06:00:00.000Z' });
    expect(left.find((l) => l.id === eReplica.arn)).toMatchObject({ label: '(e) replica', state: 'PendingDeletion', billable: false, date: '2025-06-08T06:00:00.000Z' });
    const waitingForReplicas = left.filter((l) => l.state === 'PendingReplicaDeletion');
    expect(waitingForReplicas.map((l) => l.label).sort()).toEqual(['(b) primary', '(e) primary']);
    expect(waitingForReplicas.every((l) => l.billable === false)).toBe(true);
    expect(left.filter((l) => l.kind === 'secret').map((l) => [l.id, l.state, l.billable]).sort()).toEqual(
      [
        [escrow, 'PendingDeletion', false],
        [eEscrow, 'PendingDeletion', false],
      ].sort(),
    );
    expect(left.find((l) => l.kind === 'key-store')).toMatchObject({
      id: STORE,
      label: 'kms-key-lab-cloudhsm-cluster-abcdefghijk-delete-after-2025-06-09',
      state: 'DISCONNECTED',
      billable: false,
      date: '2025-06-09',
    });
    expect(report.apiCalls).toBe(aws.log.length);
  });

  test('a stack that ends DELETE_FAILED stops the teardown with its reasons (exit 1); the primary is not touched', async () => {
    const aws = FakeAws.lab().install();
    lifecycle(aws).plans.set('kms-key-lab-secondary', {
      failures: [{ logicalId: 'MultiRegionReplicaKey', type: 'AWS::KMS::ReplicaKey', reason: 'Resource handler returned message: "Access denied for operation ScheduleKeyDeletion"' }],
    });
    const { run, report } = await teardown();
    expect(run.code).toBe(1);
    expect(lifecycle(aws).deleteRequests).toEqual(['kms-key-lab-secondary']);
    expect(aws.stacks.get(`${PRIMARY}|kms-key-lab-primary`)?.status).toBe('CREATE_COMPLETE');
    expect(report.complete).toBe(false);
    expect(report.left).toBeUndefined();
    expect(report.stacks.map((s) => [s.name, s.result])).toEqual([
      ['kms-key-lab-cloudhsm', 'not-deployed'],
      ['kms-key-lab-secondary', 'failed'],
      ['kms-key-lab-primary', 'not-started'],
      ['kms-key-lab-roles', 'not-started'],
      ['kms-key-lab-alarm-secondary', 'not-deployed'],
      ['kms-key-lab-alarm-primary', 'not-deployed'],
    ]);
    expect(report.stacks[1].failures).toEqual([
      { logicalId: 'MultiRegionReplicaKey', type: 'AWS::KMS::ReplicaKey', reason: 'Resource handler returned message: "Access denied for operation ScheduleKeyDeletion"' },
    ]);
    const paragraph = run.stderr.split('\n').find((l) => l.startsWith('The stack'))!;
    expect(paragraph).toContain('The stack kms-key-lab-secondary (ap-southeast-2) ended DELETE_FAILED: MultiRegionReplicaKey (AWS::KMS::ReplicaKey) failed to delete: Resource handler returned message');
    expect(paragraph).toContain('The teardown stopped there: kms-key-lab-primary and kms-key-lab-roles were not deleted.');
    expect(paragraph).toContain('--retain-resources MultiRegionReplicaKey');

    // Fixed, a second run deletes the failed stack again and goes on.
    lifecycle(aws).plans.delete('kms-key-lab-secondary');
    const again = await teardown();
    expect(again.run.code).toBe(0);
    expect(again.report.stacks.map((s) => [s.name, s.before, s.result])).toEqual([
      ['kms-key-lab-cloudhsm', 'NOT_DEPLOYED', 'not-deployed'],
      ['kms-key-lab-secondary', 'DELETE_FAILED', 'deleted'],
      ['kms-key-lab-primary', 'CREATE_COMPLETE', 'deleted'],
      ['kms-key-lab-roles', 'CREATE_COMPLETE', 'kept'],
      ['kms-key-lab-alarm-secondary', 'NOT_DEPLOYED', 'not-deployed'],
      ['kms-key-lab-alarm-primary', 'NOT_DEPLOYED', 'not-deployed'],
    ]);
  });

  test('run again after the window, it deletes the key store whose keys are gone, and not before', async () => {
    const aws = FakeAws.lab({ cloudHsm: true }).install();
    await teardown();
    const dKey = [...aws.keys.values()].find((k) => k.customKeyStoreId === STORE)!;

    // The date has passed, but the key is still pending deletion: the store waits.
    const early = await teardown([], { now: LATER });
    expect(early.run.code).toBe(0);
    expect(early.report.deleted).toEqual([]);
    expect(early.report.left!.find((l) => l.kind === 'key-store')!.when).toContain('waits for its 1 key');
    expect(calls(aws, 'DeleteCustomKeyStore')).toEqual([]);

    // KMS has deleted the key: the store goes. Secrets Manager has deleted the escrows: the roles stack goes.
    aws.keys.delete(dKey.arn);
    for (const [name, s] of [...aws.secrets]) if (s.deletedDate) aws.secrets.delete(name);
    const { run, report } = await teardown([], { now: LATER });
    expect(run.code).toBe(0);
    expect(report.deleted).toEqual([
      { kind: 'stack', id: 'kms-key-lab-roles', region: PRIMARY },
      { kind: 'key-store', id: STORE, label: 'kms-key-lab-cloudhsm-cluster-abcdefghijk-delete-after-2025-06-09', region: PRIMARY },
    ]);
    expect(aws.keyStores.has(STORE)).toBe(false);
    expect(report.left!.some((l) => l.kind === 'key-store')).toBe(false);
    expect(lifecycle(aws).deleteRequests).toHaveLength(4);
  });

  test('a store whose keys are gone but whose date has not passed is left for later', async () => {
    const aws = FakeAws.lab({ cloudHsm: true }).install();
    await teardown();
    for (const k of [...aws.keys.values()]) if (k.customKeyStoreId) aws.keys.delete(k.arn);
    const { report } = await teardown([], { now: new Date('2025-06-09T12:00:00Z') });
    expect(report.deleted).toEqual([]);
    expect(report.left!.find((l) => l.kind === 'key-store')!.when).toBe('may go after 2025-06-09: run `kms-lab teardown` again then, and it deletes it');
  });

  test('a key store left connected after its stack is gone is disconnected, then deleted when due', async () => {
    const aws = FakeAws.lab().install();
    aws.keyStores.set(STORE, { state: 'CONNECTED' });
    lifecycle(aws).storeNames.set(STORE, 'kms-key-lab-cloudhsm-cluster-abcdefghijk-delete-after-2025-06-09');
    const { run, report } = await teardown([], { now: LATER });
    expect(run.code).toBe(0);
    expect(calls(aws, 'DisconnectCustomKeyStore')).toHaveLength(1);
    // The secondary and primary stacks; the roles stack is kept for the escrows.
    expect(report.deleted.map((d) => d.kind)).toEqual(['stack', 'stack', 'key-store']);
  });

  test('exit 1 when something billable is left: a live secret and a live key of the lab', async () => {
    const aws = FakeAws.lab().install();
    aws.secrets.set('kms-key-lab/forgotten', {});
    const stray = aws.addKey(SECONDARY, { state: 'Disabled' });
    // A key of another lab and one of no lab are none of this teardown's business.
    lifecycle(aws).keyTags.set(aws.addKey(PRIMARY).arn, { 'kms-key-lab:lab': 'other-lab' });
    lifecycle(aws).keyTags.set(aws.addKey(PRIMARY).arn, {});
    const { run, report } = await teardown();
    expect(run.code).toBe(1);
    expect(report.complete).toBe(false);
    expect(report.billableLeft).toBe(2);
    expect(report.left!.filter((l) => l.billable).map((l) => [l.kind, l.id, l.state])).toEqual([
      ['key', stray.arn, 'Disabled'],
      ['secret', 'kms-key-lab/forgotten', 'Active'],
    ]);
    // The lab's seven, pending deletion, and the stray one.
    expect(report.left!.filter((l) => l.kind === 'key')).toHaveLength(8);
    const paragraphs = run.stderr.split('\n').filter((l) => l.startsWith('Still billed'));
    expect(paragraphs).toEqual([
      expect.stringContaining(`aws kms schedule-key-deletion --key-id ${stray.arn} --pending-window-in-days 7 --region ${SECONDARY}`),
      expect.stringContaining('aws secretsmanager delete-secret --secret-id kms-key-lab/forgotten'),
    ]);
    const text = await runCli(['teardown', '--yes']);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('2 billable things are left: see below.');
  });

  test('a lab without its roles stack (deleted, or from a version of the app without one): its row says not-deployed, and the teardown is complete', async () => {
    const aws = FakeAws.lab({ labRoles: false }).install();
    aws.stacks.delete(`${aws.primary}|kms-key-lab-roles`);
    const { run, report } = await teardown();
    expect(run.code).toBe(0);
    expect(report.complete).toBe(true);
    expect(lifecycle(aws).deleteRequests).toEqual(['kms-key-lab-secondary', 'kms-key-lab-primary']);
    expect(report.stacks.map((s) => [s.name, s.result])).toEqual([
      ['kms-key-lab-cloudhsm', 'not-deployed'],
      ['kms-key-lab-secondary', 'deleted'],
      ['kms-key-lab-primary', 'deleted'],
      ['kms-key-lab-roles', 'not-deployed'],
      ['kms-key-lab-alarm-secondary', 'not-deployed'],
      ['kms-key-lab-alarm-primary', 'not-deployed'],
    ]);
  });

  test('a CloudHSM cluster retained after its stack is gone still bills for its HSMs: exit 1, naming them', async () => {
    const aws = FakeAws.lab({ cloudHsm: true }).install();
    lifecycle(aws).retainedClusters.add('cluster-abcdefghijk');
    // A cluster of another lab is none of this teardown's business.
    aws.clusters.set('cluster-otherlab', { created: new Date(), hsms: 1, state: 'ACTIVE', tags: { 'kms-key-lab:lab': 'other-lab' } });
    const { run, report } = await teardown();
    expect(run.code).toBe(1);
    // All four stacks of a default lab with (d), the roles stack last (kept for the escrows); then the opt-in alarm stacks, not deployed here.
    expect(report.stacks.map((s) => [s.name, s.result])).toEqual([
      ['kms-key-lab-cloudhsm', 'deleted'],
      ['kms-key-lab-secondary', 'deleted'],
      ['kms-key-lab-primary', 'deleted'],
      ['kms-key-lab-roles', 'kept'],
      ['kms-key-lab-alarm-secondary', 'not-deployed'],
      ['kms-key-lab-alarm-primary', 'not-deployed'],
    ]);
    expect(report.billableLeft).toBe(1);
    expect(report.left!.filter((l) => l.kind === 'hsm-cluster')).toEqual([
      { kind: 'hsm-cluster', id: 'cluster-abcdefghijk', label: 'HSMs hsm-0, hsm-1', region: PRIMARY, state: 'ACTIVE', billable: true, when: 'its 2 HSMs bill by the hour until deleted' },
    ]);
    const paragraphs = run.stderr.split('\n').filter((l) => l.startsWith('Still billed'));
    expect(paragraphs).toEqual([expect.stringContaining('the CloudHSM cluster cluster-abcdefghijk (ap-southeast-1) outlived the lab\'s stacks with 2 HSMs (hsm-0, hsm-1)')]);
    expect(calls(aws, 'DescribeClusters')).toEqual([`operator DescribeClusters ${PRIMARY}`]);
  });

  test('NAT gateways, instances and Elastic IPs tagged as the lab\'s are billable leftovers; others are not looked at', async () => {
    const aws = FakeAws.lab().install();
    const lab = { 'kms-key-lab:lab': 'kms-key-lab' };
    lifecycle(aws).ec2.push(
      { kind: 'nat-gateway', id: 'nat-0123', state: 'available', tags: lab },
      { kind: 'nat-gateway', id: 'nat-gone', state: 'deleted', tags: lab },
      { kind: 'instance', id: 'i-0123', state: 'stopped', tags: lab },
      { kind: 'elastic-ip', id: 'eipalloc-0123', state: 'allocated', tags: lab, publicIp: '203.0.113.7' },
      { kind: 'instance', id: 'i-other', state: 'running', tags: { 'kms-key-lab:lab': 'other-lab' } },
    );
    const { run, report } = await teardown();
    expect(run.code).toBe(1);
    expect(report.left!.filter((l) => l.billable).map((l) => [l.kind, l.id, l.state])).toEqual([
      ['nat-gateway', 'nat-0123', 'available'],
      ['instance', 'i-0123', 'stopped'],
      ['elastic-ip', 'eipalloc-0123', 'allocated'],
    ]);
    const paragraphs = run.stderr.split('\n').filter((l) => l.startsWith('Still billed'));
    expect(paragraphs).toEqual([
      expect.stringContaining('aws ec2 delete-nat-gateway --nat-gateway-id nat-0123 --region ap-southeast-1'),
      expect.stringContaining('aws ec2 terminate-instances --instance-ids i-0123 --region ap-southeast-1'),
      expect.stringContaining('aws ec2 release-address --allocation-id eipalloc-0123 --region ap-southeast-1'),
    ]);
  });

  test('a key store still connected when its stack is gone is reported but not billed', async () => {
    const aws = FakeAws.lab().install();
    aws.keyStores.set(STORE, { state: 'CONNECTED' });
    lifecycle(aws).storeNames.set(STORE, 'kms-key-lab-cloudhsm-cluster-abcdefghijk-delete-after-2025-06-09');
    // The disconnect does not take: the store stays CONNECTED.
    aws.failures.set('DisconnectCustomKeyStore', () => serviceError('CustomKeyStoreInvalidStateException', 'busy'));
    const { report } = await teardown();
    const store = report.left!.find((l) => l.kind === 'key-store')!;
    expect(store).toMatchObject({ id: STORE, state: 'CONNECTED', billable: false });
    expect(report.billableLeft).toBe(0);
  });

  test('nothing deployed and nothing left: exit 0, and no DeleteStack', async () => {
    const aws = new FakeAws().install();
    const { run, report } = await teardown();
    expect(run.code).toBe(0);
    expect(report.left).toEqual([]);
    expect(report.stacks.every((s) => s.result === 'not-deployed')).toBe(true);
    expect(calls(aws, 'DeleteStack')).toEqual([]);
  });

  test('a stack with the lab\'s name but not its tag is left alone, with one paragraph, and nothing after it is deleted', async () => {
    const aws = FakeAws.lab().install();
    aws.stacks.get(`${PRIMARY}|kms-key-lab-primary`)!.tags = {};
    const { run, report } = await teardown();
    expect(run.code).toBe(1);
    expect(report.stacks.map((s) => [s.name, s.result])).toEqual([
      ['kms-key-lab-cloudhsm', 'not-deployed'],
      ['kms-key-lab-secondary', 'deleted'],
      ['kms-key-lab-primary', 'not-lab'],
      ['kms-key-lab-roles', 'not-started'],
      ['kms-key-lab-alarm-secondary', 'not-deployed'],
      ['kms-key-lab-alarm-primary', 'not-deployed'],
    ]);
    expect(lifecycle(aws).deleteRequests).toEqual(['kms-key-lab-secondary']);
    expect(aws.stacks.get(`${PRIMARY}|kms-key-lab-primary`)?.status).toBe('CREATE_COMPLETE');
    const paragraphs = run.stderr.split('\n').filter((l) => l.startsWith('The stack'));
    expect(paragraphs).toEqual([
      expect.stringContaining('The stack kms-key-lab-primary (ap-southeast-1) is not this lab\'s: the lab tags every stack kms-key-lab:lab=kms-key-lab, but it has no tag kms-key-lab:lab, so it was not deleted.'),
    ]);
    expect(paragraphs[0]).toContain('What to do:');
  });

  test('a stack tagged for another lab stops the teardown before anything is deleted, and is not in the question', async () => {
    const aws = FakeAws.lab().install();
    aws.stacks.get(`${SECONDARY}|kms-key-lab-secondary`)!.tags = { 'kms-key-lab:lab': 'other-lab' };
    const questions: string[] = [];
    const run = await runCli(['teardown', '--json'], { io: { confirm: async (q) => (questions.push(q), true) } });
    expect(run.code).toBe(1);
    expect(questions).toEqual([]);
    expect(calls(aws, 'DeleteStack')).toEqual([]);
    expect(json<TeardownReport>(run).stacks.map((s) => s.result)).toEqual(['not-deployed', 'not-lab', 'not-started', 'not-started', 'not-deployed', 'not-deployed']);
    expect(run.stderr).toContain(
      'its tag kms-key-lab:lab is "other-lab", so it was not deleted. The teardown stopped there: kms-key-lab-primary and kms-key-lab-roles were not deleted.',
    );
  });

  test('no lab stack under the prefix: exit 0, saying so with the account and Regions', async () => {
    new FakeAws().install();
    const run = await runCli(['teardown', '--yes', '--prefix', 'kms-kye-lab']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'No lab found under prefix "kms-kye-lab" in account 111122223333, Regions ap-southeast-1 and ap-southeast-2: CloudFormation has no stack kms-kye-lab-cloudhsm, kms-kye-lab-secondary, kms-kye-lab-primary, kms-kye-lab-roles, kms-kye-lab-alarm-secondary or kms-kye-lab-alarm-primary, so there are no stacks to delete.',
    );
  });

  test('a deployed lab does not say "no lab found"', async () => {
    FakeAws.lab().install();
    const run = await runCli(['teardown', '--yes']);
    expect(run.stdout).not.toContain('No lab found');
  });

  test('a stack already being deleted (the expiry fired) is only waited for', async () => {
    const aws = FakeAws.lab({ cloudHsm: true }).install();
    lifecycle(aws).startDeletion(PRIMARY, 'kms-key-lab-cloudhsm');
    const run = await runCli(['teardown', '--yes']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('kms-key-lab-cloudhsm (ap-southeast-1): already DELETE_IN_PROGRESS, waiting');
    expect(lifecycle(aws).deleteRequests).toEqual(['kms-key-lab-secondary', 'kms-key-lab-primary']);
  });

  test('a stack that another operation holds stops the teardown before anything of it is deleted', async () => {
    const aws = FakeAws.lab().install();
    aws.stacks.get(`${SECONDARY}|kms-key-lab-secondary`)!.status = 'UPDATE_IN_PROGRESS';
    const { run, report } = await teardown();
    expect(run.code).toBe(1);
    expect(report.stacks.map((s) => s.result)).toEqual(['not-deployed', 'busy', 'not-started', 'not-started', 'not-deployed', 'not-deployed']);
    expect(run.stderr).toContain('The stack kms-key-lab-secondary (ap-southeast-2) is UPDATE_IN_PROGRESS: CloudFormation does not delete a stack while another operation runs on it.');
    expect(calls(aws, 'DeleteStack')).toEqual([]);
  });

  test('without --yes and without a terminal it refuses before any AWS call (exit 2)', async () => {
    const aws = FakeAws.lab().install();
    const run = await runCli(['teardown']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      "kms-lab teardown deletes the lab's stacks and asks for confirmation first, but there is no terminal to ask on (stdin is not a TTY), so nothing was changed. " +
        'What to do: run it in a terminal and answer the question, or add --yes to confirm on the command line.\n',
    );
    expect(aws.log).toEqual([]);
  });

  test('on a terminal it asks once, naming the stacks in order; "no" deletes nothing', async () => {
    const aws = FakeAws.lab().install();
    const questions: string[] = [];
    const run = await runCli(['teardown'], { io: { confirm: async (q) => (questions.push(q), false) } });
    expect(run.code).toBe(1);
    expect(questions).toEqual([expect.stringContaining('delete the stacks kms-key-lab-secondary (ap-southeast-2), then kms-key-lab-primary (ap-southeast-1)')]);
    expect(run.stderr).toContain('kms-lab teardown was not confirmed, so nothing was changed');
    expect(calls(aws, 'DeleteStack')).toEqual([]);
  });

  test('a throttled poll counts as "not yet"; a throttled DeleteStack ends the teardown with its paragraph', async () => {
    const aws = FakeAws.lab().install();
    // The first two polls of the secondary stack meet throttling after the SDK's retries.
    let polls = 0;
    const throttleFirstPolls = async () => {
      if (++polls <= 2) aws.failures.set('DescribeStackEvents', () => serviceError('ThrottlingException', 'Rate exceeded'));
      else aws.failures.delete('DescribeStackEvents');
    };
    const polled = await runCli(['teardown', '--yes'], { io: { sleep: throttleFirstPolls } });
    expect(polled.stderr).toBe('');
    expect(polled.code).toBe(0);
    expect(polled.stdout).toMatch(/DELETE_COMPLETE {5}kms-key-lab-secondary$/m);
    expect(lifecycle(aws).deleteRequests).toEqual(['kms-key-lab-secondary', 'kms-key-lab-primary']);

    const other = FakeAws.lab().install();
    other.failures.set('DeleteStack', () => serviceError('ThrottlingException', 'Rate exceeded'));
    const run = await runCli(['teardown', '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^DeleteStack in ap-southeast-2 failed: AWS throttled DeleteStack in ap-southeast-2 and the SDK's retries did not get through\. What to do: wait a minute/);
  });
});

describe('kms-lab teardown: the alarm stacks (deletionAlarm=true)', () => {
  const ALARM_PRIMARY = `${PRIMARY}|kms-key-lab-alarm-primary`;
  const ALARM_SECONDARY = `${SECONDARY}|kms-key-lab-alarm-secondary`;
  const KEPT_SECONDARY =
    'keeps watching for use of the keys pending deletion in ap-southeast-2, and deletes itself 8 days (pendingWindowDays + 1) after the last key stack of its Region (kms-key-lab-secondary) is deleted: on or after 2025-06-09 (UTC)';
  const KEPT_PRIMARY =
    'keeps watching for use of the keys pending deletion in ap-southeast-1, and deletes itself 15 days (2 × pendingWindowDays + 1: multi-Region primaries wait for their replicas first) after the last key stack of its Region (kms-key-lab-primary or kms-key-lab-cloudhsm) is deleted: on or after 2025-06-16 (UTC)';

  test('by default both alarm stacks are kept, untouched, and reported "kept" with the day they delete themselves; exit 0 with the keys pending deletion', async () => {
    const aws = FakeAws.lab({ deletionAlarm: true }).install();
    const { run, report } = await teardown();
    expect(run.code).toBe(0);
    expect(lifecycle(aws).deleteRequests).toEqual(['kms-key-lab-secondary', 'kms-key-lab-primary']);
    expect(aws.stacks.get(ALARM_PRIMARY)?.status).toBe('CREATE_COMPLETE');
    expect(aws.stacks.get(ALARM_SECONDARY)?.status).toBe('CREATE_COMPLETE');
    expect([...aws.stacks.keys()].sort()).toEqual([ALARM_PRIMARY, ALARM_SECONDARY, `${PRIMARY}|kms-key-lab-roles`].sort());
    expect(report.stacks.slice(4)).toEqual([
      { role: 'alarm-secondary', name: 'kms-key-lab-alarm-secondary', region: SECONDARY, before: 'CREATE_COMPLETE', result: 'kept', date: '2025-06-09', when: KEPT_SECONDARY },
      { role: 'alarm-primary', name: 'kms-key-lab-alarm-primary', region: PRIMARY, before: 'CREATE_COMPLETE', result: 'kept', date: '2025-06-16', when: KEPT_PRIMARY },
    ]);
    expect(report.stacks.slice(0, 4).map((s) => s.result)).toEqual(['not-deployed', 'deleted', 'deleted', 'kept']);
    expect(report).toMatchObject({ schemaVersion: 1, complete: true, billableLeft: 0, problems: [] });
    expect(report.deleted.map((d) => d.id)).toEqual(['kms-key-lab-secondary', 'kms-key-lab-primary']);
    const keys = report.left!.filter((l) => l.kind === 'key');
    expect(keys).toHaveLength(7);
    expect(keys.every((k) => ['PendingDeletion', 'PendingReplicaDeletion'].includes(k.state) && !k.billable)).toBe(true);
    // Nothing asked of the alarm stacks but the first look.
    expect(calls(aws, 'DeleteStack')).toHaveLength(2);
    expect(report.stacks.slice(4).every((s) => s.after === undefined)).toBe(true);
    // The progress (on stderr with --json) says it once the stacks are done.
    const progress = run.stderr.split('\n');
    expect(progress[0]).toBe(
      'Tearing down the KMS Key Lab "kms-key-lab": kms-key-lab-cloudhsm (ap-southeast-1), then kms-key-lab-secondary (ap-southeast-2), then kms-key-lab-primary (ap-southeast-1), then kms-key-lab-roles (ap-southeast-1); ' +
        'keeping kms-key-lab-alarm-secondary (ap-southeast-2) and kms-key-lab-alarm-primary (ap-southeast-1) (without --with-alarms)',
    );
    const rolesDone = progress.findIndex((l) => l.startsWith('kms-key-lab-roles (ap-southeast-1): CREATE_COMPLETE, kept: it keeps the key administrator role'));
    const keptLine = progress.indexOf(`kms-key-lab-alarm-secondary (ap-southeast-2): CREATE_COMPLETE, kept: it ${KEPT_SECONDARY}`);
    expect(rolesDone).toBeGreaterThan(0);
    expect(keptLine).toBeGreaterThan(rolesDone);
    expect(progress[keptLine + 1]).toBe(`kms-key-lab-alarm-primary (ap-southeast-1): CREATE_COMPLETE, kept: it ${KEPT_PRIMARY}`);
    expect(progress[keptLine + 2]).toBe(
      'Kept kms-key-lab-alarm-secondary and kms-key-lab-alarm-primary, the alarm on use of a key pending deletion: `kms-lab teardown --with-alarms` deletes them now, which ends the watch.',
    );
  });

  test('the text summary says what the kept alarm stacks do, when they go, and how to delete them now', async () => {
    FakeAws.lab({ deletionAlarm: true, cloudHsm: true }).install();
    // Late on 10 June (UTC), with cdk.json's pendingWindowDays 14: on or after 10 + 15 days.
    const cwd = tempDir();
    writeCdkJson(cwd, { pendingWindowDays: 14 });
    const run = await runCli(['teardown', '--yes'], { cwd, now: new Date('2025-06-10T22:30:00Z') });
    expect(run.code).toBe(0);
    const summary = run.stdout.slice(run.stdout.lastIndexOf('\nDeleted\n'));
    expect(summary).toContain(
      'Kept: the alarm on use of a key pending deletion, which deletes itself\n' +
        '  kms-key-lab-alarm-secondary (ap-southeast-2): it keeps watching for use of the keys pending deletion in ap-southeast-2, and deletes itself 15 days (pendingWindowDays + 1) after the last key stack of its Region (kms-key-lab-secondary) is deleted: on or after 2025-06-25 (UTC)\n' +
        '  kms-key-lab-alarm-primary (ap-southeast-1): it keeps watching for use of the keys pending deletion in ap-southeast-1, and deletes itself 29 days (2 × pendingWindowDays + 1: multi-Region primaries wait for their replicas first) after the last key stack of its Region (kms-key-lab-primary or kms-key-lab-cloudhsm) is deleted: on or after 2025-07-09 (UTC)\n' +
        '  `kms-lab teardown --with-alarms` deletes them now, which ends the watch.\n',
    );
    expect(summary).toContain('Nothing billable is left outside a deletion schedule');
    expect(summary).toContain('the kept alarm stacks (their trail, log ingestion and alarm bill) delete themselves as said above.');
    // -c wins over cdk.json, as for cdk.
    FakeAws.lab({ deletionAlarm: true }).install();
    const json30 = await runCli(['teardown', '--yes', '--json', '-c', 'pendingWindowDays=30'], { cwd, now: new Date('2025-06-10T22:30:00Z') });
    expect(json<TeardownReport>(json30).stacks.filter((s) => s.result === 'kept' && s.role !== 'roles').map((s) => s.date)).toEqual(['2025-07-11', '2025-08-10']);
  });

  test('the question names only what is deleted: the alarm stacks only with --with-alarms', async () => {
    FakeAws.lab({ deletionAlarm: true }).install();
    const questions: string[] = [];
    const confirm = async (q: string) => (questions.push(q), false);
    await runCli(['teardown'], { io: { confirm } });
    await runCli(['teardown', '--with-alarms'], { io: { confirm } });
    expect(questions).toHaveLength(2);
    expect(questions[0]).not.toContain('alarm');
    expect(questions[1]).toContain(
      'then delete the alarm stacks kms-key-lab-alarm-secondary (ap-southeast-2), then kms-key-lab-alarm-primary (ap-southeast-1), which ends the watch for use of the keys pending deletion',
    );
  });

  test('--with-alarms deletes them too, after the roles stack: alarm-secondary, then alarm-primary', async () => {
    const aws = FakeAws.lab({ deletionAlarm: true, cloudHsm: true }).install();
    const { run, report } = await teardown(['--with-alarms']);
    expect(run.code).toBe(0);
    // The roles stack stays for the escrows (only --with-roles deletes it now); the alarm stacks go.
    expect(lifecycle(aws).deleteRequests).toEqual(['kms-key-lab-cloudhsm', 'kms-key-lab-secondary', 'kms-key-lab-primary', 'kms-key-lab-alarm-secondary', 'kms-key-lab-alarm-primary']);
    expect(aws.stacks.size).toBe(1);
    expect(report.stacks.map((s) => [s.name, s.region, s.result, s.after])).toEqual([
      ['kms-key-lab-cloudhsm', PRIMARY, 'deleted', 'DELETE_COMPLETE'],
      ['kms-key-lab-secondary', SECONDARY, 'deleted', 'DELETE_COMPLETE'],
      ['kms-key-lab-primary', PRIMARY, 'deleted', 'DELETE_COMPLETE'],
      ['kms-key-lab-roles', PRIMARY, 'kept', undefined],
      ['kms-key-lab-alarm-secondary', SECONDARY, 'deleted', 'DELETE_COMPLETE'],
      ['kms-key-lab-alarm-primary', PRIMARY, 'deleted', 'DELETE_COMPLETE'],
    ]);
    expect(report.stacks.filter((s) => s.role !== 'roles').some((s) => s.date || s.when)).toBe(false);
    expect(report.complete).toBe(true);
    expect(run.stderr).not.toContain('kept: it keeps watching');
    expect(run.stderr).toContain('kms-key-lab-alarm-primary (ap-southeast-1): CREATE_COMPLETE, deletion requested');
  });

  test('a lab of only its alarm stacks (the key stacks deleted before) is found: kept by default, with no date; deleted with --with-alarms', async () => {
    const aws = FakeAws.lab({ deletionAlarm: true }).install();
    await teardown();
    // The alarm stacks, and the roles stack for the escrows.
    expect(aws.stacks.size).toBe(3);

    const again = await teardown();
    expect(again.run.code).toBe(0);
    expect(again.run.stderr).not.toContain('No lab found');
    expect(calls(aws, 'DeleteStack')).toHaveLength(2);
    expect(again.report.deleted).toEqual([]);
    expect(again.report.complete).toBe(true);
    const kept = again.report.stacks.filter((s) => s.result === 'kept' && s.role !== 'roles');
    expect(kept.map((s) => s.name)).toEqual(['kms-key-lab-alarm-secondary', 'kms-key-lab-alarm-primary']);
    for (const s of kept) {
      expect(s.date).toBeUndefined();
      expect(s.when).toContain("none is left now, and the last one's deletion began before this run (so no date is given here)");
      expect(s.when).not.toMatch(/\d{4}-\d{2}-\d{2}/);
    }
    expect(again.run.stderr).toContain('`kms-lab teardown --with-alarms` deletes them now');
    // Nothing to delete, so nothing to confirm: no question asked.
    const questions: string[] = [];
    const text = await runCli(['teardown'], { io: { confirm: async (q) => (questions.push(q), true) } });
    expect(text.code).toBe(0);
    expect(questions).toEqual([]);
    expect(text.stdout).toContain('Kept: the alarm on use of a key pending deletion');

    // Secrets Manager has deleted the escrows since: the roles stack goes too.
    for (const [name, s] of [...aws.secrets]) if (s.deletedDate) aws.secrets.delete(name);
    const withAlarms = await teardown(['--with-alarms']);
    expect(withAlarms.run.code).toBe(0);
    expect(lifecycle(aws).deleteRequests.slice(2)).toEqual(['kms-key-lab-roles', 'kms-key-lab-alarm-secondary', 'kms-key-lab-alarm-primary']);
    expect(withAlarms.report.deleted.map((d) => d.id)).toEqual(['kms-key-lab-roles', 'kms-key-lab-alarm-secondary', 'kms-key-lab-alarm-primary']);
    expect(aws.stacks.size).toBe(0);

    // Now nothing at all is left: "no lab found", and the alarm stacks are named in it.
    const none = await runCli(['teardown', '--yes']);
    expect(none.stdout).toContain('CloudFormation has no stack kms-key-lab-cloudhsm, kms-key-lab-secondary, kms-key-lab-primary, kms-key-lab-roles, kms-key-lab-alarm-secondary or kms-key-lab-alarm-primary');
  });

  test('the date is per Region: none for a Region whose last key stack was already being deleted (the expiry fired) when the run began', async () => {
    const aws = FakeAws.lab({ deletionAlarm: true, cloudHsm: true }).install();
    // The primary stack was deleted before (its keys scheduled), and the CloudHSM stack's expiry has started its deletion.
    lifecycle(aws).startDeletion(PRIMARY, 'kms-key-lab-primary');
    while (aws.stacks.has(`${PRIMARY}|kms-key-lab-primary`)) lifecycle(aws).advance(PRIMARY, 'kms-key-lab-primary');
    lifecycle(aws).startDeletion(PRIMARY, 'kms-key-lab-cloudhsm');
    const { run, report } = await teardown();
    expect(run.code).toBe(0);
    expect(lifecycle(aws).deleteRequests).toEqual(['kms-key-lab-secondary']);
    expect(report.stacks.map((s) => [s.name, s.before, s.result, s.date])).toEqual([
      ['kms-key-lab-cloudhsm', 'DELETE_IN_PROGRESS', 'deleted', undefined],
      ['kms-key-lab-secondary', 'CREATE_COMPLETE', 'deleted', undefined],
      ['kms-key-lab-primary', 'NOT_DEPLOYED', 'not-deployed', undefined],
      // The primary stack (gone before this run) scheduled the escrows: found by their tag and name, (e)'s recoverable 15 days.
      ['kms-key-lab-roles', 'CREATE_COMPLETE', 'kept', '2025-06-16'],
      ['kms-key-lab-alarm-secondary', 'CREATE_COMPLETE', 'kept', '2025-06-09'],
      ['kms-key-lab-alarm-primary', 'CREATE_COMPLETE', 'kept', undefined],
    ]);
    expect(report.stacks[5].when).toContain("none is left now, and the last one's deletion began before this run");
  });

  test('a teardown that stops at a key stack keeps the alarm stacks and gives no date', async () => {
    const aws = FakeAws.lab({ deletionAlarm: true }).install();
    lifecycle(aws).plans.set('kms-key-lab-primary', { failures: [{ logicalId: 'SingleRegionKey', type: 'AWS::KMS::Key', reason: 'Access denied' }] });
    const { run, report } = await teardown();
    expect(run.code).toBe(1);
    expect(report.stacks.map((s) => [s.name, s.result])).toEqual([
      ['kms-key-lab-cloudhsm', 'not-deployed'],
      ['kms-key-lab-secondary', 'deleted'],
      ['kms-key-lab-primary', 'failed'],
      ['kms-key-lab-roles', 'not-started'],
      ['kms-key-lab-alarm-secondary', 'kept'],
      ['kms-key-lab-alarm-primary', 'kept'],
    ]);
    for (const s of report.stacks.filter((s) => s.result === 'kept')) {
      expect(s.date).toBeUndefined();
      expect(s.when).toMatch(/^keeps watching for use of the keys pending deletion in ap-southeast-[12], and deletes itself (8 days \(pendingWindowDays \+ 1\)|15 days \(2 × pendingWindowDays \+ 1: multi-Region primaries wait for their replicas first\)) after the last key stack of its Region \([^)]+\) is deleted$/);
    }
    expect(run.stderr).not.toContain('on or after');
    // The paragraph names what the stop left, not the kept alarm stacks.
    expect(run.stderr).toContain('The teardown stopped there: kms-key-lab-roles was not deleted.');
    const text = await runCli(['teardown', '--yes']);
    expect(text.stdout).not.toContain('on or after');
  });

  test('with --with-alarms an alarm stack without the lab\'s tag is not deleted, and stops the teardown as any stack does', async () => {
    const aws = FakeAws.lab({ deletionAlarm: true }).install();
    aws.stacks.get(ALARM_SECONDARY)!.tags = {};
    const { run, report } = await teardown(['--with-alarms']);
    expect(run.code).toBe(1);
    expect(lifecycle(aws).deleteRequests).toEqual(['kms-key-lab-secondary', 'kms-key-lab-primary']);
    expect(aws.stacks.has(ALARM_SECONDARY)).toBe(true);
    expect(aws.stacks.has(ALARM_PRIMARY)).toBe(true);
    expect(report.stacks.slice(4).map((s) => [s.name, s.result])).toEqual([
      ['kms-key-lab-alarm-secondary', 'not-lab'],
      ['kms-key-lab-alarm-primary', 'not-started'],
    ]);
    expect(report.left).toBeUndefined();
    expect(run.stderr).toContain(
      "The stack kms-key-lab-alarm-secondary (ap-southeast-2) is not this lab's: the lab tags every stack kms-key-lab:lab=kms-key-lab, but it has no tag kms-key-lab:lab, so it was not deleted. The teardown stopped there: kms-key-lab-alarm-primary was not deleted.",
    );
  });

  test('an alarm stack tagged for another lab is never in the question, nor what follows it', async () => {
    const aws = FakeAws.lab({ deletionAlarm: true }).install();
    aws.stacks.get(ALARM_SECONDARY)!.tags = { 'kms-key-lab:lab': 'other-lab' };
    const questions: string[] = [];
    await runCli(['teardown', '--with-alarms'], { io: { confirm: async (q) => (questions.push(q), false) } });
    expect(questions).toHaveLength(1);
    expect(questions[0]).not.toContain('alarm');
    expect(calls(aws, 'DeleteStack')).toEqual([]);
  });

  test('without --with-alarms an alarm stack without the lab\'s tag is left alone and not reported as kept (exit 1); the rest goes on', async () => {
    const aws = FakeAws.lab({ deletionAlarm: true }).install();
    aws.stacks.get(ALARM_PRIMARY)!.tags = { 'kms-key-lab:lab': 'other-lab' };
    const { run, report } = await teardown();
    expect(run.code).toBe(1);
    expect(lifecycle(aws).deleteRequests).toEqual(['kms-key-lab-secondary', 'kms-key-lab-primary']);
    expect(report.stacks.slice(4).map((s) => [s.name, s.result])).toEqual([
      ['kms-key-lab-alarm-secondary', 'kept'],
      ['kms-key-lab-alarm-primary', 'not-lab'],
    ]);
    expect(report.stacks[5].when).toBeUndefined();
    // What outlives the stacks is still looked at.
    expect(report.left).toBeDefined();
    expect(report.complete).toBe(false);
    expect(run.stderr).toContain(
      'The stack kms-key-lab-alarm-primary (ap-southeast-1) is not this lab\'s: the lab tags every stack kms-key-lab:lab=kms-key-lab, but its tag kms-key-lab:lab is "other-lab", so it was left alone, and is not reported as the lab\'s alarm stack.',
    );
    expect(run.stderr).toContain('Kept kms-key-lab-alarm-secondary, the alarm on use of a key pending deletion: `kms-lab teardown --with-alarms` deletes it now');
  });

  test('a kept alarm stack whose own deletion failed is reported as a problem, not as settled (exit 1)', async () => {
    const aws = FakeAws.lab({ deletionAlarm: true }).install();
    aws.stacks.get(ALARM_PRIMARY)!.status = 'DELETE_FAILED';
    const { run, report } = await teardown();
    expect(run.code).toBe(1);
    expect(report.complete).toBe(false);
    expect(report.stacks.slice(4).map((s) => [s.name, s.before, s.result])).toEqual([
      ['kms-key-lab-alarm-secondary', 'CREATE_COMPLETE', 'kept'],
      ['kms-key-lab-alarm-primary', 'DELETE_FAILED', 'kept'],
    ]);
    expect(run.stderr).toContain(
      'The alarm stack kms-key-lab-alarm-primary (ap-southeast-1) is DELETE_FAILED: its watch may not be running, so it may never delete itself, and its trail and log ingestion bill until it goes. What to do: `kms-lab teardown --with-alarms` deletes it now',
    );
    expect(report.problems).toHaveLength(1);
  });

  test('an invalid pendingWindowDays is a usage error naming it, before any AWS call (exit 2)', async () => {
    const aws = FakeAws.lab({ deletionAlarm: true }).install();
    const run = await runCli(['teardown', '--yes', '-c', 'pendingWindowDays=3']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('"pendingWindowDays" is "3", but accepts a whole number of days from 7 to 30');
    expect(aws.log).toEqual([]);
  });

  test('--help shows --with-alarms', async () => {
    const run = await runCli(['teardown', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--with-alarms');
    expect(run.stdout).toContain('keep the opt-in alarm stacks');
  });
});

describe('kms-lab teardown: the roles stack and the escrows pending deletion', () => {
  const ROLES = `${PRIMARY}|kms-key-lab-roles`;
  const escrowsOf = (aws: FakeAws) => {
    const outputs = aws.stacks.get(`${PRIMARY}|kms-key-lab-primary`)!.outputs;
    return { c: outputs.ImportedMaterialEscrowSecretName, e: outputs.MultiRegionImportedEscrowSecretName };
  };

  test('the roles stack is kept while an escrow its key administrator role can restore is scheduled for deletion, with the day until which', async () => {
    const aws = FakeAws.lab().install();
    const { c, e } = escrowsOf(aws);
    const { run, report } = await teardown();
    expect(run.code).toBe(0);
    expect(aws.stacks.get(ROLES)?.status).toBe('CREATE_COMPLETE');
    expect(calls(aws, 'DeleteStack')).toHaveLength(2);
    const roles = report.stacks.find((s) => s.role === 'roles')!;
    // Scheduled at 06:00 on 1 June by the primary stack's deletion; (e)'s window is 2 × 7 + 1 days, (c)'s 7 + 1.
    expect(roles).toMatchObject({ result: 'kept', before: 'CREATE_COMPLETE', date: '2025-06-16' });
    expect(roles.after).toBeUndefined();
    expect(roles.when).toBe(
      `keeps the key administrator role ${aws.adminRole}, the one principal besides the account root user that can restore and read the escrow secrets ${[c, e].sort().join(' and ')}, ` +
        'scheduled for deletion and recoverable until 2025-06-16T06:00:00.000Z: a later `kms-lab teardown` deletes it once they are gone (`--with-roles` deletes it now, leaving their recovery to the account root user), on or after 2025-06-16 (UTC)',
    );
    expect(report).toMatchObject({ complete: true, problems: [], warnings: [] });
    const text = await runCli(['teardown', '--yes']);
    expect(text.stdout).toContain('Kept: the roles stack, for the escrow secrets pending deletion\n  kms-key-lab-roles (ap-southeast-1): it keeps the key administrator role');
  });

  test('a later teardown keeps it, asking nothing, until Secrets Manager has deleted the escrows; then deletes it', async () => {
    const aws = FakeAws.lab().install();
    await teardown();
    const questions: string[] = [];
    const again = await runCli(['teardown', '--json'], { now: LATER, io: { confirm: async (q) => (questions.push(q), true) } });
    expect(again.code).toBe(0);
    expect(questions).toEqual([]);
    expect(json<TeardownReport>(again).stacks.find((s) => s.role === 'roles')).toMatchObject({ result: 'kept', date: '2025-06-16' });
    expect(calls(aws, 'DeleteStack')).toHaveLength(2);

    for (const [name, s] of [...aws.secrets]) if (s.deletedDate) aws.secrets.delete(name);
    const done = await runCli(['teardown', '--json'], { now: LATER, io: { confirm: async (q) => (questions.push(q), true) } });
    expect(done.code).toBe(0);
    expect(questions).toEqual([expect.stringContaining('delete the stack kms-key-lab-roles (ap-southeast-1)')]);
    expect(json<TeardownReport>(done).stacks.find((s) => s.role === 'roles')).toMatchObject({ result: 'deleted', after: 'DELETE_COMPLETE' });
    expect(aws.stacks.has(ROLES)).toBe(false);
  });

  test('the first question says the roles stack may be kept instead', async () => {
    FakeAws.lab().install();
    const questions: string[] = [];
    await runCli(['teardown'], { io: { confirm: async (q) => (questions.push(q), false) } });
    expect(questions[0]).toContain('(kms-key-lab-roles is kept instead while an escrow secret its key administrator role can restore is scheduled for deletion)');
  });

  test('--with-roles deletes it now, and warns that only the root user can restore the escrows (exit 0)', async () => {
    const aws = FakeAws.lab().install();
    const { c } = escrowsOf(aws);
    const { run, report } = await teardown(['--with-roles']);
    expect(run.code).toBe(0);
    expect(aws.stacks.has(ROLES)).toBe(false);
    expect(report.stacks.find((s) => s.role === 'roles')).toMatchObject({ result: 'deleted' });
    expect(report.complete).toBe(true);
    expect(report.warnings).toEqual([expect.stringContaining(`Deleted kms-key-lab-roles (ap-southeast-1) with --with-roles, and with it the key administrator role ${aws.adminRole}`)]);
    expect(report.warnings[0]).toContain('from now only the account root user can restore and read them');
    expect(report.warnings[0]).toContain(`\`aws secretsmanager restore-secret --secret-id ${c} --region ${PRIMARY}\``);
    expect(run.stderr).toContain(`Warning: ${report.warnings[0]}`);
  });

  test('with keyAdminArns set the key policies and escrows name those principals: the roles stack goes', async () => {
    const aws = FakeAws.lab().install();
    const cwd = tempDir();
    writeCdkJson(cwd, { keyAdminArns: ['arn:aws:iam::111122223333:role/KeyAdmin'], keyUserArns: ['arn:aws:iam::111122223333:role/KeyUser'] });
    const { run, report } = await teardown([], { cwd });
    expect(run.code).toBe(0);
    expect(report.stacks.find((s) => s.role === 'roles')).toMatchObject({ result: 'deleted' });
    expect(aws.stacks.has(ROLES)).toBe(false);
    expect(report.warnings).toEqual([]);
  });

  test('when Secrets Manager will not say, the roles stack is kept, without a date, and the run says why (exit 1)', async () => {
    const aws = FakeAws.lab().install();
    aws.failures.set('ListSecrets', () => serviceError('AccessDeniedException', 'User: operator is not authorized to perform: secretsmanager:ListSecrets'));
    const { run, report } = await teardown();
    expect(run.code).toBe(1);
    expect(aws.stacks.has(ROLES)).toBe(true);
    const roles = report.stacks.find((s) => s.role === 'roles')!;
    expect(roles.result).toBe('kept');
    expect(roles.date).toBeUndefined();
    expect(report.problems).toEqual(expect.arrayContaining([expect.stringContaining('So kms-key-lab-roles was kept: its key administrator role may be the only principal besides the account root user')]));
  });

  test('the roles stack is free to go once the escrows are gone: nothing else names it (no export, no import)', async () => {
    // Its deletion never waits on another stack: see test/stacks/roles-stack.test.ts for the template's side.
    const aws = FakeAws.lab().install();
    for (const name of Object.values(escrowsOf(aws))) aws.secrets.delete(name);
    const { report } = await teardown();
    expect(report.stacks.find((s) => s.role === 'roles')).toMatchObject({ result: 'deleted', after: 'DELETE_COMPLETE' });
  });
});
