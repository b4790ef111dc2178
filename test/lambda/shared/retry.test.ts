import { backoffDelays, isNamed, withRetries } from '../../../lambda/shared/retry';

const named = (name: string) => Object.assign(new Error(name), { name });

describe('withRetries', () => {
  test('delays double up to the cap and stop at the attempt limit', () => {
    expect(backoffDelays({ attempts: 6, baseDelayMs: 1000, maxDelayMs: 8000 })).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(backoffDelays({ attempts: 1, baseDelayMs: 1000, maxDelayMs: 8000 })).toEqual([]);
  });

  test('retries only the errors it is told to, then gives up with the last error', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const fail = () => {
      calls++;
      return Promise.reject(named('NotFoundException'));
    };
    await expect(
      withRetries(fail, { attempts: 3, baseDelayMs: 10, maxDelayMs: 100, retryOn: isNamed('NotFoundException'), sleep: async (ms) => void sleeps.push(ms) }),
    ).rejects.toThrow('NotFoundException');
    expect(calls).toBe(3);
    expect(sleeps).toEqual([10, 20]);
  });

  test('does not retry other errors', async () => {
    let calls = 0;
    await expect(
      withRetries(
        () => {
          calls++;
          return Promise.reject(named('AccessDeniedException'));
        },
        { attempts: 5, baseDelayMs: 1, maxDelayMs: 1, retryOn: isNamed('NotFoundException'), sleep: async () => undefined },
      ),
    ).rejects.toThrow('AccessDeniedException');
    expect(calls).toBe(1);
  });

  test('returns the first success', async () => {
    let calls = 0;
    const value = await withRetries(
      async () => {
        if (++calls < 3) throw named('NotFoundException');
        return 'ok';
      },
      { attempts: 5, baseDelayMs: 1, maxDelayMs: 1, retryOn: isNamed('NotFoundException'), sleep: async () => undefined },
    );
    expect(value).toBe('ok');
    expect(calls).toBe(3);
  });
});
