import { renderTable } from '../render/table';
import { PreflightReport } from './report';

/** The human form: one row per check (what to do under its detail), then the verdict. */
export function renderPreflightTable(report: PreflightReport): string {
  const account = report.account ? `account ${report.account}, ` : '';
  const header = `Preflight of the KMS Key Lab "${report.prefix}": ${account}primary ${report.regions.primary}, secondary ${report.regions.secondary}\n\n`;
  const rows = report.checks.map((c) => [c.check, c.region, c.result, c.action ? `${c.detail}. What to do: ${c.action}` : c.detail]);
  const { pass, fail, warn, unknown, skip, apiCalls } = report.summary;
  const verdict = report.ready ? 'ready to deploy' : fail > 0 ? 'not ready: fix what failed, then run preflight again' : 'not ready under --strict: look at the WARN and UNKNOWN rows';
  const totals = `\n${pass} passed, ${fail} failed, ${warn} warned, ${unknown} unknown, ${skip} skipped; ${apiCalls} AWS API call${apiCalls === 1 ? '' : 's'}: ${verdict}\n`;
  return header + renderTable(['CHECK', 'REGION', 'RESULT', 'DETAIL'], rows) + totals;
}

/** One paragraph per failed check, for stderr. */
export function preflightFailures(report: PreflightReport): string[] {
  return report.checks.filter((c) => c.result === 'FAIL').map((c) => `${c.check} (${c.region}): ${c.detail}. What to do: ${c.action}.`);
}
