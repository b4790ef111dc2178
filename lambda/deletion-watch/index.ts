/**
 * Ends the pending-deletion alarm stack of one Region once it has nothing left to watch. The alarm lives in its own
 * stack so that it keeps reporting use of the lab's keys after the key stacks are destroyed, through the keys'
 * pending-deletion window; after that it would only bill. Every 6 hours a rule runs this function, which reads the
 * key stacks' fate from ListStacks (deleted stacks stay listed for 90 days) and, when the last key is past its window,
 * asks KMS whether a lab key of the Region is still pending deletion (the stacks' times are only a lower bound: a
 * multi-Region primary waits for its replica), and only if none is asks CloudFormation to delete its own stack, this
 * function included.
 */
import {
  CloudFormationClient,
  DeleteStackCommand,
  DescribeStacksCommand,
  ListStacksCommand,
  StackSummary,
} from '@aws-sdk/client-cloudformation';
import { DescribeKeyCommand, KMSClient, ListKeysCommand, ListResourceTagsCommand } from '@aws-sdk/client-kms';
import type { Context } from 'aws-lambda';
import { Caller, ExplainedError, Explainer, makeCaller, rootCause } from '../shared/aws-call';
import { CLIENT_CONFIG } from '../shared/clients';
import { log } from '../shared/log';
import { errorName, isNamed } from '../shared/retry';
import { beginInvocation } from '../shared/transient';
import {
  busyReason,
  isOwnStackGoneMessage,
  keysVerdict,
  LabKeyRecord,
  SLACK_DAYS,
  StackRecord,
  stackIdParts,
  WatchInput,
  watchInput,
  WatchVerdict,
  watchVerdict,
} from './watch-end';

export { setSleepForTests } from '../shared/transient';
export type { WatchInput } from './watch-end';

const cloudformation = new CloudFormationClient(CLIENT_CONFIG);
const kms = new KMSClient(CLIENT_CONFIG);

/**
 * CloudFormation's and KMS's call rates are shared by every caller in the account (console, CDK, other tools), so a
 * run may be throttled. The shared backoff has no kind for it: it is waited out on the NotFound budget (1, 2, 4, 8, 8 s),
 * after the SDK's own attempts. AccessDenied is not: the role is hours old by the first run, so a refusal is a broken policy.
 */
const THROTTLED = ['Throttling', 'ThrottlingException'];

/**
 * A key's tags or state that this function may not read (AccessDenied: a key whose key policy does not let the
 * account's IAM policies in, so not one the lab can see as its own) or that is gone (NotFound: deleted meanwhile).
 */
const SKIPPED = ['AccessDeniedException', 'NotFoundException'];

/** Keys read at once: a Region may hold many, and KMS's per-operation rates are shared across the account. */
const KEY_READS_AT_ONCE = 4;

/** What a run decided, as a test or `aws lambda invoke` sees it. */
export type WatchReport =
  | { readonly kind: 'busy'; readonly reason: string }
  | { readonly kind: 'watch'; readonly reason: string; readonly endsAt?: string }
  | { readonly kind: 'end'; readonly reason: string; readonly deletion: 'requested' | 'already gone' };

