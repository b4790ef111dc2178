import { renderTable } from '../render/table';
import { shortDetail } from './outcomes';
import { VerifyReport } from './report';

const scenarioLabel = (s: string) => (s.length === 1 ? `(${s})` : s);

/** The human form: one row per check, then the totals. */
export function renderVerifyTable(report: VerifyReport): string {
  const header = `KMS Key Lab "${report.prefix}": primary ${report.regions.primary}, secondary ${report.regions.secondary}\n\n`;
  const rows = report.checks.map((c) => [scenarioLabel(c.scenario), c.check, c.region, c.result, String(c.ms), shortDetail(c.detail)]);
  const { pass, fail, skip, apiCalls } = report.summary;
  const totals = `\n${pass} passed, ${fail} failed, ${skip} skipped; ${apiCalls} AWS API call${apiCalls === 1 ? '' : 's'}\n`;
  return header + renderTable(['SCENARIO', 'CHECK', 'REGION', 'RESULT', 'MS', 'DETAIL'], rows) + totals;
}

/** One paragraph per failed check, for stderr: which check, then what happened and what to do. */
export function failureParagraphs(report: VerifyReport): string[] {
  return report.checks.filter((c) => c.result === 'FAIL').map((c) => `${scenarioLabel(c.scenario)} ${c.check} (${c.region}): ${c.detail}`);
}
