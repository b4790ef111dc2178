import { renderTable } from '../render/table';
import { keyLabel, MaterialEntry } from './plan';
import { KeyRotation, RotateReport } from './report';

const onDemandText = (k: KeyRotation) => (k.onDemand ? `${k.onDemand.used} of ${k.onDemand.limit} used` : 'n/a');

function rotationColumn(m: MaterialEntry): string {
  if (m.rotationType) return m.rotationType;
  if (m.state?.startsWith('PENDING')) return 'pending';
  return 'first material';
}

/** The keys, their rotation status and history, and the plan: printed before the confirmation is asked. */
export function renderRotationStatus(report: RotateReport): string {
  const parts: string[] = [`KMS Key Lab "${report.prefix}": primary ${report.regions.primary}, secondary ${report.regions.secondary}\n`];
  if (report.keys.length === 0) return `${parts[0]}\nKeys\n  none: no lab key of the selected scenarios is deployed\n`;
  parts.push(
    'Keys\n' +
      renderTable(
        ['KEY', 'REGION', 'STATE', 'ORIGIN', 'AUTOMATIC ROTATION', 'ON-DEMAND', 'PLAN'],
        report.keys.map((k) => [keyLabel(k), k.region, k.state, k.origin ?? '', k.automaticRotation, onDemandText(k), k.planDetail]),
        '  ',
      ),
  );
  const rows = report.keys.flatMap((k) =>
    k.materials.map((m) => [keyLabel(k), m.keyMaterialId ?? '', m.state ?? '', m.importState ?? '', rotationColumn(m), m.rotationDate ?? '']),
  );
  parts.push(
    'Key material (ListKeyRotations)\n' +
      (rows.length === 0 ? '  none listed\n' : renderTable(['KEY', 'MATERIAL ID', 'STATE', 'IMPORT', 'ROTATION', 'DATE'], rows, '  ')),
  );
  return parts.join('\n');
}

/** What the rotations did, then the API calls; in a dry run or after a refusal, only why nothing was rotated. */
export function renderRotationResults(report: RotateReport): string {
  const calls = `${report.apiCalls} AWS API call${report.apiCalls === 1 ? '' : 's'}\n`;
  const done = report.keys.filter((k) => k.result);
  if (report.dryRun) return `\nDry run: nothing was rotated.\n${calls}`;
  if (done.length === 0) {
    const refused = report.keys.some((k) => k.plan === 'refused') || report.problems.length > 0;
    return `\n${refused ? 'Nothing was rotated (see the paragraphs on stderr).' : 'Nothing to rotate.'}\n${calls}`;
  }
  return (
    '\nRotations\n' +
    renderTable(
      ['KEY', 'RESULT', 'DETAIL'],
      done.map((k) => [keyLabel(k), k.result!.toUpperCase(), k.resultDetail ?? '']),
      '  ',
    ) +
    calls
  );
}
