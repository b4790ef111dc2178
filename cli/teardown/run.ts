import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { AwsClients } from '../aws/clients';
import { describeLab } from '../aws/describe-lab';
import { confirmOrStop } from '../confirm';
import { CliIo } from '../io';
import { escrowsPendingDeletion } from '../aws/escrows';
import { alarmRoleMessage, alarmStacksWithoutTheirRole } from '../aws/execution-roles';
import { explainError, isCredentialsProblem } from '../error-messages';
import { CliError } from '../errors';
import { EscrowRecovery, escrowRecovery } from '../escrow-recovery';
import { ALARM_WATCHES, escrowSecrets, findKey, isAlarmStack, KEY_SPECS, keyLabel, LabDeployment, labRoles, StackRole } from '../lab-stacks';
import { DEFAULT_PENDING_WINDOW_DAYS, LabSettings } from '../settings';
import { collectLeftovers, KnownResources } from './leftovers';
import {
  alarmStacks,
  alarmStackIsBroken,
  brokenAlarmMessage,
  busyStackMessage,
  deleteFailedMessage,
  isLabStack,
  keptAlarm,
  keptAlarmsAdvice,
  keptRoles,
  rolesDeletedWarning,
  noLabFoundMessage,
  notLabStackMessage,
  stackStep,
  stillDeletingMessage,
  teardownOrder,
  teardownQuestion,
} from './plan';
import { billableParagraphs, DeletedItem, isComplete, LeftItem, TeardownReport, TeardownStack } from './report';
import { deleteStack, Waiting } from './stacks';

export interface TeardownOptions {
  readonly yes?: boolean;
  /** Delete the alarm stacks too, after the roles stack; without it they are kept (they delete themselves later). */
  readonly withAlarms?: boolean;
  /** Delete the roles stack even while an escrow secret its key administrator role can restore is recoverable. */
  readonly withRoles?: boolean;
  readonly waiting: Waiting;
}

/** The keys and the escrow secrets the outputs name, read before the stacks (and their outputs) go. */
function knownResources(deployment: LabDeployment): KnownResources {
  const keys: { arn: string; region: string; label: string }[] = [];
  for (const spec of KEY_SPECS) {
    const found = findKey(deployment, spec);
    if (found && 'key' in found) keys.push({ arn: found.key.keyArn, region: found.key.region, label: keyLabel(spec) });
  }
  return { keys, escrowSecretNames: escrowSecrets(deployment).map((e) => e.name) };
}

/** The account the credentials belong to, for the "no lab found" line; undefined if STS will not say. */
async function callerAccount(clients: AwsClients, region: string): Promise<string | undefined> {
  try {
    return (await clients.sts(region).send(new GetCallerIdentityCommand({}))).Account;
  } catch {
    return undefined;
  }
}

/** Soonest first within each kind: keys, then secrets, key stores, and what scenario (d) left. */
function sortLeft(left: readonly LeftItem[]): LeftItem[] {
  const order = { key: 0, secret: 1, 'key-store': 2, 'hsm-cluster': 3, 'nat-gateway': 4, instance: 5, 'elastic-ip': 6 } as const;
  return [...left].sort((a, b) => order[a.kind] - order[b.kind] || (a.date ?? '9999').localeCompare(b.date ?? '9999') || a.id.localeCompare(b.id));
}

/**
 * Deletes the lab's stacks in order (cloudhsm, secondary, primary, roles, and
 * with --with-alarms the alarm stacks), each waited for, stopping at the
 * first that does not go; reports the alarm stacks it keeps (without
 * --with-alarms) and when they delete themselves; then reports what outlives
 * the stacks and finishes what has become possible (a key store whose wait
 * is over). Asks once, before the first change, unless --yes.
 */
