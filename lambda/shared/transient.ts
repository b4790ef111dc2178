import { backoffDelays, errorName } from './retry';
import { log } from './log';

/**
 * Errors that AWS documents as passing, each with its own bounded backoff:
 * - NotFound: a resource created moments ago is not visible to every call yet
 *   (KMS can answer NotFound to any call right after CreateKey, not only the first).
 * - AccessDenied: a role's new policy takes seconds to apply everywhere (IAM is
 *   eventually consistent), so a handler's first calls after its role was
 *   created can be refused. Only retried while creating or updating.
 * - A new principal in a key policy: "The principals in the key policy must
 *   exist and be visible to KMS. When you create a new AWS principal, you
 *   might need to enforce a delay before including the new principal in a key
 *   policy" (KMS API reference, CreateKey and PutKeyPolicy, Policy); until
 *   then KMS answers MalformedPolicyDocumentException. Retried only for the
 *   calls that pass such names (newPrincipalNames), and only while creating or
 *   updating: a policy that is really malformed fails once the budget is spent.
 */
export const TRANSIENT_BACKOFF = {
  /** 1, 2, 4, 8, 8 s: 23 s over six attempts. */
  notFound: { attempts: 6, baseDelayMs: 1000, maxDelayMs: 8000 },
  /** 2, 4, 8, 10, 10, 10, 10 s: 54 s over eight attempts. */
  accessDenied: { attempts: 8, baseDelayMs: 2000, maxDelayMs: 10_000 },
  /** 2, 4, 8, 15, 15, 15, 15 s: 74 s over eight attempts. */
  newPrincipal: { attempts: 8, baseDelayMs: 2000, maxDelayMs: 15_000 },
} as const;

export type TransientKind = keyof typeof TRANSIENT_BACKOFF;

const KIND_OF_ERROR: Record<string, TransientKind> = {
  NotFoundException: 'notFound',
  CloudHsmResourceNotFoundException: 'notFound',
  AccessDeniedException: 'accessDenied',
  CloudHsmAccessDeniedException: 'accessDenied',
};

/**
 * Errors that mean "ask again later" to a handler that is waiting anyway:
 * throttling and the services' own internal failures, after the SDK's own
 * retries gave up. A poll that meets one reports "not complete yet"; the
 * Provider framework's total timeout bounds how long that can go on.
 */
const ASK_AGAIN_LATER = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalServerError',
  'KMSInternalException',
  'CloudHsmInternalFailureException',
  'CloudHsmServiceException',
  'TimeoutError',
]);

/** True for an error a polling handler should answer with "not complete yet". */
export function isAskAgainLater(error: unknown): boolean {
  const name = errorName(error) ?? '';
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  return ASK_AGAIN_LATER.has(name) || (status !== undefined && status >= 500);
}

export interface TransientOptions {
  /** Which kinds to retry; a Delete retries none of them (gone is gone, and its role is old). */
  readonly retry: readonly TransientKind[];
  /** Names the call in log lines. */
  readonly call: string;
  /** Further error names that mean "not visible yet" for this call (e.g. a grantee role KMS cannot see yet). */
  readonly notFoundNames?: readonly string[];
  /** Error names that mean "a principal the policy names is not visible yet" for this call (MalformedPolicyDocumentException for a key policy). */
  readonly newPrincipalNames?: readonly string[];
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
let sleep: (ms: number) => Promise<void> = realSleep;
/** Lets tests run every backoff without waiting. */
export function setSleepForTests(fn: ((ms: number) => Promise<void>) | undefined): void {
  sleep = fn ?? realSleep;
}

/** Time kept back at the end of an invocation, so a failing Create can still clean up and answer. */
export const CLEANUP_RESERVE_MS = 20_000;
let invocationEnd = Number.POSITIVE_INFINITY;
let deadline = Number.POSITIVE_INFINITY;

/** Bounds every backoff of this invocation by the Lambda's own remaining time. */
export function beginInvocation(context?: { getRemainingTimeInMillis(): number }): void {
  invocationEnd = context ? Date.now() + context.getRemainingTimeInMillis() : Number.POSITIVE_INFINITY;
  deadline = invocationEnd - CLEANUP_RESERVE_MS;
}

/** The cleanup after a failure may use the reserve that the work before it left. */
export function beginCleanup(): void {
  deadline = invocationEnd - 2_000;
}

/** The kinds of transient error a request type may wait out. */
export function transientKindsFor(requestType: 'Create' | 'Update' | 'Delete'): readonly TransientKind[] {
  return requestType === 'Delete' ? [] : ['notFound', 'accessDenied', 'newPrincipal'];
}

/**
 * Runs fn, waiting out the transient errors named in options, each kind within
 * its own budget and all within the invocation's deadline; anything else, or a
 * spent budget, is thrown as the service raised it.
 */
export async function retryTransient<T>(fn: () => Promise<T>, options: TransientOptions): Promise<T> {
  const used: Record<TransientKind, number> = { notFound: 0, accessDenied: 0, newPrincipal: 0 };
  for (;;) {
    if (Date.now() > deadline) {
      // Past this point only the cleanup may run: a call now could outlast the Lambda and strand what was created.
      throw Object.assign(new Error(`Stopped before ${options.call}: the invocation is within ${CLEANUP_RESERVE_MS / 1000} s of its timeout.`), {
        name: 'InvocationTimeNearlyUp',
      });
    }
    try {
      return await fn();
    } catch (error) {
      const name = errorName(error) ?? '';
      const kind: TransientKind | undefined = options.notFoundNames?.includes(name)
        ? 'notFound'
        : options.newPrincipalNames?.includes(name)
          ? 'newPrincipal'
          : KIND_OF_ERROR[name];
      if (!kind || !options.retry.includes(kind)) throw error;
      const delay = backoffDelays(TRANSIENT_BACKOFF[kind])[used[kind]++];
      if (delay === undefined || Date.now() + delay > deadline) throw error;
      log('transient error, retrying', { call: options.call, error: errorName(error), attempt: used[kind], delayMs: delay });
      await sleep(delay);
    }
  }
}
