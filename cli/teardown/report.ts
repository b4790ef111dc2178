import { EXIT } from '../errors';
import { StackRole } from '../lab-stacks';

/** How one stack's part of the teardown ended. */
export type StackResult =
  /** This run deleted it (DELETE_COMPLETE). */
  | 'deleted'
  /** There was no such stack: never deployed, or deleted before. */
  | 'not-deployed'
  /** It ended DELETE_FAILED: see failures. */
  | 'failed'
  /** Another operation held it (e.g. UPDATE_IN_PROGRESS), so it was not deleted. */
  | 'busy'
  /** Still DELETE_IN_PROGRESS when the wait ran out. */
  | 'still-deleting'
  /** An earlier stack stopped the teardown, so this one was left as it was. */
  | 'not-started'
  /**
   * It has the lab's name but not the tag `kms-key-lab:lab=<prefix>`: not this lab's, so never deleted (the teardown
   * stops there; an alarm stack that was to be kept stops nothing, but is still reported with a paragraph).
   */
  | 'not-lab'
  /**
   * The roles stack, kept (status unchanged) because an escrow secret that its key administrator role can restore is
   * scheduled for deletion and not yet deleted: without the role only the account root user could restore it. `date`:
   * the UTC day until which the last of them is recoverable; a later `kms-lab teardown` deletes the stack once they are
   * gone (on or after that day), or `--with-roles` now. Without `date`: Secrets Manager could not be asked (see problems).
   *
   * Or an alarm stack (`<prefix>-alarm-primary` or `-alarm-secondary`), deployed, and kept because the teardown ran
   * without --with-alarms: its status is unchanged. It watches for use of the keys pending deletion in its Region and
   * deletes itself once the keys' window has passed after the last key stack of its Region is deleted (see `date` and
   * `when`), so it makes the teardown neither incomplete nor its exit code non-zero.
   */
  | 'kept';

export interface StackFailure {
  readonly logicalId: string;
  readonly type: string;
  readonly physicalId?: string;
  /** CloudFormation's ResourceStatusReason. */
  readonly reason: string;
}

export interface TeardownStack {
  readonly role: StackRole;
  readonly name: string;
  readonly region: string;
  /** Its status when the teardown began, or NOT_DEPLOYED. */
  readonly before: string;
  readonly result: StackResult;
  /** The last status seen (DELETE_COMPLETE, DELETE_FAILED, ...); absent when nothing was asked of it. */
  readonly after?: string;
  /** With result "failed": the resources that failed to delete, and why. */
  readonly failures?: readonly StackFailure[];
  /**
   * With result "kept", for the roles stack: the day (YYYY-MM-DD, UTC) until which the last escrow secret its role can
   * restore is recoverable (see StackResult "kept").
   * For an alarm stack: the day (YYYY-MM-DD, UTC) on or after which it deletes itself, when this run
   * can tell: it asked for the deletion of the last key stack of the alarm's Region, so today (when the teardown
   * began) + pendingWindowDays + 1 (2 × pendingWindowDays + 1 in the primary Region). Absent when the teardown stopped early, or when the last key stack's deletion
   * began before this run.
   */
  readonly date?: string;
  /** With result "kept": one line, what the kept stack does meanwhile (the alarm stack's watch, the roles stack's recovery role) and when it goes. */
  readonly when?: string;
}

/** What outlives the stacks: KMS keys, secrets, key stores; and what scenario (d) bills if it was retained: a CloudHSM cluster's HSMs, NAT gateways, instances, Elastic IPs. */
export type LeftKind = 'key' | 'secret' | 'key-store' | 'hsm-cluster' | 'nat-gateway' | 'instance' | 'elastic-ip';

