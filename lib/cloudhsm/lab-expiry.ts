import { CustomResource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { LabHandler } from '../common/lab-handler';

export interface LabExpiryProps {
  /** Hours after the deploy that creates it (or changes this) at which the stack deletes itself. */
  readonly hours: number;
  readonly scheduleName: string;
}

/**
 * Deletes the stack it is in a set number of hours after it is deployed (or
 * after a deploy that changes the number of hours), through an EventBridge
 * Scheduler schedule that calls CloudFormation's DeleteStack from then on,
 * every 15 minutes until the stack is gone: the same ordered teardown as
 * `cdk destroy`, run by CloudFormation with the role it deployed with. An
 * abandoned lab stops billing HSM hours; deploying the stack again resumes
 * the lab, with a new expiry. Call `outlast` so the schedule is deleted last.
 */
export class LabExpiry extends Construct {
  readonly resource: CustomResource;
  readonly expiresAt: string;

  constructor(scope: Construct, id: string, props: LabExpiryProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
      description: `KMS Key Lab: deletes stack ${stack.stackName} when the lab expires`,
    });
    // CloudFormation deletes with the service role the stack was deployed with: DeleteStack is all the schedule needs.
    schedulerRole.addToPolicy(new iam.PolicyStatement({ actions: ['cloudformation:DeleteStack'], resources: [stack.stackId] }));

    const handler = new LabHandler(this, 'Handler', {
      handler: 'lab-expiry',
      description: 'KMS Key Lab: schedules the deletion of the CloudHSM stack when the lab expires',
    });
    const scheduleArn = stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `default/${props.scheduleName}` });
    handler.allow(['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'], [scheduleArn]);
    handler.allow(['iam:PassRole'], [schedulerRole.roleArn], { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });

    this.resource = new CustomResource(this, 'Expiry', {
      serviceToken: handler.provider.serviceToken,
      resourceType: 'Custom::LabExpiry',
      properties: {
        ScheduleName: props.scheduleName,
        StackName: stack.stackName,
        Hours: String(props.hours),
        SchedulerRoleArn: schedulerRole.roleArn,
      },
    });
    // The role and its policy outlive the schedule in a stack deletion: a deletion that stops half-way is asked again.
    this.resource.node.addDependency(schedulerRole);
    this.expiresAt = this.resource.getAttString('ExpiresAt');
  }

  /**
   * Makes `resource` depend on the expiry, so that a stack deletion removes the
   * schedule after it: a deletion that stops half-way is asked for again.
   */
  outlast(resource: Construct): void {
    resource.node.addDependency(this.resource);
  }
}
