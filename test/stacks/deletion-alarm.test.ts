import { Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { watchInput } from '../../lambda/deletion-watch/watch-end';
import { PENDING_DELETION_FILTER_PATTERN } from '../../lib/monitoring/pending-deletion-alarm';
import { resourcesOfType, synthLab } from '../helpers/lab';

const ALARM_TYPES = ['AWS::CloudTrail::Trail', 'AWS::Logs::MetricFilter', 'AWS::CloudWatch::Alarm', 'AWS::SNS::Topic', 'AWS::Events::Rule'];

/** The watch rule's constant input, with the stack's own id left as the token CloudFormation resolves. */
function watchInputOf(t: Template): { watchStackId: unknown; keyStackNames: string[]; pendingWindowDays: number; replicaPendingWindowDays: number; labTag: unknown } {
  const rules = Object.values(resourcesOfType(t, 'AWS::Events::Rule'));
  expect(rules).toHaveLength(1);
  const targets = rules[0].Properties.Targets as { Input: unknown }[];
  expect(targets).toHaveLength(1);
  // fromObject with a token renders as Fn::Join; resolve only the stack id, the rest is literal JSON.
  const input = targets[0].Input as { 'Fn::Join': [string, unknown[]] };
  const text = input['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '"<STACK_ID>"')).join('');
  const parsed = JSON.parse(text.replace(/""<STACK_ID>""/, '"<STACK_ID>"'));
  expect(input['Fn::Join'][1]).toContainEqual({ Ref: 'AWS::StackId' });
  return parsed;
}

describe('alarm on use of a key pending deletion, in stacks of its own', () => {
  // Synthesis is the slow part: each lab is built once and shared by the tests that read it.
  const on = synthLab({ deletionAlarm: true, deletionAlarmEmail: 'ops@example.com', owner: 'platform', pendingWindowDays: 10 });
  const alarms = on.deletionAlarms!;

  test('is off by default: no alarm stacks, and nothing of the alarm in the key stacks', () => {
    const off = synthLab();
    expect(off.lab.deletionAlarms).toBeUndefined();
    expect(off.app.node.children.map((c) => c.node.id).filter((id) => id.includes('alarm'))).toEqual([]);
    for (const t of [off.primary, off.secondary]) for (const type of ALARM_TYPES) t.resourceCountIs(type, 0);
  });

  test('-c deletionAlarm=true adds one stack per Region, each watching its own Region, and the key stacks hold none of it', () => {
    const { primary, secondary } = on.lab.deletionAlarms!;
    expect([primary.stackName, primary.region, secondary.stackName, secondary.region]).toEqual([
      'kms-key-lab-alarm-primary',
      'ap-southeast-1',
      'kms-key-lab-alarm-secondary',
      'ap-southeast-2',
    ]);
    for (const t of [alarms.primary, alarms.secondary]) {
      t.resourceCountIs('AWS::CloudTrail::Trail', 1);
      t.hasResourceProperties('AWS::CloudTrail::Trail', { IsMultiRegionTrail: false, CloudWatchLogsLogGroupArn: Match.anyValue() });
      t.hasResourceProperties('AWS::Logs::MetricFilter', { FilterPattern: PENDING_DELETION_FILTER_PATTERN });
      t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'kms-key-lab-pending-deletion-use', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
      t.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'kms-key-lab-pending-deletion-use' });
      expect(Object.keys(t.findOutputs('*')).sort()).toEqual([
        'PendingDeletionAlarmName',
        'PendingDeletionLogGroupName',
        'PendingDeletionTopicArn',
        'PendingDeletionTrailArn',
        'PendingDeletionWatchedStacks',
      ]);
    }
    for (const t of [on.primary, on.secondary]) for (const type of ALARM_TYPES) t.resourceCountIs(type, 0);
  });

  test('no stack depends on an alarm stack, nor an alarm stack on any: destroying the keys leaves the alarm, and the reverse', () => {
    const { lab } = on;
    const alarmStacks = [lab.deletionAlarms!.primary, lab.deletionAlarms!.secondary];
    for (const stack of [lab.primary, lab.secondary, lab.roles, ...alarmStacks]) {
      for (const dependency of stack.dependencies) expect(alarmStacks).not.toContain(dependency);
    }
    for (const stack of alarmStacks) expect(stack.dependencies).toEqual([]);
  });

  test('each watch is asked every 6 hours, with its own stack id, the key stacks of its Region and the windows its keys wait', () => {
    for (const t of [alarms.primary, alarms.secondary]) {
      t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(6 hours)', State: 'ENABLED' });
    }
    expect(watchInputOf(alarms.primary)).toEqual({
      watchStackId: '<STACK_ID>',
      keyStackNames: ['kms-key-lab-primary', 'kms-key-lab-cloudhsm'],
      pendingWindowDays: 10,
      // The multi-Region primaries of (b) and (e) start their window only once their replicas are deleted.
      replicaPendingWindowDays: 10,
      labTag: { key: 'kms-key-lab:lab', value: 'kms-key-lab' },
    });
    expect(watchInputOf(alarms.secondary)).toEqual({
      watchStackId: '<STACK_ID>',
      keyStackNames: ['kms-key-lab-secondary'],
      pendingWindowDays: 10,
      replicaPendingWindowDays: 0,
      labTag: { key: 'kms-key-lab:lab', value: 'kms-key-lab' },
    });
  });

  test('the function accepts the input the template gives it, once CloudFormation has put the stack id in', () => {
    const id = 'arn:aws:cloudformation:ap-southeast-1:111111111111:stack/kms-key-lab-alarm-primary/0f1e2d3c-3a1f-11f0-9d3e-0a1b2c3d4e5f';
    expect(watchInput({ ...watchInputOf(alarms.primary), watchStackId: id })).toEqual({
      watchStackId: id,
      keyStackNames: ['kms-key-lab-primary', 'kms-key-lab-cloudhsm'],
      pendingWindowDays: 10,
      replicaPendingWindowDays: 10,
      labTag: { key: 'kms-key-lab:lab', value: 'kms-key-lab' },
    });
  });

  test('the watch function may list stacks and keys, describe and delete only its own stack, and read only the tags and state of keys', () => {
    for (const t of [alarms.primary, alarms.secondary]) {
      const fns = Object.values(resourcesOfType(t, 'AWS::Lambda::Function')).filter((f) => f.Properties.Handler === 'index.onSchedule');
      expect(fns).toHaveLength(1);
      expect(fns[0].Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Timeout: 300 });
      const roleId = fns[0].Properties.Role['Fn::GetAtt'][0];
      const statements = Object.values(resourcesOfType(t, 'AWS::IAM::Policy'))
        .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
      const cloudFormation = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('cloudformation:') || a.startsWith('kms:')));
      const region = t === alarms.primary ? 'ap-southeast-1' : 'ap-southeast-2';
      expect(cloudFormation).toEqual([
        expect.objectContaining({ Action: ['cloudformation:DeleteStack', 'cloudformation:DescribeStacks'], Resource: { Ref: 'AWS::StackId' } }),
        expect.objectContaining({ Action: ['cloudformation:ListStacks', 'kms:ListKeys'], Resource: '*' }),
        expect.objectContaining({
          Action: ['kms:DescribeKey', 'kms:ListResourceTags'],
          Resource: { 'Fn::Join': ['', [`arn:aws:kms:${region}:`, { Ref: 'AWS::AccountId' }, ':key/*']] },
        }),
      ]);
      const others = statements.filter((s) => !cloudFormation.includes(s)).flatMap((s) => [s.Action].flat());
      expect(others.every((a) => a.startsWith('logs:'))).toBe(true);
    }
  });

  test('a failed run of the watch raises an alarm on the same topic, which the topic lets both alarms publish to', () => {
    for (const t of [alarms.primary, alarms.secondary]) {
      const failing = Object.entries(resourcesOfType(t, 'AWS::CloudWatch::Alarm')).filter(([, a]) => a.Properties.MetricName === 'Errors');
      expect(failing).toHaveLength(1);
      const [failingId, failingAlarm] = failing[0];
      expect(failingAlarm.Properties).toMatchObject({ Namespace: 'AWS/Lambda', Statistic: 'Sum', Period: 21600, Threshold: 1, TreatMissingData: 'notBreaching' });
      const [topicId] = Object.keys(resourcesOfType(t, 'AWS::SNS::Topic'));
      expect(failingAlarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      const policy = Object.values(resourcesOfType(t, 'AWS::SNS::TopicPolicy'))[0];
      const sources = (policy.Properties.PolicyDocument.Statement as { Condition?: { ArnEquals?: Record<string, unknown> } }[])
        .map((s) => s.Condition?.ArnEquals?.['aws:SourceArn'])
        .filter(Boolean);
      expect(sources).toContainEqual({ 'Fn::GetAtt': [failingId, 'Arn'] });
      expect(sources).toHaveLength(2);
    }
  });

  test('the bucket is deleted before the watch: a self-deletion stopped at the bucket leaves the watch to ask again', () => {
    for (const t of [alarms.primary, alarms.secondary]) {
      const [, bucket] = Object.entries(resourcesOfType(t, 'AWS::S3::Bucket'))[0];
      const watchIds = ['AWS::Lambda::Function', 'AWS::Events::Rule', 'AWS::CloudWatch::Alarm']
        .flatMap((type) => Object.keys(resourcesOfType(t, type)))
        .filter((id) => id.startsWith('Watch'));
      expect(watchIds.length).toBe(3);
      expect(bucket.DependsOn).toEqual(expect.arrayContaining(watchIds));
    }
  });

  test('an address subscribes to the topic in both Regions, and the alarm needs one', () => {
    for (const t of [alarms.primary, alarms.secondary]) {
      t.resourceCountIs('AWS::SNS::Subscription', 1);
      t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    }
    // Without one the synth fails: nobody would hear the alarm, nor a failed self-deletion (test/config/lab-config.test.ts).
    expect(() => synthLab({ deletionAlarm: true })).toThrow(/Invalid setting "deletionAlarmEmail"/);
  });

  test('the trail, its bucket and log groups carry the lab tags and go with the stack', () => {
    for (const t of [alarms.primary, alarms.secondary]) {
      t.hasResourceProperties('AWS::CloudTrail::Trail', {
        Tags: Match.arrayWith([{ Key: 'kms-key-lab:lab', Value: 'kms-key-lab' }, { Key: 'kms-key-lab:owner', Value: 'platform' }]),
      });
      for (const group of Object.values(resourcesOfType(t, 'AWS::Logs::LogGroup'))) {
        expect(group.DeletionPolicy).toBe('Delete');
        expect(group.Properties.RetentionInDays).toBe(30);
      }
      t.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    }
  });

  test('cdk-nag finds nothing unacknowledged in either Region, and each acknowledgement gives its reason', () => {
    for (const stack of [on.lab.deletionAlarms!.primary, on.lab.deletionAlarms!.secondary] as Stack[]) {
      expect(new AwsSolutionsChecks(stack).validateScope(stack).violations).toEqual([]);
      const acknowledged = stack.node
        .findAll()
        .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => m.data))
        .flatMap((data) => Object.entries(data as Record<string, string>))
        .filter(([id]) => id.startsWith('Annotation::AwsSolutions-'));
      expect(acknowledged.map(([id]) => id).sort()).toEqual([
        'Annotation::AwsSolutions-IAM5[Resource::*]',
        `Annotation::AwsSolutions-IAM5[Resource::arn:aws:kms:${stack.region}:<AWS::AccountId>:key/*]`,
        'Annotation::AwsSolutions-S1',
      ]);
      for (const [, reason] of acknowledged) expect(reason.length).toBeGreaterThan(40);
    }
  });
});