/** Something of the lab that outlives its stacks, and when it goes. */
export interface LeftItem {
  readonly kind: LeftKind;
  /** The key's ARN, the secret's name, the key store's id, the cluster's id, the NAT gateway's, instance's or Elastic IP's allocation id. */
  readonly id: string;
  /** Which lab key it was, e.g. "(c) primary", when the stacks' outputs said so; the key store's name; a cluster's live HSM ids ("HSMs hsm-..., hsm-..."); an Elastic IP's address. */
  readonly label?: string;
  readonly region: string;
  /**
   * A key: KMS KeyState (PendingDeletion, PendingReplicaDeletion, Enabled, ...).
   * A secret: PendingDeletion (scheduled) or Active. A key store: its
   * ConnectionState (DISCONNECTED, CONNECTED, ...). A CloudHSM cluster: its
   * State (ACTIVE, ...). EC2: the NAT gateway's or instance's state; an
   * Elastic IP: "allocated".
   */
  readonly state: string;
  /** Whether it is billed while it waits: see isBillable. */
  readonly billable: boolean;
  /** A key's DeletionDate; a secret's DeletedDate (when it was scheduled); a key store's delete-after date. */
  readonly date?: string;
  /** One line: when it goes, or what it waits for. */
  readonly when: string;
}

export interface DeletedItem {
  readonly kind: 'stack' | 'key-store';
  /** The stack's name, or the key store's id. */
  readonly id: string;
  /** The key store's name. */
  readonly label?: string;
  readonly region: string;
}

/**
 * What `kms-lab teardown --json` prints on stdout: one JSON document once the
 * teardown has ended (progress goes to stderr meanwhile). Stable like the
 * other reports: fields are only ever added; a change of meaning raises
 * schemaVersion. The alarm stacks' two rows in `stacks` (not-deployed when
 * the alarm is off), the result "kept" and its fields `date` and `when` were
 * added within schemaVersion 1, as backwards-compatible additions: no field
 * changed meaning, and the key stacks' rows are as before.
 *
 * ```json
 * {
 *   "schemaVersion": 1,
 *   "prefix": "kms-key-lab",
 *   "regions": { "primary": "ap-southeast-1", "secondary": "ap-southeast-2" },
 *   "generatedAt": "2025-06-01T06:00:00.000Z",
 *   "complete": true,
 *   "stacks": [
 *     { "role": "cloudhsm", "name": "kms-key-lab-cloudhsm", "region": "ap-southeast-1", "before": "NOT_DEPLOYED", "result": "not-deployed" },
 *     { "role": "secondary", "name": "kms-key-lab-secondary", "region": "ap-southeast-2", "before": "CREATE_COMPLETE", "result": "deleted", "after": "DELETE_COMPLETE" },
 *     { "role": "primary", "name": "kms-key-lab-primary", "region": "ap-southeast-1", "before": "CREATE_COMPLETE", "result": "deleted", "after": "DELETE_COMPLETE" },
 *     { "role": "roles", "name": "kms-key-lab-roles", "region": "ap-southeast-1", "before": "CREATE_COMPLETE", "result": "deleted", "after": "DELETE_COMPLETE" },
 *     { "role": "alarm-secondary", "name": "kms-key-lab-alarm-secondary", "region": "ap-southeast-2", "before": "CREATE_COMPLETE", "result": "kept",
 *       "date": "2025-06-09", "when": "keeps watching for use of the keys pending deletion in ap-southeast-2, and deletes itself 8 days (...): on or after 2025-06-09" },
 *     { "role": "alarm-primary", "name": "kms-key-lab-alarm-primary", "region": "ap-southeast-1", "before": "NOT_DEPLOYED", "result": "not-deployed" }
 *   ],
 *   "deleted": [ { "kind": "stack", "id": "kms-key-lab-secondary", "region": "ap-southeast-2" }, ... ],
 *   "left": [
 *     { "kind": "key", "id": "arn:aws:kms:ap-southeast-1:111122223333:key/...", "label": "(c) primary", "region": "ap-southeast-1",
 *       "state": "PendingDeletion", "billable": false, "date": "2025-06-08T06:00:00.000Z", "when": "deleted by KMS on 2025-06-08T06:00:00.000Z" }
 *   ],
 *   "billableLeft": 0,
 *   "uncheckedKeys": 0,
 *   "problems": [],
 *   "apiCalls": 23
 * }
 * ```
 *
 * `left[].kind` is key, secret, key-store, or, for what scenario (d) bills
 * when it outlives its stack: hsm-cluster (billable while an HSM is not
 * DELETED; `label` lists the HSM ids), nat-gateway, instance, elastic-ip
 * (found by the lab's tag in the primary Region). A key store is never
 * billable itself (KMS bills keys, CloudHSM bills HSMs), connected or not.
 * `stacks[].result` "not-lab" is a stack with the lab's name but without the
 * tag `kms-key-lab:lab=<prefix>`: never deleted, and the teardown stops there.
 * The opt-in alarm stacks (`deletionAlarm=true`) come last: deleted (after the
 * roles stack) with --with-alarms; otherwise "kept" when deployed, with `date`
 * (when this run can tell) and `when`: they delete themselves once the keys'
 * pending window has passed. A kept stack counts as gone for `complete`.
 *
 * `left`, `billableLeft` and `uncheckedKeys` are absent when a stack was not deleted (failed,
 * busy or still deleting): its resources are then still the stack's. The
 * exit code says the same as `complete`: 0 when every stack is gone (or, an
 * alarm stack, kept) and nothing billable is left, 1 otherwise; 2 for a usage
 * error (nothing on stdout).
 */
