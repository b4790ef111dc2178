export interface RetryOptions {
  /** Total attempts, the first included. */
  readonly attempts: number;
  /** Delay before the second attempt; each later delay doubles, up to maxDelayMs. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly retryOn: (error: unknown) => boolean;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The delays a bounded exponential backoff waits between attempts. */
export function backoffDelays(options: Pick<RetryOptions, 'attempts' | 'baseDelayMs' | 'maxDelayMs'>): number[] {
  return Array.from({ length: Math.max(0, options.attempts - 1) }, (_, i) =>
    Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** i),
  );
}

/** Runs fn until it succeeds, throws an error retryOn rejects, or the attempts run out. */
export async function withRetries<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  const delays = backoffDelays(options);
  const sleep = options.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const delay = delays[attempt - 1];
      if (delay === undefined || !options.retryOn(error)) throw error;
      options.onRetry?.(attempt, delay, error);
      await sleep(delay);
    }
  }
}

/** The SDK v3 error name (e.g. NotFoundException), or undefined for anything else. */
export function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

export const isNamed =
  (...names: string[]) =>
  (error: unknown): boolean =>
    names.includes(errorName(error) ?? '');
