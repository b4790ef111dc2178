import { LabStackRef, labStacks } from '../lab-stacks';
import { LabSettings } from '../settings';
import { StackFailure } from './report';

/**
 * The pure half of `kms-lab teardown`: the order of the stacks, what to do
 * with a stack in each status, how a waiting key store is named and when it
 * may go, and the lines and paragraphs the operator reads.
 */

/** The tag on every lab resource and stack, with the prefix as its value (lib/common/lab-tags.ts). */
export const LAB_TAG = 'kms-key-lab:lab';

/** How often CloudFormation is asked while a stack is deleted: two calls a poll, far below its quotas. */
export const POLL_INTERVAL_MS = 10_000;
/** How long one stack is waited for before the teardown stops and says to run it again. */
export const MAX_STACK_WAIT_MS = 3 * 60 * 60 * 1000;
/** How long a key store is waited for after DisconnectCustomKeyStore (KMS usually takes seconds). */
export const MAX_DISCONNECT_WAIT_MS = 10 * 60 * 1000;
/** Polls that may fail in a row with a throttling or network error before the teardown gives up. */
export const MAX_TRANSIENT_POLL_FAILURES = 5;

/**
 * The reverse of deployment: scenario (d)'s stack first (its key store and
 * cluster bill by the hour), then the secondary stack, whose replicas read
 * the primary's outputs, then the primary, and the roles stack last: every
 * key policy names its roles, and the roles are what an operator uses to
 * look at the keys until they are gone.
 */
export function teardownOrder(settings: LabSettings): LabStackRef[] {
  const refs = labStacks(settings);
  return [refs.cloudhsm, refs.secondary, refs.primary, refs.roles];
}

/** What to do with a stack found in a status: ask for its deletion, wait for the one under way, or stop. */
export function stackStep(status: string): 'delete' | 'wait' | 'busy' {
  if (status === 'DELETE_IN_PROGRESS') return 'wait';
  // CloudFormation refuses DeleteStack while another operation runs (REVIEW_IN_PROGRESS holds only a change set).
  if (status.endsWith('_IN_PROGRESS') && status !== 'REVIEW_IN_PROGRESS') return 'busy';
  return 'delete';
}

/** Where a deletion stands, from the stack's status (DELETE_COMPLETE also when CloudFormation no longer knows the name). */
export function deletionOutcome(status: string): 'waiting' | 'deleted' | 'failed' {
  if (status === 'DELETE_COMPLETE') return 'deleted';
  if (status === 'DELETE_FAILED') return 'failed';
  return 'waiting';
}

/** A stack event as the teardown prints it. */
export interface StackEventLine {
  readonly timestamp?: Date;
  readonly logicalId?: string;
  readonly type?: string;
  readonly status?: string;
  readonly reason?: string;
}

/** One line per event: "  06:00:10  DELETE_COMPLETE  SingleRegionKey (AWS::KMS::Key)", with the reason when there is one. */
export function eventLine(stack: string, event: StackEventLine): string {
  const time = event.timestamp ? event.timestamp.toISOString().slice(11, 19) : '--:--:--';
  const what = event.type === 'AWS::CloudFormation::Stack' ? stack : `${event.logicalId ?? '?'} (${event.type ?? '?'})`;
  const reason = event.reason ? `: ${event.reason.replace(/\s+/g, ' ').trim()}` : '';
  return `  ${time}  ${(event.status ?? '').padEnd(18)}  ${what}${reason}`;
}

/** The DELETE_FAILED events of resources (not the stack's own summary), oldest first, one per resource. */
export function failuresFrom(events: readonly (StackEventLine & { physicalId?: string })[]): StackFailure[] {
  const byResource = new Map<string, StackFailure>();
  for (const e of events) {
    if (e.status !== 'DELETE_FAILED' || e.type === 'AWS::CloudFormation::Stack' || !e.logicalId) continue;
    byResource.set(e.logicalId, { logicalId: e.logicalId, type: e.type ?? 'unknown', ...(e.physicalId ? { physicalId: e.physicalId } : {}), reason: (e.reason ?? 'no reason given').replace(/\s+/g, ' ').trim() });
  }
  return [...byResource.values()];
}

const named = (ref: LabStackRef) => `${ref.name} (${ref.region})`;

function notDeleted(remaining: readonly LabStackRef[]): string {
  if (remaining.length === 0) return 'The teardown stopped there.';
  const names = remaining.map((r) => r.name);
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  return `The teardown stopped there: ${list} ${names.length === 1 ? 'was' : 'were'} not deleted.`;
}

/** The paragraph for a stack that ended DELETE_FAILED: which resources, why, and how to go on. */
export function deleteFailedMessage(ref: LabStackRef, failures: readonly StackFailure[], statusReason: string | undefined, remaining: readonly LabStackRef[]): string {
  const why =
    failures.length > 0
      ? failures.map((f) => `${f.logicalId} (${f.type}) failed to delete: ${f.reason.replace(/\.$/, '')}`).join('; ')
      : `CloudFormation says: ${(statusReason ?? 'no reason given').replace(/\.$/, '')}`;
  const retain = failures.length > 0 ? failures.map((f) => f.logicalId).join(' ') : '<logical ids>';
  return (
    `The stack ${named(ref)} ended DELETE_FAILED: ${why}. ${notDeleted(remaining)} ` +
    'What to do: fix what the reasons say, then run `kms-lab teardown` again (CloudFormation retries the deletion); ' +
    `to leave a resource behind instead, \`aws cloudformation delete-stack --stack-name ${ref.name} --region ${ref.region} --retain-resources ${retain}\`, then run it again.`
  );
}

