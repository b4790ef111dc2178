const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Days after the last key stack deletion on top of the key windows. CloudFormation's DeletionTime is when the
 * stack's deletion began, and the keys are scheduled during it, minutes to hours later; KMS also deletes a key
 * some time after its deletion date rather than on the dot.
 */
export const SLACK_DAYS = 1;

/** Days a new watch stack waits for key stacks to appear: a deploy may create the alarm stack before them. */
export const GRACE_DAYS = 1;

/** The rule's constant input, written into the template by the construct that deploys this function. */
export interface WatchInput {
  /** The alarm stack's own stack id (ARN) — DescribeStacks and DeleteStack use it, never the name, so a newer stack of the same name is never hit. */
  readonly watchStackId: string;
  /** Names of the lab's key stacks in this Region, e.g. ["kms-key-lab-primary", "kms-key-lab-cloudhsm"] or ["kms-key-lab-secondary"]. */
  readonly keyStackNames: readonly string[];
  /** The lab's key pending window (7..30 days); every lab key's window is at most this. */
  readonly pendingWindowDays: number;
  /**
   * Days a key in this Region may wait for its replicas before its own window starts (0..30): a multi-Region
   * primary scheduled while a replica is pending deletion stays in PendingReplicaDeletion, without a deletion date,
   * until the replica is gone. The Region that holds multi-Region primaries sets it to the replicas' window.
   * @default 0
   */
  readonly replicaPendingWindowDays?: number;
  /**
   * The tag every lab key carries, e.g. { key: "kms-key-lab:lab", value: "kms-key-lab" }: before it ends the watch,
   * the function asks KMS whether a key of this Region so tagged is still pending deletion.
   */
  readonly labTag: { readonly key: string; readonly value: string };
}

const STACK_ARN = /^arn:aws[a-z-]*:cloudformation:([a-z0-9-]+):\d{12}:stack\/([A-Za-z][A-Za-z0-9-]*)\/[A-Za-z0-9-]+$/;
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

