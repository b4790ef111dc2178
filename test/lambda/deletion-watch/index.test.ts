import {
  CloudFormationClient,
  DeleteStackCommand,
  DescribeStacksCommand,
  ListStacksCommand,
} from '@aws-sdk/client-cloudformation';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { onSchedule, setSleepForTests, WatchInput } from '../../../lambda/deletion-watch/index';
import { FakeCloudFormation, named, stackIdOf } from './fake-cloudformation';

const DAY = 24 * 60 * 60 * 1000;
const NOW = new Date('2030-06-20T12:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const REGION = 'eu-west-1';
const idOf = (name: string, n = 1) => stackIdOf(REGION, name, n);
const WATCH_ID = idOf('kms-key-lab-alarm-primary');
const INPUT: WatchInput = { watchStackId: WATCH_ID, keyStackNames: ['kms-key-lab-primary', 'kms-key-lab-cloudhsm'], pendingWindowDays: 7 };

const cfn = mockClient(CloudFormationClient);
let world: FakeCloudFormation;
let sleeps: number[];
let logged: string[];

/** The function's own stack, plus others in the Region that are none of its business. */
function region(): FakeCloudFormation {
  return new FakeCloudFormation()
    .add('kms-key-lab-alarm-primary', 'CREATE_COMPLETE', { created: ago(20 * DAY) })
    .add('kms-key-lab-secondary', 'CREATE_COMPLETE')
    .add('some-other-app', 'UPDATE_COMPLETE')
    .add('kms-key-lab-primary', 'DELETE_COMPLETE', { deleted: ago(60 * DAY), n: 2 });
}

function useWorld(w: FakeCloudFormation): FakeCloudFormation {
  world = w;
  w.install(cfn);
  return w;
}

beforeEach(() => {
  cfn.reset();
  sleeps = [];
  setSleepForTests(async (ms) => void sleeps.push(ms));
  logged = [];
  jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
  // Only the clock: the SDK mock's promises and the stubbed sleeps need no timers.
  jest.useFakeTimers({
    now: NOW,
    doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'queueMicrotask', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'],
  });
});
afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
  setSleepForTests(undefined);
});

