import { backoffDelays } from '../../../lambda/shared/retry';
import { beginInvocation, retryTransient, setSleepForTests, TRANSIENT_BACKOFF, transientKindsFor } from '../../../lambda/shared/transient';

const named = (name: string) => Object.assign(new Error(name), { name });

/** A call that fails with the given errors in turn, then answers 'ok'. */
function failing(...errors: string[]) {
  let calls = 0;
  const fn = () => (calls < errors.length ? Promise.reject(named(errors[calls++])) : (calls++, Promise.resolve('ok')));
  return { fn, calls: () => calls };
}

let sleeps: number[];
beforeEach(() => {
  sleeps = [];
  setSleepForTests(async (ms) => void sleeps.push(ms));
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  beginInvocation(undefined);
});
afterEach(() => {
  setSleepForTests(undefined);
  jest.restoreAllMocks();
});

describe('retryTransient', () => {
  test('each kind has its own budget: NotFound 23 s, AccessDenied 54 s', () => {
    expect(backoffDelays(TRANSIENT_BACKOFF.notFound).reduce((a, b) => a + b)).toBe(23_000);
    expect(backoffDelays(TRANSIENT_BACKOFF.accessDenied).reduce((a, b) => a + b)).toBe(54_000);
  });

  test('NotFound and AccessDenied mixed are both waited out', async () => {
    const call = failing('AccessDeniedException', 'NotFoundException', 'AccessDeniedException');
    await expect(retryTransient(call.fn, { retry: transientKindsFor('Create'), call: 'X' })).resolves.toBe('ok');
    expect(sleeps).toEqual([2000, 1000, 4000]);
  });

  test('a Delete retries neither', async () => {
    const call = failing('NotFoundException');
    await expect(retryTransient(call.fn, { retry: transientKindsFor('Delete'), call: 'X' })).rejects.toThrow('NotFoundException');
    expect(call.calls()).toBe(1);
  });

  test('other errors are thrown at once', async () => {
    const call = failing('ValidationException');
    await expect(retryTransient(call.fn, { retry: transientKindsFor('Create'), call: 'X' })).rejects.toThrow('ValidationException');
    expect(sleeps).toEqual([]);
  });

  test('extra names can mean "not visible yet" for one call', async () => {
    const call = failing('InvalidArnException');
    await expect(retryTransient(call.fn, { retry: ['notFound'], call: 'CreateGrant', notFoundNames: ['InvalidArnException'] })).resolves.toBe('ok');
    await expect(retryTransient(failing('InvalidArnException').fn, { retry: ['notFound'], call: 'X' })).rejects.toThrow('InvalidArnException');
  });

  test('a key policy error waits only where the call names it, within its own 74 s budget, and never on Delete', async () => {
    const opts = { retry: transientKindsFor('Create'), call: 'CreateKey', newPrincipalNames: ['MalformedPolicyDocumentException'] };
    await expect(retryTransient(failing('MalformedPolicyDocumentException', 'MalformedPolicyDocumentException').fn, opts)).resolves.toBe('ok');
    expect(sleeps).toEqual([2000, 4000]);
    expect(backoffDelays(TRANSIENT_BACKOFF.newPrincipal).reduce((a, b) => a + b)).toBe(74_000);
    await expect(retryTransient(failing('MalformedPolicyDocumentException').fn, { retry: transientKindsFor('Create'), call: 'X' })).rejects.toThrow('Malformed');
    await expect(retryTransient(failing('MalformedPolicyDocumentException').fn, { ...opts, retry: transientKindsFor('Delete') })).rejects.toThrow('Malformed');
  });

  test('a spent budget throws the last error as the service raised it', async () => {
    const call = failing(...Array(10).fill('NotFoundException'));
    await expect(retryTransient(call.fn, { retry: ['notFound'], call: 'X' })).rejects.toThrow('NotFoundException');
    expect(call.calls()).toBe(6);
  });
});

describe('retryTransient returns', () => {
  test('the first success, after the transient failures before it', async () => {
    const call = failing('NotFoundException', 'NotFoundException');
    await expect(retryTransient(call.fn, { retry: ['notFound'], call: 'X' })).resolves.toBe('ok');
    expect(call.calls()).toBe(3);
    expect(sleeps).toEqual([1000, 2000]);
  });
});
