const HOUR_MS = 60 * 60 * 1000;

/** How often the schedule asks CloudFormation to delete the stack, from the expiry on, until it is gone. */
export const RETRY_EVERY = 'rate(15 minutes)';

/**
 * When the lab expires, counted from the deploy that set it (never from
 * synth, so templates stay the same from one synth to the next), to the
 * minute. The schedule is a recurring one that starts then: DeleteStack is
 * refused while the stack is being updated or rolled back, and asking again
 * every 15 minutes costs nothing once a deletion is under way.
 */
export function expiryAt(now: Date, hours: number): { readonly startDate: Date; readonly expiresAt: string } {
  const at = new Date(Math.ceil((now.getTime() + hours * HOUR_MS) / 60_000) * 60_000);
  return { startDate: at, expiresAt: `${at.toISOString().slice(0, 19)}Z` };
}

/** The Scheduler universal target that deletes a CloudFormation stack: the ordered teardown, run by CloudFormation. */
export function deleteStackTarget(stackName: string, roleArn: string) {
  return {
    Arn: 'arn:aws:scheduler:::aws-sdk:cloudformation:deleteStack',
    RoleArn: roleArn,
    Input: JSON.stringify({ StackName: stackName }),
    RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
  };
}
