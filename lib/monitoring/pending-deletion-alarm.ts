import { CfnOutput, CfnResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/**
 * The filter pattern of the KMS Developer Guide, character for character, so that a reader can compare it with the
 * page: "Create an alarm that detects use of a KMS key pending deletion",
 * https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys-creating-cloudwatch-alarm.html
 *
 * KMS refuses a cryptographic operation on a key pending deletion with KMSInvalidStateException and the message
 * "<key ARN> is pending deletion."; operations that a pending key still allows (DescribeKey, CancelKeyDeletion, ...)
 * succeed, write no errorMessage and so never match.
 */
export const PENDING_DELETION_FILTER_PATTERN = '{ $.eventSource = kms* && $.errorMessage = "* is pending deletion."}';

/** The documented metric name; the namespace adds the lab prefix (see {@link PendingDeletionAlarm}). */
export const PENDING_DELETION_METRIC_NAME = 'KMSKeyPendingDeletionErrorCount';

export interface PendingDeletionAlarmProps {
  /** Names the trail, the alarm and the topic `<prefix>-pending-deletion-use`, and the log group `/<prefix>/cloudtrail/pending-deletion-use`. */
  readonly prefix: string;
  /**
   * Subscribed to the topic; AWS mails a confirmation link, and nothing is delivered until it is followed.
   * @default no subscription: read the alarm state in the console or with `aws cloudwatch describe-alarms`
   */
  readonly email?: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Age at which the trail's log files in S3 expire. The log group holds the same events for the alarm, so the
   * files only serve someone who wants the raw CloudTrail record later.
   * @default Duration.days(30)
   */
  readonly logFileExpiry?: Duration;
}

/**
 * An alarm on any attempt to use a KMS key that is pending deletion, in the Region of its stack, built as the KMS
 * Developer Guide describes it (see {@link PENDING_DELETION_FILTER_PATTERN}): a single-Region CloudTrail trail of
 * management events (KMS calls are management events) delivered to S3 and to a CloudWatch Logs log group, a metric
 * filter on that log group, and an alarm (at least one match in five minutes) that notifies an SNS topic.
 *
 * Cost: where the account already has a trail in the Region, this one is billed for every management event it
 * records, not only KMS ones ($2 per 100,000 event copies after the first, free, copy), plus CloudWatch Logs
 * ingestion per GB of the same events.
 *
 * Teardown leaves nothing: the trail is deleted before its bucket is emptied and deleted, and the log group, topic
 * and alarm go with the stack.
 */
export class PendingDeletionAlarm extends Construct {
  readonly trail: cloudtrail.Trail;
  readonly bucket: s3.Bucket;
  readonly logGroup: logs.LogGroup;
  readonly metricFilter: logs.MetricFilter;
  readonly alarm: cloudwatch.Alarm;
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: PendingDeletionAlarmProps) {
    super(scope, id);
    const name = `${props.prefix}-pending-deletion-use`;

    // S3-managed keys rather than a KMS key: teardown schedules the lab's keys for deletion, and a trail whose bucket
    // key is pending deletion can no longer deliver, exactly while this alarm has something to report.
    this.bucket = new s3.Bucket(this, 'TrailBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        { expiration: props.logFileExpiry ?? Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'The bucket holds only the log files CloudTrail delivers to it, for the lifetime of a lab; an access-log bucket would be one more bucket for teardown to empty, and the same events reach the log group.',
    });

    this.logGroup = new logs.LogGroup(this, 'TrailLogs', {
      logGroupName: `/${props.prefix}/cloudtrail/pending-deletion-use`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // With sendToCloudWatchLogs the L2 creates the delivery role itself, allowed logs:CreateLogStream and
    // logs:PutLogEvents on this log group only; the trail depends on that role and on the bucket policy, so
    // CloudTrail's permission checks at CreateTrail pass.
    this.trail = new cloudtrail.Trail(this, 'Trail', {
      trailName: name,
      bucket: this.bucket,
      isMultiRegionTrail: false,
      // KMS events are Regional; global-service events (IAM, STS) would only add volume to pay for.
      includeGlobalServiceEvents: false,
      // Encrypt, Decrypt and GenerateDataKey are read-only events: ALL, not WRITE_ONLY.
      managementEvents: cloudtrail.ReadWriteType.ALL,
      enableFileValidation: true,
      sendToCloudWatchLogs: true,
      cloudWatchLogGroup: this.logGroup,
    });
    // CloudFormation deletes a resource before what it depends on: the trail goes first, then the custom resource
    // empties the bucket, so no file delivered in between can make the bucket's deletion fail.
    (this.trail.node.defaultChild as CfnResource).node.addDependency(this.bucket.node.findChild('AutoDeleteObjectsCustomResource'));

    this.metricFilter = new logs.MetricFilter(this, 'PendingDeletionUse', {
      logGroup: this.logGroup,
      filterPattern: logs.FilterPattern.literal(PENDING_DELETION_FILTER_PATTERN),
      // The documented namespace, under the lab prefix, so that a second lab, or the account's own copy of the
      // documented alarm, does not add its matches to this metric.
      metricNamespace: `${props.prefix}/CloudTrailLogMetrics`,
      metricName: PENDING_DELETION_METRIC_NAME,
      metricValue: '1',
    });

    // No server-side encryption: CloudWatch cannot publish to a topic under the AWS managed key aws/sns, and a
    // customer managed key would be one more key for teardown to schedule, silencing the topic while it waits. The
    // messages name the alarm and its threshold, nothing from the events.
    this.topic = new sns.Topic(this, 'Topic', {
      topicName: name,
      displayName: 'KMS key pending deletion used',
      enforceSSL: true,
    });
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));

    this.alarm = new cloudwatch.Alarm(this, 'Alarm', {
      alarmName: name,
      alarmDescription:
        'A KMS request was refused because its key is pending deletion. CloudTrail names the key and the caller; cancel the deletion if the key is still needed.',
      metric: this.metricFilter.metric({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // The filter has no default value: a five-minute period without a match has no data point, which is good news.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.topic));

    this.allowToPublish(this.alarm, 'AllowThisAlarmToPublish');
  }

  /**
   * Lets one CloudWatch alarm publish to the topic. The topic policy that enforceSSL creates replaces SNS's default
   * one, so CloudWatch's publish must be allowed explicitly; the conditions keep it to that alarm.
   */
  allowToPublish(alarm: cloudwatch.IAlarm, sid: string): void {
    const stack = Stack.of(this);
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid,
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnEquals: { 'aws:SourceArn': alarm.alarmArn },
        },
      }),
    );
  }

  /**
   * What the lab's tools and README name, as stack outputs on `stack`: the alarm name, the topic ARN, the log group
   * name and the trail ARN, each prefixed with `outputPrefix`.
   */
  addOutputs(stack: Stack, outputPrefix = 'PendingDeletion'): void {
    const out = (suffix: string, value: string, what: string) =>
      new CfnOutput(stack, `${outputPrefix}${suffix}`, { value, description: `Alarm on use of a key pending deletion: ${what}` });
    out('AlarmName', this.alarm.alarmName, 'alarm name');
    out('TopicArn', this.topic.topicArn, 'SNS topic ARN');
    out('LogGroupName', this.logGroup.logGroupName, 'CloudTrail log group');
    out('TrailArn', this.trail.trailArn, 'trail ARN');
  }
}