export interface TeardownReport {
  readonly schemaVersion: 1;
  readonly prefix: string;
  readonly regions: { readonly primary: string; readonly secondary: string };
  readonly generatedAt: string;
  /** Every stack gone (an alarm stack may be kept: it deletes itself) and nothing billable left: the exit code is 0 exactly then. */
  readonly complete: boolean;
  /** Every lab stack, in the order of the teardown: cloudhsm, secondary, primary, roles, then alarm-secondary and alarm-primary (deleted with --with-alarms, else kept). */
  readonly stacks: readonly TeardownStack[];
  /** What this run deleted: stacks, and key stores whose wait was over. Keys and secrets are only ever scheduled, so they are in left. */
  readonly deleted: readonly DeletedItem[];
  readonly left?: readonly LeftItem[];
  readonly billableLeft?: number;
  /** Keys in the lab's Regions whose tags this identity may not read (ListResourceTags denied), so not checked; with left. */
  readonly uncheckedKeys?: number;
  /** One paragraph per failure and per billable thing left (also printed on stderr). */
  readonly problems: readonly string[];
  /**
   * One paragraph per thing done that the operator asked for but should know the cost of (also printed on stderr);
   * they do not make the teardown incomplete: --with-roles deleting the key administrator role while an escrow it
   * could restore is recoverable.
   */
  readonly warnings: readonly string[];
  readonly apiCalls: number;
}

const KEY_STATES_NOT_BILLED = ['PendingDeletion', 'PendingReplicaDeletion'];

/**
 * The lab's billing rule for what outlives the stacks: a KMS key pending
 * deletion is not billed, nor is a secret scheduled for deletion ("there is
 * no charge for secrets that you have marked for deletion"), nor a custom key
 * store in any state (KMS bills its keys, CloudHSM the cluster's HSMs). A
 * live key (Enabled, Disabled, PendingImport, Unavailable) and a live secret
 * are. Of scenario (d)'s leftovers: a NAT gateway pending or available, an
 * instance not terminated (a stopped one still bills for its volumes), and
 * any Elastic IP (public IPv4 addresses bill); a cluster bills by its HSMs
 * (hsmClusterLeft).
 */
export function isBillable(kind: LeftKind, state: string): boolean {
  switch (kind) {
    case 'key':
      return !KEY_STATES_NOT_BILLED.includes(state);
    case 'secret':
      return state !== 'PendingDeletion';
    case 'key-store':
      return false;
    case 'hsm-cluster':
      // Billed by its HSMs, not its state: hsmClusterLeft decides.
      return false;
    case 'nat-gateway':
      return state === 'pending' || state === 'available';
    case 'instance':
      return state !== 'terminated' && state !== 'shutting-down';
    case 'elastic-ip':
      return true;
  }
}

export interface KeyLeft {
  readonly arn: string;
  readonly region: string;
  readonly state: string;
  readonly deletionDate?: Date;
  readonly pendingWindowDays?: number;
  readonly label?: string;
}

