#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../cli/main';
import { FakeAws, OPERATOR_ACCESS_KEY } from '../test/cli/fake-aws';
import { profileAs } from '../test/cli/fake-key-material';
import '../test/cli/fake-lifecycle';

/**
 * The kms-lab CLI's figures for `npm run bench`: start-up time of
 * `kms-lab --help` in a fresh process (median of 5), and `kms-lab verify`
 * run against the stateful fake of a deployed lab, with its API calls and
 * wall time. `--sample` prints verify's table instead, for the README.
 */
const ROOT = path.join(__dirname, '..');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function startUpMs(): number {
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'kms-lab.cjs'), '--help'], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`kms-lab --help failed: ${run.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** The operator's credentials and nothing else the SDK could find, as the CLI tests use them. */
function operatorCredentials(): void {
  for (const k of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE']) delete process.env[k];
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: OPERATOR_ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: 'operator-secret',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
}

/** Runs kms-lab in-process against a fresh fake of a default deployment: (a)-(c), (e) and the roles stack, as `cdk deploy --all` leaves them. */
async function againstFake(argv: string[], setUp: (aws: FakeAws) => string[] = () => [], lab: { deletionAlarm?: boolean; now?: Date } = {}): Promise<{ ms: number; code: number; stdout: string }> {
  operatorCredentials();
  const aws = FakeAws.lab({ multiRegionImported: true, labRoles: true, deletionAlarm: lab.deletionAlarm }).install();
  const extra = setUp(aws);
  let stdout = '';
  const start = process.hrtime.bigint();
  const code = await main([...argv, ...extra], {
    stdout: (t) => void (stdout += t),
    stderr: () => undefined,
    cwd: os.tmpdir(),
    now: () => lab.now ?? new Date(),
    sleep: async () => undefined,
  });
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, code, stdout };
}

const verifyAgainstFake = (json: boolean) => againstFake(['verify', ...(json ? ['--json'] : [])]);

/** Sample output for the README, against the fake: `--sample verify|rotate|teardown`. */
const SAMPLES: Record<string, () => Promise<{ stdout: string }>> = {
  verify: () => verifyAgainstFake(false),
  rotate: () => againstFake(['rotate', '--yes'], (aws) => profileAs(aws, 'keyadmin')),
  // With the opt-in alarm, to show the stacks a teardown keeps.
  teardown: () => againstFake(['teardown', '--yes'], () => [], { deletionAlarm: true, now: new Date('2025-06-01T06:00:00Z') }),
};

async function run(): Promise<void> {
  const sample = process.argv.indexOf('--sample');
  if (sample >= 0) {
    process.stdout.write((await SAMPLES[process.argv[sample + 1] ?? 'verify']()).stdout);
    return;
  }
  startUpMs(); // warms tsx's cache, as a second run in a clone would find it
  const startUps = Array.from({ length: 5 }, startUpMs);
  const verify = await verifyAgainstFake(true);
  const summary = JSON.parse(verify.stdout).summary;
  console.log('kms-lab CLI');
  console.log(`  start-up, kms-lab --help (median of 5)       ${median(startUps).toFixed(0)} ms`);
  console.log(`  verify against the fake lab                  ${verify.ms.toFixed(0)} ms wall, ${summary.apiCalls} API calls, ${summary.pass} pass, ${summary.fail} fail, ${summary.skip} skip (exit ${verify.code})`);
}

run().catch((error) => {
  console.error(error);
  process.exit(1);
});
