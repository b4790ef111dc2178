import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VerifyReport } from '../../cli/verify/report';
import { FakeAws } from './fake-aws';
import { json, runCli, tempDir, useOperatorCredentials, writeCdkJson } from './harness';

useOperatorCredentials();

const ROOT = path.join(__dirname, '..', '..');

describe('kms-lab program', () => {
  test('--help lists preflight, verify and status, and no command that does not work yet', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\s+preflight \[options\]/m);
    expect(run.stdout).toMatch(/^\s+verify \[options\]/m);
    expect(run.stdout).toMatch(/^\s+status \[options\]/m);
    const commands = run.stdout.slice(run.stdout.indexOf('Commands:')).match(/^ {2}(\w[\w-]*)/gm)?.map((c) => c.trim());
    expect(commands).toEqual(['preflight', 'verify', 'status', 'key', 'teardown', 'rotate', 'import-material', 'help']);
    expect(run.stdout).toContain('Exit codes: 0 success, 1 a check or an AWS call failed, 2 a usage or configuration error.');
  });

  test('verify --help lists its options', async () => {
    const run = await runCli(['verify', '--help']);
    expect(run.code).toBe(0);
    for (const option of ['--json', '--scenario <list>', '--admin-role <arn>', '--user-role <arn>']) expect(run.stdout).toContain(option);
  });

  test('no command prints the help on stderr and exits 2', async () => {
    const run = await runCli([]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('Usage: kms-lab');
  });

  test('an unknown command exits 2', async () => {
    const run = await runCli(['rotate-everything']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("error: unknown command 'rotate-everything'");
  });

  test('an unknown option exits 2', async () => {
    const run = await runCli(['status', '--jsn']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("error: unknown option '--jsn'");
  });

  test("cdk.json's prefix and Regions in the current directory name the stacks", async () => {
    const aws = FakeAws.lab({ prefix: 'team-lab', primaryRegion: 'eu-west-1', secondaryRegion: 'eu-central-1' }).install();
    const dir = tempDir();
    writeCdkJson(dir, { prefix: 'team-lab', primaryRegion: 'eu-west-1', secondaryRegion: 'eu-central-1' });
    const run = await runCli(['verify', '--json', '--scenario', 'a'], { cwd: dir });
    expect(run.code).toBe(0);
    const report = json<VerifyReport>(run);
    expect(report.prefix).toBe('team-lab');
    expect(report.regions).toEqual({ primary: 'eu-west-1', secondary: 'eu-central-1' });
    expect(aws.log.filter((l) => l.includes('DescribeStacks')).sort()).toEqual([
      'operator DescribeStacks eu-central-1',
      'operator DescribeStacks eu-west-1',
      'operator DescribeStacks eu-west-1',
      'operator DescribeStacks eu-west-1',
    ]);
  });

  test('-c after the command and --prefix override cdk.json', async () => {
    FakeAws.lab({ prefix: 'flag-lab', primaryRegion: 'us-east-1', secondaryRegion: 'us-west-2' }).install();
    const dir = tempDir();
    writeCdkJson(dir, { prefix: 'file-lab' });
    const run = await runCli(['verify', '--scenario', 'c', '-c', 'primaryRegion=us-east-1', '--context', 'secondaryRegion=us-west-2', '--prefix', 'flag-lab', '--json'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(json<VerifyReport>(run).prefix).toBe('flag-lab');
  });

  test('a broken cdk.json is a configuration error (exit 2) naming the file', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'cdk.json'), '{');
    const run = await runCli(['status'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${path.join(dir, 'cdk.json')} is not valid JSON`);
  });

  test('an invalid setting is a configuration error (exit 2)', async () => {
    const run = await runCli(['status', '-c', 'primaryRegion=nowhere']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('"primaryRegion" is "nowhere"');
  });

  test('the launcher starts the CLI: `node bin/kms-lab.cjs --help` lists verify and status and exits 0', () => {
    const result = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'kms-lab.cjs'), '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 15_000 });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('verify');
    expect(result.stdout).toContain('status');
  });

  test('the launcher runs a command for real: without credentials, verify prints one paragraph and exits 1', () => {
    const dir = tempDir();
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, AWS_EC2_METADATA_DISABLED: 'true' };
    env.AWS_CONFIG_FILE = path.join(dir, 'config');
    env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
    const result = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'kms-lab.cjs'), 'verify'], { cwd: dir, env, encoding: 'utf8', timeout: 15_000 });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    // Exactly one line: the SDK's Node-version notice is kept off stderr too.
    expect(result.stderr).toMatch(/^DescribeStacks in ap-southeast-1 failed: no AWS credentials were found[^\n]*What to do:[^\n]*\n$/);
  });
});
