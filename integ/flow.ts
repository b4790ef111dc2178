import { Command, CommanderError } from 'commander';
import { readCdkContext } from '../cli/cdk-json';
import { CliError, EXIT } from '../cli/errors';
import { parseContextArgs, resolveSettings } from '../cli/settings';
import type { StatusReport } from '../cli/status/report';
import { renderTeardownText } from '../cli/teardown/render';
import type { TeardownReport } from '../cli/teardown/report';
import { renderVerifyTable } from '../cli/verify/render';
import type { CheckResult, VerifyReport } from '../cli/verify/report';
import { cloudHsmHourlyCost } from '../lib/cloudhsm/cost';

/**
 * `npm run integ`: the lab end to end against a real account. Check that no
 * lab of this name is deployed, synthesize and deploy every stack, prove it
 * with `kms-lab verify`, and always tear it down with `kms-lab teardown`.
 * Pure orchestration: AWS is reached only through the injected steps
 * (bin/integ.ts wires the toolkit and the in-process CLI; the tests, fakes).
 */

/** Where the run writes, and what it reads from its surroundings. */
export interface IntegIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** The project directory: its cdk.json holds the app's context. */
  readonly cwd: string;
  readonly now: () => Date;
}

export interface DeployRequest {
  /** The `-c key=value` overrides, laid over cdk.json's context as `cdk -c` does. */
  readonly context: Readonly<Record<string, string>>;
  readonly profile?: string;
}

export interface IntegDeps {
  readonly io: IntegIo;
  /** Synthesizes the app and deploys every stack; resolves with the names of the stacks deployed, rejects when synth or a deploy failed. */
  synthAndDeploy(request: DeployRequest): Promise<{ readonly stacks: readonly string[] }>;
  /** Runs `kms-lab <argv>` in-process: returns its exit code and stdout; its stderr (progress, failure paragraphs) goes on to the operator. */
  kmsLab(argv: readonly string[]): Promise<{ readonly code: number; readonly stdout: string }>;
}

export interface IntegOptions {
  /** `-c key=value` as given, parsed. */
  readonly context: Readonly<Record<string, string>>;
  readonly profile?: string;
  readonly adminRole?: string;
  readonly userRole?: string;
  /** Scenario (d) opted in: cloudHsm from cdk.json's context, overridden by -c. */
  readonly cloudHsm: boolean;
  /** Scenario (e), on unless the context turns it off (multiRegionImportedKey=false). */
  readonly multiRegionImportedKey?: boolean;
  /**
   * The lab makes its own KeyAdmin or KeyUser role (keyAdminArns or
   * keyUserArns empty), which `kms-lab verify` then checks without
   * --admin-role or --user-role: that policy check may not skip.
   */
  readonly labAdminRole?: boolean;
  readonly labUserRole?: boolean;
  readonly hsmCount: number;
  readonly hsmClientInstanceType: string;
}