/** The input checked field by field: it is a constant of the template, so an error here means a broken template. */
export function watchInput(raw: unknown): WatchInput {
  const bad = (field: string, want: string, got: unknown): never => {
    throw new Error(`Bad input: ${field} must be ${want}, got ${JSON.stringify(got) ?? String(got)}. What to do: fix the rule's input in the template that deploys this function.`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('the input', 'a JSON object', raw);
  const r = raw as Record<string, unknown>;
  if (typeof r.watchStackId !== 'string' || !STACK_ARN.test(r.watchStackId)) {
    bad('watchStackId', 'a stack id (arn:aws:cloudformation:<region>:<account>:stack/<name>/<id>), not a name', r.watchStackId);
  }
  const names = r.keyStackNames;
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string' && STACK_NAME.test(n))) {
    bad('keyStackNames', 'a non-empty list of stack names', names);
  }
  const days = (field: string, min: number, max: number): number => {
    const v = r[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(field, `a whole number of days from ${min} to ${max}`, v);
    return v as number;
  };
  const tag = r.labTag as Record<string, unknown> | undefined;
  const nonEmpty = (v: unknown) => typeof v === 'string' && v.length > 0;
  if (typeof tag !== 'object' || tag === null || Array.isArray(tag) || !nonEmpty(tag.key) || !nonEmpty(tag.value)) {
    bad('labTag', 'an object { "key": <tag key>, "value": <tag value> } of non-empty strings', tag);
  }
  return {
    watchStackId: r.watchStackId as string,
    keyStackNames: names as string[],
    pendingWindowDays: days('pendingWindowDays', 7, 30),
    replicaPendingWindowDays: r.replicaPendingWindowDays === undefined ? 0 : days('replicaPendingWindowDays', 0, 30),
    labTag: { key: tag!.key as string, value: tag!.value as string },
  };
}

/** The Region and name in a stack id, for the commands an error message suggests. */
export function stackIdParts(stackId: string): { readonly region: string; readonly name: string } {
  const m = STACK_ARN.exec(stackId);
  if (!m) throw new Error(`${stackId} is not a CloudFormation stack id.`);
  return { region: m[1], name: m[2] };
}

/**
 * Why this run must leave its own stack alone, if it must: while the stack is being deleted there is nothing left
 * to do, and during any other operation a DeleteStack would cut across it. The next run, 6 hours later, looks again.
 */
export function busyReason(ownStatus: string): string | undefined {
  if (ownStatus === 'DELETE_COMPLETE' || ownStatus === 'DELETE_IN_PROGRESS') return `this stack is already being deleted (${ownStatus})`;
  if (ownStatus.endsWith('_IN_PROGRESS')) return `this stack is in the middle of an operation (${ownStatus}); the next run looks again`;
  return undefined;
}

/** A ListStacks summary, reduced to what the verdict reads. */
export interface StackRecord {
  readonly name: string;
  readonly status: string;
  readonly deletionTime?: Date;
}

export interface WatchFacts {
  readonly now: Date;
  readonly watchCreatedAt: Date;
  readonly keyStackNames: readonly string[];
  /** Every summary ListStacks gave, deleted stacks included; those of other stacks are ignored. */
  readonly stacks: readonly StackRecord[];
  readonly pendingWindowDays: number;
  /** @default 0 */
  readonly replicaPendingWindowDays?: number;
}

export type WatchVerdict =
  | { readonly kind: 'watch'; readonly reason: string; readonly endsAt?: Date }
  | { readonly kind: 'end'; readonly reason: string };

const addDays = (at: Date, days: number) => new Date(at.getTime() + days * DAY_MS);
const iso = (at: Date) => at.toISOString();

/**
 * Whether the watch is over: no key stack stands in this Region and every key its deletions scheduled is past its
 * pending window. Missing or odd data always keeps the watch going, since ending early defeats the alarm while
 * watching a few days longer only costs a little.
 */
export function watchVerdict(facts: WatchFacts): WatchVerdict {
  const wanted = new Set(facts.keyStackNames);
  const mine = facts.stacks.filter((s) => wanted.has(s.name));
  // Deleted summaries of the same name may sit beside a live one: any stack that is not fully deleted holds keys.
  const standing = mine.filter((s) => s.status !== 'DELETE_COMPLETE');
  if (standing.length > 0) {
    return { kind: 'watch', reason: `key stack ${standing.map((s) => `${s.name} is ${s.status}`).join(', ')}` };
  }
  // CloudFormation always dates a deleted stack; if one were not, no end could be computed. Counting from now would
  // push the end forward every run, and from its creation could end too early. Watching is bounded anyway: the
  // summary leaves ListStacks after 90 days, and then the "no key stack" branch ends the watch.
  const undated = mine.find((s) => !s.deletionTime);
  if (undated) {
    return { kind: 'watch', reason: `key stack ${undated.name} is DELETE_COMPLETE but CloudFormation gives no DeletionTime, so the end of its keys' pending window is unknown` };
  }
  const graceEnd = addDays(facts.watchCreatedAt, GRACE_DAYS);
  if (mine.length === 0) {
    const none = `no key stack (${facts.keyStackNames.join(', ')}) in this Region: never deployed here, or deleted over 90 days ago`;
    return facts.now >= graceEnd
      ? { kind: 'end', reason: none }
      : { kind: 'watch', reason: `${none}; waiting until ${iso(graceEnd)} in case a deploy is still creating them`, endsAt: graceEnd };
  }
  const last = new Date(Math.max(...mine.map((s) => s.deletionTime!.getTime())));
  const windowEnd = addDays(last, (facts.replicaPendingWindowDays ?? 0) + facts.pendingWindowDays + SLACK_DAYS);
  // The grace day also applies here: deleted stacks of an earlier lab must not end a watch that a deploy just started.
  const endsAt = windowEnd > graceEnd ? windowEnd : graceEnd;
  const deleted = `the key stacks were last deleted at ${iso(last)}`;
  return facts.now >= endsAt
    ? { kind: 'end', reason: `${deleted}; by the stacks' times every key they scheduled is past its pending window since ${iso(windowEnd)}` }
    : { kind: 'watch', reason: `${deleted}; their keys may be pending deletion until ${iso(endsAt)}`, endsAt };
}

/** A lab key of this Region as DescribeKey sees it, reduced to what the verdict reads. */
export interface LabKeyRecord {
  readonly keyId: string;
  /** KMS's KeyState; undefined when DescribeKey gave none. */
  readonly state?: string;
  readonly deletionDate?: Date;
}

export interface KeysFacts {
  readonly now: Date;
  /** The lab keys KMS lists in this Region (those tagged as the lab's), in any state. */
  readonly keys: readonly LabKeyRecord[];
}

/**
 * Whether KMS agrees that the watch is over: no lab key of this Region is still waiting to be deleted. Asked only
 * once the stacks say so, since the stacks' deletion times are only a lower bound: a multi-Region primary waits in
 * PendingReplicaDeletion, without a deletion date, until its replica in the other Region is deleted, however long
 * that takes. Keys in any other state (Enabled, Disabled, PendingImport...) are not being deleted and hold nothing.
 */
export function keysVerdict(facts: KeysFacts): WatchVerdict {
  const ids = (keys: readonly LabKeyRecord[]) => keys.map((k) => k.keyId).join(', ');
  const waiting = facts.keys.filter((k) => k.state === 'PendingReplicaDeletion');
  if (waiting.length > 0) {
    return {
      kind: 'watch',
      reason: `lab key ${ids(waiting)} is PendingReplicaDeletion: its pending window starts only once its replica in the other Region is deleted, so it has no deletion date yet`,
    };
  }
  // Missing data never ends the watch.
  const stateless = facts.keys.filter((k) => !k.state);
  if (stateless.length > 0) return { kind: 'watch', reason: `KMS gives no key state for lab key ${ids(stateless)}` };
  const pending = facts.keys.filter((k) => k.state === 'PendingDeletion');
  const undated = pending.filter((k) => !k.deletionDate);
  if (undated.length > 0) return { kind: 'watch', reason: `lab key ${ids(undated)} is PendingDeletion but KMS gives no DeletionDate` };
  if (pending.length === 0) return { kind: 'end', reason: 'no lab key in this Region is pending deletion' };
  const byDate = [...pending].sort((a, b) => a.deletionDate!.getTime() - b.deletionDate!.getTime());
  const last = byDate[byDate.length - 1];
  // KMS deletes a key some time after its deletion date, not on the dot: the same slack as after the stacks.
  const endsAt = addDays(last.deletionDate!, SLACK_DAYS);
  if (facts.now >= endsAt) {
    return {
      kind: 'end',
      reason: `no lab key in this Region is pending deletion within its window: the last deletion date, ${iso(last.deletionDate!)} (key ${last.keyId}), is over ${SLACK_DAYS} day past`,
    };
  }
  return {
    kind: 'watch',
    reason: `lab key ${byDate.map((k) => `${k.keyId} is pending deletion until ${iso(k.deletionDate!)}`).join(', ')}`,
    endsAt,
  };
}

/**
 * Whether a DeleteStack ValidationError says that this very stack is gone: the message names its id (or its bare
 * name, not inside another stack's id) and says "does not exist". A message about any other stack, a newer one of the
 * same name included, is a real error.
 */
export function isOwnStackGoneMessage(message: string, watchStackId: string): boolean {
  if (!/does not exist/.test(message)) return false;
  const arns = (message.match(/arn:aws[a-z-]*:cloudformation:[^\s'"\])]+/g) ?? []).map((a) => a.replace(/[.,;:]+$/, ''));
  if (arns.some((a) => a !== watchStackId)) return false;
  if (arns.length > 0) return true;
  const { name } = stackIdParts(watchStackId);
  return new RegExp(`(^|[^A-Za-z0-9/-])${name}($|[^A-Za-z0-9/-])`).test(message);
}
