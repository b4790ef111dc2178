import * as handler from '../../../lambda/lab-expiry/index';
import { cfnEvent } from '../../helpers/events';
import { runEvent, useFakeWorld } from '../cloudhsm/provider';
import { HOUR, MINUTE, SECOND, START, World } from '../cloudhsm/world';

let world: World;

useFakeWorld((w, l) => {
  world = w;
});


const ROLE = 'arn:aws:iam::111111111111:role/kms-key-lab-expiry-scheduler';
const props = (overrides: Record<string, unknown> = {}) => ({
  ScheduleName: 'kms-key-lab-cloudhsm-expiry',
  Hours: '8',
  StackName: 'kms-key-lab-cloudhsm',
  SchedulerRoleArn: ROLE,
  ...overrides,
});
const run = (event: ReturnType<typeof cfnEvent>) => runEvent(world, handler, event);
const remove = () => cfnEvent('Delete', props(), { physicalId: 'kms-key-lab-cloudhsm-expiry' });

describe('Create', () => {
  test('schedules CloudFormation DeleteStack from deploy time plus the hours, asking again every 15 minutes', async () => {
    world.advance(25 * SECOND);
    const outcome = await run(cfnEvent('Create', props()));
    expect(outcome).toMatchObject({ status: 'SUCCESS', physicalId: 'kms-key-lab-cloudhsm-expiry', data: { ExpiresAt: '2030-06-01T16:01:00Z' } });
    const schedule = world.getSchedule({ Name: 'kms-key-lab-cloudhsm-expiry' });
    expect(schedule).toMatchObject({
      ScheduleExpression: 'rate(15 minutes)',
      StartDate: new Date('2030-06-01T16:01:00Z'),
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: 'arn:aws:scheduler:::aws-sdk:cloudformation:deleteStack', RoleArn: ROLE, Input: JSON.stringify({ StackName: 'kms-key-lab-cloudhsm' }) },
    });
    expect(schedule.ActionAfterCompletion).toBeUndefined();
    expect(schedule.Description).toBe('KMS Key Lab: deletes stack kms-key-lab-cloudhsm at 2030-06-01T16:01:00Z so its HSMs stop billing');
  });

  test('when the time comes it asks for the stack deletion, and again every 15 minutes until the stack deletes the schedule', async () => {
    await run(cfnEvent('Create', props()));
    world.advance(8 * HOUR - MINUTE);
    expect(world.deletedStacks).toEqual([]);
    world.advance(MINUTE);
    expect(world.deletedStacks).toEqual([{ stackName: 'kms-key-lab-cloudhsm', at: START + 8 * HOUR }]);
    // A DeleteStack refused during an update is asked for again.
    world.advance(30 * MINUTE);
    expect(world.deletedStacks.map((d) => d.at)).toEqual([START + 8 * HOUR, START + 8 * HOUR + 15 * MINUTE, START + 8 * HOUR + 30 * MINUTE]);
    // The stack's deletion reaches this resource last, and the schedule goes with it.
    await run(remove());
    world.advance(HOUR);
    expect(world.deletedStacks).toHaveLength(3);
    expect(world.schedules.size).toBe(0);
  });

  test('a repeated Create moves the existing schedule to the new deploy time', async () => {
    await run(cfnEvent('Create', props()));
    world.advance(3 * HOUR);
    const again = await run(cfnEvent('Create', props()));
    expect(again.data.ExpiresAt).toBe('2030-06-01T19:00:00Z');
    expect(world.calls({ operation: 'UpdateSchedule' })).toHaveLength(1);
    expect(world.schedules.size).toBe(1);
    world.advance(5 * HOUR);
    expect(world.deletedStacks).toEqual([]);
    world.advance(3 * HOUR);
    expect(world.deletedStacks.map((d) => d.at)).toEqual([START + 11 * HOUR]);
  });

  test('an Update sets the new number of hours from the time of the update', async () => {
    await run(cfnEvent('Create', props()));
    world.advance(HOUR);
    const updated = await run(cfnEvent('Update', props({ Hours: '2' }), { physicalId: 'kms-key-lab-cloudhsm-expiry', oldProperties: props() }));
    expect(updated.data.ExpiresAt).toBe('2030-06-01T11:00:00Z');
    expect(world.getSchedule({ Name: 'kms-key-lab-cloudhsm-expiry' }).StartDate).toEqual(new Date('2030-06-01T11:00:00Z'));
  });

  test('AccessDenied while the role propagates is waited out', async () => {
    world.failNext('*', 2, 'accessDenied');
    const outcome = await run(cfnEvent('Create', props()));
    expect(outcome.status).toBe('SUCCESS');
    expect(world.schedules.size).toBe(1);
  });
});

describe('Delete', () => {
  test('removes the schedule', async () => {
    await run(cfnEvent('Create', props()));
    const outcome = await run(remove());
    expect(outcome.status).toBe('SUCCESS');
    expect(world.schedules.size).toBe(0);
  });

  test('succeeds when the schedule is already gone (removed by hand)', async () => {
    await run(cfnEvent('Create', props()));
    world.deleteSchedule({ Name: 'kms-key-lab-cloudhsm-expiry' });
    const outcome = await run(remove());
    expect(outcome.status).toBe('SUCCESS');
    expect(world.calls({ operation: 'DeleteSchedule' })).toHaveLength(1);
  });

  test('a Delete that Scheduler refuses for another reason fails', async () => {
    await run(cfnEvent('Create', props()));
    world.failNext('DeleteSchedule', 1, 'accessDenied');
    const outcome = await run(remove());
    expect(outcome.error!.message).toBe('DeleteSchedule failed (AccessDeniedException): User is not authorized to perform: DeleteSchedule');
  });
});