export async function onSchedule(input: WatchInput, context?: Context): Promise<WatchReport> {
  beginInvocation(context);
  const watch = watchInput(input);
  const { region, name: stackName } = stackIdParts(watch.watchStackId);
  const deleteByHand = `aws cloudformation delete-stack --stack-name ${watch.watchStackId} --region ${region}`;
  const needs =
    "The deletion needs credentials, or a --role-arn, allowed to delete the stack's trail, bucket, log groups, alarm, topic, rule and function.";
  const tag = `${watch.labTag.key}=${watch.labTag.value}`;
  const undecided: Explainer = (call, name, message) =>
    `${call} failed (${name ?? 'Error'}): ${sentence(message)} What to do: nothing was deleted, and the next run in 6 hours asks again. ` +
    'If it keeps failing, check that the function role allows cloudformation:DescribeStacks and cloudformation:ListStacks. ' +
    `Once the key stacks (${watch.keyStackNames.join(', ')}) have been deleted for more than ` +
    `${(watch.replicaPendingWindowDays ?? 0) + watch.pendingWindowDays + SLACK_DAYS} days, you can delete this stack yourself: ${deleteByHand}. ${needs}`;
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
  const deleteFailed = self.StackStatus === 'DELETE_FAILED';
  const failedBecause = `${self.StackStatus} (${self.StackStatusReason ? withoutFinalStop(self.StackStatusReason) : 'CloudFormation gives no reason'})`;

  /** A watch goes on; but a stack that is half deleted must not watch silently. */
  const goOn = (verdict: WatchVerdict & { kind: 'watch' }): WatchReport => {
    if (!deleteFailed) return report({ kind: 'watch', reason: verdict.reason, endsAt: verdict.endsAt?.toISOString() });
    throw new ExplainedError(
      `Stack ${stackName} is ${failedBecause}: a deletion of it was asked for and failed, yet the watch is not over (${verdict.reason}), ` +
        'so this run did not ask CloudFormation to delete it again. Some of its resources, its alarm or its trail among them, may already be gone. ' +
        `What to do: if the deletion was meant, finish it yourself with \`${deleteByHand}\`. ${needs} ` +
        'To keep watching instead, delete it that way and deploy the alarm stack again (a stack in DELETE_FAILED cannot be updated).',
    );
  };

  const stacks: StackRecord[] = [];
  let token: string | undefined;
  do {
    const page = await call('ListStacks', () => cloudformation.send(new ListStacksCommand({ NextToken: token })), { notFoundNames: THROTTLED });
    stacks.push(...(page.StackSummaries ?? []).map(record));
    token = page.NextToken;
  } while (token);

  const stacksSay = watchVerdict({
    now,
    watchCreatedAt: self.CreationTime,
    keyStackNames: watch.keyStackNames,
    stacks,
    pendingWindowDays: watch.pendingWindowDays,
    replicaPendingWindowDays: watch.replicaPendingWindowDays,
  });
  if (stacksSay.kind === 'watch') return goOn(stacksSay);

  // The stacks say the watch is over; KMS, asked only now, has the last word.
  const kmsUndecided: Explainer = (c, name, message) =>
    `${c} failed (${name ?? 'Error'}): ${sentence(message)} The key stacks say the watch is over (${stacksSay.reason}), ` +
    `but KMS could not tell whether a lab key (tag ${tag}) of ${region} is still pending deletion. ` +
    'What to do: nothing was deleted, and the next run in 6 hours asks again. ' +
    'If it keeps failing, check that the function role allows kms:ListKeys, and kms:ListResourceTags and kms:DescribeKey on the keys of this Region. ' +
    `Once no key tagged ${tag} in ${region} is PendingDeletion or PendingReplicaDeletion, you can delete this stack yourself: ${deleteByHand}. ${needs}`;
  const census = await labKeys(watch.labTag, makeCaller(['notFound'], kmsUndecided));
  const keysSay = keysVerdict({ now, keys: census.keys });
  const skipped = census.skipped.length > 0 ? `; skipped ${census.skipped.map((s) => `${s.keyId} (${s.error})`).join(', ')}` : '';
  const read = `tag ${tag}: ${census.keys.length} lab key(s) among ${census.listed} key(s) listed${skipped}`;
  if (keysSay.kind === 'watch') return goOn({ kind: 'watch', reason: `${stacksSay.reason}, but ${keysSay.reason} (${read})`, endsAt: keysSay.endsAt });
  const reason = `${stacksSay.reason}; ${keysSay.reason} (${read})`;

  if (!self.RoleARN) {
    // CloudFormation would delete with this function's role, which may only describe and delete the stack: every resource would fail.
    log('deletion watch verdict', { kind: 'end', reason, deletion: 'not requested: no service role' });
    throw new ExplainedError(
      `The watch is over (${reason}), but stack ${stackName} was deployed without a CloudFormation service role, so this run did not ask CloudFormation to delete it: ` +
        "CloudFormation would delete it with this function's role, which may only describe and delete the stack, and every resource in it would fail to delete. " +
        `What to do: delete it yourself, with credentials that may delete its resources: \`${deleteByHand}\`. ${needs} ` +
        'Until then it stays and bills, and every run of this function fails with this error.',
    );
  }

  const failedDelete: Explainer = (c, name, message) =>
    `${c} of ${watch.watchStackId} failed (${name ?? 'Error'}): ${sentence(message)} The watch is over (${reason}), but the stack could not delete itself. ` +
    `What to do: delete the stack yourself with \`${deleteByHand}\` (turn off its termination protection first if it has it); otherwise the next run in 6 hours tries again. ${needs}`;
  try {
    // By id, never by name: a newer stack of the same name must not be hit.
    await makeCaller(['notFound'], failedDelete)(
      'DeleteStack',
      () => cloudformation.send(new DeleteStackCommand({ StackName: watch.watchStackId })),
      { notFoundNames: THROTTLED },
    );
  } catch (error) {
    // "Stack with id <this id> does not exist": someone deleted it first. Other ValidationErrors (termination
    // protection, another stack) are real.
    const cause = rootCause(error);
    if (!(isNamed('ValidationError')(cause) && isOwnStackGoneMessage((cause as Error).message, watch.watchStackId))) throw error;
    return report({ kind: 'end', reason, deletion: 'already gone' });
  }
  if (deleteFailed) {
    // The deletion was asked again; the run still fails so that the function's Errors alarm tells the operator.
    log('deletion watch verdict', { kind: 'end', reason, deletion: 'requested again after DELETE_FAILED' });
    throw new ExplainedError(
      `Stack ${stackName} is ${failedBecause}: an earlier deletion of it failed (for example its bucket could not be emptied, or its CloudFormation service role ${self.RoleARN} no longer exists). ` +
        `The watch is over (${reason}), so this run asked CloudFormation to delete it again. ` +
        `What to do: if the next runs keep failing, read why in its events (\`aws cloudformation describe-stack-events --stack-name ${watch.watchStackId} --region ${region}\`), ` +
        `fix the cause, and delete it yourself: \`${deleteByHand}\`, adding \`--role-arn <role>\` of a role allowed to delete its resources if its service role is gone. ${needs} ` +
        'Keep the CDK bootstrap stack (CDKToolkit), whose cfn-exec role deletes this stack, until the alarm stacks are gone.',
    );
  }
  return report({ kind: 'end', reason, deletion: 'requested' });
}

