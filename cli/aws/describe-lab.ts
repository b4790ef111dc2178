import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { awsCall, CliError } from '../errors';
import { explainError, isStackNotFound } from '../error-messages';
import { DeployedStack, LabDeployment, labStacks, LabStackRef, StackRole } from '../lab-stacks';
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
    };
  } catch (error) {
    if (isStackNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * What is deployed: every lab stack, looked up at once. Any failure other
 * than "not deployed" (credentials, throttling, network) ends the command with
 * its explanation, since every later call would meet it too.
 */
export async function describeLab(clients: AwsClients, settings: LabSettings): Promise<LabDeployment> {
  const refs = labStacks(settings);
  const roles = Object.keys(refs) as StackRole[];
  const results = await Promise.allSettled(roles.map((role) => describeStack(clients, refs[role])));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw new CliError(explainError(failed.reason));
  return Object.fromEntries(roles.map((role, i) => [role, (results[i] as PromiseFulfilledResult<DeployedStack | undefined>).value])) as LabDeployment;
}
