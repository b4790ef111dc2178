import { judgeReplicas, judgeStack, judgeTrails, ReplicaFacts } from '../../cli/preflight/judge';

const replicaFacts = (state: string): ReplicaFacts => ({
  region: 'ap-southeast-2',
  secondaryStackName: 'kms-key-lab-secondary',
  secondaryDeployed: false,
  primaryDeployed: true,
  replicas: [{ label: '(b)', primaryArn: 'arn:aws:kms:ap-southeast-1:111122223333:key/mrk-1', replicaArn: 'arn:aws:kms:ap-southeast-2:111122223333:key/mrk-1', state }],
});

describe('preflight judgements', () => {
  test('a replica pending deletion outside the secondary stack is a WARN: the deploy adopts it', () => {
    const check = judgeReplicas(replicaFacts('PendingDeletion'));
    expect(check.result).toBe('WARN');
    expect(check.detail).toContain('outside kms-key-lab-secondary: the deploy adopts it (cancels its deletion');
  });

  test('a live replica outside the secondary stack fails: the deploy adopts only a replica pending deletion', () => {
    const check = judgeReplicas(replicaFacts('Enabled'));
    expect(check.result).toBe('FAIL');
    expect(check.detail).toContain('the deploy adopts only a replica pending deletion');
    expect(check.action).toContain('aws kms schedule-key-deletion --key-id <replica arn> --pending-window-in-days 7 --region ap-southeast-2');
  });

  test('a read that failed is UNKNOWN, never PASS', () => {
    const check = judgeTrails({ region: 'ap-southeast-1', trails: { failed: 'DescribeTrails failed: throttled' }, labTrailName: 'kms-key-lab-pending-deletion-use' });
    expect(check.result).toBe('UNKNOWN');
    expect(check.detail).toBe('could not be checked: DescribeTrails failed: throttled');
  });

  test.each([
    ['REVIEW_IN_PROGRESS', 'FAIL'],
    ['IMPORT_ROLLBACK_FAILED', 'FAIL'],
    ['IMPORT_COMPLETE', 'PASS'],
    ['UPDATE_COMPLETE', 'PASS'],
  ])('a stack in %s is %s', (status, result) => {
    expect(judgeStack('kms-key-lab-primary', 'ap-southeast-1', status).result).toBe(result);
  });
});
