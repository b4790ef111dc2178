import {
  busyReason,
  isOwnStackGoneMessage,
  keysVerdict,
  LabKeyRecord,
  stackIdParts,
  StackRecord,
  watchInput,
  watchVerdict,
  WatchFacts,
} from '../../../lambda/deletion-watch/watch-end';

const DAY = 24 * 60 * 60 * 1000;
const NOW = new Date('2030-06-20T12:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const NAMES = ['kms-key-lab-primary', 'kms-key-lab-cloudhsm'];
const deleted = (name: string, at: Date): StackRecord => ({ name, status: 'DELETE_COMPLETE', deletionTime: at });
const facts = (stacks: StackRecord[], overrides: Partial<WatchFacts> = {}): WatchFacts => ({
  now: NOW,
  watchCreatedAt: ago(60 * DAY),
  keyStackNames: NAMES,
  stacks,
  pendingWindowDays: 7,
  ...overrides,
});

describe('watchVerdict', () => {
  test('a live key stack keeps the watch going, naming the stack and its status, with no end date', () => {
    const v = watchVerdict(facts([{ name: 'kms-key-lab-primary', status: 'UPDATE_COMPLETE' }, deleted('kms-key-lab-cloudhsm', ago(90 * DAY))]));
    expect(v).toEqual({ kind: 'watch', reason: 'key stack kms-key-lab-primary is UPDATE_COMPLETE' });
  });

  test.each(['ROLLBACK_COMPLETE', 'DELETE_FAILED', 'DELETE_IN_PROGRESS', 'CREATE_IN_PROGRESS', 'REVIEW_IN_PROGRESS'])(
    'a key stack in %s counts as standing',
    (status) => {
      const v = watchVerdict(facts([{ name: 'kms-key-lab-cloudhsm', status, deletionTime: ago(40 * DAY) }]));
      expect(v).toEqual({ kind: 'watch', reason: `key stack kms-key-lab-cloudhsm is ${status}` });
    },
  );

  test('older deleted stacks of the same name do not hide a live one', () => {
    const v = watchVerdict(
      facts([deleted('kms-key-lab-primary', ago(80 * DAY)), deleted('kms-key-lab-primary', ago(50 * DAY)), { name: 'kms-key-lab-primary', status: 'CREATE_COMPLETE' }]),
    );
    expect(v).toEqual({ kind: 'watch', reason: 'key stack kms-key-lab-primary is CREATE_COMPLETE' });
  });

  test('every standing key stack is named', () => {
    const v = watchVerdict(facts([{ name: 'kms-key-lab-primary', status: 'CREATE_COMPLETE' }, { name: 'kms-key-lab-cloudhsm', status: 'DELETE_FAILED' }]));
    expect(v.reason).toBe('key stack kms-key-lab-primary is CREATE_COMPLETE, kms-key-lab-cloudhsm is DELETE_FAILED');
  });

  test('stacks not named in keyStackNames are ignored', () => {
    const others = [
      { name: 'kms-key-lab-secondary', status: 'CREATE_COMPLETE' },
      { name: 'kms-key-lab-alarm-primary', status: 'CREATE_COMPLETE' },
      { name: 'kms-key-lab-primary-2', status: 'UPDATE_COMPLETE' },
    ];
    expect(watchVerdict(facts([...others, deleted('kms-key-lab-primary', ago(9 * DAY))])).kind).toBe('end');
    expect(watchVerdict(facts(others)).kind).toBe('end');
  });

  describe('after the key stacks are deleted', () => {
    test('the watch ends the window plus one day after the last deletion', () => {
      const last = ago(8 * DAY);
      const v = watchVerdict(facts([deleted('kms-key-lab-primary', last)]));
      expect(v).toEqual({
        kind: 'end',
        reason: `the key stacks were last deleted at ${last.toISOString()}; by the stacks' times every key they scheduled is past its pending window since ${NOW.toISOString()}`,
      });
    });

    test('exactly at the end it ends; one millisecond before it watches, reporting the end', () => {
      const last = new Date('2030-06-01T00:00:00Z');
      const endsAt = new Date('2030-06-09T00:00:00Z');
      const stacks = [deleted('kms-key-lab-primary', last)];
      expect(watchVerdict(facts(stacks, { now: endsAt })).kind).toBe('end');
      expect(watchVerdict(facts(stacks, { now: new Date(endsAt.getTime() - 1) }))).toEqual({
        kind: 'watch',
        reason: `the key stacks were last deleted at ${last.toISOString()}; their keys may be pending deletion until ${endsAt.toISOString()}`,
        endsAt,
      });
    });

    test('the latest deletion counts, across names and across deleted stacks of one name', () => {
      const stacks = [deleted('kms-key-lab-primary', ago(30 * DAY)), deleted('kms-key-lab-cloudhsm', ago(3 * DAY)), deleted('kms-key-lab-cloudhsm', ago(20 * DAY))];
      const v = watchVerdict(facts(stacks));
      expect(v).toMatchObject({ kind: 'watch', endsAt: new Date(NOW.getTime() + 5 * DAY) });
      // Listing order does not matter.
      expect(watchVerdict(facts([...stacks].reverse()))).toEqual(v);
    });

    test('the window is the configured one', () => {
      const stacks = [deleted('kms-key-lab-primary', ago(8 * DAY))];
      expect(watchVerdict(facts(stacks, { pendingWindowDays: 30 }))).toMatchObject({ kind: 'watch', endsAt: new Date(NOW.getTime() + 23 * DAY) });
    });

    test("a multi-Region primary's wait for its replicas is added in front of the window", () => {
      const stacks = [deleted('kms-key-lab-primary', ago(10 * DAY))];
      expect(watchVerdict(facts(stacks, { replicaPendingWindowDays: 7 }))).toMatchObject({ kind: 'watch', endsAt: new Date(NOW.getTime() + 5 * DAY) });
      expect(watchVerdict(facts(stacks, { replicaPendingWindowDays: 7, now: new Date(NOW.getTime() + 5 * DAY) })).kind).toBe('end');
    });

    test('a deleted stack without a DeletionTime keeps the watch going, with no end date', () => {
      const v = watchVerdict(facts([deleted('kms-key-lab-primary', ago(80 * DAY)), { name: 'kms-key-lab-cloudhsm', status: 'DELETE_COMPLETE' }]));
      expect(v).toEqual({
        kind: 'watch',
        reason: "key stack kms-key-lab-cloudhsm is DELETE_COMPLETE but CloudFormation gives no DeletionTime, so the end of its keys' pending window is unknown",
      });
    });

    test('deleted stacks of an earlier lab do not end a watch stack younger than a day', () => {
      const created = ago(2 * 60 * 60 * 1000);
      const v = watchVerdict(facts([deleted('kms-key-lab-primary', ago(60 * DAY))], { watchCreatedAt: created }));
      expect(v).toMatchObject({ kind: 'watch', endsAt: new Date(created.getTime() + DAY) });
    });
  });

  describe('with no key stack listed at all', () => {
    const reason = 'no key stack (kms-key-lab-primary, kms-key-lab-cloudhsm) in this Region: never deployed here, or deleted over 90 days ago';

    test('a watch stack older than a day ends', () => {
      expect(watchVerdict(facts([]))).toEqual({ kind: 'end', reason });
    });

    test('a younger one waits out the grace day, for key stacks a deploy is still creating', () => {
      const created = new Date('2030-06-20T00:00:00Z');
      const endsAt = new Date('2030-06-21T00:00:00Z');
      expect(watchVerdict(facts([], { watchCreatedAt: created, now: new Date(endsAt.getTime() - 1) }))).toEqual({
        kind: 'watch',
        reason: `${reason}; waiting until ${endsAt.toISOString()} in case a deploy is still creating them`,
        endsAt,
      });
      expect(watchVerdict(facts([], { watchCreatedAt: created, now: endsAt }))).toEqual({ kind: 'end', reason });
    });
  });
});

describe('busyReason', () => {
  test.each(['DELETE_IN_PROGRESS', 'DELETE_COMPLETE', 'UPDATE_IN_PROGRESS', 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS', 'CREATE_IN_PROGRESS'])('%s is busy', (s) => {
    expect(busyReason(s)).toContain(s);
  });

  test.each(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'DELETE_FAILED', 'UPDATE_ROLLBACK_FAILED'])('%s is not', (s) => {
    expect(busyReason(s)).toBeUndefined();
  });
});

