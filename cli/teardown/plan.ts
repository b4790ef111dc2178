import { EscrowRecovery } from '../escrow-recovery';
import { ALARM_WATCHES, AlarmStackRole, isAlarmStack, LabStackRef, labStacks } from '../lab-stacks';
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
 * the primary's outputs, then the primary, and the roles stack after them:
 * every key policy names its roles, and the roles are what an operator uses
 * to look at the keys until they are gone. The alarm stacks are deleted only
 * with --with-alarms, and last of all (they watch the keys until then): see
 * alarmStacks.
 */
export function teardownOrder(settings: LabSettings, options: { readonly withAlarms?: boolean } = {}): LabStackRef[] {
  const refs = labStacks(settings);
  return [refs.cloudhsm, refs.secondary, refs.primary, refs.roles, ...(options.withAlarms ? alarmStacks(settings) : [])];
}

/**
 * The opt-in alarm stacks, in the order they are listed and, with
 * --with-alarms, deleted: the secondary Region's, then the primary's. Without
 * --with-alarms they are kept: they watch for use of the keys pending
 * deletion, and delete themselves once the keys' window has passed.
 */
export function alarmStacks(settings: LabSettings): AlarmStackRef[] {
  const refs = labStacks(settings);
  return (['alarm-secondary', 'alarm-primary'] as const).map((role) => ({ ...refs[role], role }));
}

export type AlarmStackRef = LabStackRef & { readonly role: AlarmStackRole };

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * How long an alarm stack's watch lasts after the last key stack of its
 * Region is deleted: the keys' window and a day; in the primary Region a
 * window more, because a multi-Region primary starts its own window only once
 * its replica (scheduled with the secondary stack) is deleted.
 */
export function alarmWatchDays(role: AlarmStackRole, pendingWindowDays: number): { readonly days: number; readonly rule: string } {
  return role === 'alarm-primary'
    ? { days: 2 * pendingWindowDays + 1, rule: '2 × pendingWindowDays + 1: multi-Region primaries wait for their replicas first' }
    : { days: pendingWindowDays + 1, rule: 'pendingWindowDays + 1' };
}

/**
 * The first day (YYYY-MM-DD, UTC) on which an alarm stack may delete itself
 * when the last key stack of its Region was deleted at `deletedAt` and its
 * watch lasts `days` (it looks every 6 hours, so it goes on that day or later).
 */
export function alarmDeletesItselfOnOrAfter(deletedAt: Date, days: number): string {
  return new Date(deletedAt.getTime() + days * DAY_MS).toISOString().slice(0, 10);
}

/** What this run knows of the key stacks that a kept alarm stack watches. */
export interface KeptAlarmFacts {
  /** The alarm stack's status. */
  readonly status: string;
  readonly pendingWindowDays: number;
  /** The teardown stopped at a stack before the key stacks were all deleted: no date is given. */
  readonly stopped: boolean;
  /**
   * This run asked for the deletion of a key stack of the alarm's Region, and none is left: the last one's
   * deletion (when the watch's countdown starts) began during this run.
   */
  readonly deletionAskedThisRun: boolean;
}

/**
 * One line for a kept alarm stack (the report's `when`), and the day it may
 * delete itself, when this run can tell: only when the run asked for the
 * deletion of the last key stack of its Region, after `startedAt` (when the
 * teardown began: so the day is never later than the real one). Not when the
 * teardown stopped early, nor when the last key stack's deletion began
 * before this run (its countdown began then, on a day this run does not know).
 */
export function keptAlarm(ref: AlarmStackRef, settings: LabSettings, startedAt: Date, facts: KeptAlarmFacts): { when: string; date?: string } {
  const refs = labStacks(settings);
  const watched = ALARM_WATCHES[ref.role].map((role) => refs[role].name);
  const { days, rule: counted } = alarmWatchDays(ref.role, facts.pendingWindowDays);
  const watching = `keeps watching for use of the keys pending deletion in ${ref.region}`;
  const rule = `deletes itself ${days} days (${counted}) after the last key stack of its Region (${watched.join(' or ')}) is deleted`;
  if (facts.status === 'DELETE_IN_PROGRESS') return { when: `is deleting itself already (${facts.status}): its watch is over` };
  if (alarmStackIsBroken(facts.status)) {
    return { when: `is ${facts.status}, so its watch may not be running and it may never delete itself: \`kms-lab teardown --with-alarms\` deletes it` };
  }
  if (facts.stopped) return { when: `${watching}, and ${rule}` };
  if (!facts.deletionAskedThisRun) return { when: `${watching}, and ${rule}: none is left now, and the last one's deletion began before this run (so no date is given here)` };
  const date = alarmDeletesItselfOnOrAfter(startedAt, days);
  return { when: `${watching}, and ${rule}: on or after ${date} (UTC)`, date };
}

