import { createHash } from 'node:crypto';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { Caller, rootCause } from './aws-call';
import { CLIENT_CONFIG } from './clients';
import { log } from './log';
import { isNamed } from './retry';

const ssm = new SSMClient(CLIENT_CONFIG);

/**
 * A shell script run once on the lab's client host through SSM Run Command,
 * found again by its comment, so a stateless isComplete can follow it from
 * poll to poll: no command id has to be kept anywhere.
 */
export interface HostCommand {
  readonly instanceId: string;
  /** Unique per deploy attempt and purpose; SSM keeps at most 100 characters. */
  readonly comment: string;
}

/** `kms-key-lab:<purpose>:<12 hex of the key>`: short enough for SSM's 100-character comment. */
export function commandComment(purpose: string, uniqueKey: string): string {
  return `kms-key-lab:${purpose}:${createHash('sha256').update(uniqueKey).digest('hex').slice(0, 12)}`;
}

export type HostCommandState =
  | { readonly status: 'not-sent' }
  | { readonly status: 'running' }
  | { readonly status: 'succeeded'; readonly output: string }
  | { readonly status: 'failed'; readonly detail: string; readonly output: string };

const RUNNING = new Set(['Pending', 'InProgress', 'Delayed']);

/** The lab's commands on the host whose comment starts with `prefix`, newest first. */
export async function listHostCommands(call: Caller, instanceId: string, prefix: string): Promise<ListedCommand[]> {
  const listed = await call('ListCommands', () => ssm.send(new ListCommandsCommand({ InstanceId: instanceId, MaxResults: 50 })));
  return (listed.Commands ?? [])
    .filter((c) => c.CommandId && (c.Comment ?? '').startsWith(prefix))
    .map((c) => ({ commandId: c.CommandId!, comment: c.Comment!, status: c.Status ?? '', requestedAt: c.RequestedDateTime ?? new Date(0) }))
    .sort((a, b) => b.requestedAt.getTime() - a.requestedAt.getTime());
}

export interface ListedCommand {
  readonly commandId: string;
  readonly comment: string;
  readonly status: string;
  readonly requestedAt: Date;
}

export async function hostCommandState(call: Caller, command: HostCommand, listed?: readonly ListedCommand[]): Promise<HostCommandState> {
  const found = (listed ?? (await listHostCommands(call, command.instanceId, command.comment))).find((c) => c.comment === command.comment);
  if (!found) return { status: 'not-sent' };
  if (RUNNING.has(found.status)) return { status: 'running' };
  let invocation;
  try {
    invocation = await call(
      'GetCommandInvocation',
      () => ssm.send(new GetCommandInvocationCommand({ CommandId: found.commandId, InstanceId: command.instanceId })),
      { notFoundNames: ['InvocationDoesNotExist'] },
    );
  } catch (error) {
    // SSM may not know the invocation for a moment after the command: a caller that does not retry (isComplete) asks on its next poll.
    if (isNamed('InvocationDoesNotExist')(rootCause(error))) return { status: 'running' };
    throw error;
  }
  if (RUNNING.has(invocation.Status ?? '')) return { status: 'running' };
  const output = invocation.StandardOutputContent ?? '';
  if (invocation.Status === 'Success') return { status: 'succeeded', output };
  const stderr = (invocation.StandardErrorContent ?? '').trim().split('\n').slice(-3).join(' | ');
  return { status: 'failed', detail: `${invocation.Status}${stderr ? `: ${stderr}` : ''}`, output };
}

/** Whether the host's SSM agent has registered and answers (a new instance takes a minute or two). */
export async function hostOnline(call: Caller, instanceId: string): Promise<boolean> {
  const out = await call('DescribeInstanceInformation', () =>
    ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] })),
  );
  return out.InstanceInformationList?.some((i) => i.InstanceId === instanceId && i.PingStatus === 'Online') ?? false;
}

export async function sendHostCommand(call: Caller, command: HostCommand, lines: string[], timeoutSeconds = 600): Promise<void> {
  const out = await call('SendCommand', () =>
    ssm.send(
      new SendCommandCommand({
        InstanceIds: [command.instanceId],
        DocumentName: 'AWS-RunShellScript',
        Comment: command.comment,
        TimeoutSeconds: timeoutSeconds,
        Parameters: { commands: lines, executionTimeout: [String(timeoutSeconds)] },
      }),
    ),
  );
  log('sent a command to the client host', { instanceId: command.instanceId, comment: command.comment, commandId: out.Command?.CommandId });
}
