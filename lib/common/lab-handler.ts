import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { labFunction, roleWithLogs } from './lab-function';

export interface LabHandlerProps {
  /** Folder under `lambda/` that holds the handler's `index.ts`. */
  readonly handler: string;
  readonly description: string;
  /** @default Duration.minutes(2) */
  readonly timeout?: Duration;
  /** @default logs.RetentionDays.ONE_WEEK */
  readonly logRetention?: logs.RetentionDays;
  /**
   * For a handler that waits: its `isComplete` export runs every
   * `queryInterval` until it reports complete or `totalTimeout` passes.
   * @default no waiting: onEvent alone decides
   */
  readonly wait?: LabHandlerWait;
  /**
   * A fixed name for the handler's role, for a role that a policy in another
   * stack names before this one is deployed.
   * @default a name CloudFormation generates
   */
  readonly roleName?: string;
  /**
   * An IAM path for the handler's role, for a role that a resource policy
   * names by pattern (ArnLike on aws:PrincipalArn): the role's name stays
   * generated, so a replacement (a construct id refactor) creates the new role
   * before deleting the old one without a name collision, and the new role
   * still matches.
   * @default "/"
   */
  readonly rolePath?: string;
}

export interface LabHandlerWait {
  /** Time between isComplete calls: each call spends API calls, so wait as long as the state takes to change. */
  readonly queryInterval: Duration;
  /** At most 1 hour, CloudFormation's limit for one custom resource; an exact multiple of queryInterval. */
  readonly totalTimeout: Duration;
}

/** CloudFormation waits at most this long for one custom resource. */
export const MAX_CUSTOM_RESOURCE_WAIT = Duration.hours(1);

/**
 * One custom-resource handler: a bundled `NodejsFunction` (local esbuild,
 * Node.js 24, arm64) whose `onEvent` runs behind a `custom_resources.Provider`.
 * Log groups are created here, with a retention and DESTROY, so teardown leaves
 * no logs to pay for.
 */
export class LabHandler extends Construct {
  readonly function: NodejsFunction;
  /** The isComplete function, when the handler waits; it shares the role and log group of `function`. */
  readonly isCompleteFunction?: NodejsFunction;
  readonly provider: cr.Provider;

  constructor(scope: Construct, id: string, props: LabHandlerProps) {
    super(scope, id);
    const retention = props.logRetention ?? logs.RetentionDays.ONE_WEEK;
    const handler = roleWithLogs(this, 'Handler', { description: `KMS Key Lab: ${props.handler} handler`, retention, roleName: props.roleName, rolePath: props.rolePath });
    const framework = roleWithLogs(this, 'Provider', { description: `KMS Key Lab: custom-resource framework for ${props.handler}`, retention });

    const wait = props.wait;
    if (wait) checkWait(props.handler, wait);
    const handlerFunction = (id: string, exportName: string) =>
      labFunction(this, id, { handler: props.handler, exportName, description: props.description, timeout: props.timeout, role: handler.role, logGroup: handler.logGroup });
    this.function = handlerFunction('Handler', 'onEvent');
    // Same bundle, same role, same log group: only the exported function differs.
    this.isCompleteFunction = wait ? handlerFunction('IsComplete', 'isComplete') : undefined;

    // The waiter gets a role of its own: with the onEvent framework's role, the role, the state machine and the
    // isComplete framework function would depend on one another.
    const waiter = wait ? roleWithLogs(this, 'Waiter', { description: `KMS Key Lab: waits for ${props.handler} to complete`, retention }) : undefined;
    this.provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.function,
      isCompleteHandler: this.isCompleteFunction,
      queryInterval: wait?.queryInterval,
      totalTimeout: wait?.totalTimeout,
      logGroup: framework.logGroup,
      frameworkOnEventRole: framework.role,
      frameworkCompleteAndTimeoutRole: waiter?.role,
      ...(waiter ? { disableWaiterStateMachineLogging: false, waiterStateMachineLogOptions: { destination: waiter.logGroup, level: sfn.LogLevel.ALL } } : {}),
    });
    const invokesByQualifiedArn = (role: iam.IRole, fn: lambda.IFunction) =>
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(fn.node.defaultChild as CfnFunction)}.Arn>:*]`,
        reason:
          'The Provider framework invokes the handler by qualified ARN (function:version); the wildcard covers versions of this one function only.',
      });
    for (const fn of [this.function, this.isCompleteFunction]) {
      if (!fn) continue;
      invokesByQualifiedArn(framework.role, fn);
      if (waiter) invokesByQualifiedArn(waiter.role, fn);
    }
    if (waiter) {
      const machine = this.provider.node.findChild('waiter-state-machine');
      for (const id of ['framework-isComplete', 'framework-onTimeout']) {
        invokesByQualifiedArn(machine.node.findChild('Role') as iam.IRole, this.provider.node.findChild(id) as lambda.IFunction);
      }
      Validations.of(machine.node.findChild('Role')).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Step Functions log delivery (logs:CreateLogDelivery and its kin) accepts no resource ARN; this is the state machine logging to its own log group.',
      });
      Validations.of(machine).acknowledge({
        id: 'AwsSolutions-SF2',
        reason: "The Provider framework's waiter state machine takes no tracing option; its executions are logged in full (level ALL).",
      });
    }
  }

  /** Adds one statement to the handler's role: exact actions on exact resources. */
  allow(actions: string[], resources: string[], conditions?: Record<string, Record<string, unknown>>): void {
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions, resources, conditions }));
  }
}

function checkWait(handler: string, wait: LabHandlerWait): void {
  const total = wait.totalTimeout.toSeconds();
  const interval = wait.queryInterval.toSeconds();
  if (total > MAX_CUSTOM_RESOURCE_WAIT.toSeconds()) {
    throw new Error(`${handler}: totalTimeout ${total} s is over CloudFormation's 3600 s limit for one custom resource.`);
  }
  if (total % interval !== 0) {
    throw new Error(`${handler}: totalTimeout ${total} s must be a whole multiple of queryInterval ${interval} s.`);
  }
}
