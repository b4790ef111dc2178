import {
  escrowRecoveryWindowDays,
  MAX_MULTI_REGION_ESCROWED_KEY_PENDING_WINDOW_DAYS,
  replicationStep,
  MANAGED_BY_TAG,
  managedByValue,
  PREVIOUS_MANAGED_BY_TAG,
  priorState,
  releaseDecision,
  scheduleAfterFailure,
  secretState,
} from '../../../lambda/shared/secret-lifecycle';

const ME = managedByValue({ StackId: 'arn:aws:cloudformation:ap-southeast-1:1:stack/lab/guid', LogicalResourceId: 'Import' });
const OTHER = managedByValue({ StackId: 'arn:aws:cloudformation:ap-southeast-1:1:stack/lab/guid', LogicalResourceId: 'ImportRenamed' });
const live = (managedBy?: string) =>
  secretState({ ARN: 'arn:s', Tags: managedBy ? [{ Key: MANAGED_BY_TAG, Value: managedBy }] : [] });

describe('who owns a lab secret', () => {
  test('the owner identity is the stack and the logical id, in characters a tag value accepts', () => {
    expect(ME).toBe('arn:aws:cloudformation:ap-southeast-1:1:stack/lab/guid/Import');
    expect(ME).toMatch(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$/u);
  });

  test('DescribeSecret output is read into exists, schedule and owner', () => {
    expect(secretState(undefined)).toEqual({ exists: false });
    expect(secretState({ ARN: 'arn:s', DeletedDate: new Date(0) })).toEqual({ exists: true, arn: 'arn:s', scheduledForDeletion: true, managedBy: undefined, previousManagedBy: undefined });
    expect(live(ME)).toEqual({ exists: true, arn: 'arn:s', scheduledForDeletion: false, managedBy: ME, previousManagedBy: undefined });
  });
});

describe('releaseDecision', () => {
  test('the owner schedules its secret', () => {
    expect(releaseDecision(live(ME), ME)).toEqual({ action: 'schedule' });
  });
  test('a secret with no owner tag is scheduled: nothing proves another resource uses it', () => {
    expect(releaseDecision(live(), ME)).toEqual({ action: 'schedule' });
  });
  test('a secret another resource took over is kept', () => {
    expect(releaseDecision(live(OTHER), ME)).toEqual({ action: 'keep', reason: `the secret is now owned by ${OTHER}` });
  });
  test('a takeover rolled back: the new owner’s Delete hands the secret back instead of scheduling it', () => {
    const takenOver = secretState({ ARN: 'arn:s', Tags: [{ Key: MANAGED_BY_TAG, Value: OTHER }, { Key: PREVIOUS_MANAGED_BY_TAG, Value: ME }] });
    expect(releaseDecision(takenOver, OTHER)).toEqual({ action: 'hand-back', to: ME });
  });
  test('a takeover settled: the old owner’s Delete only drops the hand-back note', () => {
    const takenOver = secretState({ ARN: 'arn:s', Tags: [{ Key: MANAGED_BY_TAG, Value: OTHER }, { Key: PREVIOUS_MANAGED_BY_TAG, Value: ME }] });
    expect(releaseDecision(takenOver, ME)).toEqual({ action: 'settle-takeover', owner: OTHER });
  });
  test('a secret already gone or scheduled needs nothing', () => {
    expect(releaseDecision({ exists: false }, ME).action).toBe('keep');
    expect(releaseDecision(secretState({ ARN: 'arn:s', DeletedDate: new Date() }), ME).action).toBe('keep');
  });
});

describe('after a failed Create or Update', () => {
  test.each([
    ['absent', true],
    ['scheduled', true],
    ['live', false],
  ] as const)('a secret that was %s before is scheduled again: %s', (prior, schedule) => {
    expect(scheduleAfterFailure(prior)).toBe(schedule);
  });
  test('prior state follows DescribeSecret', () => {
    expect(priorState({ exists: false })).toBe('absent');
    expect(priorState(secretState({ ARN: 'a', DeletedDate: new Date() }))).toBe('scheduled');
    expect(priorState(live(ME))).toBe('live');
  });
});

