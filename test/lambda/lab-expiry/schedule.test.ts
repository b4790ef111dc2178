import { deleteStackTarget, expiryAt } from '../../../lambda/lab-expiry/schedule';

describe('expiryAt', () => {
  test('adds the hours and rounds up to the next whole minute, in UTC', () => {
    expect(expiryAt(new Date('2030-06-01T08:00:25.500Z'), 8)).toEqual({ startDate: new Date('2030-06-01T16:01:00Z'), expiresAt: '2030-06-01T16:01:00Z' });
  });

  test('a time already on the minute stays as it is', () => {
    expect(expiryAt(new Date('2030-06-01T08:00:00Z'), 1)).toEqual({ startDate: new Date('2030-06-01T09:00:00Z'), expiresAt: '2030-06-01T09:00:00Z' });
  });

  test('crosses midnight and month ends', () => {
    expect(expiryAt(new Date('2030-06-30T20:30:00Z'), 48).expiresAt).toBe('2030-07-02T20:30:00Z');
  });
});

describe('deleteStackTarget', () => {
  test("is Scheduler's universal target for CloudFormation DeleteStack, with the stack name as input and bounded retries", () => {
    expect(deleteStackTarget('kms-key-lab-cloudhsm', 'arn:aws:iam::111111111111:role/r')).toEqual({
      Arn: 'arn:aws:scheduler:::aws-sdk:cloudformation:deleteStack',
      RoleArn: 'arn:aws:iam::111111111111:role/r',
      Input: '{"StackName":"kms-key-lab-cloudhsm"}',
      RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
    });
  });
});
