import {
  alarmDeletesItselfOnOrAfter,
  alarmWatchDays,
  alarmStacks,
  busyStackMessage,
  deleteAfterHasPassed,
  deleteFailedMessage,
  deletionOutcome,
  eventLine,
  failuresFrom,
  keptAlarm,
  keptAlarmsAdvice,
  keyStoreStep,
  notLabStackMessage,
  parseKeyStoreName,
  stackStep,
  teardownOrder,
  teardownQuestion,
} from '../../cli/teardown/plan';
import { billableParagraphs, hsmClusterLeft, isBillable, isComplete, keyLeft, keyStoreLeft, secretLeft, TeardownStack } from '../../cli/teardown/report';

const SETTINGS = { prefix: 'kms-key-lab', primaryRegion: 'ap-southeast-1', secondaryRegion: 'ap-southeast-2' };
const [CLOUDHSM, SECONDARY, PRIMARY] = teardownOrder(SETTINGS);
const ARN = 'arn:aws:kms:ap-southeast-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

function expectParagraph(text: string): void {
  expect(text).not.toContain('\n');
  expect(text).toContain('What to do:');
}

describe('teardown order and stack states', () => {
  test('the cloudhsm stack goes first, then the secondary, then the primary, and the roles stack last', () => {
    expect(teardownOrder(SETTINGS).map((r) => [r.name, r.region])).toEqual([
      ['kms-key-lab-cloudhsm', 'ap-southeast-1'],
      ['kms-key-lab-secondary', 'ap-southeast-2'],
      ['kms-key-lab-primary', 'ap-southeast-1'],
      ['kms-key-lab-roles', 'ap-southeast-1'],
    ]);
  });

  test('with --with-alarms the alarm stacks go last, after the roles stack: the secondary Region\'s, then the primary\'s', () => {
    expect(teardownOrder(SETTINGS, { withAlarms: true }).map((r) => [r.role, r.name, r.region])).toEqual([
      ['cloudhsm', 'kms-key-lab-cloudhsm', 'ap-southeast-1'],
      ['secondary', 'kms-key-lab-secondary', 'ap-southeast-2'],
      ['primary', 'kms-key-lab-primary', 'ap-southeast-1'],
      ['roles', 'kms-key-lab-roles', 'ap-southeast-1'],
      ['alarm-secondary', 'kms-key-lab-alarm-secondary', 'ap-southeast-2'],
      ['alarm-primary', 'kms-key-lab-alarm-primary', 'ap-southeast-1'],
    ]);
    expect(teardownOrder(SETTINGS, { withAlarms: false })).toEqual(teardownOrder(SETTINGS));
    expect(alarmStacks(SETTINGS).map((r) => r.name)).toEqual(['kms-key-lab-alarm-secondary', 'kms-key-lab-alarm-primary']);
  });

  test('a stack is deleted from any settled state, waited for while being deleted, and left alone while another operation runs', () => {
    for (const status of ['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'ROLLBACK_COMPLETE', 'DELETE_FAILED', 'UPDATE_ROLLBACK_COMPLETE', 'REVIEW_IN_PROGRESS']) {
      expect(stackStep(status)).toBe('delete');
    }
    expect(stackStep('DELETE_IN_PROGRESS')).toBe('wait');
    for (const status of ['UPDATE_IN_PROGRESS', 'CREATE_IN_PROGRESS', 'ROLLBACK_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS']) expect(stackStep(status)).toBe('busy');
  });

  test('a deletion ends DELETE_COMPLETE or DELETE_FAILED', () => {
    expect(deletionOutcome('DELETE_IN_PROGRESS')).toBe('waiting');
    expect(deletionOutcome('DELETE_COMPLETE')).toBe('deleted');
    expect(deletionOutcome('DELETE_FAILED')).toBe('failed');
  });

  test('each event is one line, with its reason', () => {
    const at = new Date('2025-06-01T06:00:10Z');
    expect(eventLine('kms-key-lab-primary', { timestamp: at, logicalId: 'SingleRegionKey', type: 'AWS::KMS::Key', status: 'DELETE_COMPLETE' })).toBe(
      '  06:00:10  DELETE_COMPLETE     SingleRegionKey (AWS::KMS::Key)',
    );
    expect(eventLine('kms-key-lab-primary', { timestamp: at, logicalId: 'kms-key-lab-primary', type: 'AWS::CloudFormation::Stack', status: 'DELETE_IN_PROGRESS', reason: 'User\n Initiated' })).toBe(
      '  06:00:10  DELETE_IN_PROGRESS  kms-key-lab-primary: User Initiated',
    );
  });

  test("the failures are the resources' DELETE_FAILED events, not the stack's summary", () => {
    const failures = failuresFrom([
      { logicalId: 'Bucket', type: 'AWS::S3::Bucket', status: 'DELETE_FAILED', reason: 'The bucket you tried to delete is not empty' },
      { logicalId: 'kms-key-lab-cloudhsm', type: 'AWS::CloudFormation::Stack', status: 'DELETE_FAILED', reason: 'The following resource(s) failed to delete: [Bucket].' },
      { logicalId: 'Key', type: 'AWS::KMS::Key', status: 'DELETE_COMPLETE' },
    ]);
    expect(failures).toEqual([{ logicalId: 'Bucket', type: 'AWS::S3::Bucket', reason: 'The bucket you tried to delete is not empty' }]);
  });
});

describe('teardown messages', () => {
  test('DELETE_FAILED names each resource and reason, what was not deleted, and how to go on', () => {
    const text = deleteFailedMessage(SECONDARY, [{ logicalId: 'ReplicaKey', type: 'AWS::KMS::ReplicaKey', reason: 'Access denied.' }], undefined, [PRIMARY]);
    expectParagraph(text);
    expect(text).toBe(
      'The stack kms-key-lab-secondary (ap-southeast-2) ended DELETE_FAILED: ReplicaKey (AWS::KMS::ReplicaKey) failed to delete: Access denied. ' +
        'The teardown stopped there: kms-key-lab-primary was not deleted. ' +
        'What to do: fix what the reasons say, then run `kms-lab teardown` again (CloudFormation retries the deletion); to leave a resource behind instead, ' +
        '`aws cloudformation delete-stack --stack-name kms-key-lab-secondary --region ap-southeast-2 --retain-resources ReplicaKey`, then run it again.',
    );
    expect(deleteFailedMessage(CLOUDHSM, [], 'Stack timed out', [SECONDARY, PRIMARY])).toContain('CloudFormation says: Stack timed out. The teardown stopped there: kms-key-lab-secondary and kms-key-lab-primary were not deleted.');
  });

  test('a busy stack says to wait for its operation', () => {
    const text = busyStackMessage(PRIMARY, 'UPDATE_IN_PROGRESS', []);
    expectParagraph(text);
    expect(text).toContain('is UPDATE_IN_PROGRESS: CloudFormation does not delete a stack while another operation runs on it. The teardown stopped there.');
  });

  test('the question names the alarm stacks only when they are deleted too, after the others', () => {
    const [ALARM_SECONDARY, ALARM_PRIMARY] = alarmStacks(SETTINGS);
    const question = teardownQuestion('kms-key-lab', [SECONDARY, PRIMARY, ALARM_SECONDARY, ALARM_PRIMARY], []);
    expect(question).toBe(
      'Tear down the KMS Key Lab "kms-key-lab": delete the stacks kms-key-lab-secondary (ap-southeast-2), then kms-key-lab-primary (ap-southeast-1): their keys are scheduled for deletion (recoverable until their window ends), the escrow secrets with them; ' +
        'and then delete the alarm stacks kms-key-lab-alarm-secondary (ap-southeast-2), then kms-key-lab-alarm-primary (ap-southeast-1), which ends the watch for use of the keys pending deletion before their window is over?',
    );
    expect(teardownQuestion('kms-key-lab', [ALARM_PRIMARY], [])).toBe(
      'Tear down the KMS Key Lab "kms-key-lab": delete the alarm stack kms-key-lab-alarm-primary (ap-southeast-1), which ends the watch for use of the keys pending deletion before their window is over?',
    );
    expect(teardownQuestion('kms-key-lab', [SECONDARY, PRIMARY], [])).not.toContain('alarm');
  });

  test('a stack without the lab\'s tag that was to be kept stops nothing, and says so', () => {
    const [ALARM_SECONDARY] = alarmStacks(SETTINGS);
    const kept = notLabStackMessage(ALARM_SECONDARY, {}, 'kms-key-lab', undefined);
    expectParagraph(kept);
    expect(kept).toContain("The stack kms-key-lab-alarm-secondary (ap-southeast-2) is not this lab's: the lab tags every stack kms-key-lab:lab=kms-key-lab, but it has no tag kms-key-lab:lab, so it was left alone");
    expect(kept).not.toContain('stopped');
    expect(notLabStackMessage(ALARM_SECONDARY, {}, 'kms-key-lab', [])).toContain('so it was not deleted. The teardown stopped there.');
  });

  test('a stack with no tags at all is explained as a lab of an earlier version, with how to recognise and delete it', () => {
    const untagged = notLabStackMessage(PRIMARY, {}, 'kms-key-lab', []);
    expectParagraph(untagged);
    expect(untagged).toContain('may be a lab deployed by an earlier version of this app, which tagged only the stack\'s resources');
    expect(untagged).toContain('aws cloudformation describe-stack-resources --stack-name kms-key-lab-primary --region ap-southeast-1');
    expect(untagged).toContain('If it is, delete the lab with `npx cdk destroy --all` from this app (it deletes the stacks by name, dependents first, and needs no stack tag), or this stack alone with `npx cdk destroy kms-key-lab-primary`.');
    // A stack tagged for another lab is not one of ours at all: no upgrade advice.
    expect(notLabStackMessage(PRIMARY, { 'kms-key-lab:lab': 'other' }, 'kms-key-lab', [])).not.toContain('earlier version');
  });

  test('the question lists the stacks in order', () => {
    expect(teardownQuestion('kms-key-lab', [SECONDARY, PRIMARY], [])).toBe(
      'Tear down the KMS Key Lab "kms-key-lab": delete the stacks kms-key-lab-secondary (ap-southeast-2), then kms-key-lab-primary (ap-southeast-1): their keys are scheduled for deletion (recoverable until their window ends), the escrow secrets with them?',
    );
  });
});

describe('the alarm stacks a teardown keeps', () => {
  const [ALARM_SECONDARY, ALARM_PRIMARY] = alarmStacks(SETTINGS);
  const NOW = new Date('2025-06-01T06:00:00Z');
  const facts = { status: 'CREATE_COMPLETE', pendingWindowDays: 7, stopped: false, deletionAskedThisRun: true };

  test('delete themselves pendingWindowDays + 1 days after the last key stack of their Region, twice the window + 1 in the primary: the UTC day, "on or after"', () => {
    expect(alarmWatchDays('alarm-secondary', 7).days).toBe(8);
    expect(alarmWatchDays('alarm-primary', 7).days).toBe(15);
    expect(alarmWatchDays('alarm-primary', 30).days).toBe(61);
    expect(alarmDeletesItselfOnOrAfter(NOW, 8)).toBe('2025-06-09');
    expect(alarmDeletesItselfOnOrAfter(NOW, 31)).toBe('2025-07-02');
    // Late in the UTC day: still the day eight days on, in UTC.
    expect(alarmDeletesItselfOnOrAfter(new Date('2025-06-01T23:59:59Z'), 8)).toBe('2025-06-09');
  });

  test('a kept stack says what it watches and when it goes, with the date when this run asked for the deletion of its Region\'s last key stack', () => {
    expect(keptAlarm(ALARM_PRIMARY, SETTINGS, NOW, facts)).toEqual({
      when:
        'keeps watching for use of the keys pending deletion in ap-southeast-1, and deletes itself 15 days (2 × pendingWindowDays + 1: multi-Region primaries wait for their replicas first) ' +
        'after the last key stack of its Region (kms-key-lab-primary or kms-key-lab-cloudhsm) is deleted: on or after 2025-06-16 (UTC)',
      date: '2025-06-16',
    });
    expect(keptAlarm(ALARM_SECONDARY, SETTINGS, NOW, { ...facts, pendingWindowDays: 14 })).toEqual({
      when: expect.stringContaining('in ap-southeast-2, and deletes itself 15 days (pendingWindowDays + 1) after the last key stack of its Region (kms-key-lab-secondary) is deleted: on or after 2025-06-16 (UTC)'),
      date: '2025-06-16',
    });
  });

  test('no date when the teardown stopped early, or when the last key stack\'s deletion began before this run', () => {
    const stopped = keptAlarm(ALARM_SECONDARY, SETTINGS, NOW, { ...facts, stopped: true });
    expect(stopped.date).toBeUndefined();
    expect(stopped.when).not.toMatch(/\d{4}-\d{2}-\d{2}/);
    expect(stopped.when).toContain('keeps watching for use of the keys pending deletion in ap-southeast-2');
    const before = keptAlarm(ALARM_SECONDARY, SETTINGS, NOW, { ...facts, deletionAskedThisRun: false });
    expect(before.date).toBeUndefined();
    expect(before.when).not.toMatch(/\d{4}-\d{2}-\d{2}/);
    expect(before.when).toContain("none is left now, and the last one's deletion began before this run (so no date is given here)");
  });

  test('one already deleting itself, or broken, says so instead', () => {
    expect(keptAlarm(ALARM_SECONDARY, SETTINGS, NOW, { ...facts, status: 'DELETE_IN_PROGRESS' })).toEqual({ when: 'is deleting itself already (DELETE_IN_PROGRESS): its watch is over' });
    for (const status of ['ROLLBACK_COMPLETE', 'DELETE_FAILED', 'UPDATE_ROLLBACK_FAILED']) {
      const broken = keptAlarm(ALARM_SECONDARY, SETTINGS, NOW, { ...facts, status });
      expect(broken.date).toBeUndefined();
      expect(broken.when).toContain(`is ${status}, so its watch may not be running and it may never delete itself: \`kms-lab teardown --with-alarms\` deletes it`);
    }
  });

  test('the advice names the kept stacks and --with-alarms', () => {
    expect(keptAlarmsAdvice([ALARM_SECONDARY, ALARM_PRIMARY])).toBe(
      'Kept kms-key-lab-alarm-secondary and kms-key-lab-alarm-primary, the alarm on use of a key pending deletion: `kms-lab teardown --with-alarms` deletes them now, which ends the watch.',
    );
    expect(keptAlarmsAdvice([ALARM_PRIMARY])).toContain('deletes it now');
  });
});

describe('key stores that wait for their keys', () => {
  test("the lab's store names are recognised, with their date; other labs' and other stores are not", () => {
    expect(parseKeyStoreName('kms-key-lab-cloudhsm-cluster-abc123-delete-after-2025-06-09', 'kms-key-lab')).toEqual({ clusterId: 'cluster-abc123', deleteAfter: '2025-06-09' });
    expect(parseKeyStoreName('kms-key-lab-cloudhsm-cluster-abc123', 'kms-key-lab')).toEqual({ clusterId: 'cluster-abc123' });
    expect(parseKeyStoreName('kms-key-lab-2-cloudhsm-cluster-abc123', 'kms-key-lab')).toBeUndefined();
    expect(parseKeyStoreName('my-store', 'kms-key-lab')).toBeUndefined();
  });

  test('the date has passed once the whole UTC day is over', () => {
    expect(deleteAfterHasPassed('2025-06-09', new Date('2025-06-09T23:59:59Z'))).toBe(false);
    expect(deleteAfterHasPassed('2025-06-09', new Date('2025-06-10T00:00:00Z'))).toBe(true);
  });

  test('a store is deleted only when its date has passed and no lab key is left in it; one left connected is disconnected', () => {
    const after = new Date('2025-06-20T00:00:00Z');
    const before = new Date('2025-06-05T00:00:00Z');
    expect(keyStoreStep({ state: 'DISCONNECTED', deleteAfter: '2025-06-09', keysLeft: 0, now: after })).toBe('delete');
    expect(keyStoreStep({ state: 'CONNECTED', deleteAfter: '2025-06-09', keysLeft: 0, now: after })).toBe('disconnect-then-delete');
    expect(keyStoreStep({ state: 'DISCONNECTED', deleteAfter: '2025-06-09', keysLeft: 1, now: after })).toBe('wait');
    expect(keyStoreStep({ state: 'DISCONNECTED', deleteAfter: '2025-06-09', keysLeft: 0, now: before })).toBe('wait');
    expect(keyStoreStep({ state: 'CONNECTED', deleteAfter: '2025-06-09', keysLeft: 1, now: after })).toBe('disconnect');
    expect(keyStoreStep({ state: 'CONNECTED', keysLeft: 0, now: after })).toBe('disconnect');
    expect(keyStoreStep({ state: 'DISCONNECTED', keysLeft: 0, now: after })).toBe('wait');
  });
});

describe('what is billable', () => {
  test('keys and secrets pending deletion and any key store are not billed; live keys and secrets are', () => {
    expect(isBillable('key', 'PendingDeletion')).toBe(false);
    expect(isBillable('key', 'PendingReplicaDeletion')).toBe(false);
    for (const state of ['Enabled', 'Disabled', 'PendingImport', 'Unavailable']) expect(isBillable('key', state)).toBe(true);
    expect(isBillable('secret', 'PendingDeletion')).toBe(false);
    expect(isBillable('secret', 'Active')).toBe(true);
    expect(isBillable('key-store', 'DISCONNECTED')).toBe(false);
    // KMS bills keys and CloudHSM bills HSMs, not the store.
    expect(isBillable('key-store', 'CONNECTED')).toBe(false);
    expect(isBillable('nat-gateway', 'available')).toBe(true);
    expect(isBillable('nat-gateway', 'deleting')).toBe(false);
    expect(isBillable('instance', 'stopped')).toBe(true);
    expect(isBillable('instance', 'terminated')).toBe(false);
    expect(isBillable('elastic-ip', 'allocated')).toBe(true);
  });

  test('a CloudHSM cluster bills while it has an HSM, and its paragraph names each HSM', () => {
    expect(hsmClusterLeft({ id: 'cluster-x', region: 'ap-southeast-1', state: 'ACTIVE', liveHsmIds: [] })).toMatchObject({ billable: false });
    const cluster = hsmClusterLeft({ id: 'cluster-x', region: 'ap-southeast-1', state: 'ACTIVE', liveHsmIds: ['hsm-a', 'hsm-b'] });
    expect(cluster).toMatchObject({ kind: 'hsm-cluster', billable: true, label: 'HSMs hsm-a, hsm-b' });
    const [paragraph] = billableParagraphs([cluster]);
    expectParagraph(paragraph);
    expect(paragraph).toContain('with 2 HSMs (hsm-a, hsm-b)');
    expect(paragraph).toContain('aws cloudhsmv2 delete-cluster --cluster-id cluster-x --region ap-southeast-1');
  });

  test('a key store that is not disconnected is reported, not billed', () => {
    const store = keyStoreLeft({ id: 'cks-1', name: 'n', region: 'ap-southeast-1', state: 'CONNECTED', deleteAfter: '2025-06-09', keysLeft: [] });
    expect(store).toMatchObject({ billable: false, state: 'CONNECTED' });
    expect(store.when).toContain('CONNECTED, which KMS does not bill');
    expect(billableParagraphs([store])).toEqual([]);
  });

  test('each thing left says when it goes', () => {
    expect(keyLeft({ arn: ARN, region: 'ap-southeast-1', state: 'PendingDeletion', deletionDate: new Date('2025-06-08T06:00:00Z'), label: '(c) primary' })).toEqual({
      kind: 'key',
      id: ARN,
      label: '(c) primary',
      region: 'ap-southeast-1',
      state: 'PendingDeletion',
      billable: false,
      date: '2025-06-08T06:00:00.000Z',
      when: 'deleted by KMS on 2025-06-08T06:00:00.000Z',
    });
    expect(keyLeft({ arn: ARN, region: 'ap-southeast-1', state: 'PendingReplicaDeletion', pendingWindowDays: 7 }).when).toBe(
      'deleted by KMS 7 days after its last replica is deleted (a multi-Region primary waits for its replicas)',
    );
    expect(secretLeft({ name: 's', region: 'ap-southeast-1', deletedDate: new Date('2025-06-01T06:00:00Z') })).toMatchObject({ state: 'PendingDeletion', billable: false });
    expect(secretLeft({ name: 's', region: 'ap-southeast-1' })).toMatchObject({ state: 'Active', billable: true });
    const store = keyStoreLeft({ id: 'cks-1', name: 'n', region: 'ap-southeast-1', state: 'DISCONNECTED', deleteAfter: '2025-06-09', keysLeft: [{ deletionDate: new Date('2025-06-08T06:00:00Z') }] });
    expect(store).toMatchObject({ billable: false, date: '2025-06-09' });
    expect(store.when).toBe('waits for its 1 key (the last is deleted on 2025-06-08T06:00:00.000Z); may go after 2025-06-09: run `kms-lab teardown` again then, and it deletes it');
  });

  test('each billable thing left gets a paragraph with the command that stops the bill', () => {
    const paragraphs = billableParagraphs([
      keyLeft({ arn: ARN, region: 'ap-southeast-1', state: 'Enabled' }),
      secretLeft({ name: 'kms-key-lab/x', region: 'ap-southeast-1' }),
      keyLeft({ arn: ARN, region: 'ap-southeast-1', state: 'PendingDeletion', deletionDate: new Date() }),
    ]);
    expect(paragraphs).toHaveLength(2);
    paragraphs.forEach(expectParagraph);
    expect(paragraphs[0]).toContain(`aws kms schedule-key-deletion --key-id ${ARN} --pending-window-in-days 7 --region ap-southeast-1`);
    expect(paragraphs[1]).toContain('aws secretsmanager delete-secret --secret-id kms-key-lab/x');
  });

  test('complete means every stack gone, nothing billable left and nothing unchecked', () => {
    const gone: TeardownStack[] = [
      { role: 'primary', name: 'p', region: 'r', before: 'CREATE_COMPLETE', result: 'deleted' },
      { role: 'cloudhsm', name: 'c', region: 'r', before: 'NOT_DEPLOYED', result: 'not-deployed' },
    ];
    const pending = keyLeft({ arn: ARN, region: 'r', state: 'PendingDeletion', deletionDate: new Date() });
    expect(isComplete(gone, [pending], 0)).toBe(true);
    expect(isComplete(gone, [pending, keyLeft({ arn: ARN, region: 'r', state: 'Disabled' })], 0)).toBe(false);
    expect(isComplete(gone, [pending], 1)).toBe(false);
    expect(isComplete([{ ...gone[0], result: 'failed' }], undefined, 1)).toBe(false);
    // A kept alarm stack is under its own deletion schedule: complete all the same; one not the lab's is not.
    const alarm: TeardownStack = { role: 'alarm-primary', name: 'a', region: 'r', before: 'CREATE_COMPLETE', result: 'kept', date: '2025-06-09', when: 'w' };
    expect(isComplete([...gone, alarm], [pending], 0)).toBe(true);
    expect(isComplete([...gone, { ...alarm, result: 'not-lab' }], [pending], 1)).toBe(false);
  });
});