describe('watchInput', () => {
  const ID = 'arn:aws:cloudformation:eu-west-1:111111111111:stack/kms-key-lab-alarm-primary/0c6e7b80-3a1f-11f0-9d3e-0a1b2c3d4e5f';
  const labTag = { key: 'kms-key-lab:lab', value: 'kms-key-lab' };
  const good = { watchStackId: ID, keyStackNames: ['kms-key-lab-primary'], pendingWindowDays: 7, labTag };

  test('accepts the contract, with no replica wait by default', () => {
    expect(watchInput(good)).toEqual({ ...good, replicaPendingWindowDays: 0 });
    expect(watchInput(good).labTag).toEqual({ key: 'kms-key-lab:lab', value: 'kms-key-lab' });
    expect(watchInput({ ...good, replicaPendingWindowDays: 14 }).replicaPendingWindowDays).toBe(14);
    expect(stackIdParts(ID)).toEqual({ region: 'eu-west-1', name: 'kms-key-lab-alarm-primary' });
  });

  test.each([
    [{ ...good, watchStackId: 'kms-key-lab-alarm-primary' }, 'watchStackId must be a stack id', '"kms-key-lab-alarm-primary"'],
    [{ ...good, watchStackId: undefined }, 'watchStackId', 'got undefined'],
    [{ ...good, keyStackNames: [] }, 'keyStackNames must be a non-empty list of stack names', 'got []'],
    [{ ...good, keyStackNames: 'kms-key-lab-primary' }, 'keyStackNames', '"kms-key-lab-primary"'],
    [{ ...good, keyStackNames: ['ok', ''] }, 'keyStackNames', '["ok",""]'],
    [{ ...good, pendingWindowDays: 6 }, 'pendingWindowDays must be a whole number of days from 7 to 30', 'got 6'],
    [{ ...good, pendingWindowDays: '7' }, 'pendingWindowDays', 'got "7"'],
    [{ ...good, pendingWindowDays: 7.5 }, 'pendingWindowDays', 'got 7.5'],
    [{ ...good, replicaPendingWindowDays: 31 }, 'replicaPendingWindowDays must be a whole number of days from 0 to 30', 'got 31'],
    [{ ...good, labTag: undefined }, 'labTag must be an object { "key": <tag key>, "value": <tag value> } of non-empty strings', 'got undefined'],
    [{ ...good, labTag: 'kms-key-lab:lab=kms-key-lab' }, 'labTag', '"kms-key-lab:lab=kms-key-lab"'],
    [{ ...good, labTag: { key: 'kms-key-lab:lab' } }, 'labTag', '{"key":"kms-key-lab:lab"}'],
    [{ ...good, labTag: { key: '', value: 'kms-key-lab' } }, 'labTag', '{"key":"","value":"kms-key-lab"}'],
    [{ ...good, labTag: { key: 'kms-key-lab:lab', value: 7 } }, 'labTag', '{"key":"kms-key-lab:lab","value":7}'],
    [{ ...good, labTag: [] }, 'labTag', 'got []'],
    [null, 'the input must be a JSON object', 'got null'],
  ])('refuses %j, naming the field and the value', (raw, field, value) => {
    expect(() => watchInput(raw)).toThrow(field);
    expect(() => watchInput(raw)).toThrow(value);
  });
});

