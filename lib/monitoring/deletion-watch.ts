import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { labFunction, roleWithLogs } from '../common/lab-function';

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
      timeout: Duration.minutes(1),
      role,
      logGroup,
    });
    // By stack id, not name: a later stack of the same name is never the one deleted.
    role.addToPolicy(new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks', 'cloudformation:DeleteStack'], resources: [stack.stackId] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['cloudformation:ListStacks'], resources: ['*'] }));
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudformation:ListStacks takes no resource ARN; it is the one call that also lists deleted stacks with their deletion time, which is when the keys were scheduled.',
    });

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
        }),
        // A missed check costs six hours of the watch at most; the next one decides the same.
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
      }),
    );
  }
}
