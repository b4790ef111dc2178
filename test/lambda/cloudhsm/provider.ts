import type { Context } from 'aws-lambda';
import type { CustomResourceEvent, IsCompleteEvent, IsCompleteResponse, OnEventResponse } from '../../../lambda/shared/custom-resource';
import { setSleepForTests } from '../../../lambda/shared/transient';
import { HOUR, SECOND, useWorldClock, World } from './world';

/** A handler as the Provider framework sees it: onEvent, and isComplete when it waits. */
export interface LifecycleHandler {
  onEvent(event: CustomResourceEvent, context?: Context): Promise<OnEventResponse>;
  isComplete?(event: IsCompleteEvent, context?: Context): Promise<IsCompleteResponse>;
}

export interface Outcome {
  readonly status: 'SUCCESS' | 'FAILED';
  /** Where a failure came from: a throw of onEvent or isComplete, or the total timeout. */
  readonly stage?: 'onEvent' | 'isComplete' | 'timeout';
  /** What onEvent returned, when it returned: the id CloudFormation's rollback Delete carries. */
  readonly physicalId?: string;
  readonly data: Record<string, string>;
  readonly error?: Error;
  /** isComplete calls made. */
  readonly polls: number;
  readonly startedAt: number;
  readonly endedAt: number;
}

export interface WaitOptions {
  /** @default 30 s */
  readonly queryIntervalMs?: number;
  /** @default 1 h (CloudFormation's limit for one custom resource) */
  readonly totalTimeoutMs?: number;
  /** Each invocation's Lambda timeout, which bounds its backoffs. @default 2 min (LabHandler's default) */
  readonly lambdaTimeoutMs?: number;
  /** Called after onEvent returned and before the first isComplete, to change the world mid-deploy. */
  readonly afterOnEvent?: () => void;
}

/** A Lambda context whose remaining time runs on the world's clock. */
export function lambdaContext(world: World, timeoutMs: number): Context {
  const end = world.now + timeoutMs;
  return { getRemainingTimeInMillis: () => Math.max(0, end - world.now) } as Context;
}

/**
 * What aws-cdk-lib's Provider framework does with one CloudFormation event:
 * onEvent once, then isComplete at once and every queryInterval (the fake
 * clock advances by it) until it reports complete, throws, or the total
 * timeout passes.
 */
export async function runEvent(world: World, handler: LifecycleHandler, event: CustomResourceEvent, options: WaitOptions = {}): Promise<Outcome> {
  const interval = options.queryIntervalMs ?? 30 * SECOND;
  const total = options.totalTimeoutMs ?? HOUR;
  const lambdaTimeout = options.lambdaTimeoutMs ?? 2 * 60 * SECOND;
  const startedAt = world.now;
  const done = (o: Omit<Outcome, 'startedAt' | 'endedAt'>): Outcome => ({ ...o, startedAt, endedAt: world.now });

  let onEventResult: OnEventResponse;
  try {
    onEventResult = await handler.onEvent(event, lambdaContext(world, lambdaTimeout));
  } catch (error) {
    return done({ status: 'FAILED', stage: 'onEvent', error: error as Error, data: {}, polls: 0 });
  }
  const physicalId = onEventResult.PhysicalResourceId ?? ('PhysicalResourceId' in event ? event.PhysicalResourceId : event.RequestId);
  if (event.RequestType === 'Delete' && physicalId !== event.PhysicalResourceId) {
    const error = new Error(`DELETE: cannot change the physical resource ID from "${event.PhysicalResourceId}" to "${physicalId}" during deletion`);
    return done({ status: 'FAILED', stage: 'onEvent', error, data: {}, polls: 0 });
  }
  let data: Record<string, string> = { ...(onEventResult.Data ?? {}) };
  if (!handler.isComplete) return done({ status: 'SUCCESS', physicalId, data, polls: 0 });

  options.afterOnEvent?.();
  const waitEvent = { ...event, PhysicalResourceId: physicalId, Data: data } as IsCompleteEvent;
  for (let polls = 1; ; polls++) {
    let result: IsCompleteResponse;
    try {
      result = await handler.isComplete(waitEvent, lambdaContext(world, lambdaTimeout));
    } catch (error) {
      return done({ status: 'FAILED', stage: 'isComplete', physicalId, error: error as Error, data, polls });
    }
    if (result.IsComplete) {
      data = { ...data, ...(result.Data ?? {}) };
      return done({ status: 'SUCCESS', physicalId, data, polls });
    }
    if (world.now - startedAt + interval > total) {
      return done({ status: 'FAILED', stage: 'timeout', physicalId, error: new Error('Operation timed out'), data, polls });
    }
    world.advance(interval);
  }
}

/**
 * Resources CloudFormation deploys at the same time (none depends on
 * another): each runs as in runEvent with its own wait, their polls
 * interleaved on the one clock.
 */
