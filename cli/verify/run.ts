import { performance } from 'node:perf_hooks';
import { AwsClients } from '../aws/clients';
import { describeLab } from '../aws/describe-lab';
import { CliError } from '../errors';
import { explainError, isCredentialsProblem, stacksNotDeployed } from '../error-messages';
import { KEY_STACKS_AND_ROLES, labRoles, labStacks, StackRole } from '../lab-stacks';
import { LabSettings } from '../settings';
import { planChecks, PlannedCheck, VerifyOptions } from './checks';
import { buildReport, CheckResult, CheckScenario, VerifyReport } from './report';

/** The stacks each scenario cannot do without; (d)'s own stack is optional: without it, (d) is skipped. */
const NEEDS: Record<CheckScenario, readonly StackRole[]> = {
  a: ['primary', 'secondary'],
  b: ['primary', 'secondary'],
  c: ['primary'],
  d: [],
  // Optional like (d): a primary stack without (e)'s outputs was deployed without it, and (e) is skipped.
  e: [],
  grant: ['primary'],
  policy: ['primary'],
};

/**
 * Runs one check, timed. A failure becomes a FAIL with its explanation,
 * except a credentials problem, which would fail every later check the same
 * way: it ends the run.
 */
async function runCheck(planned: PlannedCheck): Promise<CheckResult> {
  const base = { scenario: planned.scenario, check: planned.check, region: planned.region, keyId: planned.keyId };
  if (planned.skip !== undefined) return { ...base, result: 'SKIP', detail: planned.skip, ms: 0 };
  if (planned.fail !== undefined || !planned.run) return { ...base, result: 'FAIL', detail: planned.fail ?? 'nothing to run', ms: 0 };
  const start = performance.now();
  try {
    const outcome = await planned.run();
    return { ...base, ...outcome, ms: Math.round(performance.now() - start) };
  } catch (error) {
    if (isCredentialsProblem(error) && planned.scenario !== 'grant' && planned.scenario !== 'policy') throw new CliError(explainError(error));
    return { ...base, result: 'FAIL', detail: explainError(error), ms: Math.round(performance.now() - start) };
  }
}

export async function runVerify(settings: LabSettings, options: VerifyOptions, clients = new AwsClients(settings.profile)): Promise<VerifyReport> {
  // The alarm stacks hold no key: verify never reads them.
  const deployment = await describeLab(clients, settings, KEY_STACKS_AND_ROLES);
  const refs = labStacks(settings);
  const roles = labRoles(deployment, settings);
  options = {
    ...options,
    adminRoleArn: options.adminRoleArn ?? roles.admin,
    userRoleArn: options.userRoleArn ?? roles.user,
  };
  const needed = new Set(options.scenarios.flatMap((s) => NEEDS[s]));
  const missing = [...needed].filter((role) => !deployment[role]).map((role) => refs[role]);
  if (missing.length > 0) throw new CliError(stacksNotDeployed(missing));

  const checks: CheckResult[] = [];
  // One at a time: each check's time is its own, and the calls stay far below KMS's request quotas.
  for (const planned of planChecks({ clients, settings, deployment }, options)) checks.push(await runCheck(planned));
  return buildReport({
    prefix: settings.prefix,
    primaryRegion: settings.primaryRegion,
    secondaryRegion: settings.secondaryRegion,
    checks,
    apiCalls: clients.counter.total,
  });
}