describe('escrowRecoveryWindowDays', () => {
  const now = new Date('2026-11-23T00:00:00Z');
  test.each([
    [7, 8],
    [21, 22],
    [29, 30],
    [30, 30],
  ])('a key waiting %i days gives an escrow window of %i', (keyDays, window) => {
    expect(escrowRecoveryWindowDays(keyDays, undefined, now)).toBe(window);
  });
  test('a key already scheduled is outlived by a day from its deletion date', () => {
    expect(escrowRecoveryWindowDays(7, new Date('2026-12-03T12:00:00Z'), now)).toBe(12);
  });
  test('the window stays within Secrets Manager bounds', () => {
    expect(escrowRecoveryWindowDays(7, new Date('2026-11-24T00:00:00Z'), now)).toBe(7);
    expect(escrowRecoveryWindowDays(7, new Date('2027-02-01T00:00:00Z'), now)).toBe(30);
  });
});

describe('replicated secrets (scenario e)', () => {
  const withReplicas = (...status: [string, string][]) =>
    secretState({ ARN: 'arn:s', ReplicationStatus: status.map(([Region, Status]) => ({ Region, Status, StatusMessage: Status === 'Failed' ? 'Destination secret already exists.' : undefined })) });

  test('DescribeSecret’s ReplicationStatus is read into the replicas; a secret without any has none', () => {
    expect(withReplicas(['ap-southeast-2', 'InSync'])).toMatchObject({ replicas: [{ region: 'ap-southeast-2', status: 'InSync' }] });
    expect(secretState({ ARN: 'arn:s' })).not.toHaveProperty('replicas');
  });

  test.each([
    ['a replica in place', withReplicas(['ap-southeast-2', 'InSync']), { action: 'none' }],
    ['a replica still being made', withReplicas(['ap-southeast-2', 'InProgress']), { action: 'none' }],
    ['no replica (a restored secret)', secretState({ ARN: 'arn:s' }), { action: 'replicate', regions: ['ap-southeast-2'] }],
    ['a replica only elsewhere', withReplicas(['eu-west-1', 'InSync']), { action: 'replicate', regions: ['ap-southeast-2'] }],
    ['a failed replica', withReplicas(['ap-southeast-2', 'Failed']), { action: 'failed', region: 'ap-southeast-2', reason: 'Destination secret already exists.' }],
  ])('replicationStep with %s', (_name, state, step) => {
    expect(replicationStep(state, ['ap-southeast-2'])).toEqual(step);
  });

  test('a multi-Region primary’s escrow covers the replica’s window and then the primary’s own, plus a day', () => {
    const now = new Date('2026-11-23T00:00:00Z');
    expect(escrowRecoveryWindowDays(7, undefined, now, 7)).toBe(15);
    expect(escrowRecoveryWindowDays(14, undefined, now, 14)).toBe(29);
    // Once the primary has its own deletion date, that date decides.
    expect(escrowRecoveryWindowDays(7, new Date(now.getTime() + 5 * 24 * 3600 * 1000), now, 7)).toBe(7);
    expect(escrowRecoveryWindowDays(10, new Date(now.getTime() + 10 * 24 * 3600 * 1000), now, 10)).toBe(11);
  });

  test('both keys of a multi-Region set wait at most 14 days, so their escrow (2W+1) fits in 30', () => {
    expect(MAX_MULTI_REGION_ESCROWED_KEY_PENDING_WINDOW_DAYS).toBe(14);
    expect(2 * MAX_MULTI_REGION_ESCROWED_KEY_PENDING_WINDOW_DAYS + 1).toBeLessThanOrEqual(30);
  });
});