export function keyLeft(key: KeyLeft): LeftItem {
  const base = { kind: 'key' as const, id: key.arn, ...(key.label ? { label: key.label } : {}), region: key.region, state: key.state, billable: isBillable('key', key.state) };
  if (key.state === 'PendingDeletion' && key.deletionDate) {
    const date = key.deletionDate.toISOString();
    return { ...base, date, when: `deleted by KMS on ${date}` };
  }
  if (key.state === 'PendingReplicaDeletion') {
    const window = key.pendingWindowDays ? `${key.pendingWindowDays} days` : 'its own pending window';
    return { ...base, when: `deleted by KMS ${window} after its last replica is deleted (a multi-Region primary waits for its replicas)` };
  }
  return { ...base, when: 'stays, and is billed, until it is scheduled for deletion' };
}

export function secretLeft(secret: { name: string; region: string; deletedDate?: Date }): LeftItem {
  const base = { kind: 'secret' as const, id: secret.name, region: secret.region };
  if (secret.deletedDate) {
    const date = secret.deletedDate.toISOString();
    return {
      ...base,
      state: 'PendingDeletion',
      billable: false,
      date,
      when: `scheduled for deletion on ${date}; Secrets Manager deletes it when its recovery window ends (7 to 30 days; an escrow waits one day longer than its key)`,
    };
  }
  return { ...base, state: 'Active', billable: true, when: 'stays, and is billed, until it is deleted' };
}

export function keyStoreLeft(store: { id: string; name: string; region: string; state: string; deleteAfter?: string; keysLeft: readonly { deletionDate?: Date }[]; hasKeys?: boolean }): LeftItem {
  const base = { kind: 'key-store' as const, id: store.id, label: store.name, region: store.region, state: store.state, billable: isBillable('key-store', store.state) };
  const last = store.keysLeft
    .map((k) => k.deletionDate?.toISOString())
    .filter((d): d is string => d !== undefined)
    .sort()
    .pop();
  const waitsFor =
    store.keysLeft.length > 0
      ? `waits for its ${store.keysLeft.length} key${store.keysLeft.length > 1 ? 's' : ''}${last ? ` (the last is deleted on ${last})` : ''}`
      : store.hasKeys
        ? 'KMS says it still holds keys that are not tagged as the lab\'s'
        : undefined;
  const connected = store.state === 'DISCONNECTED' ? undefined : `${store.state}, which KMS does not bill (its cluster's HSMs bill, and are checked apart)`;
  if (connected) {
    const rest = store.deleteAfter ? `may go after ${store.deleteAfter}` : "its name has no -delete-after- date (its stack's handler did not finish)";
    return { ...base, ...(store.deleteAfter ? { date: store.deleteAfter } : {}), when: `${connected}; ${rest}: run \`kms-lab teardown\` again to disconnect it` };
  }
  if (!store.deleteAfter) {
    return { ...base, when: `its name has no -delete-after- date (its stack's handler did not finish): delete it by hand once its keys are gone (aws kms delete-custom-key-store --custom-key-store-id ${store.id})` };
  }
  const pending = [waitsFor, `may go after ${store.deleteAfter}`].filter(Boolean).join('; ');
  return { ...base, date: store.deleteAfter, when: `${pending}: run \`kms-lab teardown\` again then, and it deletes it` };
}

/** A CloudHSM cluster of the lab: billable while one of its HSMs is not DELETED; the label names those HSMs. */
export function hsmClusterLeft(cluster: { id: string; region: string; state: string; liveHsmIds: readonly string[] }): LeftItem {
  const n = cluster.liveHsmIds.length;
  const base = { kind: 'hsm-cluster' as const, id: cluster.id, region: cluster.region, state: cluster.state };
  if (n === 0) return { ...base, billable: false, when: `has no HSM, so is not billed; delete it with \`aws cloudhsmv2 delete-cluster --cluster-id ${cluster.id} --region ${cluster.region}\`` };
  return { ...base, label: `HSMs ${cluster.liveHsmIds.join(', ')}`, billable: true, when: `its ${n} HSM${n > 1 ? 's bill' : ' bills'} by the hour until deleted` };
}

