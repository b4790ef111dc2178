/**
 * Ends the pending-deletion alarm stack of one Region once it has nothing left to watch. The alarm lives in its own
 * stack so that it keeps reporting use of the lab's keys after the key stacks are destroyed, through the keys'
 * pending-deletion window; after that it would only bill. Every 6 hours a rule runs this function, which reads the
 * key stacks' fate from ListStacks (deleted stacks stay listed for 90 days) and, when the last key is past its window,
 * asks CloudFormation to delete its own stack, this function included.
 */
import {
  CloudFormationClient,
  DeleteStackCommand,
  DescribeStacksCommand,
  ListStacksCommand,
  StackSummary,
} from '@aws-sdk/client-cloudformation';
import type { Context } from 'aws-lambda';
import { ExplainedError, Explainer, makeCaller, rootCause } from '../shared/aws-call';
import { CLIENT_CONFIG } from '../shared/clients';
import { log } from '../shared/log';
import { isNamed } from '../shared/retry';
import { beginInvocation } from '../shared/transient';
import { busyReason, SLACK_DAYS, StackRecord, stackIdParts, WatchInput, watchInput, watchVerdict } from './watch-end';

export { setSleepForTests } from '../shared/transient';
export type { WatchInput } from './watch-end';

const cloudformation = new CloudFormationClient(CLIENT_CONFIG);

/**
 * CloudFormation's call rate is shared by every caller in the account (console, CDK, other tools), so a run may
 * be throttled. The shared backoff has no kind for it: it is waited out on the NotFound budget (1, 2, 4, 8, 8 s),
 * after the SDK's own attempts. AccessDenied is not: the role is hours old by the first run, so a refusal is a broken policy.
 */
const THROTTLED = ['Throttling', 'ThrottlingException'];

/** What a run decided, as a test or `aws lambda invoke` sees it. */
export type WatchReport =
  | { readonly kind: 'busy'; readonly reason: string }
  | { readonly kind: 'watch'; readonly reason: string; readonly endsAt?: string }
  | { readonly kind: 'end'; readonly reason: string; readonly deletion: 'requested' | 'already gone' };

export async function onSchedule(input: WatchInput, context?: Context): Promise<WatchReport> {
  beginInvocation(context);
  const watch = watchInput(input);
  const { region } = stackIdParts(watch.watchStackId);
  const deleteByHand = `aws cloudformation delete-stack --stack-name ${watch.watchStackId} --region ${region}`;
  const undecided: Explainer = (call, name, message) =>
    `${call} failed (${name ?? 'Error'}): ${sentence(message)} What to do: nothing was deleted, and the next run in 6 hours asks again. ` +
    'If it keeps failing, check that the function role allows cloudformation:DescribeStacks and cloudformation:ListStacks. ' +
    `Once the key stacks (${watch.keyStackNames.join(', ')}) have been deleted for more than ` +
    `${(watch.replicaPendingWindowDays ?? 0) + watch.pendingWindowDays + SLACK_DAYS} days, you can delete this stack yourself: ${deleteByHand}`;
  const call = makeCaller(['notFound'], undecided);
  const now = new Date(Date.now());

  const own = await call('DescribeStacks', () => cloudformation.send(new DescribeStacksCommand({ StackName: watch.watchStackId })), {
    notFoundNames: THROTTLED,
  });
  const self = own.Stacks?.[0];
  if (!self?.StackStatus || !self.CreationTime) {
    throw new ExplainedError(`DescribeStacks of ${watch.watchStackId} returned no stack status or creation time. What to do: nothing; the next run in 6 hours asks again.`);
  }
  const busy = busyReason(self.StackStatus);
  if (busy) return report({ kind: 'busy', reason: busy });

  const stacks: StackRecord[] = [];
  let token: string | undefined;
  do {
    const page = await call('ListStacks', () => cloudformation.send(new ListStacksCommand({ NextToken: token })), { notFoundNames: THROTTLED });
    stacks.push(...(page.StackSummaries ?? []).map(record));
    token = page.NextToken;
  } while (token);

  const verdict = watchVerdict({
    now,
    watchCreatedAt: self.CreationTime,
    keyStackNames: watch.keyStackNames,
    stacks,
    pendingWindowDays: watch.pendingWindowDays,
    replicaPendingWindowDays: watch.replicaPendingWindowDays,
  });
  if (verdict.kind === 'watch') return report({ kind: 'watch', reason: verdict.reason, endsAt: verdict.endsAt?.toISOString() });

  const failedDelete: Explainer = (c, name, message) =>
    `${c} of ${watch.watchStackId} failed (${name ?? 'Error'}): ${sentence(message)} The watch is over (${verdict.reason}), but the stack could not delete itself. ` +
    `What to do: delete the stack yourself with \`${deleteByHand}\` (turn off its termination protection first if it has it); otherwise the next run in 6 hours tries again.`;
  try {
    // By id, never by name: a newer stack of the same name must not be hit.
    await makeCaller(['notFound'], failedDelete)(
      'DeleteStack',
      () => cloudformation.send(new DeleteStackCommand({ StackName: watch.watchStackId })),
      { notFoundNames: THROTTLED },
    );
  } catch (error) {
    // "Stack ... does not exist": someone deleted it first. Other ValidationErrors (termination protection) are real.
    const cause = rootCause(error);
    if (!(isNamed('ValidationError')(cause) && /does not exist/.test((cause as Error).message))) throw error;
    return report({ kind: 'end', reason: verdict.reason, deletion: 'already gone' });
  }
  return report({ kind: 'end', reason: verdict.reason, deletion: 'requested' });
}

function record(s: StackSummary): StackRecord {
  // A summary without a status is counted as standing: missing data never ends the watch.
  return { name: s.StackName ?? '', status: s.StackStatus ?? 'UNKNOWN', deletionTime: s.DeletionTime };
}

const sentence = (text: string) => (/[.!?]$/.test(text) ? text : `${text}.`);

function report(r: WatchReport): WatchReport {
  log('deletion watch verdict', r);
  return r;
}