export async function runTeardown(settings: LabSettings, io: CliIo, options: TeardownOptions, clients = new AwsClients(settings.profile)): Promise<TeardownReport> {
  const { waiting } = options;
  // Before any deletion: a kept alarm stack's countdown starts no earlier.
  const startedAt = io.now();
  const order = teardownOrder(settings, { withAlarms: options.withAlarms });
  const kept = options.withAlarms ? [] : alarmStacks(settings);
  const deployment = await describeLab(clients, settings);
  const known = knownResources(deployment);
  // A stack with the lab's name but not its tag is never deleted, nor anything after it: the question names only what goes before.
  const isForeign = (ref: (typeof order)[number]) => {
    const found = deployment[ref.role];
    return found !== undefined && !isLabStack(found.tags, settings.prefix);
  };
  const firstForeign = order.findIndex(isForeign);
  const present = order.slice(0, firstForeign === -1 ? order.length : firstForeign).filter((ref) => deployment[ref.role]);

  let confirmed = false;
  const confirmOnce = async (question: string) => {
    if (confirmed) return;
    await confirmOrStop(io, options.yes, question, { name: 'kms-lab teardown', does: "deletes the lab's stacks" });
    confirmed = true;
  };

  const keeping = kept.filter((ref) => deployment[ref.role]);
  waiting.progress(
    `Tearing down the KMS Key Lab "${settings.prefix}": ${order.map((r) => `${r.name} (${r.region})`).join(', then ')}` +
      (keeping.length > 0 ? `; keeping ${keeping.map((r) => `${r.name} (${r.region})`).join(' and ')} (without --with-alarms)` : ''),
  );
  if ([...order, ...kept].every((ref) => !deployment[ref.role])) waiting.progress(noLabFoundMessage(settings, await callerAccount(clients, settings.primaryRegion)));
  // The lab's own key administrator role: the one principal besides the root user that the escrows' policy lets restore them.
  const adminRoleArn = deployment.roles ? labRoles(deployment, settings).admin : undefined;
  const escrowsKnown = escrowSecrets(deployment);
  const pendingWindowDays = settings.pendingWindowDays ?? DEFAULT_PENDING_WINDOW_DAYS;

  const stacks: TeardownStack[] = [];
  const deleted: DeletedItem[] = [];
  const problems: string[] = [];
  const warnings: string[] = [];
  /** The escrows the key administrator role can restore that are scheduled for deletion; undefined when Secrets Manager could not say. */
  const lookUpEscrows = async (): Promise<EscrowRecovery[] | undefined> => {
    try {
      return (await escrowsPendingDeletion(clients, settings, escrowsKnown)).map((e) => escrowRecovery(e, pendingWindowDays, [adminRoleArn!]));
    } catch (error) {
      if (isCredentialsProblem(error)) throw new CliError(explainError(error));
      problems.push(
        `${explainError(error)} So ${settings.prefix}-roles was kept: its key administrator role may be the only principal besides the account root user that can restore an escrow secret scheduled for deletion. ` +
          'What to do: run `kms-lab teardown` again once Secrets Manager answers.',
      );
      return undefined;
    }
  };
  const rolesMayStay = adminRoleArn !== undefined && !options.withRoles;
  // With the primary stack gone (an earlier run), whether the roles stack stays is known now: the question leaves it out then.
  let escrowsLookedUp: Promise<EscrowRecovery[] | undefined> | undefined = rolesMayStay && !deployment.primary ? lookUpEscrows() : undefined;
  const rolesStay = escrowsLookedUp ? await escrowsLookedUp.then((e) => e === undefined || e.length > 0) : false;
  const asked = present.filter((ref) => !(ref.role === 'roles' && rolesStay));
  if (asked.length > 0) await confirmOnce(teardownQuestion(settings.prefix, asked, [], { rolesMayStay: rolesMayStay && !rolesStay }));
  const recoverableEscrows = () => (escrowsLookedUp ??= lookUpEscrows());
  let stopped = false;
  const notDeployed = (base: Pick<TeardownStack, 'role' | 'name' | 'region'>) => {
    stacks.push({ ...base, before: 'NOT_DEPLOYED', result: 'not-deployed' });
    waiting.progress(`${base.name} (${base.region}): not deployed`);
  };
  for (const [i, ref] of order.entries()) {
    const found = deployment[ref.role];
    const base = { role: ref.role, name: ref.name, region: ref.region };
    if (!found) {
      notDeployed(base);
      continue;
    }
    if (stopped) {
      stacks.push({ ...base, before: found.status, result: 'not-started' });
      continue;
    }
    const remaining = order.slice(i + 1).filter((r) => deployment[r.role]);
    if (!isLabStack(found.tags, settings.prefix)) {
      problems.push(notLabStackMessage(ref, found.tags, settings.prefix, remaining));
      stacks.push({ ...base, before: found.status, result: 'not-lab' });
      stopped = true;
      continue;
    }
    // While an escrow its key administrator role can restore is recoverable, the roles stack stays (its window outlasts the keys').
    if (ref.role === 'roles' && adminRoleArn) {
      const escrows = await recoverableEscrows();
      if (!options.withRoles && (escrows === undefined || escrows.length > 0)) {
        const { when, date } = keptRoles(adminRoleArn, escrows);
        stacks.push({ ...base, before: found.status, result: 'kept', ...(date ? { date } : {}), when });
        waiting.progress(`${ref.name} (${ref.region}): ${found.status}, kept: it ${when}`);
        continue;
      }
      if (escrows && escrows.length > 0) warnings.push(rolesDeletedWarning(ref, adminRoleArn, escrows));
    }
    if (stackStep(found.status) === 'busy') {
      problems.push(busyStackMessage(ref, found.status, remaining));
      stacks.push({ ...base, before: found.status, result: 'busy', after: found.status });
      stopped = true;
      continue;
    }
    const result = await deleteStack(clients, ref, found.status, waiting);
    if (result.outcome === 'deleted') {
      stacks.push({ ...base, before: found.status, result: 'deleted', after: result.after });
      deleted.push({ kind: 'stack', id: ref.name, region: ref.region });
      continue;
    }
    stopped = true;
    if (result.outcome === 'failed') {
      problems.push(deleteFailedMessage(ref, result.failures, result.statusReason, remaining));
      stacks.push({ ...base, before: found.status, result: 'failed', after: result.after, failures: result.failures });
    } else {
      problems.push(stillDeletingMessage(ref, waiting.maxStackWaitMs, remaining));
      stacks.push({ ...base, before: found.status, result: 'still-deleting', after: result.after });
    }
  }

  // Without --with-alarms: the alarm stacks stay, watching the keys through their window, and go by themselves.
  const keptLines: string[] = [];
  for (const ref of kept) {
    const found = deployment[ref.role];
    const base = { role: ref.role, name: ref.name, region: ref.region };
    if (!found) {
      notDeployed(base);
      continue;
    }
    if (!isLabStack(found.tags, settings.prefix)) {
      // Not deleted either way; but not claimed as the lab's alarm, and said, as for every stack.
      problems.push(notLabStackMessage(ref, found.tags, settings.prefix, undefined));
      stacks.push({ ...base, before: found.status, result: 'not-lab' });
      continue;
    }
    // A key stack found DELETE_IN_PROGRESS (the CloudHSM stack's expiry) began its deletion before this run, when exactly is not known here.
    const watched = new Set<string>(ALARM_WATCHES[ref.role]);
    const deletionAskedThisRun = stacks.some((s) => watched.has(s.role) && s.result === 'deleted' && s.before !== 'DELETE_IN_PROGRESS');
    const { when, date } = keptAlarm(ref, settings, startedAt, { status: found.status, pendingWindowDays, stopped, deletionAskedThisRun });
    stacks.push({ ...base, before: found.status, result: 'kept', ...(date ? { date } : {}), when });
    if (alarmStackIsBroken(found.status)) problems.push(brokenAlarmMessage(ref, found.status));
    keptLines.push(`${ref.name} (${ref.region}): ${found.status}, kept: it ${when}`);
  }
  // A kept alarm stack deletes itself through its execution role: with that role gone it never can, and its trail bills on.
  const keptDeployed = stacks.filter((s) => s.result === 'kept' && isAlarmStack(s.role)).map((s) => s.role);
  if (keptDeployed.length > 0) {
    const only = Object.fromEntries(Object.entries(deployment).map(([role, d]) => [role, keptDeployed.includes(role as StackRole) ? d : undefined])) as LabDeployment;
    for (const finding of await alarmStacksWithoutTheirRole(clients, only, settings.primaryRegion)) problems.push(alarmRoleMessage(finding));
  }
  if (keptLines.length > 0) {
    for (const line of keptLines) waiting.progress(line);
    waiting.progress(keptAlarmsAdvice(stacks.filter((s) => s.result === 'kept' && isAlarmStack(s.role))));
  }

  let leftovers: Pick<TeardownReport, 'left' | 'billableLeft' | 'uncheckedKeys'> = {};
  if (!stopped) {
    const found = await collectLeftovers(clients, { settings, known, now: io.now(), waiting, confirm: confirmOnce, problems });
    const left = sortLeft(found.left);
    deleted.push(...found.deleted);
    problems.push(...billableParagraphs(left));
    leftovers = { left, billableLeft: left.filter((item) => item.billable).length, uncheckedKeys: found.unreadableKeys };
  }

  return {
    schemaVersion: 1,
    prefix: settings.prefix,
    regions: { primary: settings.primaryRegion, secondary: settings.secondaryRegion },
    generatedAt: io.now().toISOString(),
    complete: isComplete(stacks, leftovers.left, problems.length),
    stacks,
    deleted,
    ...leftovers,
    problems,
    warnings,
    apiCalls: clients.counter.total,
  };
}
