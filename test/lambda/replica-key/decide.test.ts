import { afterCancel, createStep, deleteStep, replicaArnOf, replicaProperties, stackNameOf } from '../../../lambda/replica-key/decide';

const ME = 'arn:aws:cloudformation:ap-southeast-2:111122223333:stack/lab-secondary/guid/MultiRegionReplica';
const ARN = 'arn:aws:kms:ap-southeast-2:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab';
const replica = (KeyState: string, Origin = 'AWS_KMS') => ({ Arn: ARN, KeyState, Origin, MultiRegionConfiguration: { MultiRegionKeyType: 'REPLICA' } });

describe('createStep', () => {
  test('no replica in the Region: replicate', () => {
    expect(createStep(undefined, undefined, ME, 'lab-secondary')).toEqual({ action: 'replicate' });
  });

  test.each([undefined, ME, 'someone else'])('a replica pending deletion is adopted whoever owned it (owner %s)', (owner) => {
    expect(createStep(replica('PendingDeletion'), owner, ME, 'lab-secondary')).toEqual({ action: 'adopt' });
  });

  test.each(['Enabled', 'Disabled', 'PendingImport', 'Creating'])('a live (%s) replica this resource owns converges', (state) => {
    expect(createStep(replica(state), ME, ME, 'lab-secondary')).toEqual({ action: 'converge' });
  });

  test('a live replica without an owner tag is refused, with the stack to destroy', () => {
    const step = createStep(replica('Enabled'), undefined, ME, 'lab-secondary');
    expect(step.action).toBe('refuse');
    expect(step.action === 'refuse' && step.reason).toContain('`npx cdk destroy lab-secondary`');
  });

  test('a key with that id that is not a replica is refused', () => {
    expect(createStep({ Arn: ARN, KeyState: 'Enabled', MultiRegionConfiguration: { MultiRegionKeyType: 'PRIMARY' } }, ME, ME, 's')).toMatchObject({ action: 'refuse' });
  });
});

describe('afterCancel', () => {
  test('a cancelled replica of generated material is enabled; one of imported material is left for the import', () => {
    expect(afterCancel(replica('Disabled'))).toEqual({ action: 'enable' });
    expect(afterCancel(replica('Disabled', 'EXTERNAL'))).toEqual({ action: 'await-import' });
    expect(afterCancel(replica('PendingImport', 'EXTERNAL'))).toEqual({ action: 'none' });
  });
});

describe('deleteStep', () => {
  test('schedules only a live replica this resource owns', () => {
    expect(deleteStep(replica('Enabled'), ME, ME)).toEqual({ action: 'schedule' });
    expect(deleteStep(replica('Enabled'), 'other', ME)).toMatchObject({ action: 'keep' });
    expect(deleteStep(replica('Enabled'), undefined, ME)).toMatchObject({ action: 'keep' });
    expect(deleteStep(replica('PendingDeletion'), ME, ME)).toMatchObject({ action: 'keep' });
    expect(deleteStep(undefined, undefined, ME)).toMatchObject({ action: 'keep', reason: 'the replica is already gone' });
  });
});

describe('properties', () => {
  test("the replica's ARN is the primary's in this Region", () => {
    expect(replicaArnOf(ARN.replace('ap-southeast-2', 'ap-southeast-1'), 'ap-southeast-2')).toBe(ARN);
    expect(() => replicaArnOf('alias/x', 'ap-southeast-2')).toThrow('PrimaryKeyArn alias/x is not a KMS key ARN');
  });

  test('a pending window outside 7 to 30 names the property, the value and what is accepted', () => {
    const props = { PrimaryKeyArn: ARN, KeyPolicy: { Statement: [] }, PendingWindowDays: '31' };
    expect(() => replicaProperties(props)).toThrow('Custom::LabReplicaKey: resource property PendingWindowDays is "31"; accepted: a whole number from 7 to 30.');
  });

  test('the stack name comes from the stack id', () => {
    expect(stackNameOf('arn:aws:cloudformation:ap-southeast-2:1:stack/lab-secondary/guid')).toBe('lab-secondary');
  });
});
