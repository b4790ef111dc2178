import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { awsCall, CliError } from '../errors';
import { explainError, isStackNotFound } from '../error-messages';
import { DeployedStack, LabDeployment, labStacks, LabStackRef, STACK_ROLES, StackRole } from '../lab-stacks';
import { LabSettings } from '../settings';
import { AwsClients } from './clients';

/** One stack by name; undefined when CloudFormation has none (ValidationError "Stack with id X does not exist"). */
export async function describeStack(clients: AwsClients, ref: LabStackRef): Promise<DeployedStack | undefined> {
  try {
    const answer = await awsCall({ operation: 'DescribeStacks', region: ref.region, resource: ref.name }, () =>
      clients.cloudFormation(ref.region).send(new DescribeStacksCommand({ StackName: ref.name })),
    );
    const stack = answer.Stacks?.[0];
    if (!stack) return undefined;
    return {
      ...ref,
      status: stack.StackStatus ?? 'UNKNOWN',
      statusReason: stack.StackStatusReason,
      lastUpdated: stack.LastUpdatedTime ?? stack.CreationTime,
      outputs: Object.fromEntries((stack.Outputs ?? []).filter((o) => o.OutputKey).map((o) => [o.OutputKey!, o.OutputValue ?? ''])),
      tags: Object.fromEntries((stack.Tags ?? []).filter((t) => t.Key).map((t) => [t.Key!, t.Value ?? ''])),
      ...(stack.RoleARN ? { roleArn: stack.RoleARN } : {}),
    };
  } catch (error) {
    if (isStackNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * What is deployed: every lab stack (or only those of `roles`), looked up at
 * once. A stack not in `roles` is left undefined, as if not deployed: a
 * command that never reads the alarm stacks (verify, rotate) passes
 * KEY_STACKS_AND_ROLES and spends no call on them. Any failure other than
 * "not deployed" (credentials, throttling, network) ends the command with
 * its explanation, since every later call would meet it too.
 */
export async function describeLab(clients: AwsClients, settings: LabSettings, roles: readonly StackRole[] = STACK_ROLES): Promise<LabDeployment> {
  const refs = labStacks(settings);
  const results = await Promise.allSettled(roles.map((role) => describeStack(clients, refs[role])));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw new CliError(explainError(failed.reason));
  const found = new Map(roles.map((role, i) => [role, (results[i] as PromiseFulfilledResult<DeployedStack | undefined>).value]));
  return Object.fromEntries(STACK_ROLES.map((role) => [role, found.get(role)])) as LabDeployment;
}
