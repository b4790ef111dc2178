import * as fs from 'node:fs';
import * as path from 'node:path';
import { DeployRequest, estimateCost, IntegDeps, runIntegCli } from '../../integ/flow';
import { ADMIN_ROLE, FakeAws, OPERATOR_ACCESS_KEY, PRIMARY, SECONDARY, USER_ROLE } from '../cli/fake-aws';
import { lifecycle } from '../cli/fake-lifecycle';
import { runCli, tempDir, useOperatorCredentials, writeCdkJson } from '../cli/harness';

useOperatorCredentials();

// A client the fake does not answer fails against a closed local port instead of reaching AWS.
const endpoint = process.env.AWS_ENDPOINT_URL;
beforeEach(() => {
  process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9';
});
afterEach(() => {
  if (endpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
  else process.env.AWS_ENDPOINT_URL = endpoint;
});

/**
 * The integ flow against fakes: a synth/deploy that records what it was asked
 * and leaves the lab it "deployed" in test/cli/fake-aws.ts's stateful fake,
 * and the real kms-lab status, verify and teardown running in-process against it.
 */
function integ(options: { deploy?: (request: DeployRequest) => FakeAws; deployFails?: string; cdkContext?: Record<string, unknown> } = {}) {
  const cwd = tempDir();
  if (options.cdkContext) writeCdkJson(cwd, options.cdkContext);
  const state = { requests: [] as DeployRequest[], aws: undefined as FakeAws | undefined, out: '', err: '', kmsLab: [] as string[][] };
  let clock = new Date('2025-06-01T06:00:00Z').getTime();
  const deps: IntegDeps = {
    io: { out: (t) => void (state.out += t), err: (t) => void (state.err += t), cwd, now: () => new Date((clock += 60_000)) },
    synthAndDeploy: async (request) => {
      state.requests.push(request);
      state.aws = (options.deploy ?? ((r) => FakeAws.lab({ cloudHsm: r.context.cloudHsm === 'true' })))(request).install();
      if (options.deployFails) throw new Error(options.deployFails);
      return { stacks: [...state.aws.stacks.keys()].map((k) => k.split('|')[1]) };
    },
    kmsLab: async (argv) => {
      state.kmsLab.push([...argv]);
      const run = await runCli([...argv], { cwd });
      state.err += run.stderr;
      return run;
    },
  };
  return { state, run: (argv: string[] = []) => runIntegCli(argv, deps) };
}

const commands = (calls: string[][]) => calls.map((argv) => argv.find((a) => ['status', 'verify', 'teardown'].includes(a)));

describe('npm run integ', () => {
  test('deploys, verifies every check, tears down to nothing billable, and exits 0', async () => {
    new FakeAws().install();
    const { state, run } = integ();
    const code = await run();
    expect(state.err).toMatch(/deletion requested/);
    expect(code).toBe(0);
    expect(state.requests).toEqual([{ context: {}, profile: undefined }]);
    expect(commands(state.kmsLab)).toEqual(['status', 'verify', 'teardown']);
    expect(state.kmsLab[1]).toEqual(['verify', '--json']);
    expect(state.kmsLab[2]).toEqual(['teardown', '--yes', '--json', '--with-alarms', '--with-roles']);
    // The table form of the verify report, then the teardown's summary.
    expect(state.out).toMatch(/\(b\)\s+cross-region-decrypt\s+ap-southeast-2\s+PASS/);
    expect(state.out).toMatch(/\(e\)\s+cross-region-decrypt:reverse\s+ap-southeast-1\s+PASS/);
    // Only the opt-in (d) skips: the policy checks run with the lab's own roles.
    expect(state.out).toContain('17 passed, 0 failed, 1 skipped');
    expect(state.out).toMatch(/policy\s+admin-denied-encrypt\s+ap-southeast-1\s+PASS/);
    expect(state.out).toContain('Nothing billable is left');
    expect(lifecycle(state.aws!).deleteRequests).toEqual(['kms-key-lab-secondary', 'kms-key-lab-primary', 'kms-key-lab-roles']);
    expect(state.aws!.stacks.size).toBe(0);
    // What it took and cost: each phase timed (the fake clock moves a minute a look).
    expect(state.out).toMatch(/== summary ==\n {2}check\s+\d+ min 0 s\n {2}synth and deploy\s+1 min 0 s\n {2}verify\s+1 min 0 s\n {2}teardown\s+1 min 0 s\n {2}total\s+\d+ min 0 s\n/);
    expect(state.out).toMatch(/Cost: at most about \$0\.01 at list prices: 7 KMS keys for 1 started hour/);
    expect(state.out).toMatch(/PASS: every check passed and nothing billable is left\.\n$/);
  });

  test('a failing verify check still tears everything down, and exits 1 naming the check', async () => {
    new FakeAws().install();
    const { state, run } = integ({
      deploy: () => {
        const aws = FakeAws.lab();
        aws.grants.clear();
        return aws;
      },
    });
    expect(await run()).toBe(1);
    expect(state.out).toContain('16 passed, 1 failed, 1 skipped');
    expect(lifecycle(state.aws!).deleteRequests).toEqual(['kms-key-lab-secondary', 'kms-key-lab-primary', 'kms-key-lab-roles']);
    expect(state.aws!.stacks.size).toBe(0);
    expect(state.out).toMatch(/FAIL:\n {2}- \(grant\) grant-encrypt-decrypt \(ap-southeast-1\) failed: .*AWS denied Encrypt/);
  });

  test('a deploy that fails tears down what was deployed (a rolled-back stack too), skips verify, and exits 1', async () => {
    new FakeAws().install();
    const { state, run } = integ({
      deploy: () => {
        const aws = FakeAws.lab({ deploySecondary: false });
        // Rolled back, with the stack tags its CreateStack was given, as on the fixture's other stacks.
        aws.stacks.set(`${SECONDARY}|kms-key-lab-secondary`, { status: 'ROLLBACK_COMPLETE', outputs: {}, tags: aws.stacks.get(`${PRIMARY}|kms-key-lab-primary`)!.tags });
        return aws;
      },
      deployFails: 'kms-key-lab-secondary failed: DeployStackFailed: The stack named kms-key-lab-secondary failed creation',
    });
    expect(await run()).toBe(1);
    expect(commands(state.kmsLab)).toEqual(['status', 'teardown']);
    expect(state.aws!.log.some((l) => / (Encrypt|Decrypt|GenerateDataKey) /.test(l))).toBe(false);
    expect(lifecycle(state.aws!).deleteRequests).toEqual(['kms-key-lab-secondary', 'kms-key-lab-primary', 'kms-key-lab-roles']);
    expect(state.aws!.stacks.size).toBe(0);
    expect(state.out).toContain('Nothing billable is left');
    expect(state.out).toMatch(/FAIL:\n {2}- The synth or deploy failed: kms-key-lab-secondary failed: DeployStackFailed/);
    expect(state.out).not.toContain('== verify ==');
  });

  test('a teardown that leaves something billable exits 1, though every check passed', async () => {
    new FakeAws().install();
    const { state, run } = integ({
      deploy: () => {
        const aws = FakeAws.lab();
        aws.secrets.set('kms-key-lab/forgotten', {});
        return aws;
      },
    });
    expect(await run()).toBe(1);
    expect(state.out).toContain('17 passed, 0 failed, 1 skipped');
    expect(state.err).toContain('aws secretsmanager delete-secret --secret-id kms-key-lab/forgotten');
    expect(state.out).toMatch(/FAIL:\n {2}- Still billed after the teardown: secret kms-key-lab\/forgotten \(ap-southeast-1, Active\)\.\n$/);
  });

  test('-c values reach the synth and kms-lab; with (d) opted in and both roles given, nothing may skip', async () => {
    new FakeAws().install();
    // The operator's credentials as the profile "lab", which kms-lab must use.
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'credentials'), `[lab]\naws_access_key_id = ${OPERATOR_ACCESS_KEY}\naws_secret_access_key = operator-secret\n`);
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    // The principals named in cdk.json: the lab makes no roles, and verify checks the roles given.
    const { state, run } = integ({
      cdkContext: { cloudHsm: false, prefix: 'kms-key-lab', keyAdminArns: [ADMIN_ROLE], keyUserArns: [USER_ROLE] },
      deploy: (r) => FakeAws.lab({ cloudHsm: r.context.cloudHsm === 'true', labRoles: false }),
    });
    const code = await run(['-c', 'cloudHsm=true', '-c', 'account=111122223333', '--admin-role', ADMIN_ROLE, '--user-role', USER_ROLE, '--profile', 'lab']);
    expect(state.requests).toEqual([{ context: { cloudHsm: 'true', account: '111122223333' }, profile: 'lab' }]);
    expect(state.kmsLab[1]).toEqual(['-c', 'cloudHsm=true', '-c', 'account=111122223333', '--profile', 'lab', 'verify', '--json', '--admin-role', ADMIN_ROLE, '--user-role', USER_ROLE]);
    expect(state.out).toContain('If this run is stopped, tear the lab down with `npx kms-lab -c cloudHsm=true -c account=111122223333 --profile lab teardown`.');
    expect(state.out).toContain('18 passed, 0 failed, 0 skipped');
    expect(state.out).toContain(`the administrator ${ADMIN_ROLE} was denied Encrypt`);
    // The roles stack is deployed whatever the settings; with keyAdminArns given, no escrow needs it kept.
    expect(lifecycle(state.aws!).deleteRequests).toEqual(['kms-key-lab-cloudhsm', 'kms-key-lab-secondary', 'kms-key-lab-primary', 'kms-key-lab-roles']);
    expect(state.out).toMatch(/Cost: .*8 KMS keys .*scenario \(d\) at \$3\.87\/hour/);
    expect(code).toBe(0);
  });

  test('with (d) opted in, a lab without its stack fails: (d) may not skip', async () => {
    new FakeAws().install();
    const { state, run } = integ({ cdkContext: { cloudHsm: true }, deploy: () => FakeAws.lab() });
    expect(await run()).toBe(1);
    expect(state.out).toMatch(/- \(d\) encrypt-decrypt:primary \(ap-southeast-1\) was skipped, but must run here: the stack kms-key-lab-cloudhsm is not deployed/);
    expect(lifecycle(state.aws!).deleteRequests).toEqual(['kms-key-lab-secondary', 'kms-key-lab-primary', 'kms-key-lab-roles']);
  });

  test('with the default settings the policy checks may not skip: a lab without its roles stack fails', async () => {
    new FakeAws().install();
    const { state, run } = integ({
      deploy: () => {
        const aws = FakeAws.lab({ labRoles: false });
        aws.stacks.delete(`${PRIMARY}|kms-key-lab-roles`);
        return aws;
      },
    });
    expect(await run()).toBe(1);
    expect(state.out).toMatch(/- \(policy\) admin-denied-encrypt \(ap-southeast-1\) was skipped, but must run here: pass --admin-role <role ARN> to check it \(the stack kms-key-lab-roles, which holds the lab's own roles when keyAdminArns is empty, is not deployed\)/);
    expect(state.out).toMatch(/- \(policy\) user-denied-schedule-deletion \(ap-southeast-1\) was skipped, but must run here/);
  });

  test('with (e) turned off, its check may skip', async () => {
    new FakeAws().install();
    const { state, run } = integ({ cdkContext: { multiRegionImportedKey: false }, deploy: () => FakeAws.lab({ multiRegionImported: false }) });
    expect(await run()).toBe(0);
    expect(state.out).toContain('11 passed, 0 failed, 2 skipped');
    expect(state.out).toMatch(/Cost: at most about \$0\.01 at list prices: 5 KMS keys for 1 started hour/);
  });

  test('a lab of the same prefix already deployed stops the run before anything is deployed or deleted', async () => {
    const existing = FakeAws.lab().install();
    const { state, run } = integ();
    expect(await run()).toBe(1);
    expect(state.requests).toEqual([]);
    expect(commands(state.kmsLab)).toEqual(['status']);
    expect(lifecycle(existing).deleteRequests).toEqual([]);
    expect(state.out).toContain(`A lab named "kms-key-lab" is already deployed: kms-key-lab-primary (${PRIMARY}, CREATE_COMPLETE), kms-key-lab-secondary (${SECONDARY}, CREATE_COMPLETE)`);
    expect(state.out).not.toContain('Cost:');
  });

  test('without credentials it stops at the check: nothing is synthesized, deployed or torn down', async () => {
    const aws = new FakeAws().install();
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    const { state, run } = integ();
    expect(await run()).toBe(1);
    expect(state.requests).toEqual([]);
    expect(commands(state.kmsLab)).toEqual(['status']);
    expect(aws.log).toEqual([]);
    expect(state.err).toContain('no AWS credentials were found');
  });

  test('--help and usage mistakes end before any step: no kms-lab, no synth, no AWS', async () => {
    const { state, run } = integ();
    expect(await run(['--help'])).toBe(0);
    expect(state.out).toContain('Usage: npm run integ -- [options]');
    expect(await run(['-c', 'cloudHsm'])).toBe(2);
    expect(state.err).toContain('-c "cloudHsm" is not key=value');
    expect(await run(['--admin-role', 'KeyAdmin'])).toBe(2);
    expect(await run(['extra'])).toBe(2);
    expect(state.kmsLab).toEqual([]);
    expect(state.requests).toEqual([]);
  });
});

describe('estimateCost', () => {
  test('the default lab for 8 minutes: seven keys ((a)-(c) and (e)) for one started hour', () => {
    expect(estimateCost({ elapsedMs: 8 * 60_000 }).usd).toBeCloseTo(7 / 730, 6);
    expect(estimateCost({ elapsedMs: 8 * 60_000 }).text).toContain('7 KMS keys for 1 started hour');
  });

  test('without (e), for 8 minutes: five keys for one started hour', () => {
    expect(estimateCost({ elapsedMs: 8 * 60_000, multiRegionImportedKey: false }).usd).toBeCloseTo(5 / 730, 6);
  });

  test('with (d) for 70 minutes: two HSMs, the NAT gateway and the host for the whole run, about $4.50', () => {
    const { usd, text } = estimateCost({ elapsedMs: 70 * 60_000, cloudHsm: { hsmCount: 2, hsmClientInstanceType: 't3.micro' } });
    expect(usd).toBeGreaterThan(4);
    expect(usd).toBeLessThan(5);
    expect(text).toContain('8 KMS keys for 2 started hours');
  });
});
