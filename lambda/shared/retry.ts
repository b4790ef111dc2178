/** A bounded exponential backoff: the first delay, doubling up to a cap, for a number of attempts. */
export interface Backoff {
  /** Total attempts, the first included. */
  readonly attempts: number;
  /** Delay before the second attempt; each later delay doubles, up to maxDelayMs. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** The delays a bounded exponential backoff waits between attempts. */
export function backoffDelays(options: Backoff): number[] {
  return Array.from({ length: Math.max(0, options.attempts - 1) }, (_, i) =>
    Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** i),
  );
}

/** The SDK v3 error name (e.g. NotFoundException), or undefined for anything else. */
export function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

export const isNamed =
  (...names: string[]) =>
  (error: unknown): boolean =>
    names.includes(errorName(error) ?? '');
