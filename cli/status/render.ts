import { escrowRecoveryLine } from '../escrow-recovery';
import { keyLabel } from '../lab-stacks';
import { renderTable } from '../render/table';
import { lastUsedText, StatusReport } from './report';

/** The human form of the status: stacks, keys, scenario (d), the lab roles, then what is pending deletion. */
export function renderStatusText(report: StatusReport, now: Date): string {
  const parts: string[] = [`KMS Key Lab "${report.prefix}": primary ${report.regions.primary}, secondary ${report.regions.secondary}\n`];

  parts.push(
    'Stacks\n' +
      renderTable(
        ['STACK', 'REGION', 'STATUS', 'LAST UPDATED'],
        report.stacks.map((s) => [s.name, s.region, s.status, s.lastUpdated ?? '']),
        '  ',
      ),
  );

  if (report.keys.length > 0) {
    parts.push(
      'Keys\n' +
        renderTable(
          ['KEY', 'REGION', 'STATE', 'ORIGIN', 'ROTATION', 'DELETION', 'LAST USED', 'ARN'],
          report.keys.map((k) => [
            keyLabel(k),
            k.region,
            k.state,
            k.origin ?? '',
            k.rotation,
            k.deletionDate ?? '',
            lastUsedText(k, now),
            k.keyArn,
          ]),
          '  ',
        ),
    );
  } else {
    // After a teardown the roles or alarm stacks may stand without a key stack.
    const anyStack = report.stacks.some((s) => s.status !== 'NOT_DEPLOYED');
    parts.push(`Keys\n  none: ${anyStack ? 'no deployed stack holds a lab key' : 'no lab stack is deployed'}\n`);
  }

  const d = report.cloudHsm;
  if (d) {
    const store = `${d.keyStoreId ?? 'no key store output'}: ${d.connectionState ?? 'unknown'}${d.connectionErrorCode ? ` (${d.connectionErrorCode})` : ''}`;
    const hours =
      d.hsmHoursEstimate === undefined
        ? 'unknown'
        : `about ${d.hsmHoursEstimate} HSM-hours so far (estimate, an upper bound: ${d.hsmCount} HSM${d.hsmCount === 1 ? '' : 's'} × hours since the cluster was created)`;
    parts.push(
      'CloudHSM (d)\n' +
        `  key store  ${store}\n` +
        `  cluster    ${d.clusterId ?? 'unknown'}: ${d.clusterState ?? 'unknown'}, ${d.hsmCount ?? '?'} HSM(s)\n` +
        `  HSM use    ${hours}\n` +
        `  expires    ${d.expiresAt ?? 'never: labExpiryHours is 0, destroy it yourself'}\n`,
    );
  }

  const roles = report.labRoles;
  if (roles) {
    parts.push(
      `Lab roles (${roles.stack})\n` +
        `  key administrator  ${roles.keyAdminRoleArn ?? 'not made here: keyAdminArns names the administrators'}\n` +
        `  key user           ${roles.keyUserRoleArn ?? 'not made here: keyUserArns names the users'}\n`,
    );
  }

  parts.push(
    'Pending deletion\n' +
      (report.pendingDeletion.length === 0
        ? '  nothing\n'
        : renderTable(
            ['WHAT', 'REGION', 'WHEN'],
            report.pendingDeletion.map((p) => [
              `${p.kind} ${p.name}`,
              p.region,
              p.dateMeaning === 'deleted-on' ? `deleted on ${p.date}` : `scheduled on ${p.date} (deleted when its recovery window, up to 30 days, ends)`,
            ]),
            '  ',
          )),
  );
  if (report.escrowRecovery.length > 0) {
    parts.push('Escrow recovery (secrets scheduled for deletion: who can restore them, until when, how)\n' + report.escrowRecovery.map((r) => `  ${escrowRecoveryLine(r)}\n`).join(''));
  }
  return parts.join('\n') + `\n${report.apiCalls} AWS API call${report.apiCalls === 1 ? '' : 's'}\n`;
}

export function renderStatusJson(report: StatusReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