interface KeyCensus {
  /** Keys ListKeys gave, lab keys or not. */
  readonly listed: number;
  /** The lab keys, with their state. */
  readonly keys: LabKeyRecord[];
  /** Keys whose tags or state could not be read, and why. */
  readonly skipped: { readonly keyId: string; readonly error: string }[];
}

/** The lab keys of this Region: every key ListKeys gives, kept if its tags hold the lab tag, then described. */
async function labKeys(labTag: WatchInput['labTag'], call: Caller): Promise<KeyCensus> {
  const ids: string[] = [];
  let marker: string | undefined;
  do {
    const page = await call('ListKeys', () => kms.send(new ListKeysCommand({ Limit: 1000, Marker: marker })), { notFoundNames: THROTTLED });
    ids.push(...(page.Keys ?? []).flatMap((k) => (k.KeyId ? [k.KeyId] : [])));
    marker = nextMarker('ListKeys', page);
  } while (marker);

  const skipped: KeyCensus['skipped'] = [];
  /** The call's answer, or undefined when the key is to be skipped (logged and counted). */
  const readKey = async <T>(name: string, keyId: string, fn: () => Promise<T>): Promise<T | undefined> => {
    const answer = await call(
      name,
      async () => {
        try {
          return { ok: await fn() };
        } catch (error) {
          // Caught inside the retried function, so that a NotFound is not waited out as "not visible yet".
          if (isNamed(...SKIPPED)(error)) return { skipped: errorName(error)! };
          throw error;
        }
      },
      { notFoundNames: THROTTLED },
    );
    if ('ok' in answer) return answer.ok;
    log('key unreadable, skipped', { keyId, call: name, error: answer.skipped });
    skipped.push({ keyId, error: `${name}: ${answer.skipped}` });
    return undefined;
  };

  const isLabKey = async (keyId: string): Promise<boolean> => {
    let tagMarker: string | undefined;
    do {
      const page = await readKey('ListResourceTags', keyId, () => kms.send(new ListResourceTagsCommand({ KeyId: keyId, Marker: tagMarker })));
      if (!page) return false;
      if ((page.Tags ?? []).some((t) => t.TagKey === labTag.key && t.TagValue === labTag.value)) return true;
      tagMarker = nextMarker('ListResourceTags', page);
    } while (tagMarker);
    return false;
  };

  const keys = await inTurns(ids, KEY_READS_AT_ONCE, async (keyId): Promise<LabKeyRecord[]> => {
    if (!(await isLabKey(keyId))) return [];
    const described = await readKey('DescribeKey', keyId, () => kms.send(new DescribeKeyCommand({ KeyId: keyId })));
    if (!described) return [];
    const m = described.KeyMetadata;
    return [{ keyId, state: m?.KeyState, deletionDate: m?.DeletionDate }];
  });
  return { listed: ids.length, keys: keys.flat(), skipped };
}

/** The marker of the next page, if the answer is truncated; a truncated answer without one cannot be read to its end. */
function nextMarker(call: string, page: { Truncated?: boolean; NextMarker?: string }): string | undefined {
  if (!page.Truncated) return undefined;
  if (!page.NextMarker) {
    throw new ExplainedError(`${call} said its answer was truncated but gave no NextMarker, so the lab keys could not all be read. What to do: nothing was deleted; the next run in 6 hours asks again.`);
  }
  return page.NextMarker;
}

/** fn over every item, at most `limit` at a time, results in the items' order; after a failure no new item starts. */
async function inTurns<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function record(s: StackSummary): StackRecord {
  // A summary without a status is counted as standing: missing data never ends the watch.
  return { name: s.StackName ?? '', status: s.StackStatus ?? 'UNKNOWN', deletionTime: s.DeletionTime };
}

const sentence = (text: string) => (/[.!?]$/.test(text) ? text : `${text}.`);
const withoutFinalStop = (text: string) => text.replace(/[.\s]+$/, '');

function report(r: WatchReport): WatchReport {
  log('deletion watch verdict', r);
  return r;
}
