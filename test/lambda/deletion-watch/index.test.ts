import {
  CloudFormationClient,
  DeleteStackCommand,
  DescribeStacksCommand,
  ListStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { DescribeKeyCommand, KMSClient, ListKeysCommand, ListResourceTagsCommand } from '@aws-sdk/client-kms';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { onSchedule, setSleepForTests, WatchInput } from '../../../lambda/deletion-watch/index';
import { FakeCloudFormation, named, stackIdOf } from './fake-cloudformation';
import { FakeKms, LAB_TAG } from './fake-kms';

const DAY = 24 * 60 * 60 * 1000;
const NOW = new Date('2030-06-20T12:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const REGION = 'eu-west-1';
const idOf = (name: string, n = 1) => stackIdOf(REGION, name, n);
const WATCH_ID = idOf('kms-key-lab-alarm-primary');
const INPUT: WatchInput = { watchStackId: WATCH_ID, keyStackNames: ['kms-key-lab-primary', 'kms-key-lab-cloudhsm'], pendingWindowDays: 7, labTag: LAB_TAG };

const cfn = mockClient(CloudFormationClient);
const kmsMock = mockClient(KMSClient);
let world: FakeCloudFormation;
let keys: FakeKms;
let sleeps: number[];
let logged: string[];

/** The function's own stack, plus others in the Region that are none of its business. */
function region(own: { status?: string; role?: null; reason?: string } = {}): FakeCloudFormation {
  return new FakeCloudFormation()
    .add('kms-key-lab-alarm-primary', own.status ?? 'CREATE_COMPLETE', { created: ago(20 * DAY), role: own.role, reason: own.reason })
    .add('kms-key-lab-secondary', 'CREATE_COMPLETE')
    .add('some-other-app', 'UPDATE_COMPLETE')
    .add('kms-key-lab-primary', 'DELETE_COMPLETE', { deleted: ago(60 * DAY), n: 2 });
}

/** The Region's keys once the lab's are gone: only keys of others, one of them pending deletion, one unreadable. */
function othersOnly(): FakeKms {
  return new FakeKms()
    .foreign('1b2c3d4e-0000-4000-8000-000000000001', 'Enabled')
    .foreign('1b2c3d4e-0000-4000-8000-000000000002', 'PendingDeletion', { deletionDate: new Date(NOW.getTime() + 20 * DAY) })
    // The lab tag's key with another lab's value: not this lab's.
    .foreign('1b2c3d4e-0000-4000-8000-000000000003', 'PendingDeletion', { deletionDate: new Date(NOW.getTime() + 20 * DAY), tags: { [LAB_TAG.key]: 'other-lab' } })
    .foreign('1b2c3d4e-0000-4000-8000-000000000004', 'PendingReplicaDeletion', { denied: true });
}

function useWorld(w: FakeCloudFormation, k: FakeKms = othersOnly()): FakeCloudFormation {
  world = w;
  w.install(cfn);
  keys = k;
  k.install(kmsMock);
  return w;
}

beforeEach(() => {
  cfn.reset();
  kmsMock.reset();
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

describe('asks KMS before it ends the watch', () => {
  const MRK = 'mrk-0a1b2c3d4e5f46a7b8c9d0e1f2a3b4c5';
  const SINGLE = '5e6f7a8b-0000-4000-8000-00000000000a';
  const DENIED = '1b2c3d4e-0000-4000-8000-000000000004';
  const DELETE_BY_HAND = `aws cloudformation delete-stack --stack-name ${WATCH_ID} --region ${REGION}`;
  const NEEDS = "The deletion needs credentials, or a --role-arn, allowed to delete the stack's trail, bucket, log groups, alarm, topic, rule and function.";
  const at = (days: number) => new Date(NOW.getTime() + days * DAY);
  /** Key stacks deleted 8 days ago with a 7-day window: the stacks alone say the watch is over. */
  const stacksOver = (own: Parameters<typeof region>[0] = {}) => region(own).add('kms-key-lab-primary', 'DELETE_COMPLETE', { deleted: ago(8 * DAY) });

  test('no KMS call while the stacks say watch; then a primary waiting for its replica, then its window, hold the watch until the key is gone', async () => {
    // Four keys of others, then the lab's two on the third page of ListKeys.
    const k = othersOnly().lab(MRK, 'PendingReplicaDeletion').lab(SINGLE, 'PendingDeletion', ago(DAY / 2));
    useWorld(region().add('kms-key-lab-primary', 'DELETE_COMPLETE', { deleted: ago(3 * DAY) }), k);

    expect(await onSchedule(INPUT)).toMatchObject({ kind: 'watch', endsAt: at(5).toISOString() });
    expect(kmsMock.calls()).toHaveLength(0);
    jest.setSystemTime(at(5).getTime() - 1);
    expect((await onSchedule(INPUT)).kind).toBe('watch');
    expect(kmsMock.calls()).toHaveLength(0);

    // The stacks say the watch is over: KMS says the multi-Region primary still waits for its replica.
    jest.setSystemTime(at(5));
    const waiting = await onSchedule(INPUT);
    expect(waiting).toEqual({ kind: 'watch', reason: expect.stringContaining(`but lab key ${MRK} is PendingReplicaDeletion`) });
    expect(waiting.reason).toContain(`tag ${LAB_TAG.key}=${LAB_TAG.value}: 2 lab key(s) among 6 key(s) listed`);
    expect(cfn).not.toHaveReceivedCommand(DeleteStackCommand);
    expect(world.status(WATCH_ID)).toBe('CREATE_COMPLETE');
    expect(kmsMock.commandCalls(ListKeysCommand).map((c) => c.args[0].input)).toEqual([
      { Limit: 1000, Marker: undefined },
      { Limit: 1000, Marker: 'keys-2' },
      { Limit: 1000, Marker: 'keys-4' },
    ]);
    // Only the lab's keys are described.
    expect(kmsMock.commandCalls(DescribeKeyCommand).map((c) => c.args[0].input.KeyId).sort()).toEqual([MRK, SINGLE].sort());

    // The replica is deleted: the primary's own 7-day window starts.
    const deletionDate = at(12);
    Object.assign(keys.key(MRK), { state: 'PendingDeletion', deletionDate });
    jest.setSystemTime(at(5.25));
    expect(await onSchedule(INPUT)).toEqual({ kind: 'watch', reason: expect.stringContaining(`${MRK} is pending deletion until ${deletionDate.toISOString()}`), endsAt: at(13).toISOString() });
    expect(cfn).not.toHaveReceivedCommand(DeleteStackCommand);

    // KMS deletes both keys: they leave ListKeys, and the watch ends.
    keys.remove(MRK).remove(SINGLE);
    jest.setSystemTime(at(13));
    const end = await onSchedule(INPUT);
    expect(end).toMatchObject({ kind: 'end', deletion: 'requested' });
    expect(end.reason).toContain(`the key stacks were last deleted at ${ago(3 * DAY).toISOString()}`);
    expect(end.reason).toContain('no lab key in this Region is pending deletion');
    expect(cfn).toHaveReceivedCommandTimes(DeleteStackCommand, 1);
    expect(world.status(WATCH_ID)).toBe('DELETE_IN_PROGRESS');
  });

  test('a lab key pending deletion with a future date: watch until a day after that date', async () => {
    const date = new Date('2030-06-24T08:30:00Z');
    useWorld(stacksOver(), othersOnly().lab(SINGLE, 'PendingDeletion', date));
    expect(await onSchedule(INPUT)).toMatchObject({ kind: 'watch', endsAt: '2030-06-25T08:30:00.000Z' });
    expect(cfn).not.toHaveReceivedCommand(DeleteStackCommand);
    // Its lab tag is on the second page of its tags.
    expect(kmsMock.commandCalls(ListResourceTagsCommand).filter((c) => c.args[0].input.KeyId === SINGLE).map((c) => c.args[0].input.Marker)).toEqual([undefined, 'tags-2']);
  });

  test('only keys of others pending deletion, lab keys not being deleted: the stack deletes itself, the unreadable key skipped', async () => {
    useWorld(stacksOver(), othersOnly().lab(SINGLE, 'Enabled').lab(MRK, 'Disabled'));
    const report = await onSchedule(INPUT);
    expect(report).toMatchObject({ kind: 'end', deletion: 'requested' });
    expect(report.reason).toContain(`the key stacks were last deleted at ${ago(8 * DAY).toISOString()}; by the stacks' times every key they scheduled is past its pending window`);
    expect(report.reason).toContain('; no lab key in this Region is pending deletion (tag kms-key-lab:lab=kms-key-lab: ');
    expect(report.reason).toContain(`2 lab key(s) among 6 key(s) listed; skipped ${DENIED} (ListResourceTags: AccessDeniedException)`);
    expect(cfn).toHaveReceivedCommandWith(DeleteStackCommand, { StackName: WATCH_ID });
    expect(logged.map((l) => JSON.parse(l))).toContainEqual({ message: 'key unreadable, skipped', keyId: DENIED, call: 'ListResourceTags', error: 'AccessDeniedException' });
    // A refusal is not waited out, and a key that cannot be read is not described.
    expect(sleeps).toEqual([]);
    expect(kmsMock.commandCalls(ListResourceTagsCommand).filter((c) => c.args[0].input.KeyId === DENIED)).toHaveLength(1);
    expect(kmsMock.commandCalls(DescribeKeyCommand).map((c) => c.args[0].input.KeyId).sort()).toEqual([MRK, SINGLE].sort());
  });

  test('a lab key past its deletion date by more than a day no longer holds the watch', async () => {
    useWorld(stacksOver(), othersOnly().lab(SINGLE, 'PendingDeletion', ago(DAY)));
    expect(await onSchedule(INPUT)).toMatchObject({ kind: 'end', deletion: 'requested' });
  });

  test('a lab key deleted between its tags and its description is skipped, not waited out', async () => {
    useWorld(stacksOver(), othersOnly().lab(SINGLE, 'PendingDeletion', at(3)).fail('DescribeKey', () => named('NotFoundException', 'Key does not exist'), 1));
    const report = await onSchedule(INPUT);
    expect(report).toMatchObject({ kind: 'end', deletion: 'requested' });
    expect(report.reason).toContain(`skipped ${DENIED} (ListResourceTags: AccessDeniedException), ${SINGLE} (DescribeKey: NotFoundException)`);
    expect(sleeps).toEqual([]);
  });

  test('throttled KMS calls are retried and the run still decides', async () => {
    const throttled = () => named('ThrottlingException', 'Rate exceeded');
    useWorld(stacksOver(), othersOnly().lab(SINGLE, 'PendingDeletion', at(3)).fail('ListKeys', throttled, 1).fail('ListResourceTags', throttled, 2).fail('DescribeKey', throttled, 1));
    expect(await onSchedule(INPUT)).toMatchObject({ kind: 'watch', endsAt: at(4).toISOString() });
    expect(sleeps).toHaveLength(4);
    expect(cfn).not.toHaveReceivedCommand(DeleteStackCommand);
    // Refused calls count too: 3 pages of ListKeys plus 1, DescribeKey of the one lab key plus 1.
    expect(kmsMock).toHaveReceivedCommandTimes(ListKeysCommand, 4);
    expect(kmsMock).toHaveReceivedCommandTimes(DescribeKeyCommand, 2);
  });

  test('KMS that keeps refusing: nothing is deleted, and the error says what to do', async () => {
    useWorld(stacksOver(), othersOnly().fail('ListKeys', () => named('AccessDeniedException', 'User is not authorized to perform: kms:ListKeys')));
    const run = onSchedule(INPUT);
    await expect(run).rejects.toThrow('ListKeys failed (AccessDeniedException): User is not authorized to perform: kms:ListKeys. The key stacks say the watch is over');
    await expect(run).rejects.toThrow('check that the function role allows kms:ListKeys, and kms:ListResourceTags and kms:DescribeKey');
    await expect(run).rejects.toThrow(`you can delete this stack yourself: ${DELETE_BY_HAND}. ${NEEDS}`);
    expect(kmsMock).toHaveReceivedCommandTimes(ListKeysCommand, 1);
    expect(cfn).not.toHaveReceivedCommand(DeleteStackCommand);
  });

  test('its own stack without a CloudFormation service role: no DeleteStack, an error with the command', async () => {
    useWorld(stacksOver({ role: null }));
    const run = onSchedule(INPUT);
    await expect(run).rejects.toThrow('The watch is over (');
    await expect(run).rejects.toThrow('was deployed without a CloudFormation service role, so this run did not ask CloudFormation to delete it');
    await expect(run).rejects.toThrow(`What to do: delete it yourself, with credentials that may delete its resources: \`${DELETE_BY_HAND}\`. ${NEEDS}`);
    expect(cfn).not.toHaveReceivedCommand(DeleteStackCommand);
    expect(world.status(WATCH_ID)).toBe('CREATE_COMPLETE');
  });

  test('a stack without a service role that still watches is not an error', async () => {
    useWorld(region({ role: null }).add('kms-key-lab-primary', 'DELETE_COMPLETE', { deleted: ago(3 * DAY) }));
    expect((await onSchedule(INPUT)).kind).toBe('watch');
  });

  test('its own stack in DELETE_FAILED: asks CloudFormation again, then fails the run naming the reason', async () => {
    const reason = 'The following resource(s) failed to delete: [TrailBucket1A2B3C4D]. ';
    useWorld(stacksOver({ status: 'DELETE_FAILED', reason }));
    const run = onSchedule(INPUT);
    await expect(run).rejects.toThrow('Stack kms-key-lab-alarm-primary is DELETE_FAILED (The following resource(s) failed to delete: [TrailBucket1A2B3C4D]): an earlier deletion of it failed');
    await expect(run).rejects.toThrow('so this run asked CloudFormation to delete it again. What to do: if the next runs keep failing');
    await expect(run).rejects.toThrow(`\`${DELETE_BY_HAND}\`, adding \`--role-arn <role>\` of a role allowed to delete its resources if its service role is gone. ${NEEDS}`);
    await expect(run).rejects.toThrow('Keep the CDK bootstrap stack (CDKToolkit), whose cfn-exec role deletes this stack, until the alarm stacks are gone.');
    expect(cfn).toHaveReceivedCommandTimes(DeleteStackCommand, 1);
    expect(cfn).toHaveReceivedCommandWith(DeleteStackCommand, { StackName: WATCH_ID });
    expect(world.status(WATCH_ID)).toBe('DELETE_IN_PROGRESS');
  });

  test('its own stack in DELETE_FAILED while a lab key is still pending: no DeleteStack, but the run fails', async () => {
    useWorld(stacksOver({ status: 'DELETE_FAILED', reason: 'Role arn:aws:iam::111111111111:role/x is invalid or cannot be assumed' }), othersOnly().lab(MRK, 'PendingReplicaDeletion'));
    const run = onSchedule(INPUT);
    await expect(run).rejects.toThrow(`Stack kms-key-lab-alarm-primary is DELETE_FAILED (Role arn:aws:iam::111111111111:role/x is invalid or cannot be assumed): a deletion of it was asked for and failed, yet the watch is not over`);
    await expect(run).rejects.toThrow(`What to do: if the deletion was meant, finish it yourself with \`${DELETE_BY_HAND}\`. ${NEEDS}`);
    expect(cfn).not.toHaveReceivedCommand(DeleteStackCommand);
    expect(world.status(WATCH_ID)).toBe('DELETE_FAILED');
  });

  test('"Stack with id ... does not exist" about another stack of the same name is not "already gone"', async () => {
    const newer = idOf('kms-key-lab-alarm-primary', 2);
    useWorld(stacksOver().fail('DeleteStack', () => named('ValidationError', `Stack with id ${newer} does not exist`), 1));
    const run = onSchedule(INPUT);
    await expect(run).rejects.toThrow(`DeleteStack of ${WATCH_ID} failed (ValidationError): Stack with id ${newer} does not exist. The watch is over`);
    await expect(run).rejects.toThrow(`What to do: delete the stack yourself with \`${DELETE_BY_HAND}\``);
    await expect(run).rejects.toThrow(NEEDS);
  });
});
});