export async function runTogether(world: World, resources: { handler: LifecycleHandler; event: CustomResourceEvent; wait?: WaitOptions }[]): Promise<Outcome[]> {
  // onEvent of each in turn (deterministic), then each one's polls at its own interval.
  const states = [];
  for (const { handler, event, wait = {} } of resources) {
    const first = await runEvent(world, { onEvent: handler.onEvent }, event, wait);
    const interval = wait.queryIntervalMs ?? 30 * SECOND;
    const deadline = first.startedAt + (wait.totalTimeoutMs ?? HOUR);
    states.push({ handler, event, wait, interval, deadline, outcome: first, done: first.status === 'FAILED' || !handler.isComplete, polls: 0, nextAt: world.now });
  }
  for (;;) {
    const pending = states.filter((x) => !x.done);
    if (pending.length === 0) return states.map((x) => x.outcome);
    const nextAt = Math.min(...pending.map((x) => x.nextAt));
    if (nextAt > world.now) world.advance(nextAt - world.now);
    for (const s of pending.filter((x) => x.nextAt <= world.now)) {
      s.polls++;
      const waitEvent = { ...s.event, PhysicalResourceId: s.outcome.physicalId!, Data: s.outcome.data } as IsCompleteEvent;
      try {
        const result = await s.handler.isComplete!(waitEvent, lambdaContext(world, s.wait.lambdaTimeoutMs ?? 2 * 60 * SECOND));
        if (result.IsComplete) {
          s.done = true;
          s.outcome = { ...s.outcome, data: { ...s.outcome.data, ...(result.Data ?? {}) }, polls: s.polls, endedAt: world.now };
        }
      } catch (error) {
        s.done = true;
        s.outcome = { ...s.outcome, status: 'FAILED', stage: 'isComplete', error: error as Error, polls: s.polls, endedAt: world.now };
      }
      if (s.done) continue;
      s.nextAt = world.now + s.interval;
      if (s.nextAt > s.deadline) {
        s.done = true;
        s.outcome = { ...s.outcome, status: 'FAILED', stage: 'timeout', error: new Error('Operation timed out'), polls: s.polls, endedAt: world.now };
      }
    }
  }
}

/**
 * The waits lib/ gives each handler's Provider (lib/cloudhsm/*.ts), so the
 * tests poll as a deploy does.
 */
export const LAB_WAITS = {
  'cloudhsm-hsm': { queryIntervalMs: 60 * SECOND, totalTimeoutMs: 55 * 60 * SECOND },
  'cloudhsm-init': { queryIntervalMs: 30 * SECOND, totalTimeoutMs: 30 * 60 * SECOND },
  'cloudhsm-activate': { queryIntervalMs: 20 * SECOND, totalTimeoutMs: 40 * 60 * SECOND },
  'cloudhsm-check-automated': { queryIntervalMs: 15 * SECOND, totalTimeoutMs: 15 * 60 * SECOND },
  'cloudhsm-check-manual': { queryIntervalMs: 60 * SECOND, totalTimeoutMs: 55 * 60 * SECOND },
  'custom-key-store': { queryIntervalMs: 30 * SECOND, totalTimeoutMs: 55 * 60 * SECOND },
} as const satisfies Record<string, WaitOptions>;

/**
 * A Create as a whole stack deploy sees it: when it fails after onEvent
 * returned, CloudFormation's rollback sends a Delete with onEvent's physical
 * id (when onEvent itself failed, the framework answers that Delete alone and
 * the handler never hears of it).
 */
export async function createWithRollback(
  world: World,
  handler: LifecycleHandler,
  create: CustomResourceEvent,
  deleteEvent: (physicalId: string) => CustomResourceEvent,
  options: WaitOptions = {},
): Promise<{ create: Outcome; rollback?: Outcome }> {
  const outcome = await runEvent(world, handler, create, options);
  if (outcome.status === 'SUCCESS' || outcome.stage === 'onEvent') return { create: outcome };
  const rollback = await runEvent(world, handler, deleteEvent(outcome.physicalId!), { ...options, afterOnEvent: undefined });
  return { create: outcome, rollback };
}

/** Every console line the handlers write, for searching what leaves them. */
export function captureLogs(): string[] {
  const lines: string[] = [];
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
  }
  return lines;
}

/** Everything an outcome shows to CloudFormation and its logs: response data, error message and stack. */
export function outcomeText(...outcomes: (Outcome | undefined)[]): string {
  return outcomes
    .filter((o): o is Outcome => o !== undefined)
    .map((o) => [o.physicalId ?? '', JSON.stringify(o.data), o.error?.message ?? '', o.error?.stack ?? ''].join('\n'))
    .join('\n');
}

/**
 * One fresh world per test: the fake services installed, Date on the world's
 * clock, console captured, and every handler's backoff sleeping on the world's
 * clock instead of the real one. `set` receives them before each test.
 */
export function useFakeWorld(set: (world: World, logs: string[]) => void): void {
  const savedRegion = process.env.AWS_REGION;
  beforeEach(() => {
    process.env.AWS_REGION = 'ap-southeast-1';
    const world = new World().install();
    useWorldClock(world);
    const logs = captureLogs();
    setSleepForTests(async (ms) => world.advance(ms));
    set(world, logs);
  });
  afterEach(() => {
    if (savedRegion === undefined) delete process.env.AWS_REGION;
    else process.env.AWS_REGION = savedRegion;
    setSleepForTests(undefined);
    jest.useRealTimers();
    jest.restoreAllMocks();
  });
}