/** A kept alarm stack in this status may not be watching, nor ever delete itself: its trail would bill on. */
export function alarmStackIsBroken(status: string): boolean {
  return status === 'ROLLBACK_COMPLETE' || status.endsWith('_FAILED');
}

/** The paragraph for a kept alarm stack that may never delete itself. */
export function brokenAlarmMessage(ref: LabStackRef, status: string): string {
  return (
    `The alarm stack ${ref.name} (${ref.region}) is ${status}: its watch may not be running, so it may never delete itself, and its trail and log ingestion bill until it goes. ` +
    `What to do: \`kms-lab teardown --with-alarms\` deletes it now; or look at its events (\`aws cloudformation describe-stack-events --stack-name ${ref.name} --region ${ref.region}\`), fix the cause and deploy it again.`
  );
}

/** The line after the kept alarm stacks: how to end their watch now. */
export function keptAlarmsAdvice(kept: readonly LabStackRef[]): string {
  const them = kept.length === 1 ? 'it' : 'them';
  return `Kept ${listNames(kept.map((r) => r.name))}, the alarm on use of a key pending deletion: \`kms-lab teardown --with-alarms\` deletes ${them} now, which ends the watch.`;
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

const listNames = (names: readonly string[]) => (names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`);

function notDeleted(remaining: readonly LabStackRef[]): string {
  if (remaining.length === 0) return 'The teardown stopped there.';
  const names = remaining.map((r) => r.name);
  return `The teardown stopped there: ${listNames(names)} ${names.length === 1 ? 'was' : 'were'} not deleted.`;
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

/**
 * The paragraph for a stack that has the lab's name but not its tag: it is
 * left alone. `remaining` undefined: a stack the teardown was not going to
 * delete (an alarm stack kept without --with-alarms), which stops nothing.
 */
export function notLabStackMessage(ref: LabStackRef, tags: Readonly<Record<string, string>>, prefix: string, remaining: readonly LabStackRef[] | undefined): string {
  const labTag = LAB_TAG;
  const found = labTag in tags ? `its tag ${labTag} is "${tags[labTag]}"` : `it has no tag ${labTag}`;
  const outcome = remaining ? `so it was not deleted. ${notDeleted(remaining)}` : "so it was left alone, and is not reported as the lab's alarm stack.";
  // Earlier versions of the app set no stack tags at all (only resource tags): such a lab is recognised, and upgraded.
  const untagged = Object.keys(tags).length === 0;
  const earlier = untagged
    ? ` A stack with no tags at all may be a lab deployed by an earlier version of this app, which tagged only the stack's resources: its keys carry ${labTag}=${prefix} ` +
      `(\`aws cloudformation describe-stack-resources --stack-name ${ref.name} --region ${ref.region}\`, then \`aws kms list-resource-tags\` on a key) and its outputs name the lab's keys (SingleRegionKeyArn, ...). ` +
      `If it is, delete the lab with \`npx cdk destroy --all\` from this app (it deletes the stacks by name, dependents first, and needs no stack tag), or this stack alone with \`npx cdk destroy ${ref.name}\`.`
    : '';
  return (
    `The stack ${named(ref)} is not this lab's: the lab tags every stack ${labTag}=${prefix}, but ${found}, ${outcome}${earlier} ` +
    `What to do: check that --prefix (and -c primaryRegion/secondaryRegion, --profile) name your lab; if the stack is the lab's and lost its tag, delete it yourself with \`aws cloudformation delete-stack --stack-name ${ref.name} --region ${ref.region}\` after checking what it holds.`
  );
}

/** Said when none of the lab's stacks exists (the alarm stacks included), so that a mistyped prefix, Region or profile shows. */
export function noLabFoundMessage(settings: LabSettings, account: string | undefined): string {
  const stacks = teardownOrder(settings, { withAlarms: true }).map((r) => r.name);
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

/**
 * The question asked before the first change: it names only what will be deleted (the alarm stacks only with
 * --with-alarms); `rolesMayStay`: the roles stack is kept instead while an escrow its role can restore is recoverable.
 */
export function teardownQuestion(prefix: string, stacks: readonly LabStackRef[], keyStores: readonly string[], options: { readonly rolesMayStay?: boolean } = {}): string {
  const parts: string[] = [];
  const keyStacks = stacks.filter((s) => !isAlarmStack(s.role));
  const alarms = stacks.filter((s) => isAlarmStack(s.role));
  if (keyStacks.length > 0) {
    parts.push(
      `delete the stack${keyStacks.length > 1 ? 's' : ''} ${keyStacks.map(named).join(', then ')}: their keys are scheduled for deletion (recoverable until their window ends), the escrow secrets with them`,
    );
  }
  if (alarms.length > 0) {
    parts.push(
      `${keyStacks.length > 0 ? 'then ' : ''}delete the alarm stack${alarms.length > 1 ? 's' : ''} ${alarms.map(named).join(', then ')}, which ends the watch for use of the keys pending deletion before their window is over`,
    );
  }
  if (keyStores.length > 0) parts.push(`delete the custom key store${keyStores.length > 1 ? 's' : ''} ${keyStores.join(', ')}, which hold no more keys`);
  const roles = stacks.find((s) => s.role === 'roles');
  const stays = options.rolesMayStay && roles ? ` (${roles.name} is kept instead while an escrow secret its key administrator role can restore is scheduled for deletion)` : '';
  return `Tear down the KMS Key Lab "${prefix}": ${parts.join('; and ')}${stays}?`;
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

/**
 * One line for a roles stack kept because an escrow secret its key
 * administrator role can restore is scheduled for deletion (the report's
 * `when`), and the UTC day until which the last of them is recoverable. It is
 * kept while such an escrow still exists (RestoreSecret works on a secret
 * scheduled for deletion until Secrets Manager deletes it), so a later
 * `kms-lab teardown` deletes it once they are gone: on or after that day.
 * `escrows` undefined: Secrets Manager could not be asked, so the stack is
 * kept to be safe and no day is given.
 */
export function keptRoles(adminRoleArn: string, escrows: readonly EscrowRecovery[] | undefined): { when: string; date?: string } {
  const later = 'a later `kms-lab teardown` deletes it once they are gone (`--with-roles` deletes it now, leaving their recovery to the account root user)';
  if (!escrows) {
    return { when: `keeps the key administrator role ${adminRoleArn}, since Secrets Manager could not say whether an escrow secret it can restore is scheduled for deletion: run \`kms-lab teardown\` again` };
  }
  const last = escrows.map((e) => e.recoverableUntil).sort().pop()!;
  const date = last.slice(0, 10);
  const names = listNames(escrows.map((e) => e.secret));
  return {
    when:
      `keeps the key administrator role ${adminRoleArn}, the one principal besides the account root user that can restore and read the escrow secret${escrows.length > 1 ? 's' : ''} ${names}, ` +
      `scheduled for deletion and recoverable until ${last}: ${later}, on or after ${date} (UTC)`,
    date,
  };
}

/** Said when --with-roles deleted the key administrator role while an escrow it could restore was still recoverable. */
export function rolesDeletedWarning(ref: LabStackRef, adminRoleArn: string, escrows: readonly EscrowRecovery[]): string {
  return (
    `Deleted ${named(ref)} with --with-roles, and with it the key administrator role ${adminRoleArn}, while ${escrows.length === 1 ? 'the escrow secret' : 'the escrow secrets'} ${listNames(escrows.map((e) => e.secret))} ` +
    `${escrows.length === 1 ? 'is' : 'are'} still recoverable (until ${escrows.map((e) => e.recoverableUntil).sort().pop()}): from now only the account root user can restore and read ${escrows.length === 1 ? 'it' : 'them'}, ` +
    `and with deleteImportedMaterialOnDestroy=true the escrow is the only copy of the key material. To recover as root: ${escrows.map((e) => `\`${e.command}\``).join(', ')}.`
  );
}
