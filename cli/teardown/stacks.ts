import { DeleteStackCommand, DescribeStackEventsCommand, DescribeStacksCommand, StackEvent } from '@aws-sdk/client-cloudformation';
import { AwsClients } from '../aws/clients';
import { awsCall, AwsCallError, CliError } from '../errors';
import { explainError, isCredentialsProblem, isStackNotFound } from '../error-messages';
import { LabStackRef } from '../lab-stacks';
import { deletionOutcome, eventLine, failuresFrom, MAX_TRANSIENT_POLL_FAILURES } from './plan';
import { StackFailure } from './report';

/** How the teardown waits: injected, so tests neither sleep nor wait for hours. */
export interface Waiting {
  readonly sleep: (ms: number) => Promise<void>;
  readonly pollIntervalMs: number;
  readonly maxStackWaitMs: number;
  readonly progress: (line: string) => void;
}

export interface StackDeletion {
  readonly outcome: 'deleted' | 'failed' | 'still-deleting';
  /** The last status seen. */
  readonly after: string;
  readonly statusReason?: string;
  readonly failures: readonly StackFailure[];
}

const TRANSIENT = ['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'TimeoutError', 'NetworkingError', 'InternalFailure', 'ServiceUnavailable'];

/** A poll that may simply be asked again: throttling, a network hiccup or a 5xx, after the SDK's own retries. */
function isTransient(error: unknown): boolean {
  const cause = error instanceof AwsCallError ? error.cause : error;
  if (!(cause instanceof Error) || isCredentialsProblem(cause)) return false;
  const code = (cause as { code?: unknown }).code;
  const status = (cause as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return TRANSIENT.includes(cause.name) || (typeof code === 'string' && /^E[A-Z]+$/.test(code)) || (status !== undefined && status >= 500);
}

class StackWatcher {
  private readonly seen = new Set<string>();
  private readonly failedEvents: (StackEvent & { physicalId?: string })[] = [];
  /** The StackId, once known: after deletion CloudFormation answers for it, but no longer for the name. */
  private id: string | undefined;
  private lastStatusShown: string | undefined;

  constructor(
    private readonly clients: AwsClients,
    private readonly ref: LabStackRef,
    private readonly waiting: Waiting,
  ) {}

  private call<T>(operation: string, fn: () => Promise<T>) {
    return awsCall({ operation, region: this.ref.region, resource: this.ref.name }, fn);
  }

  /** The events so far, remembered so that only new ones are printed. */
  async baseline(): Promise<void> {
    for (const e of await this.events()) if (e.EventId) this.seen.add(e.EventId);
  }

  private async events(): Promise<StackEvent[]> {
    const answer = await this.call('DescribeStackEvents', () =>
      this.clients.cloudFormation(this.ref.region).send(new DescribeStackEventsCommand({ StackName: this.id ?? this.ref.name })),
    );
    return answer.StackEvents ?? [];
  }

  /** Prints the events not seen yet, oldest first, and keeps those that say a resource failed to delete. */
  private async showNewEvents(): Promise<void> {
    const fresh = (await this.events()).filter((e) => e.EventId && !this.seen.has(e.EventId)).reverse();
    for (const e of fresh) {
      this.seen.add(e.EventId!);
      const line = { timestamp: e.Timestamp, logicalId: e.LogicalResourceId, type: e.ResourceType, status: e.ResourceStatus, reason: e.ResourceStatusReason };
      this.waiting.progress(eventLine(this.ref.name, line));
      if (e.ResourceType === 'AWS::CloudFormation::Stack') this.lastStatusShown = e.ResourceStatus;
      if (e.ResourceStatus === 'DELETE_FAILED') this.failedEvents.push({ ...e, physicalId: e.PhysicalResourceId });
    }
  }

  /** The stack's status now; DELETE_COMPLETE once CloudFormation no longer knows it. */
  private async status(): Promise<{ status: string; reason?: string; gone: boolean }> {
    try {
      const answer = await this.call('DescribeStacks', () =>
        this.clients.cloudFormation(this.ref.region).send(new DescribeStacksCommand({ StackName: this.id ?? this.ref.name })),
      );
      const stack = answer.Stacks?.[0];
      if (!stack) return { status: 'DELETE_COMPLETE', gone: true };
      this.id ??= stack.StackId;
      return { status: stack.StackStatus ?? 'UNKNOWN', reason: stack.StackStatusReason, gone: false };
    } catch (error) {
      if (isStackNotFound(error)) return { status: 'DELETE_COMPLETE', gone: true };
      throw error;
    }
  }

  /** Polls until the deletion ends or the wait runs out; throttled or failed polls count as "not yet", a few in a row. */
  async waitForDeletion(): Promise<StackDeletion> {
    const maxPolls = Math.max(1, Math.ceil(this.waiting.maxStackWaitMs / this.waiting.pollIntervalMs));
    let transientFailures = 0;
    let last: { status: string; reason?: string } = { status: 'DELETE_IN_PROGRESS' };
    for (let poll = 0; poll < maxPolls; poll++) {
      await this.waiting.sleep(this.waiting.pollIntervalMs);
      try {
        const now = await this.status();
        // Events by StackId still answer once the stack is deleted; by name they would not.
        if (!now.gone || this.id) await this.showNewEvents();
        transientFailures = 0;
        last = now;
      } catch (error) {
        if (!isTransient(error) || ++transientFailures > MAX_TRANSIENT_POLL_FAILURES) throw new CliError(explainError(error));
        continue;
      }
      if (last.status !== this.lastStatusShown) {
        this.waiting.progress(`  ${this.ref.name}: ${last.status}${last.reason && last.status !== 'DELETE_COMPLETE' ? ` (${last.reason})` : ''}`);
        this.lastStatusShown = last.status;
      }
      const outcome = deletionOutcome(last.status);
      if (outcome !== 'waiting') return { outcome, after: last.status, statusReason: last.reason, failures: failuresFrom(this.failedLines()) };
    }
    return { outcome: 'still-deleting', after: last.status, statusReason: last.reason, failures: [] };
  }

  private failedLines() {
    return this.failedEvents.map((e) => ({ logicalId: e.LogicalResourceId, type: e.ResourceType, status: e.ResourceStatus, reason: e.ResourceStatusReason, physicalId: e.physicalId }));
  }

  async requestDeletion(): Promise<void> {
    await this.call('DeleteStack', () => this.clients.cloudFormation(this.ref.region).send(new DeleteStackCommand({ StackName: this.ref.name })));
  }
}

/**
 * Deletes one stack and waits for the end, printing each new stack event as
 * CloudFormation reports it. A stack already being deleted (the CloudHSM
 * stack's expiry, say) is only waited for. Failures of DeleteStack itself
 * end the command with their paragraph.
 */
export async function deleteStack(clients: AwsClients, ref: LabStackRef, status: string, waiting: Waiting): Promise<StackDeletion> {
  const watcher = new StackWatcher(clients, ref, waiting);
  try {
    await watcher.baseline();
    if (status === 'DELETE_IN_PROGRESS') {
      waiting.progress(`${ref.name} (${ref.region}): already DELETE_IN_PROGRESS, waiting`);
    } else {
      await watcher.requestDeletion();
      waiting.progress(`${ref.name} (${ref.region}): ${status}, deletion requested`);
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    // Gone between the first look and now: nothing left to delete.
    if (isStackNotFound(error)) return { outcome: 'deleted', after: 'DELETE_COMPLETE', failures: [] };
    throw new CliError(explainError(error));
  }
  return watcher.waitForDeletion();
}
