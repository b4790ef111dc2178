import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import type { Context } from 'aws-lambda';
import { makeCaller, rootCause } from '../shared/aws-call';
import { CLIENT_CONFIG } from '../shared/clients';
import { CustomResourceEvent, OnEventResponse, requiredString, resourceProperties } from '../shared/custom-resource';
import { log, loggableEvent } from '../shared/log';
import { isNamed } from '../shared/retry';
import { beginInvocation, transientKindsFor } from '../shared/transient';
import { deleteStackTarget, expiryAt, RETRY_EVERY } from './schedule';

export { setSleepForTests } from '../shared/transient';

const scheduler = new SchedulerClient(CLIENT_CONFIG);
const WHAT = 'Custom::LabExpiry';

/**
 * Schedules the deletion of the CloudHSM stack a set number of hours after the
 * deploy that creates this resource (or changes its hours), so an abandoned
 * lab stops billing HSM hours. The schedule calls CloudFormation's
 * DeleteStack: the teardown is the stack's own ordered one, not a second one
 * written here. It asks again every 15 minutes until the stack is gone; the
 * stack's deletion removes the schedule, last.
 */
export async function onEvent(event: CustomResourceEvent, context?: Context): Promise<OnEventResponse> {
  beginInvocation(context);
  log('lab-expiry event', loggableEvent(event));
  const props = resourceProperties(event);
  const name = requiredString(props, 'ScheduleName', WHAT);
  const call = makeCaller(transientKindsFor(event.RequestType));
  if (event.RequestType === 'Delete') {
    try {
      await call('DeleteSchedule', () => scheduler.send(new DeleteScheduleCommand({ Name: name })));
      log('deleted the expiry schedule', { name });
    } catch (error) {
      // Never made, or removed by hand.
      if (!isNamed('ResourceNotFoundException')(rootCause(error))) throw error;
    }
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  const hours = Number(requiredString(props, 'Hours', WHAT));
  const { startDate, expiresAt } = expiryAt(new Date(), hours);
  const input = {
    Name: name,
    ScheduleExpression: RETRY_EVERY,
    StartDate: startDate,
    ScheduleExpressionTimezone: 'UTC',
    FlexibleTimeWindow: { Mode: 'OFF' as const },
    Description: `KMS Key Lab: deletes stack ${requiredString(props, 'StackName', WHAT)} at ${expiresAt} so its HSMs stop billing`,
    Target: deleteStackTarget(requiredString(props, 'StackName', WHAT), requiredString(props, 'SchedulerRoleArn', WHAT)),
  };
  try {
    await call('CreateSchedule', () => scheduler.send(new CreateScheduleCommand(input)));
  } catch (error) {
    if (!isNamed('ConflictException')(rootCause(error))) throw error;
    await call('UpdateSchedule', () => scheduler.send(new UpdateScheduleCommand(input)));
  }
  log('lab expires', { name, expiresAt });
  return { PhysicalResourceId: name, Data: { ExpiresAt: expiresAt } };
}
