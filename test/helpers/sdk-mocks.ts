import { mockClient } from 'aws-sdk-client-mock';

/**
 * One aws-sdk-client-mock stub per SDK client class for a test file, shared
 * by the stateful fakes (test/cli/fake-aws.ts, test/lambda/cloudhsm/world.ts),
 * and which fake answers each command.
 *
 * mockClient stubs the class's `send`: a second mockClient of the same class
 * replaces the first, and `reset()` forgets every command's behaviour. So a
 * fake does not stub or reset: it owns commands under a name (`own`), and
 * owning again replaces only what that name owned before. A command is
 * answered by the fake that owned it last; a command no fake owns goes to the
 * last owner's `rest` (if any), else answers undefined (the mock's default).
 * Several fakes can so serve one test, each for its own service.
 */

type Client = Parameters<typeof mockClient>[0];
export type SdkMock = ReturnType<typeof mockClient>;
export type Answer = (input: any, getClient: () => unknown) => unknown;

interface Claim {
  readonly owner: string;
  readonly answer: Answer;
}

interface Shared {
  readonly mock: SdkMock;
  /** Command class → claims, the last one answers. */
  readonly commands: Map<unknown, Claim[]>;
  /** Answers for commands nobody claims, the last one answers. */
  readonly rest: Claim[];
}

const shared = new Map<Client, Shared>();
const byMock = new Map<SdkMock, Shared>();

/** The test file's one stub of `Client`. */
export function sdkMock(client: Client): SdkMock {
  let s = shared.get(client);
  if (!s) {
    s = { mock: mockClient(client), commands: new Map(), rest: [] };
    shared.set(client, s);
    byMock.set(s.mock, s);
  }
  return s.mock;
}

/** What `owner` answers: each command on its mock, and optionally every other command of a mock. */
export interface Ownership {
  readonly commands: { mock: SdkMock; command: unknown; answer: Answer }[];
  readonly rest?: { mock: SdkMock; answer: Answer }[];
}

/** Makes `owner` answer what it lists, instead of what it owned before; other owners keep theirs. */
export function own(owner: string, ownership: Ownership): void {
  for (const s of shared.values()) {
    for (const [command, claims] of s.commands) s.commands.set(command, claims.filter((c) => c.owner !== owner));
    s.rest.splice(0, s.rest.length, ...s.rest.filter((c) => c.owner !== owner));
  }
  for (const { mock, command, answer } of ownership.commands) {
    const s = sharedOf(mock);
    s.commands.set(command, [...(s.commands.get(command) ?? []), { owner, answer }]);
  }
  for (const { mock, answer } of ownership.rest ?? []) sharedOf(mock).rest.push({ owner, answer });
  for (const s of shared.values()) rewire(s);
}

/** Whoever answers `command` on `mock` now, for a test that composes fakes. */
export function answerOf(mock: SdkMock, command: unknown): Answer | undefined {
  const s = sharedOf(mock);
  return s.commands.get(command)?.at(-1)?.answer ?? s.rest.at(-1)?.answer;
}

function sharedOf(mock: SdkMock): Shared {
  const s = byMock.get(mock);
  if (!s) throw new Error('not a mock of test/helpers/sdk-mocks.ts: get it with sdkMock()');
  return s;
}

/** Puts the current claims behind the stub; a reset also clears its call history, as each fake's install did. */
function rewire(s: Shared): void {
  s.mock.reset();
  const stub = s.mock as unknown as { on(c: unknown): { callsFake(f: Answer): void }; onAnyCommand(): { callsFake(f: Answer): void } };
  const rest = s.rest.at(-1);
  if (rest) stub.onAnyCommand().callsFake(rest.answer);
  for (const [command, claims] of s.commands) {
    const claim = claims.at(-1);
    if (claim) stub.on(command).callsFake(claim.answer);
  }
}
