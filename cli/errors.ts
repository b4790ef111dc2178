/** Exit codes: 0 all good, 1 something failed (a check, AWS, the lab), 2 the command line or configuration is wrong. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * A failure whose message is already the one paragraph the operator reads:
 * what happened and what to do. main prints it as is and exits with its code.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A bad option, setting or cdk.json: nothing was asked of AWS. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
    this.name = 'UsageError';
  }
}

/** Names the SDK call that failed, so its error can be explained in terms of what was being done. */
export interface CallContext {
  /** The API operation, e.g. `Encrypt` or `DescribeStacks`. */
  readonly operation: string;
  readonly region?: string;
  /** What the call was about: a key ARN, an alias, a stack or role name. */
  readonly resource?: string;
  /** The key's ARN when resource is an alias: KMS's remedies (enable-key, cancel-key-deletion) take no alias. */
  readonly keyArn?: string;
}

/** An SDK error, with the call it came from. */
export class AwsCallError extends Error {
  constructor(
    readonly call: CallContext,
    readonly cause: unknown,
  ) {
    super(`${call.operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'AwsCallError';
  }
}

/** The SDK error's name (e.g. AccessDeniedException), behind an AwsCallError or not. */
export function sdkErrorName(error: unknown): string {
  const cause = error instanceof AwsCallError ? error.cause : error;
  return cause instanceof Error ? cause.name : 'Error';
}

/** Runs one SDK call, tagging any failure with the call, for explainError. */
export async function awsCall<T>(call: CallContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw error instanceof AwsCallError ? error : new AwsCallError(call, error);
  }
}