describe('keysVerdict', () => {
  const key = (keyId: string, state: string, deletionDate?: Date): LabKeyRecord => ({ keyId, state, deletionDate });

  test('no lab key at all, or none being deleted, ends the watch', () => {
    expect(keysVerdict({ now: NOW, keys: [] })).toEqual({ kind: 'end', reason: 'no lab key in this Region is pending deletion' });
    const others = ['Enabled', 'Disabled', 'PendingImport', 'Unavailable', 'Creating', 'Updating'].map((s, i) => key(`k${i}`, s));
    expect(keysVerdict({ now: NOW, keys: others })).toEqual({ kind: 'end', reason: 'no lab key in this Region is pending deletion' });
  });

  test('a key waiting for its replica keeps the watch going, naming it, with no end date', () => {
    const keys = [key('mrk-1', 'PendingReplicaDeletion'), key('k2', 'PendingDeletion', ago(30 * DAY)), key('k3', 'Enabled')];
    expect(keysVerdict({ now: NOW, keys })).toEqual({
      kind: 'watch',
      reason: 'lab key mrk-1 is PendingReplicaDeletion: its pending window starts only once its replica in the other Region is deleted, so it has no deletion date yet',
    });
  });

  test('a key pending deletion holds the watch until a day after its deletion date; the latest date counts', () => {
    const date = new Date(NOW.getTime() + 4 * DAY);
    const keys = [key('k1', 'PendingDeletion', date), key('k2', 'PendingDeletion', ago(2 * DAY)), key('k3', 'Disabled')];
    const endsAt = new Date(NOW.getTime() + 5 * DAY);
    expect(keysVerdict({ now: NOW, keys })).toEqual({
      kind: 'watch',
      reason: `lab key k2 is pending deletion until ${ago(2 * DAY).toISOString()}, k1 is pending deletion until ${date.toISOString()}`,
      endsAt,
    });
    expect(keysVerdict({ now: new Date(endsAt.getTime() - 1), keys }).kind).toBe('watch');
    expect(keysVerdict({ now: endsAt, keys })).toEqual({
      kind: 'end',
      reason: `no lab key in this Region is pending deletion within its window: the last deletion date, ${date.toISOString()} (key k1), is over 1 day past`,
    });
  });

  test('a key pending deletion without a date, or a key without a state, keeps the watch going', () => {
    expect(keysVerdict({ now: NOW, keys: [key('k1', 'PendingDeletion')] })).toEqual({
      kind: 'watch',
      reason: 'lab key k1 is PendingDeletion but KMS gives no DeletionDate',
    });
    expect(keysVerdict({ now: NOW, keys: [{ keyId: 'k1' }] })).toEqual({ kind: 'watch', reason: 'KMS gives no key state for lab key k1' });
  });
});

