import { Stack, Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PENDING_DELETION_FILTER_PATTERN } from '../../lib/monitoring/pending-deletion-alarm';
import { synthLab } from '../helpers/lab';

const ALARM_TYPES = ['AWS::CloudTrail::Trail', 'AWS::Logs::MetricFilter', 'AWS::CloudWatch::Alarm', 'AWS::SNS::Topic'];

describe('alarm on use of a key pending deletion, in the lab', () => {
  // Synthesis is the slow part: each lab is built once and shared by the tests that read it.
  const withEmail = synthLab({ deletionAlarm: true, deletionAlarmEmail: 'ops@example.com', owner: 'platform' });

  test('is off by default: no trail, filter, alarm or topic in either Region', () => {
    const { primary, secondary } = synthLab();
    for (const t of [primary, secondary]) for (const type of ALARM_TYPES) t.resourceCountIs(type, 0);
  });

  test('-c deletionAlarm=true adds it in both Regions, each watching its own Region', () => {
    const { primary, secondary, lab } = synthLab({ deletionAlarm: true });
    for (const [t, stack] of [[primary, lab.primary], [secondary, lab.secondary]] as const) {
      t.resourceCountIs('AWS::CloudTrail::Trail', 1);
      t.hasResourceProperties('AWS::CloudTrail::Trail', { IsMultiRegionTrail: false, CloudWatchLogsLogGroupArn: Match.anyValue() });
      t.hasResourceProperties('AWS::Logs::MetricFilter', { FilterPattern: PENDING_DELETION_FILTER_PATTERN });
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'kms-key-lab-key-pending-deletion-used',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      t.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'kms-key-lab-key-pending-deletion-used' });
      t.resourceCountIs('AWS::SNS::Subscription', 0);
      expect(Object.keys(t.findOutputs('*')).filter((k) => k.startsWith('PendingDeletion')).sort()).toEqual([
        'PendingDeletionAlarmName',
        'PendingDeletionLogGroupName',
        'PendingDeletionTopicArn',
        'PendingDeletionTrailArn',
      ]);
      expect(stack.pendingDeletionAlarm).toBeDefined();
    }
  });

  test('an address subscribes to the topic in both Regions', () => {
    const { primary, secondary } = withEmail;
    for (const t of [primary, secondary]) {
      t.resourceCountIs('AWS::SNS::Subscription', 1);
      t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    }
  });

  test('the trail, its bucket and log group carry the lab tags and go with the stack', () => {
    const { primary } = withEmail;
    primary.hasResourceProperties('AWS::CloudTrail::Trail', {
      Tags: Match.arrayWith([{ Key: 'kms-key-lab:lab', Value: 'kms-key-lab' }, { Key: 'kms-key-lab:owner', Value: 'platform' }]),
    });
    primary.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete', Properties: { RetentionInDays: 30 } });
    primary.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
  });

  test('cdk-nag finds nothing unacknowledged in either Region, and each acknowledgement gives its reason', () => {
    const { lab } = withEmail;
    for (const stack of [lab.primary, lab.secondary] as Stack[]) {
      expect(new AwsSolutionsChecks(stack).validateScope(stack).violations).toEqual([]);
      const reasons = stack.node
        .findAll()
        .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => m.data))
        .flatMap((data) => Object.entries(data as Record<string, string>))
        .filter(([id]) => id === 'Annotation::AwsSolutions-S1');
      expect(reasons).toHaveLength(1);
      expect(reasons[0][1].length).toBeGreaterThan(40);
    }
  });
});