/** As `kms-lab verify` accepts them (cli/commands/verify.ts), checked before anything is deployed. */
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** Parses the command line and runs; --help and usage mistakes end before any step is called. */
export async function runIntegCli(argv: readonly string[], deps: IntegDeps): Promise<number> {
  const { io } = deps;
  const program = new Command('npm run integ --')
    .description("Deploys the lab to the account of your credentials, proves it with `kms-lab verify`, and always tears it down with `kms-lab teardown`.")
    .option('-c, --context <key=value>', 'a cdk context value, as `cdk -c` takes it (repeatable); overrides cdk.json, e.g. -c cloudHsm=true', collect)
    .option('--profile <name>', 'the AWS profile for the deploy and for kms-lab (default: the SDK\'s usual chain)')
    .option('--admin-role <arn>', 'passed to `kms-lab verify`: a key administrator, which must be denied Encrypt')
    .option('--user-role <arn>', 'passed to `kms-lab verify`: a key user, which must be denied ScheduleKeyDeletion')
    .addHelpText(
      'after',
      '\nTakes 5-10 minutes and costs cents for (a)-(c) and (e); with -c cloudHsm=true about 70 minutes and $4-5.' +
        '\nIt refuses to start when a lab of the same prefix is deployed: it would tear that lab down. Use -c prefix=<name> for a lab of its own.' +
        '\nExit codes: 0 every check passed and nothing billable is left, 1 otherwise, 2 a usage mistake.\n',
    )
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  try {
    program.parse([...argv], { from: 'user' });
    const opts = program.opts<{ context?: string[]; profile?: string; adminRole?: string; userRole?: string }>();
    for (const [option, value] of [['--admin-role', opts.adminRole], ['--user-role', opts.userRole]] as const) {
      if (value !== undefined && !ROLE_ARN.test(value)) throw new CliError(`${option} "${value}" is not an IAM role ARN. What to do: give one such as arn:aws:iam::123456789012:role/KeyAdmin.`, EXIT.usage);
    }
    const context = parseContextArgs(opts.context ?? []);
    const cdkContext = readCdkContext(io.cwd);
    const effective = { ...cdkContext, ...context };
    // The settings kms-lab will read; a value it would refuse stops the run before anything is deployed.
    const settings = resolveSettings({ cdkContext, contextArgs: opts.context ?? [] });
    const options: IntegOptions = {
      context,
      profile: opts.profile,
      adminRole: opts.adminRole,
      userRole: opts.userRole,
      cloudHsm: effective.cloudHsm === true || effective.cloudHsm === 'true',
      multiRegionImportedKey: !(effective.multiRegionImportedKey === false || effective.multiRegionImportedKey === 'false'),
      labAdminRole: (settings.keyAdminArns ?? []).length === 0,
      labUserRole: (settings.keyUserArns ?? []).length === 0,
      hsmCount: Number(effective.hsmCount ?? 2) || 2,
      hsmClientInstanceType: String(effective.hsmClientInstanceType ?? 't3.micro'),
    };
    return await runInteg(options, deps);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof CliError) {
      io.err(`${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}

interface Phase {
  readonly name: string;
  readonly ms: number;
}

/** The whole run; resolves with the exit code (never rejects for a failed step). */
export async function runInteg(options: IntegOptions, deps: IntegDeps): Promise<number> {
  const { io } = deps;
  const started = io.now();
  const phases: Phase[] = [];
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = io.now().getTime();
    io.out(`\n== ${name} ==\n`);
    try {
      return await fn();
    } finally {
      phases.push({ name, ms: io.now().getTime() - t0 });
    }
  };
  const lab = kmsLabGlobalArgs(options);
  const failures: string[] = [];

  // 1. Whatever this run tears down must be its own.
  const check = await timed('check', () => preflight(deps, lab));
  if ('stop' in check) {
    io.out(summary(options, phases, started, io.now(), [check.stop], false));
    return check.code;
  }
  io.out(
    `Nothing of lab "${check.prefix}" is deployed in ${check.regions.join(' or ')}. Scenario (d): ${options.cloudHsm ? 'in' : 'not opted in'}. ` +
      `If this run is stopped, tear the lab down with \`npx kms-lab ${[...lab, 'teardown'].map(shellWord).join(' ')}\`.\n`,
  );

  // 2. Synth and deploy; a failure still goes on to the teardown of whatever was deployed.
  let deployed = false;
  try {
    const result = await timed('synth and deploy', () => deps.synthAndDeploy({ context: options.context, profile: options.profile }));
    io.out(`Deployed ${result.stacks.join(', ')}.\n`);
    deployed = true;
  } catch (error) {
    failures.push(`The synth or deploy failed: ${oneLine(error)}`);
    io.err(`${failures[failures.length - 1]}\n`);
  }

  // 3. Verify, only what was deployed in full.
  if (deployed) {
    failures.push(...(await timed('verify', () => guarded('kms-lab verify', () => verify(deps, lab, options)))));
  }

  // 4. Always tear down.
  failures.push(...(await timed('teardown', () => guarded('kms-lab teardown', () => teardown(deps, lab)))));

  io.out(summary(options, phases, started, io.now(), failures, true));
  return failures.length === 0 ? EXIT.ok : EXIT.failed;
}

/** The global kms-lab options that name the same lab as the synth: every -c (kms-lab reads prefix and Regions, and ignores the rest), and --profile. */
function kmsLabGlobalArgs(options: IntegOptions): string[] {
  return [...Object.entries(options.context).flatMap(([k, v]) => ['-c', `${k}=${v}`]), ...(options.profile ? ['--profile', options.profile] : [])];
}

type Preflight = { readonly prefix: string; readonly regions: readonly string[] } | { readonly stop: string; readonly code: number };

/** `kms-lab status --json`: the stacks must all be NOT_DEPLOYED (this also proves the credentials work before anything is built). */
async function preflight(deps: IntegDeps, lab: readonly string[]): Promise<Preflight> {
  const run = await deps.kmsLab([...lab, 'status', '--json']);
  const status = parseJson<StatusReport>(run.stdout);
  if (!status) {
    return {
      stop: `kms-lab status ended with exit code ${run.code} and no report (its message is above), so nothing was deployed and there is nothing to tear down.`,
      code: run.code === EXIT.usage ? EXIT.usage : EXIT.failed,
    };
  }
  const present = status.stacks.filter((s) => s.status !== 'NOT_DEPLOYED');
  if (present.length > 0) {
    const list = present.map((s) => `${s.name} (${s.region}, ${s.status})`).join(', ');
    return {
      stop:
        `A lab named "${status.prefix}" is already deployed: ${list}. The integ run tears down what it deploys, so it would delete that lab too, and nothing was changed. ` +
        `What to do: give the run a prefix of its own (-c prefix=kms-lab-integ), or tear that lab down first (\`npx kms-lab teardown\`).`,
      code: EXIT.failed,
    };
  }
  return { prefix: status.prefix, regions: [status.regions.primary, status.regions.secondary] };
}

async function verify(deps: IntegDeps, lab: readonly string[], options: IntegOptions): Promise<string[]> {
  const roles = [...(options.adminRole ? ['--admin-role', options.adminRole] : []), ...(options.userRole ? ['--user-role', options.userRole] : [])];
  const run = await deps.kmsLab([...lab, 'verify', '--json', ...roles]);
  const report = parseJson<VerifyReport>(run.stdout);
  if (!report) return [`kms-lab verify ended with exit code ${run.code} and no report (its message is above).`];
  deps.io.out(renderVerifyTable(report));
  const problems = verifyProblems(report, {
    cloudHsm: options.cloudHsm,
    multiRegionImportedKey: options.multiRegionImportedKey !== false,
    adminRole: !!options.adminRole || !!options.labAdminRole,
    userRole: !!options.userRole || !!options.labUserRole,
  });
  if (problems.length === 0 && run.code !== EXIT.ok) problems.push(`kms-lab verify ended with exit code ${run.code} (its message is above).`);
  return problems;
}

/**
 * Every check must PASS, except those that may SKIP: (d) when it was not opted
 * in, (e) when it was turned off, and each policy check that has no role: none
 * given, and none of the lab's own (its list names the principals).
 */
export function verifyProblems(report: VerifyReport, given: { cloudHsm: boolean; multiRegionImportedKey?: boolean; adminRole: boolean; userRole: boolean }): string[] {
  const maySkip = (c: CheckResult) =>
    (c.scenario === 'd' && !given.cloudHsm) ||
    (c.scenario === 'e' && given.multiRegionImportedKey === false) ||
    (c.check === 'admin-denied-encrypt' && !given.adminRole) ||
    (c.check === 'user-denied-schedule-deletion' && !given.userRole);
  const name = (c: CheckResult) => `(${c.scenario}) ${c.check} (${c.region})`;
  const problems = report.checks.flatMap((c) => {
    if (c.result === 'FAIL') return [`${name(c)} failed: ${c.detail}`];
    if (c.result === 'SKIP' && !maySkip(c)) return [`${name(c)} was skipped, but must run here: ${c.detail}`];
    return [];
  });
  if (report.checks.length === 0) problems.push('kms-lab verify ran no check.');
  return problems;
}

async function teardown(deps: IntegDeps, lab: readonly string[]): Promise<string[]> {
  // An integration run leaves nothing: the alarm stacks, kept by a teardown for the pending window, go too, and so
  // does the roles stack, kept for the escrows' recovery window (its material was generated for this run only).
  const run = await deps.kmsLab([...lab, 'teardown', '--yes', '--json', '--with-alarms', '--with-roles']);
  const report = parseJson<TeardownReport>(run.stdout);
  if (!report) return [`kms-lab teardown ended with exit code ${run.code} and no report (its message is above): check what is left with \`npx kms-lab status\`.`];
  deps.io.out(renderTeardownText(report));
  return teardownProblems(report, run.code);
}

/** Every stack gone and nothing billable left; the CLI has printed the paragraph for each thing left on stderr. */
export function teardownProblems(report: TeardownReport, code: number): string[] {
  const problems: string[] = [];
  const stuck = report.stacks.filter((s) => s.result !== 'deleted' && s.result !== 'not-deployed');
  if (stuck.length > 0) problems.push(`The teardown did not delete ${stuck.map((s) => `${s.name} (${s.result})`).join(', ')}: run \`npx kms-lab teardown\` again once the cause above is fixed.`);
  const billable = (report.left ?? []).filter((l) => l.billable);
  if (billable.length > 0) problems.push(`Still billed after the teardown: ${billable.map((l) => `${l.kind} ${l.id} (${l.region}, ${l.state})`).join('; ')}.`);
  if (problems.length === 0 && (!report.complete || code !== EXIT.ok)) problems.push(`kms-lab teardown ended with exit code ${code}: ${report.problems[0] ?? 'see above'}`);
  return problems;
}

function summary(options: IntegOptions, phases: readonly Phase[], started: Date, ended: Date, failures: readonly string[], deployAttempted: boolean): string {
  const elapsedMs = ended.getTime() - started.getTime();
  const width = Math.max(5, ...phases.map((p) => p.name.length));
  const lines = ['', '== summary ==', ...phases.map((p) => `  ${p.name.padEnd(width)}  ${duration(p.ms)}`), `  ${'total'.padEnd(width)}  ${duration(elapsedMs)}`];
  if (deployAttempted) lines.push(`Cost: ${estimateCost({ elapsedMs, cloudHsm: options.cloudHsm ? options : undefined, multiRegionImportedKey: options.multiRegionImportedKey }).text}`);
  lines.push(failures.length === 0 ? 'PASS: every check passed and nothing billable is left.' : `FAIL:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
  return `${lines.join('\n')}\n`;
}

/** KMS bills a customer managed key (a replica too) $1 a month, prorated hourly; a key pending deletion is free. */
const KMS_KEY_USD_PER_MONTH = 1;
const HOURS_PER_MONTH = 730;
const HOUR_MS = 3_600_000;

/**
 * An upper bound of what the run costs at list prices: the lab's keys for
 * every started hour, and with (d) the HSMs, NAT gateway and client host for
 * the whole run (they exist for less). Requests, Lambda, logs and the escrow
 * secret come to well under a cent.
 */
export function estimateCost(input: { elapsedMs: number; cloudHsm?: { hsmCount: number; hsmClientInstanceType: string }; multiRegionImportedKey?: boolean }): { usd: number; text: string } {
  // (a) and (b) in two Regions and (c): five; (e) adds a primary and its replica; (d) one more.
  const keys = 5 + (input.multiRegionImportedKey === false ? 0 : 2) + (input.cloudHsm ? 1 : 0);
  const keyHours = Math.max(1, Math.ceil(input.elapsedMs / HOUR_MS));
  const kms = (keys * keyHours * KMS_KEY_USD_PER_MONTH) / HOURS_PER_MONTH;
  const parts = [`${keys} KMS keys for ${keyHours} started hour${keyHours === 1 ? '' : 's'} $${kms.toFixed(3)}`];
  let usd = kms;
  if (input.cloudHsm) {
    const hourly = cloudHsmHourlyCost(input.cloudHsm.hsmCount, input.cloudHsm.hsmClientInstanceType);
    const hsm = (hourly.total * input.elapsedMs) / HOUR_MS;
    usd += hsm;
    parts.push(`scenario (d) at $${hourly.total.toFixed(2)}/hour (${hourly.lines.join(', ')}) for ${duration(input.elapsedMs)} $${hsm.toFixed(2)}`);
  }
  return { usd, text: `at most about $${usd.toFixed(2)} at list prices: ${parts.join('; ')}; requests, Lambda, logs and the escrow secret well under a cent; keys and secrets pending deletion are free.` };
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A step that throws (kms-lab's main does not, but a runner might) is one more failure, never the end of the run. */
async function guarded(name: string, step: () => Promise<string[]>): Promise<string[]> {
  try {
    return await step();
  } catch (error) {
    return [`${name} stopped on an unexpected error: ${oneLine(error)}`];
  }
}

function parseJson<T>(text: string): T | undefined {
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as T) : undefined;
  } catch {
    return undefined;
  }
}

/** A word as a POSIX shell reads it back, for the command printed to copy. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
}
