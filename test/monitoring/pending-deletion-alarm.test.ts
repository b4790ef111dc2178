import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PendingDeletionAlarm, PendingDeletionAlarmProps } from '../../lib/monitoring/pending-deletion-alarm';
import { CDK_JSON_CONTEXT, resourcesOfType } from '../helpers/lab';
import { matchesJsonFilterPattern } from './json-filter-pattern';

/** A stack that holds the construct and nothing else, under the app's feature flags. */
function synthAlarm(props: Partial<PendingDeletionAlarmProps> = {}) {
  const app = new App({ context: CDK_JSON_CONTEXT });
  const stack = new Stack(app, 'AlarmOnly', { env: { region: 'ap-southeast-1' } });
  const construct = new PendingDeletionAlarm(stack, 'PendingDeletionAlarm', { prefix: 'kms-key-lab', ...props });
  construct.addOutputs(stack);
  return { stack, construct, template: Template.fromStack(stack) };
}

const onlyOf = (template: Template, type: string) => {
  const found = Object.entries(resourcesOfType(template, type));
  expect(found).toHaveLength(1);
  return found[0];
};

describe('PendingDeletionAlarm', () => {
  const { stack, template } = synthAlarm();
  const [logGroupId, logGroup] = onlyOf(template, 'AWS::Logs::LogGroup');
  const [trailId, trail] = onlyOf(template, 'AWS::CloudTrail::Trail');
  const [bucketId, bucket] = onlyOf(template, 'AWS::S3::Bucket');
  const [topicId, topic] = onlyOf(template, 'AWS::SNS::Topic');
  const [alarmId, alarm] = onlyOf(template, 'AWS::CloudWatch::Alarm');
  const [, filter] = onlyOf(template, 'AWS::Logs::MetricFilter');

  test('the trail is single-Region, records all management events and delivers to the bucket and the log group', () => {
    expect(trail.Properties).toMatchObject({
      IsMultiRegionTrail: false,
      IncludeGlobalServiceEvents: false,
      IsLogging: true,
      EnableLogFileValidation: true,
      TrailName: 'kms-key-lab-pending-deletion-use',
      EventSelectors: [{ IncludeManagementEvents: true, ReadWriteType: 'All' }],
      S3BucketName: { Ref: bucketId },
      CloudWatchLogsLogGroupArn: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
    });
    expect(trail.Properties.KMSKeyId).toBeUndefined();
  });

  test('the delivery role can only create streams in and put events to this log group', () => {
    const roleId: string = trail.Properties.CloudWatchLogsRoleArn['Fn::GetAtt'][0];
    expect(trail.Properties.CloudWatchLogsRoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    const role = resourcesOfType(template, 'AWS::IAM::Role')[roleId];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' } },
    ]);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const policies = Object.values(resourcesOfType(template, 'AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes(roleId),
    );
    expect(policies).toHaveLength(1);
    expect(policies[0].Properties.PolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
      },
    ]);
  });

  test('the log group keeps a month and is deleted with the stack', () => {
    expect(logGroup.Properties).toEqual({ LogGroupName: '/kms-key-lab/cloudtrail/pending-deletion-use', RetentionInDays: 30 });
    expect(logGroup.DeletionPolicy).toBe('Delete');
    expect(logGroup.UpdateReplacePolicy).toBe('Delete');
  });

  test('the metric filter applies the documented pattern and counts 1 per match, without a default value', () => {
    expect(filter.Properties).toEqual({
      LogGroupName: { Ref: logGroupId },
      FilterPattern: '{ $.eventSource = kms* && $.errorMessage = "* is pending deletion."}',
      MetricTransformations: [
        { MetricNamespace: 'kms-key-lab/CloudTrailLogMetrics', MetricName: 'KMSKeyPendingDeletionErrorCount', MetricValue: '1' },
      ],
    });
  });

  test('the alarm fires on one match in five minutes, takes no data as good, and notifies the topic', () => {
    expect(alarm.Properties).toMatchObject({
      AlarmName: 'kms-key-lab-pending-deletion-use',
      Namespace: 'kms-key-lab/CloudTrailLogMetrics',
      MetricName: 'KMSKeyPendingDeletionErrorCount',
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: topicId }],
    });
  });

  test('the topic is named after the prefix, has no encryption key, and takes publishes over TLS only', () => {
    expect(topic.Properties).toMatchObject({ TopicName: 'kms-key-lab-pending-deletion-use' });
    expect(topic.Properties.KmsMasterKeyId).toBeUndefined();
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Principal: '*',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  test('the topic policy lets CloudWatch publish for this alarm only', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'AllowThisAlarmToPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: topicId },
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [alarmId, 'Arn'] } },
            },
          },
        ]),
      },
    });
  });

  test('without an e-mail address there is no subscription', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  test('with an e-mail address, that address alone is subscribed', () => {
    const { template: withEmail } = synthAlarm({ email: 'ops@example.com' });
    const subscriptions = Object.values(resourcesOfType(withEmail, 'AWS::SNS::Subscription'));
    expect(subscriptions.map((s) => s.Properties)).toEqual([
      { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: { Ref: topicId } },
    ]);
  });

  test('the bucket is encrypted with S3-managed keys, private, and expires log files after 30 days', () => {
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: [{ Status: 'Enabled', ExpirationInDays: 30, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }] },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('the bucket is deleted with the stack, its objects first', () => {
    expect(bucket.DeletionPolicy).toBe('Delete');
    expect(bucket.UpdateReplacePolicy).toBe('Delete');
    expect(bucket.Properties.Tags).toEqual(expect.arrayContaining([{ Key: 'aws-cdk:auto-delete-objects', Value: 'true' }]));
    const [, autoDelete] = onlyOf(template, 'Custom::S3AutoDeleteObjects');
    expect(autoDelete.Properties.BucketName).toEqual({ Ref: bucketId });
  });

  test('the trail depends on the bucket policy and its role, so it is deleted before them and the bucket', () => {
    const [policyId] = onlyOf(template, 'AWS::S3::BucketPolicy');
    const roleId: string = trail.Properties.CloudWatchLogsRoleArn['Fn::GetAtt'][0];
    expect(trail.DependsOn).toEqual(expect.arrayContaining([policyId, roleId]));
  });

  test('the bucket is emptied only after the trail is deleted: CloudFormation deletes the trail, which depends on the emptying, first', () => {
    const [autoDeleteId, autoDelete] = onlyOf(template, 'Custom::S3AutoDeleteObjects');
    expect(trail.DependsOn).toEqual(expect.arrayContaining([autoDeleteId]));
    expect(autoDelete.DependsOn ?? []).not.toContain(trailId);
  });

  test('addOutputs names the alarm, topic, log group and trail', () => {
    expect(template.toJSON().Outputs).toEqual({
      PendingDeletionAlarmName: expect.objectContaining({ Value: { Ref: alarmId } }),
      PendingDeletionTopicArn: expect.objectContaining({ Value: { Ref: topicId } }),
      PendingDeletionLogGroupName: expect.objectContaining({ Value: { Ref: logGroupId } }),
      PendingDeletionTrailArn: expect.objectContaining({ Value: { 'Fn::GetAtt': [trailId, 'Arn'] } }),
    });
  });

  test('cdk-nag AwsSolutions leaves no unacknowledged finding', () => {
    expect(new AwsSolutionsChecks(stack).validateScope(stack).violations).toEqual([]);
  });

  test('its only acknowledgement is the bucket access log finding, with its reason', () => {
    const acknowledged = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => m.data))
      .flatMap((data) => Object.entries(data as Record<string, string>))
      .filter(([id]) => id.startsWith('Annotation::AwsSolutions-'));
    expect(acknowledged.map(([id]) => id)).toEqual(['Annotation::AwsSolutions-S1']);
    expect(acknowledged[0][1].length).toBeGreaterThan(40);
  });
});

describe('the synthesized filter pattern applied to CloudTrail records', () => {
  const { template } = synthAlarm();
  const [, filter] = onlyOf(template, 'AWS::Logs::MetricFilter');
  const pattern: string = filter.Properties.FilterPattern;
  const fixtures = path.join(__dirname, 'fixtures');
  const expected: Record<string, boolean> = {
    'encrypt-pending-deletion.json': true,
    'decrypt-pending-deletion.json': true,
    'generate-data-key-pending-deletion.json': true,
    'encrypt-success.json': false,
    'decrypt-disabled.json': false,
    'secretsmanager-similar-message.json': false,
  };

  test('every fixture has an expected outcome', () => {
    expect(fs.readdirSync(fixtures).sort()).toEqual(Object.keys(expected).sort());
  });

  test.each(Object.entries(expected))('%s: counted %s', (file, counted) => {
    // CloudTrail writes each record to CloudWatch Logs as one log event holding the record's JSON.
    const message = JSON.stringify(JSON.parse(fs.readFileSync(path.join(fixtures, file), 'utf8')));
    expect(matchesJsonFilterPattern(pattern, message)).toBe(counted);
  });
});