/** True when the stack carries the tag every lab stack gets (lib/lab-app.ts): `kms-key-lab:lab=<prefix>`. */
export function isLabStack(tags: Readonly<Record<string, string>>, prefix: string): boolean {
  return tags[LAB_TAG] === prefix;
}

/** The paragraph for a stack that has the lab's name but not its tag: it is left alone. */
export function notLabStackMessage(ref: LabStackRef, tags: Readonly<Record<string, string>>, prefix: string, remaining: readonly LabStackRef[]): string {
  const labTag = LAB_TAG;
  const found = labTag in tags ? `its tag ${labTag} is "${tags[labTag]}"` : `it has no tag ${labTag}`;
  return (
    `The stack ${named(ref)} is not this lab's: the lab tags every stack ${labTag}=${prefix}, but ${found}, so it was not deleted. ${notDeleted(remaining)} ` +
    `What to do: check that --prefix (and -c primaryRegion/secondaryRegion, --profile) name your lab; if the stack is the lab's and lost its tag, delete it yourself with \`aws cloudformation delete-stack --stack-name ${ref.name} --region ${ref.region}\` after checking what it holds.`
  );
}

/** Said when none of the lab's stacks exists, so that a mistyped prefix, Region or profile shows. */
export function noLabFoundMessage(settings: LabSettings, account: string | undefined): string {
  const stacks = teardownOrder(settings).map((r) => r.name);
  return (
    `No lab found under prefix "${settings.prefix}" in ${account ? `account ${account}` : 'this account'}, Regions ${settings.primaryRegion} and ${settings.secondaryRegion}: ` +
    `CloudFormation has no stack ${stacks.slice(0, -1).join(', ')} or ${stacks[stacks.length - 1]}, so there are no stacks to delete. ` +
    'If you expected a lab there, check --prefix, -c primaryRegion=... -c secondaryRegion=... and --profile.'
  );
}

/** The paragraph for a stack that another operation holds. */
export function busyStackMessage(ref: LabStackRef, status: string, remaining: readonly LabStackRef[]): string {
  return (
    `The stack ${named(ref)} is ${status}: CloudFormation does not delete a stack while another operation runs on it. ${notDeleted(remaining)} ` +
    `What to do: wait until it ends (\`aws cloudformation describe-stacks --stack-name ${ref.name} --region ${ref.region}\`), then run \`kms-lab teardown\` again.`
  );
}

/** The paragraph for a deletion that outlasted the wait. */
export function stillDeletingMessage(ref: LabStackRef, waitedMs: number, remaining: readonly LabStackRef[]): string {
  return (
    `The stack ${named(ref)} was still DELETE_IN_PROGRESS after ${Math.round(waitedMs / 60_000)} minutes of waiting. ${notDeleted(remaining)} ` +
    'What to do: CloudFormation goes on deleting it; run `kms-lab teardown` again to wait for it and delete the rest.'
  );
}

/** The question asked before the first change. */
export function teardownQuestion(prefix: string, stacks: readonly LabStackRef[], keyStores: readonly string[]): string {
  const parts: string[] = [];
  if (stacks.length > 0) {
    parts.push(
      `delete the stack${stacks.length > 1 ? 's' : ''} ${stacks.map(named).join(', then ')}: their keys are scheduled for deletion (recoverable until their window ends), the escrow secrets with them`,
    );
  }
  if (keyStores.length > 0) parts.push(`delete the custom key store${keyStores.length > 1 ? 's' : ''} ${keyStores.join(', ')}, which hold no more keys`);
  return `Tear down the KMS Key Lab "${prefix}": ${parts.join('; and ')}?`;
}

/** A key store of this lab, by the name the CloudHSM stack gives it: `<prefix>-cloudhsm-<cluster id>[-delete-after-YYYY-MM-DD]`. */
export interface LabKeyStoreName {
  readonly clusterId: string;
  /** The date after which it may be deleted, once the stack's handler has renamed it. */
  readonly deleteAfter?: string;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function parseKeyStoreName(name: string, prefix: string): LabKeyStoreName | undefined {
  const match = new RegExp(`^${escapeRegExp(prefix)}-cloudhsm-(cluster-[a-z0-9]+)(?:-delete-after-(\\d{4}-\\d{2}-\\d{2}))?$`).exec(name);
  if (!match) return undefined;
  return { clusterId: match[1], ...(match[2] ? { deleteAfter: match[2] } : {}) };
}

/** True once the whole day named in the store's name has passed (UTC), as the README's "after that date" says. */
export function deleteAfterHasPassed(deleteAfter: string, now: Date): boolean {
  const endOfDay = Date.parse(`${deleteAfter}T00:00:00Z`) + 24 * 60 * 60 * 1000;
  return Number.isFinite(endOfDay) && now.getTime() >= endOfDay;
}

/** What to do with a lab key store once the stacks are gone. */
export type KeyStoreStep = 'delete' | 'disconnect-then-delete' | 'disconnect' | 'wait';

/**
 * A store goes when its date has passed and none of the lab's keys is left
 * in it (KMS refuses to delete a store that holds keys, even keys pending
 * deletion). A store that is not disconnected is disconnected in any case:
 * its stack is gone, and a disconnected store is not billed. One without a
 * date (its stack's handler did not get to rename it) is never deleted here.
 */
export function keyStoreStep(input: { state: string; deleteAfter?: string; keysLeft: number; now: Date }): KeyStoreStep {
  const due = input.deleteAfter !== undefined && deleteAfterHasPassed(input.deleteAfter, input.now) && input.keysLeft === 0;
  const disconnected = input.state === 'DISCONNECTED';
  if (due) return disconnected ? 'delete' : 'disconnect-then-delete';
  // DISCONNECTING is on its way already.
  return disconnected || input.state === 'DISCONNECTING' ? 'wait' : 'disconnect';
}