/** A NAT gateway, instance or Elastic IP tagged as the lab's, left by scenario (d). */
export function ec2Left(item: { kind: 'nat-gateway' | 'instance' | 'elastic-ip'; id: string; region: string; state: string; label?: string }): LeftItem {
  const { label, ...rest } = item;
  const billable = isBillable(item.kind, item.state);
  return { ...rest, ...(label ? { label } : {}), billable, when: billable ? 'stays, and is billed, until it is deleted' : `${item.state}: not billed` };
}

/** One paragraph for each billable thing left: what bills, and how to stop it. */
export function billableParagraphs(left: readonly LeftItem[]): string[] {
  return left
    .filter((item) => item.billable)
    .map((item) => {
      switch (item.kind) {
        case 'key':
          return (
            `Still billed: the KMS key ${item.id} (${item.region}) is ${item.state}, not scheduled for deletion. ` +
            `What to do: if the lab no longer needs it, \`aws kms schedule-key-deletion --key-id ${item.id} --pending-window-in-days 7 --region ${item.region}\`.`
          );
        case 'secret':
          return (
            `Still billed: the secret ${item.id} (${item.region}) is not scheduled for deletion. ` +
            `What to do: if the lab no longer needs it, \`aws secretsmanager delete-secret --secret-id ${item.id} --recovery-window-in-days 7 --region ${item.region}\`.`
          );
        case 'key-store':
          return (
            `Still billed: the custom key store ${item.id} (${item.label}, ${item.region}) is ${item.state}, not DISCONNECTED. ` +
            'What to do: run `kms-lab teardown` again, which disconnects it; if it stays connected, check its CloudHSM cluster with `kms-lab status` or `aws cloudhsmv2 describe-clusters`.'
          );
        case 'hsm-cluster': {
          const hsms = (item.label ?? '').replace(/^HSMs /, '').split(', ').filter(Boolean);
          return (
            `Still billed: the CloudHSM cluster ${item.id} (${item.region}) outlived the lab's stacks with ${hsms.length} HSM${hsms.length === 1 ? '' : 's'} (${hsms.join(', ')}), each billed by the hour. ` +
            `What to do: delete ${hsms.length === 1 ? 'it' : 'each'} with \`aws cloudhsmv2 delete-hsm --cluster-id ${item.id} --hsm-id <id> --region ${item.region}\` (back up first if you need its keys), then \`aws cloudhsmv2 delete-cluster --cluster-id ${item.id} --region ${item.region}\`.`
          );
        }
        case 'nat-gateway':
          return `Still billed: the NAT gateway ${item.id} (${item.region}), tagged as the lab's, is ${item.state}. What to do: \`aws ec2 delete-nat-gateway --nat-gateway-id ${item.id} --region ${item.region}\`.`;
        case 'instance':
          return `Still billed: the EC2 instance ${item.id} (${item.region}), tagged as the lab's, is ${item.state}. What to do: \`aws ec2 terminate-instances --instance-ids ${item.id} --region ${item.region}\`.`;
        case 'elastic-ip':
          return (
            `Still billed: the Elastic IP ${item.label ?? item.id} (${item.id}, ${item.region}), tagged as the lab's, is still allocated. ` +
            `What to do: \`aws ec2 release-address --allocation-id ${item.id} --region ${item.region}\` (disassociate it first if it is in use).`
          );
      }
    });
}

/** Exit 0 only when every stack is gone (an alarm stack may be kept) and nothing billable is left. */
export function teardownExitCode(report: Pick<TeardownReport, 'complete'>): number {
  return report.complete ? EXIT.ok : EXIT.failed;
}

/** Every stack gone (a kept alarm stack is under its own deletion schedule), nothing billable left, and no problem. */
export function isComplete(stacks: readonly TeardownStack[], left: readonly LeftItem[] | undefined, problems: number): boolean {
  const gone = (s: TeardownStack) => s.result === 'deleted' || s.result === 'not-deployed' || s.result === 'kept';
  return left !== undefined && problems === 0 && stacks.every(gone) && left.every((item) => !item.billable);
}
