import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { labFunction, roleWithLogs } from '../common/lab-function';
import { acknowledgeWildcardResource } from '../common/nag';

/** How often the watch asks whether it is over: at most this long is paid for after it is. */
export const WATCH_CHECK_EVERY = Duration.hours(6);

export interface DeletionWatchProps {
  /** The lab's key stacks in this Region, by name: the watch lasts while any of them lives. */
  readonly keyStackNames: readonly string[];
  /** The lab keys' pending window: the watch lasts this many days, plus one, after the last key stack is deleted. */
  readonly pendingWindowDays: number;
  /**
   * Days a key of this Region may wait for its replicas before its own window starts: a multi-Region primary
   * scheduled while a replica is pending deletion has no deletion date until the replica is gone.
   * @default 0, for a Region without multi-Region primaries
   */
  readonly replicaPendingWindowDays?: number;
  /** The tag every lab key carries: before it ends, the watch asks KMS whether a key so tagged is still pending deletion. */
  readonly labTag: { readonly key: string; readonly value: string };
  /** Told when a run fails: a self-deletion that cannot happen must not go unnoticed while the trail bills. */
  readonly failureTopic: sns.ITopic;
}

/**
 * Ends the stack it is in once the keys it watches over are gone: every six
 * hours a function (lambda/deletion-watch) reads the lab's key stacks in this
 * Region from CloudFormation, and once none is left and the keys' pending
 * window (after their replicas', for multi-Region primaries, plus a day) has
 * passed since the last was deleted, it calls
 * DeleteStack on its own stack. CloudFormation deletes it with the role the
 * stack was deployed with, in the stack's own order; nothing is deleted here.
 */
export class DeletionWatch extends Construct {
  readonly function: NodejsFunction;
  readonly rule: events.Rule;
  readonly failureAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: DeletionWatchProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { role, logGroup } = roleWithLogs(this, 'Watch', {
      description: `KMS Key Lab: deletes stack ${stack.stackName} once the lab keys of ${stack.region} are past their pending window`,
      retention: logs.RetentionDays.ONE_MONTH,
    });
    this.function = labFunction(this, 'Function', {
      handler: 'deletion-watch',
      exportName: 'onSchedule',
      description: `KMS Key Lab: ends the watch over keys pending deletion in ${stack.region} when their window has passed`,
      // ListStacks pages through every stack of the Region, deleted ones of the last 90 days included, and
      // ListKeys through every key, with backoff when throttled.
      timeout: Duration.minutes(5),
      role,
      logGroup,
    });
    // By stack id, not name: a later stack of the same name is never the one deleted.
    role.addToPolicy(new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks', 'cloudformation:DeleteStack'], resources: [stack.stackId] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['cloudformation:ListStacks', 'kms:ListKeys'], resources: ['*'] }));
    const keys = stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['kms:ListResourceTags', 'kms:DescribeKey'], resources: [keys] }));
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudformation:ListStacks and kms:ListKeys take no resource ARN; ListStacks is the one call that also lists deleted stacks with their deletion time, ListKeys the one that finds keys pending deletion.',
    });
    acknowledgeWildcardResource(
      role,
      keys,
      "The lab's keys pending deletion are known only by their tag: the watch reads the tags and state of the Region's keys (no cryptographic or management action) to see whether one is still pending.",
    );

    this.rule = new events.Rule(this, 'Schedule', {
      description: `KMS Key Lab: asks every ${WATCH_CHECK_EVERY.toHours()} hours whether the watch over keys pending deletion in ${stack.region} is over`,
      schedule: events.Schedule.rate(WATCH_CHECK_EVERY),
    });
    this.rule.addTarget(
      new targets.LambdaFunction(this.function, {
        event: events.RuleTargetInput.fromObject({
          watchStackId: stack.stackId,
          keyStackNames: props.keyStackNames,
          pendingWindowDays: props.pendingWindowDays,
          replicaPendingWindowDays: props.replicaPendingWindowDays ?? 0,
          labTag: props.labTag,
        }),
        // A missed check costs six hours of the watch at most; the next one decides the same.
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
      }),
    );

    this.failureAlarm = new cloudwatch.Alarm(this, 'Failing', {
      alarmName: `${stack.stackName}-watch-failing`,
      alarmDescription:
        `The watch that deletes stack ${stack.stackName} once the lab keys are past their pending window failed a run. ` +
        'Its log group says why and what to do; until it is fixed, the stack, and its trail, stay and bill.',
      metric: this.function.metricErrors({ statistic: cloudwatch.Stats.SUM, period: WATCH_CHECK_EVERY }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.failureAlarm.addAlarmAction(new cloudwatchActions.SnsAction(props.failureTopic));
  }
}
