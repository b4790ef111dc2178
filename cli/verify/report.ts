import { EXIT } from '../errors';

export type CheckScenario = 'a' | 'b' | 'c' | 'd' | 'e' | 'grant' | 'policy';
export const CHECK_SCENARIOS: readonly CheckScenario[] = ['a', 'b', 'c', 'd', 'e', 'grant', 'policy'];

export type CheckResultValue = 'PASS' | 'FAIL' | 'SKIP';

/** One check of `kms-lab verify`. */
export interface CheckResult {
  /** The lab scenario (a)–(e), or "grant" (the application grant) or "policy" (the administrator/user split). */
  readonly scenario: CheckScenario;
  /**
   * Stable id of what was checked, `<what>[:<where>]`: `encrypt-decrypt:primary`,
   * `encrypt-decrypt:secondary`, `cross-region-refused`, `cross-region-decrypt`,
   * `cross-region-decrypt:reverse` (encrypted by the replica, decrypted by
   * the primary), `holds-material:primary`, `holds-material:secondary`
   * (an imported-material key is Enabled, not PendingImport),
   * `envelope-64k`, `grant-encrypt-decrypt`, `admin-denied-encrypt`,
   * `user-denied-schedule-deletion`. Unique within its scenario.
   * `user-denied-schedule-deletion` is judged by IAM's policy simulator
   * (SimulatePrincipalPolicy for the user role, kms:ScheduleKeyDeletion on
   * key (a) primary, with the role's IAM policies and the key policy's
   * statements for the role, read with GetKeyPolicy): PASS when the decision
   * is explicitDeny or implicitDeny, FAIL when allowed; no deletion is ever
   * attempted. The roles are --admin-role and --user-role, or else, for an
   * empty keyAdminArns or keyUserArns, the roles the lab made (outputs
   * KeyAdminRoleArn and KeyUserRoleArn of the roles stack). A policy check is
   * SKIP when it has no role, or when the @aws-sdk/client-iam package is not
   * installed (the detail says which).
   */
  readonly check: string;
  /** The Region the check ran in (for cross-Region checks, where the data was decrypted). */
  readonly region: string;
  /** The key's ARN, or "" when the check never got as far as a key. */
  readonly keyId: string;
  readonly result: CheckResultValue;
  /** One line: what was seen on PASS, why on FAIL (the error explained), why not run on SKIP. */
  readonly detail: string;
  /** Wall-clock time of the check, in whole milliseconds (0 for SKIP). */
  readonly ms: number;
}

/**
 * What `kms-lab verify --json` prints on stdout: one JSON document.
 * Stable: fields are only ever added; a change to an existing field's
 * meaning or type raises `schemaVersion`. Checks keep the order they ran in.
 *
 * ```json
 * {
 *   "schemaVersion": 1,
 *   "prefix": "kms-key-lab",
 *   "regions": { "primary": "ap-southeast-1", "secondary": "ap-southeast-2" },
 *   "checks": [
 *     { "scenario": "b", "check": "cross-region-decrypt", "region": "ap-southeast-2",
 *       "keyId": "arn:aws:kms:ap-southeast-2:111122223333:key/mrk-1234abcd...", "result": "PASS",
 *       "detail": "encrypted in ap-southeast-1, decrypted in ap-southeast-2 by the replica (same key id mrk-1234abcd...)", "ms": 212 }
 *   ],
 *   "summary": { "pass": 12, "fail": 0, "skip": 2, "apiCalls": 31 }
 * }
 * ```
 *
 * The exit code says the same as the summary: 0 when `fail` is 0, 1 otherwise,
 * 2 for a usage or configuration error (then nothing is printed on stdout).
 */
export interface VerifyReport {
  readonly schemaVersion: 1;
  /** The lab's name prefix (`<prefix>-primary`, ...). */
  readonly prefix: string;
  readonly regions: { readonly primary: string; readonly secondary: string };
  readonly checks: readonly CheckResult[];
  readonly summary: {
    readonly pass: number;
    readonly fail: number;
    readonly skip: number;
    /** AWS API calls the run made (SDK retries of one call count once). */
    readonly apiCalls: number;
  };
}

export function buildReport(input: {
  prefix: string;
  primaryRegion: string;
  secondaryRegion: string;
  checks: readonly CheckResult[];
  apiCalls: number;
}): VerifyReport {
  const count = (result: CheckResultValue) => input.checks.filter((c) => c.result === result).length;
  return {
    schemaVersion: 1,
    prefix: input.prefix,
    regions: { primary: input.primaryRegion, secondary: input.secondaryRegion },
    checks: input.checks,
    summary: { pass: count('PASS'), fail: count('FAIL'), skip: count('SKIP'), apiCalls: input.apiCalls },
  };
}

export function verifyExitCode(report: VerifyReport): number {
  return report.summary.fail === 0 ? EXIT.ok : EXIT.failed;
}

/** The JSON document, with a fixed key order so runs diff cleanly. */
export function renderVerifyJson(report: VerifyReport): string {
  const ordered: VerifyReport = {
    schemaVersion: report.schemaVersion,
    prefix: report.prefix,
    regions: { primary: report.regions.primary, secondary: report.regions.secondary },
    checks: report.checks.map((c) => ({
      scenario: c.scenario,
      check: c.check,
      region: c.region,
      keyId: c.keyId,
      result: c.result,
      detail: c.detail,
      ms: c.ms,
    })),
    summary: { pass: report.summary.pass, fail: report.summary.fail, skip: report.summary.skip, apiCalls: report.summary.apiCalls },
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/** Parses `--scenario a,b,grant`; undefined (the option left out) selects every scenario. */
export function parseScenarios(value: string | undefined): readonly CheckScenario[] | string {
  if (value === undefined) return CHECK_SCENARIOS;
  const items = value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  const unknown = items.filter((s) => !(CHECK_SCENARIOS as readonly string[]).includes(s));
  if (items.length === 0 || unknown.length > 0) {
    const named = unknown.length ? `unknown scenario${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}` : 'no scenario';
    return `--scenario ${JSON.stringify(value)} names ${named}. What to do: give a comma-separated list of ${CHECK_SCENARIOS.join(', ')}, or leave the option out to check them all`;
  }
  return CHECK_SCENARIOS.filter((s) => items.includes(s));
}
