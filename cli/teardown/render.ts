import { isAlarmStack } from '../lab-stacks';
import { renderTable } from '../render/table';
import { TeardownReport } from './report';

/** "key (c) primary arn:...", "secret name", "key-store cks-... (name)". */
const what = (kind: string, id: string, label?: string) => {
  if (!label) return `${kind} ${id}`;
  return kind === 'key' ? `${kind} ${label} ${id}` : `${kind} ${id} (${label})`;
};

/** The human summary printed after the progress lines: what was deleted, the alarm stacks kept and when they go, what is left and when it goes, and whether anything still bills. */
export function renderTeardownText(report: TeardownReport): string {
  const parts: string[] = [];
  parts.push(
    'Deleted\n' +
      (report.deleted.length === 0 ? '  nothing\n' : report.deleted.map((d) => `  ${what(d.kind, d.id, d.label)} (${d.region})\n`).join('')),
  );
  const keptRoles = report.stacks.filter((s) => s.result === 'kept' && s.role === 'roles');
  if (keptRoles.length > 0) {
    parts.push(
      'Kept: the roles stack, for the escrow secrets pending deletion\n' +
        keptRoles.map((s) => `  ${s.name} (${s.region}): it ${s.when ?? 'keeps the key administrator role while an escrow secret it can restore is recoverable'}\n`).join('') +
        '  `kms-lab status` says who can restore each escrow, until when, and how.\n',
    );
  }
  const kept = report.stacks.filter((s) => s.result === 'kept' && isAlarmStack(s.role));
  if (kept.length > 0) {
    parts.push(
      'Kept: the alarm on use of a key pending deletion, which deletes itself\n' +
        kept.map((s) => `  ${s.name} (${s.region}): it ${s.when ?? 'deletes itself once the keys of its Region are past their pending window'}\n`).join('') +
        `  \`kms-lab teardown --with-alarms\` deletes ${kept.length === 1 ? 'it' : 'them'} now, which ends the watch.\n`,
    );
  }
  if (report.left === undefined) {
    const stopped = report.stacks.find((s) => ['failed', 'busy', 'still-deleting', 'not-lab'].includes(s.result));
    parts.push(`Left\n  the lab's stacks from ${stopped?.name ?? 'the one that stopped'} on, with everything in them: see below\n`);
  } else {
    parts.push(
      'Left, and when it goes\n' +
        (report.left.length === 0
          ? '  nothing\n'
          : renderTable(
              ['WHAT', 'REGION', 'STATE', 'BILLED', 'WHEN'],
              report.left.map((l) => [what(l.kind, l.id, l.label), l.region, l.state, l.billable ? 'yes' : 'no', l.when]),
              '  ',
            )),
    );
    if (report.uncheckedKeys) {
      parts.push(`${report.uncheckedKeys} key${report.uncheckedKeys === 1 ? '' : 's'} of the account would not show their tags to this identity (AccessDenied), so could not be checked.\n`);
    }
  }
  const verdict = report.complete
    ? kept.length > 0
      ? 'Nothing billable is left outside a deletion schedule: keys and secrets pending deletion and a custom key store are not billed, no HSM, NAT gateway, instance or Elastic IP of the lab is left, ' +
        'and the kept alarm stacks (their trail, log ingestion and alarm bill) delete themselves as said above.'
      : 'Nothing billable is left: keys and secrets pending deletion and a custom key store are not billed, and no HSM, NAT gateway, instance or Elastic IP of the lab is left.'
    : report.left === undefined
      ? 'The teardown did not finish: the stacks that are left still bill for their keys (and scenario (d) for its HSMs).'
      : report.billableLeft
        ? `${report.billableLeft} billable thing${report.billableLeft === 1 ? ' is' : 's are'} left: see below.`
        : 'Not everything is settled: see below.';
  return `\n${parts.join('\n')}\n${verdict}\n${report.apiCalls} AWS API call${report.apiCalls === 1 ? '' : 's'}\n`;
}

/** The JSON document, in the order of the schema so runs diff cleanly. */
export function renderTeardownJson(report: TeardownReport): string {
  const ordered: TeardownReport = {
    schemaVersion: report.schemaVersion,
    prefix: report.prefix,
    regions: { primary: report.regions.primary, secondary: report.regions.secondary },
    generatedAt: report.generatedAt,
    complete: report.complete,
    stacks: report.stacks,
    deleted: report.deleted,
    ...(report.left !== undefined ? { left: report.left, billableLeft: report.billableLeft, uncheckedKeys: report.uncheckedKeys } : {}),
    problems: report.problems,
    warnings: report.warnings,
    apiCalls: report.apiCalls,
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}
