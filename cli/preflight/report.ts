import { EXIT } from '../errors';

/**
 * PASS: the deploy meets no problem here. FAIL: the deploy would fail (or
 * leave the lab broken) until the action is taken. WARN: the deploy can go
 * ahead, but something needs a look. UNKNOWN: AWS cannot tell (or refused to
 * tell) what the deploy will meet: not a pass. SKIP: not part of this deploy.
 */
export type PreflightResult = 'PASS' | 'FAIL' | 'WARN' | 'UNKNOWN' | 'SKIP';

/** One check of `kms-lab preflight`. */
export interface PreflightCheck {
  /**
   * Stable id of what was checked: `credentials`, `bootstrap-stack`,
   * `bootstrap-version`, `execution-role`, `trails`, `custom-key-stores`,
   * `hsm-zones`, `aliases`, `roles`, `replicas`, `keys-pending-deletion`,
   * `stack:<stack name>`. With `region`, unique in the report.
   */
  readonly check: string;
  /** The Region checked (IAM's roles, a global service, are listed under the primary Region). */
  readonly region: string;
  readonly result: PreflightResult;
  /** One line: what was seen. */
  readonly detail: string;
  /** What to do, on FAIL, WARN and UNKNOWN; "" otherwise. */
  readonly action: string;
}

/**
 * What `kms-lab preflight --json` prints: one JSON document. Stable: fields
 * are only ever added; a change to an existing field's meaning raises
 * schemaVersion. Checks keep the order they are listed in.
 *
 * ```json
 * {
 *   "schemaVersion": 1,
 *   "prefix": "kms-key-lab",
 *   "account": "111122223333",
 *   "regions": { "primary": "ap-southeast-1", "secondary": "ap-southeast-2" },
 *   "deploy": { "cloudHsm": false, "deletionAlarm": true, "multiRegionImportedKey": true, "qualifier": "hnb659fds" },
 *   "checks": [
 *     { "check": "trails", "region": "ap-southeast-2", "result": "FAIL",
 *       "detail": "5 of 5 trails in ap-southeast-2 ...", "action": "delete a trail you no longer need ..." }
 *   ],
 *   "summary": { "pass": 18, "fail": 1, "warn": 0, "unknown": 1, "skip": 2, "apiCalls": 40 },
 *   "ready": false
 * }
 * ```
 *
 * `ready` is true when no check failed (with --strict: and none is WARN or
 * UNKNOWN); the exit code says the same: 0 ready, 1 not, 2 a usage or
 * settings mistake (then nothing is printed on stdout).
 */
export interface PreflightReport {
  readonly schemaVersion: 1;
  readonly prefix: string;
  /** The account of the credentials, as STS answered; "" when it could not be read. */
  readonly account: string;
  readonly regions: { readonly primary: string; readonly secondary: string };
  /** The settings that decide what the deploy holds. */
  readonly deploy: { readonly cloudHsm: boolean; readonly deletionAlarm: boolean; readonly multiRegionImportedKey: boolean; readonly qualifier: string };
  readonly checks: readonly PreflightCheck[];
  readonly summary: { readonly pass: number; readonly fail: number; readonly warn: number; readonly unknown: number; readonly skip: number; readonly apiCalls: number };
  readonly ready: boolean;
}

export function buildPreflightReport(input: Omit<PreflightReport, 'schemaVersion' | 'summary' | 'ready'> & { apiCalls: number; strict: boolean }): PreflightReport {
  const count = (result: PreflightResult) => input.checks.filter((c) => c.result === result).length;
  const summary = { pass: count('PASS'), fail: count('FAIL'), warn: count('WARN'), unknown: count('UNKNOWN'), skip: count('SKIP'), apiCalls: input.apiCalls };
  const ready = summary.fail === 0 && (!input.strict || (summary.warn === 0 && summary.unknown === 0));
  return {
    schemaVersion: 1,
    prefix: input.prefix,
    account: input.account,
    regions: { primary: input.regions.primary, secondary: input.regions.secondary },
    deploy: {
      cloudHsm: input.deploy.cloudHsm,
      deletionAlarm: input.deploy.deletionAlarm,
      multiRegionImportedKey: input.deploy.multiRegionImportedKey,
      qualifier: input.deploy.qualifier,
    },
    checks: input.checks.map((c) => ({ check: c.check, region: c.region, result: c.result, detail: c.detail, action: c.action })),
    summary,
    ready,
  };
}

export function preflightExitCode(report: PreflightReport): number {
  return report.ready ? EXIT.ok : EXIT.failed;
}

/** The JSON document (buildPreflightReport fixes the key order, so runs diff cleanly). */
export function renderPreflightJson(report: PreflightReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