describe('onSchedule', () => {
  test('a live key stack keeps the watch: no DeleteStack', async () => {
    useWorld(region().add('kms-key-lab-primary', 'UPDATE_COMPLETE').add('kms-key-lab-cloudhsm', 'DELETE_COMPLETE', { deleted: ago(30 * DAY) }));
    const report = await onSchedule(INPUT);
    expect(report).toEqual({ kind: 'watch', reason: 'key stack kms-key-lab-primary is UPDATE_COMPLETE' });
    expect(cfn).not.toHaveReceivedCommand(DeleteStackCommand);
    expect(world.status(WATCH_ID)).toBe('CREATE_COMPLETE');
  });

  test('reads every page of ListStacks, without a status filter, and describes its own stack by id', async () => {
    // The live key stack is on the last of four pages.
    useWorld(region().add('unrelated-1', 'CREATE_COMPLETE').add('unrelated-2', 'CREATE_COMPLETE').add('kms-key-lab-cloudhsm', 'CREATE_COMPLETE'));
    expect(await onSchedule(INPUT)).toMatchObject({ kind: 'watch', reason: 'key stack kms-key-lab-cloudhsm is CREATE_COMPLETE' });
    expect(cfn).toHaveReceivedCommandTimes(ListStacksCommand, 4);
    expect(cfn.commandCalls(ListStacksCommand).map((c) => c.args[0].input)).toEqual([
      { NextToken: undefined },
      { NextToken: 'page-2' },
      { NextToken: 'page-4' },
      { NextToken: 'page-6' },
    ]);
    expect(cfn).toHaveReceivedCommandTimes(DescribeStacksCommand, 1);
    expect(cfn).toHaveReceivedCommandWith(DescribeStacksCommand, { StackName: WATCH_ID });
  });

  test('key stacks deleted 8 days ago with a 7-day window: deletes its own stack, by id', async () => {
    useWorld(region().add('kms-key-lab-primary', 'DELETE_COMPLETE', { deleted: ago(8 * DAY) }).add('kms-key-lab-cloudhsm', 'DELETE_COMPLETE', { deleted: ago(9 * DAY) }));
    const report = await onSchedule(INPUT);
    expect(report).toMatchObject({ kind: 'end', deletion: 'requested' });
    expect(report.reason).toContain(`last deleted at ${ago(8 * DAY).toISOString()}`);
    expect(cfn).toHaveReceivedCommandTimes(DeleteStackCommand, 1);
    expect(cfn).toHaveReceivedCommandWith(DeleteStackCommand, { StackName: WATCH_ID });
    expect(world.status(WATCH_ID)).toBe('DELETE_IN_PROGRESS');
    expect(logged.map((l) => JSON.parse(l))).toContainEqual({ message: 'deletion watch verdict', ...report });
    // The report goes through `aws lambda invoke` as JSON unchanged.
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  test('the next run finds its stack being deleted and does nothing', async () => {
    useWorld(region().add('kms-key-lab-primary', 'DELETE_COMPLETE', { deleted: ago(8 * DAY) }));
    await onSchedule(INPUT);
    cfn.resetHistory();
    expect(await onSchedule(INPUT)).toEqual({ kind: 'busy', reason: 'this stack is already being deleted (DELETE_IN_PROGRESS)' });
    expect(cfn).not.toHaveReceivedCommand(ListStacksCommand);
    expect(cfn).not.toHaveReceivedCommand(DeleteStackCommand);
  });

  test('key stacks deleted 3 days ago: keeps watching and reports when the watch ends', async () => {
    useWorld(region().add('kms-key-lab-primary', 'DELETE_COMPLETE', { deleted: ago(3 * DAY) }));
    const report = await onSchedule(INPUT);
    expect(report).toMatchObject({ kind: 'watch', endsAt: new Date(NOW.getTime() + 5 * DAY).toISOString() });
    expect(cfn).not.toHaveReceivedCommand(DeleteStackCommand);
  });

  test('the time comes from the clock: five days later the same stacks end the watch', async () => {
    useWorld(region().add('kms-key-lab-primary', 'DELETE_COMPLETE', { deleted: ago(3 * DAY) }));
    jest.setSystemTime(NOW.getTime() + 5 * DAY - 1);
    expect((await onSchedule(INPUT)).kind).toBe('watch');
    jest.setSystemTime(NOW.getTime() + 5 * DAY);
    expect((await onSchedule(INPUT)).kind).toBe('end');
    expect(cfn).toHaveReceivedCommandTimes(DeleteStackCommand, 1);
  });

  test('no key stack ever deployed here ends the watch of a stack older than a day', async () => {
    useWorld(new FakeCloudFormation().add('kms-key-lab-alarm-primary', 'CREATE_COMPLETE', { created: ago(DAY + 1) }).add('kms-key-lab-secondary', 'CREATE_COMPLETE'));
    expect(await onSchedule(INPUT)).toMatchObject({ kind: 'end', deletion: 'requested' });
    expect(cfn).toHaveReceivedCommandWith(DeleteStackCommand, { StackName: WATCH_ID });
  });

  test('ListStacks throttled twice, then it answers: the run still decides', async () => {
    useWorld(region().add('kms-key-lab-primary', 'DELETE_COMPLETE', { deleted: ago(8 * DAY) }).fail('ListStacks', () => named('Throttling', 'Rate exceeded'), 2));
    expect(await onSchedule(INPUT)).toMatchObject({ kind: 'end', deletion: 'requested' });
    expect(sleeps).toEqual([1000, 2000]);
    // Two refused, then the three pages.
    expect(cfn).toHaveReceivedCommandTimes(ListStacksCommand, 5);
    expect(cfn).toHaveReceivedCommandTimes(DeleteStackCommand, 1);
  });

  test('DeleteStack of a stack that is already gone is a success', async () => {
    useWorld(region().add('kms-key-lab-primary', 'DELETE_COMPLETE', { deleted: ago(8 * DAY) }).fail('DeleteStack', () => named('ValidationError', `Stack with id ${WATCH_ID} does not exist`), 1));
    expect(await onSchedule(INPUT)).toMatchObject({ kind: 'end', deletion: 'already gone' });
    expect(cfn).toHaveReceivedCommandTimes(DeleteStackCommand, 1);
  });

  test('another ValidationError of DeleteStack fails the run, saying how to delete the stack by hand', async () => {
    const protectedStack = () => named('ValidationError', `Stack [${WATCH_ID}] cannot be deleted while TerminationProtection is enabled`);
    useWorld(region().add('kms-key-lab-primary', 'DELETE_COMPLETE', { deleted: ago(8 * DAY) }).fail('DeleteStack', protectedStack));
    const run = onSchedule(INPUT);
    await expect(run).rejects.toThrow('TerminationProtection is enabled. The watch is over');
    await expect(run).rejects.toThrow(`What to do: delete the stack yourself with \`aws cloudformation delete-stack --stack-name ${WATCH_ID} --region ${REGION}\``);
    expect(world.status(WATCH_ID)).toBe('CREATE_COMPLETE');
  });

  test('its own stack in UPDATE_IN_PROGRESS: nothing this run', async () => {
    const w = region().add('kms-key-lab-primary', 'DELETE_COMPLETE', { deleted: ago(8 * DAY) });
    w.stacks[0].StackStatus = 'UPDATE_IN_PROGRESS';
    useWorld(w);
    expect(await onSchedule(INPUT)).toMatchObject({ kind: 'busy', reason: expect.stringContaining('UPDATE_IN_PROGRESS') });
    expect(cfn).not.toHaveReceivedCommand(ListStacksCommand);
    expect(cfn).not.toHaveReceivedCommand(DeleteStackCommand);
  });

  test('bad input fails before any call, naming the field and the value', async () => {
    useWorld(region());
    await expect(onSchedule({ ...INPUT, pendingWindowDays: 0 })).rejects.toThrow('pendingWindowDays must be a whole number of days from 7 to 30, got 0');
    await expect(onSchedule({ ...INPUT, watchStackId: 'kms-key-lab-alarm-primary' })).rejects.toThrow(/watchStackId must be a stack id .*got "kms-key-lab-alarm-primary"/);
    await expect(onSchedule({ ...INPUT, keyStackNames: undefined } as unknown as WatchInput)).rejects.toThrow('keyStackNames must be a non-empty list of stack names, got undefined');
    expect(cfn.calls()).toHaveLength(0);
  });

  test('ListStacks that keeps failing: the error says what happened and what to do', async () => {
    useWorld(region().add('kms-key-lab-primary', 'DELETE_COMPLETE', { deleted: ago(8 * DAY) }).fail('ListStacks', () => named('Throttling', 'Rate exceeded')));
    const run = onSchedule(INPUT);
    await expect(run).rejects.toThrow('ListStacks failed (Throttling): Rate exceeded. What to do: nothing was deleted, and the next run in 6 hours asks again.');
    await expect(run).rejects.toThrow(
      `Once the key stacks (kms-key-lab-primary, kms-key-lab-cloudhsm) have been deleted for more than 8 days, you can delete this stack yourself: aws cloudformation delete-stack --stack-name ${WATCH_ID} --region ${REGION}`,
    );
    // The bounded backoff: six attempts, then the error.
    expect(sleeps).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(cfn).toHaveReceivedCommandTimes(ListStacksCommand, 6);
    expect(cfn).not.toHaveReceivedCommand(DeleteStackCommand);
  });

  test('an access refusal is not waited out', async () => {
    useWorld(region().fail('DescribeStacks', () => named('AccessDenied', 'User is not authorized to perform: cloudformation:DescribeStacks')));
    await expect(onSchedule(INPUT)).rejects.toThrow('DescribeStacks failed (AccessDenied): User is not authorized to perform: cloudformation:DescribeStacks. What to do');
    expect(cfn).toHaveReceivedCommandTimes(DescribeStacksCommand, 1);
    expect(sleeps).toEqual([]);
  });

  test('within a Lambda invocation, backoff stops before the time runs out', async () => {
    useWorld(region().fail('ListStacks', () => named('Throttling', 'Rate exceeded')));
    // 20 s are kept back at the end of an invocation: 25 s allow the 1 s and 2 s waits, not the 4 s one.
    const context = { getRemainingTimeInMillis: () => 25_000 } as Context;
    setSleepForTests(async (ms) => {
      sleeps.push(ms);
      jest.setSystemTime(Date.now() + ms);
    });
    await expect(onSchedule(INPUT, context)).rejects.toThrow('ListStacks failed (Throttling)');
    expect(sleeps).toEqual([1000, 2000]);
  });
});
