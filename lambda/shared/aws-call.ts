import { errorName } from './retry';
import { retryTransient, TransientKind } from './transient';

/** An error whose message is already written for the person reading the CloudFormation events; thrown as is. */
export class ExplainedError extends Error {}

/** Turns a failed call into "what happened. What to do: ..." text. */
export type Explainer = (call: string, errorName: string | undefined, serviceMessage: string) => string;

/** The service's own words, for handlers that have no remedy table for a call. */
export const serviceWords: Explainer = (call, name, message) => `${call} failed (${name ?? 'Error'}): ${message}`;

export interface CallOptions {
  /** Error names that mean "not visible yet" for this call, waited out like NotFound. */
  readonly notFoundNames?: readonly string[];
  /** Error names that mean "a principal the policy names is not visible yet" for this call, waited out within their own budget. */
  readonly newPrincipalNames?: readonly string[];
}

export type Caller = <T>(call: string, fn: () => Promise<T>, options?: CallOptions) => Promise<T>;

/**
 * Every SDK call of a handler goes through one of these: the transient errors
 * the request type may wait out are retried within their budgets, and
 * anything else becomes an ExplainedError whose cause is the SDK error.
 */
export function makeCaller(retry: readonly TransientKind[], explain: Explainer = serviceWords): Caller {
  return async (call, fn, options) => {
    try {
      return await retryTransient(fn, { retry, call, notFoundNames: options?.notFoundNames, newPrincipalNames: options?.newPrincipalNames });
    } catch (error) {
      throw explainedError(call, error, explain);
    }
  };
}

export function explainedError(call: string, error: unknown, explain: Explainer = serviceWords): Error {
  if (error instanceof ExplainedError) return error;
  const e = new ExplainedError(explain(call, errorName(error), error instanceof Error ? error.message : String(error)));
  e.cause = error;
  return e;
}

/** The SDK error behind an ExplainedError (or the error itself), for telling errors apart by name. */
export function rootCause(error: unknown): unknown {
  return error instanceof ExplainedError && error.cause ? error.cause : error;
}