describe('isOwnStackGoneMessage', () => {
  const ID = 'arn:aws:cloudformation:eu-west-1:111111111111:stack/kms-key-lab-alarm-primary/0c6e7b80-3a1f-11f0-9d3e-0a1b2c3d4e5f';
  const NEWER = 'arn:aws:cloudformation:eu-west-1:111111111111:stack/kms-key-lab-alarm-primary/99999999-3a1f-11f0-9d3e-0a1b2c3d4e5f';

  test.each([`Stack with id ${ID} does not exist`, `Stack with id ${ID} does not exist.`, 'Stack with id kms-key-lab-alarm-primary does not exist', "Stack 'kms-key-lab-alarm-primary' does not exist"])(
    '%s: this stack is gone',
    (message) => expect(isOwnStackGoneMessage(message, ID)).toBe(true),
  );

  test.each([
    `Stack with id ${NEWER} does not exist`,
    'Stack with id kms-key-lab-alarm-primary-2 does not exist',
    'Stack with id kms-key-lab-alarm-secondary does not exist',
    'Role arn:aws:iam::111111111111:role/cdk-cfn-exec does not exist',
    `Stack [${ID}] cannot be deleted while TerminationProtection is enabled`,
    'does not exist',
  ])('%s: not this stack, or not gone', (message) => expect(isOwnStackGoneMessage(message, ID)).toBe(false));
});
