const HOUR_MS = 60 * 60 * 1000;

/**
 * When the lab expires and how EventBridge Scheduler spells it: a one-time
 * `at()` expression in UTC, to the minute, counted from the deploy that set it
 * (never from synth, so templates stay the same from one synth to the next).
 */
export function expiryAt(now: Date, hours: number): { readonly expression: string; readonly expiresAt: string } {
  const at = new Date(Math.ceil((now.getTime() + hours * HOUR_MS) / 60_000) * 60_000);
  const iso = at.toISOString();
  return { expression: `at(${iso.slice(0, 19)})`, expiresAt: `${iso.slice(0, 19)}Z` };
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
