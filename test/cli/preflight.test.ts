import * as fs from 'node:fs';
import * as path from 'node:path';
import { PreflightReport } from '../../cli/preflight/report';
import { ACCOUNT, FakeAws, PRIMARY, SECONDARY, serviceError } from './fake-aws';
import { lifecycle } from './fake-lifecycle';
import { preflight } from './fake-preflight';
import { json, runCli, tempDir, useOperatorCredentials, writeCdkJson } from './harness';

useOperatorCredentials();

const run = async (args: string[] = [], cwd?: string) => {
  const result = await runCli(['preflight', '--json', ...args], { cwd });
  return { run: result, report: json<PreflightReport>(result) };
};
const find = (report: PreflightReport, check: string, region = PRIMARY) => {
  const found = report.checks.find((c) => c.check === check && c.region === region);
  if (!found) throw new Error(`no check ${check} in ${region}: ${JSON.stringify(report.checks.map((c) => [c.check, c.region]))}`);
  return found;
};
/** The default lab, deployed, in an account bootstrapped in both Regions. */
const deployedLab = (options: Parameters<typeof FakeAws.lab>[0] = {}) => {
  const aws = FakeAws.lab(options).install();
  preflight(aws).bootstrap();
  return aws;
};
/** An account with no lab yet, bootstrapped in both Regions. */
const freshAccount = () => {
  const aws = new FakeAws().install();
  preflight(aws).bootstrap();
  return aws;
};
/** Deletes a lab stack as CloudFormation does, with what its resources do (keys scheduled, aliases deleted). */
const deleteStack = async (aws: FakeAws, region: string, name: string) => {
  const world = lifecycle(aws);
  world.startDeletion(region, name);
  while (aws.stacks.has(`${region}|${name}`)) world.advance(region, name);
};

describe('kms-lab preflight', () => {
  test('a deployed default lab in a bootstrapped account is ready: every check passes or is skipped as opt-in, exit 0', async () => {
    const aws = deployedLab();
    const { run: r, report } = await run();
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(report.ready).toBe(true);
    expect(report.account).toBe(ACCOUNT);
    expect(report.deploy).toEqual({ cloudHsm: false, deletionAlarm: false, multiRegionImportedKey: true, qualifier: 'hnb659fds' });
    expect(report.checks.map((c) => [c.check, c.region, c.result])).toEqual([
      ['credentials', PRIMARY, 'PASS'],
      ['bootstrap-stack', PRIMARY, 'PASS'],
      ['bootstrap-version', PRIMARY, 'PASS'],
      ['execution-role', PRIMARY, 'PASS'],
      ['bootstrap-stack', SECONDARY, 'PASS'],
      ['bootstrap-version', SECONDARY, 'PASS'],
      ['execution-role', SECONDARY, 'PASS'],
      ['trails', PRIMARY, 'SKIP'],
      ['trails', SECONDARY, 'SKIP'],
      ['custom-key-stores', PRIMARY, 'SKIP'],
      ['hsm-zones', PRIMARY, 'SKIP'],
      ['aliases', PRIMARY, 'PASS'],
      ['aliases', SECONDARY, 'PASS'],
      ['roles', PRIMARY, 'PASS'],
      ['replicas', SECONDARY, 'PASS'],
      ['keys-pending-deletion', PRIMARY, 'PASS'],
      ['keys-pending-deletion', SECONDARY, 'PASS'],
      ['stack:kms-key-lab-primary', PRIMARY, 'PASS'],
      ['stack:kms-key-lab-secondary', SECONDARY, 'PASS'],
      ['stack:kms-key-lab-roles', PRIMARY, 'PASS'],
    ]);
    expect(report.summary).toEqual({ pass: 16, fail: 0, warn: 0, unknown: 0, skip: 4, apiCalls: aws.log.length });
    expect(find(report, 'bootstrap-version').detail).toBe(
      "version 33 in /cdk-bootstrap/hnb659fds/version (required 6, from aws-cdk-lib 2.276.0's default synthesizer; no synthesized lab stack of this Region in cdk.out)",
    );
    expect(find(report, 'aliases').detail).toContain('(4 held by the deployed stacks)');
    for (const c of report.checks) expect(c.action).toBe('');
  });

  test('the JSON has a fixed shape and key order, and the table says the same with the verdict', async () => {
    deployedLab();
    const { run: r } = await run();
    expect(Object.keys(JSON.parse(r.stdout))).toEqual(['schemaVersion', 'prefix', 'account', 'regions', 'deploy', 'checks', 'summary', 'ready']);
    expect(Object.keys(JSON.parse(r.stdout).checks[0])).toEqual(['check', 'region', 'result', 'detail', 'action']);
    const table = await runCli(['preflight']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^CHECK\s+REGION\s+RESULT\s+DETAIL$/m);
    expect(table.stdout).toMatch(/^trails\s+ap-southeast-1\s+SKIP\s+deletionAlarm is off/m);
    expect(table.stdout).toMatch(/16 passed, 0 failed, 0 warned, 0 unknown, 4 skipped; \d+ AWS API calls: ready to deploy\n$/);
  });

  test('an account with no lab yet is ready: every stack is one the deploy creates', async () => {
    freshAccount();
    const { run: r, report } = await run();
    expect(r.code).toBe(0);
    expect(find(report, 'stack:kms-key-lab-primary').detail).toBe('not deployed: the deploy creates it');
    expect(find(report, 'replicas', SECONDARY).detail).toContain('no multi-Region primary of the lab is deployed');
  });

  describe('credentials and account', () => {
    test('credentials of another account than the "account" setting fail, and nothing else is asked', async () => {
      const aws = deployedLab();
      const { run: r, report } = await run(['-c', 'account=999999999999']);
      expect(r.code).toBe(1);
      expect(report.ready).toBe(false);
      expect(report.checks).toEqual([
        {
          check: 'credentials',
          region: PRIMARY,
          result: 'FAIL',
          detail: `the credentials (arn:aws:iam::${ACCOUNT}:user/operator) are of account ${ACCOUNT}, but the "account" setting names 999999999999`,
          action: `use credentials of 999999999999 (--profile, AWS_PROFILE), or change -c account= to ${ACCOUNT}`,
        },
      ]);
      expect(aws.log).toEqual([`operator GetCallerIdentity ${PRIMARY}`]);
      expect(r.stderr).toContain('credentials (ap-southeast-1): the credentials');
    });

    test('the account the setting names passes', async () => {
      deployedLab();
      const { run: r, report } = await run(['-c', `account=${ACCOUNT}`]);
      expect(r.code).toBe(0);
      expect(find(report, 'credentials').detail).toBe(`arn:aws:iam::${ACCOUNT}:user/operator in account ${ACCOUNT}, the account the "account" setting names`);
    });

    test('no credentials: one FAIL line saying what to do, exit 1', async () => {
      deployedLab();
      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
      const { run: r, report } = await run();
      expect(r.code).toBe(1);
      expect(report.checks).toHaveLength(1);
      expect(report.checks[0]).toMatchObject({ check: 'credentials', result: 'FAIL' });
      expect(report.checks[0].detail).toContain('no AWS credentials were found');
      expect(report.checks[0].action).toContain('aws sso login');
    });
  });

  describe('CDK bootstrap', () => {
    test('a Region never bootstrapped fails three ways, each with the bootstrap command', async () => {
      const aws = FakeAws.lab().install();
      preflight(aws).bootstrap({ regions: [PRIMARY] });
      const { run: r, report } = await run();
      expect(r.code).toBe(1);
      expect(find(report, 'bootstrap-stack').result).toBe('PASS');
      for (const check of ['bootstrap-stack', 'bootstrap-version', 'execution-role']) {
        expect(find(report, check, SECONDARY).result).toBe('FAIL');
        expect(find(report, check, SECONDARY).action).toContain(`npx cdk bootstrap aws://${ACCOUNT}/${SECONDARY}`);
      }
      expect(find(report, 'execution-role', SECONDARY).detail).toBe(`no IAM role cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-${SECONDARY}, which CloudFormation deploys the stacks as`);
    });

    test('a bootstrap older than the default synthesizer needs fails with the upgrade', async () => {
      const aws = FakeAws.lab().install();
      preflight(aws).bootstrap({ version: 5 });
      const { run: r, report } = await run();
      expect(r.code).toBe(1);
      expect(find(report, 'bootstrap-version')).toMatchObject({
        result: 'FAIL',
        detail: "version 5 in /cdk-bootstrap/hnb659fds/version, required 6, from aws-cdk-lib 2.276.0's default synthesizer; no synthesized lab stack of this Region in cdk.out",
        action: `upgrade it: \`npx cdk bootstrap aws://${ACCOUNT}/${PRIMARY}\``,
      });
    });

    test("the synthesized manifest's requiresBootstrapStackVersion and cdk.json's qualifier are what it checks against", async () => {
      const aws = FakeAws.lab().install();
      preflight(aws).bootstrap({ version: 20, qualifier: 'labq' });
      const dir = tempDir();
      writeCdkJson(dir, { '@aws-cdk/core:bootstrapQualifier': 'labq' });
      fs.mkdirSync(path.join(dir, 'cdk.out'));
      const stack = (name: string, region: string, version: number) => ({
        type: 'aws:cloudformation:stack',
        environment: `aws://unknown-account/${region}`,
        properties: { stackName: name, requiresBootstrapStackVersion: version },
      });
      fs.writeFileSync(
        path.join(dir, 'cdk.out', 'manifest.json'),
        JSON.stringify({ version: '48.0.0', artifacts: { a: stack('kms-key-lab-primary', PRIMARY, 21), b: stack('kms-key-lab-secondary', SECONDARY, 6), c: stack('other-app', SECONDARY, 99) } }),
      );
      const { run: r, report } = await run([], dir);
      expect(r.code).toBe(1);
      expect(find(report, 'bootstrap-version')).toMatchObject({ result: 'FAIL', detail: 'version 20 in /cdk-bootstrap/labq/version, required 21, from cdk.out/manifest.json' });
      expect(find(report, 'bootstrap-version').action).toContain('--qualifier labq');
      expect(find(report, 'bootstrap-version', SECONDARY)).toMatchObject({ result: 'PASS', detail: 'version 20 in /cdk-bootstrap/labq/version (required 6, from cdk.out/manifest.json)' });
      expect(find(report, 'execution-role').detail).toBe(`role cdk-labq-cfn-exec-role-${ACCOUNT}-${PRIMARY} exists`);
      expect(report.deploy.qualifier).toBe('labq');
    });

    test('a bootstrap stack mid-update fails until it settles', async () => {
      const aws = deployedLab();
      aws.stacks.get(`${PRIMARY}|CDKToolkit`)!.status = 'UPDATE_IN_PROGRESS';
      const { run: r, report } = await run();
      expect(r.code).toBe(1);
      expect(find(report, 'bootstrap-stack')).toMatchObject({ result: 'FAIL', detail: 'CDKToolkit is UPDATE_IN_PROGRESS', action: 'wait until it ends, then run preflight again' });
    });
  });

  describe('trails, with deletionAlarm', () => {
    const alarm = ['-c', 'deletionAlarm=true'];

    test("4 trails in a Region, shadow trails of other Regions counted, leave room for the lab's fifth", async () => {
      const aws = freshAccount();
      const world = preflight(aws);
      world.trails.push({ name: 'audit', homeRegion: SECONDARY });
      for (const name of ['org-wide', 'security', 'data-events']) world.trails.push({ name, homeRegion: PRIMARY, multiRegion: true });
      const { run: r, report } = await run(alarm);
      expect(r.code).toBe(0);
      expect(find(report, 'trails', SECONDARY)).toMatchObject({ result: 'PASS' });
      expect(find(report, 'trails', SECONDARY).detail).toBe(
        `4 of 5 trails in ${SECONDARY}: audit, org-wide (multi-Region trail of ${PRIMARY}), security (multi-Region trail of ${PRIMARY}), data-events (multi-Region trail of ${PRIMARY}): room for the lab's trail`,
      );
      expect(aws.log).toContain(`operator DescribeTrails ${SECONDARY}`);
    });

    test("5 trails, an organization trail among them, leave no room: FAIL, the quota cannot be raised", async () => {
      const aws = freshAccount();
      const world = preflight(aws);
      world.trails.push({ name: 'audit', homeRegion: SECONDARY }, { name: 'aws-controltower-BaselineCloudTrail', homeRegion: 'us-east-1', organization: true });
      for (const name of ['a', 'b', 'c']) world.trails.push({ name, homeRegion: PRIMARY, multiRegion: true });
      const { run: r, report } = await run(alarm);
      expect(r.code).toBe(1);
      const trails = find(report, 'trails', SECONDARY);
      expect(trails.result).toBe('FAIL');
      expect(trails.detail).toContain('5 of 5 trails in ap-southeast-2');
      expect(trails.detail).toContain('aws-controltower-BaselineCloudTrail (organization trail)');
      expect(trails.action).toContain('the quota cannot be raised');
      // The primary Region holds its 3 multi-Region trails and the organization's: 4, room for one.
      expect(find(report, 'trails').result).toBe('PASS');
    });

    test("the lab's own trail, its alarm stack deployed, needs no new slot", async () => {
      const aws = deployedLab({ deletionAlarm: true });
      for (const name of ['a', 'b', 'c', 'd']) preflight(aws).trails.push({ name, homeRegion: PRIMARY });
      const { run: r, report } = await run(alarm);
      expect(r.code).toBe(0);
      expect(find(report, 'trails').detail).toContain(`5 of 5 trails in ${PRIMARY}`);
      expect(find(report, 'trails').detail).toContain("the lab's own kms-key-lab-pending-deletion-use is one of them (its stack kms-key-lab-alarm-primary is deployed): no new slot needed");
      expect(find(report, 'stack:kms-key-lab-alarm-primary').result).toBe('PASS');
    });

    test('a trail of the lab\'s name outside its stack fails: the create would meet it', async () => {
      const aws = freshAccount();
      preflight(aws).trails.push({ name: 'kms-key-lab-pending-deletion-use', homeRegion: SECONDARY });
      const { run: r, report } = await run(alarm);
      expect(r.code).toBe(1);
      expect(find(report, 'trails', SECONDARY).detail).toContain('exists outside the alarm stack');
    });

    test('DescribeTrails refused is UNKNOWN, not PASS; --strict makes it fail the run', async () => {
      const aws = freshAccount();
      aws.failures.set('DescribeTrails', () => serviceError('AccessDeniedException', 'User is not authorized to perform: cloudtrail:DescribeTrails'));
      const { run: r, report } = await run(alarm);
      expect(find(report, 'trails')).toMatchObject({ result: 'UNKNOWN', action: 'allow cloudtrail:DescribeTrails to the identity running preflight, or check it by hand' });
      expect(report.summary.unknown).toBe(2);
      expect(r.code).toBe(0);
      const strict = await run([...alarm, '--strict']);
      expect(strict.run.code).toBe(1);
      expect(strict.report.ready).toBe(false);
    });
  });

  describe('custom key stores and HSM zones, with cloudHsm', () => {
    const hsm = ['-c', 'cloudHsm=true'];
    const otherStores = (aws: FakeAws, n: number, name = (i: number) => `team-store-${i}`) => {
      for (let i = 0; i < n; i++) {
        preflight(aws).keyStores.push({ id: `cks-other${i}`, name: name(i), type: i % 2 ? 'EXTERNAL_KEY_STORE' : 'AWS_CLOUDHSM', state: 'DISCONNECTED', region: PRIMARY });
      }
    };

    test('9 stores of both types, read over several pages, leave room for the lab\'s tenth', async () => {
      const aws = freshAccount();
      otherStores(aws, 9);
      preflight(aws).storePageSize = 4;
      const { report } = await run(hsm);
      expect(find(report, 'custom-key-stores')).toMatchObject({ result: 'PASS', detail: `9 of 10 custom key stores in ${PRIMARY} (5 AWS_CLOUDHSM, 4 EXTERNAL_KEY_STORE): room for the lab's store` });
      expect(aws.log.filter((l) => l.includes('DescribeCustomKeyStores'))).toHaveLength(3);
    });

    test("10 stores, torn-down lab stores among them, fail and name what holds them", async () => {
      const aws = freshAccount();
      otherStores(aws, 8);
      otherStores(aws, 2, (i) => `kms-key-lab-cloudhsm-cluster-old${i}-delete-after-2025-06-0${i + 1}`);
      const { run: r, report } = await run(hsm);
      expect(r.code).toBe(1);
      const stores = find(report, 'custom-key-stores');
      expect(stores.result).toBe('FAIL');
      expect(stores.detail).toContain('10 of 10 custom key stores');
      expect(stores.detail).toContain('2 of them are torn-down lab stores waiting for their keys (kms-key-lab-cloudhsm-cluster-old0-delete-after-2025-06-01');
      expect(stores.action).toContain('`kms-lab teardown` deletes a torn-down lab store');
    });

    test('--key-store-quota raises the count it is judged against', async () => {
      const aws = freshAccount();
      otherStores(aws, 10);
      const { report } = await run([...hsm, '--key-store-quota', '12']);
      expect(find(report, 'custom-key-stores').detail).toContain('10 of 12 custom key stores');
      expect(find(report, 'custom-key-stores').result).toBe('PASS');
    });

    test("the lab's own store, its stack deployed, needs no new slot", async () => {
      const aws = deployedLab({ cloudHsm: true });
      otherStores(aws, 9);
      const { report } = await run(hsm);
      expect(find(report, 'custom-key-stores')).toMatchObject({ result: 'PASS' });
      expect(find(report, 'custom-key-stores').detail).toContain("10 of 10 custom key stores in ap-southeast-1 (6 AWS_CLOUDHSM, 4 EXTERNAL_KEY_STORE); the lab's own cks-1234567890abcdef0 is one of them: no new slot needed");
    });

    test('zones that exist and are available are UNKNOWN for CloudHSM, never PASS: its API cannot tell', async () => {
      freshAccount();
      const { run: r, report } = await run(hsm);
      expect(r.code).toBe(0);
      const zones = find(report, 'hsm-zones');
      expect(zones.result).toBe('UNKNOWN');
      expect(zones.detail).toContain('ap-southeast-1a, ap-southeast-1b exist and are available (EC2), but CloudHSM has no API that lists the zones or HSM types it offers');
      expect(report.ready).toBe(true);
    });

    test('a zone of hsmAvailabilityZones that the Region does not have, or that is impaired, fails', async () => {
      const aws = freshAccount();
      preflight(aws).zones.set(PRIMARY, [
        { name: 'ap-southeast-1a', state: 'available' },
        { name: 'ap-southeast-1b', state: 'impaired' },
        { name: 'ap-southeast-1c', state: 'available' },
      ]);
      const { run: r, report } = await run([...hsm, '-c', 'hsmAvailabilityZones=ap-southeast-1b,ap-southeast-1z']);
      expect(r.code).toBe(1);
      expect(find(report, 'hsm-zones')).toMatchObject({
        result: 'FAIL',
        detail: "the HSM subnets' zones: ap-southeast-1z is not an Availability Zone of ap-southeast-1 for this account; ap-southeast-1b is impaired",
        action: 'set -c hsmAvailabilityZones to 2 or 3 of ap-southeast-1a, ap-southeast-1c',
      });
      expect(find(report, 'aliases').detail).toContain('none of the 5 lab aliases');
      expect(find(report, 'stack:kms-key-lab-cloudhsm').result).toBe('PASS');
    });
  });

  describe('what the deploy would collide with', () => {
    test('a lab alias left outside its stack fails with the command that deletes it', async () => {
      const aws = freshAccount();
      const stray = aws.addKey(SECONDARY, { alias: 'alias/kms-key-lab/multi-region' });
      const { run: r, report } = await run();
      expect(r.code).toBe(1);
      expect(find(report, 'aliases', SECONDARY)).toMatchObject({
        result: 'FAIL',
        detail: `alias/kms-key-lab/multi-region (on key ${stray.keyId}) exists, but kms-key-lab-secondary does not hold it: the stack's create of the alias fails (AlreadyExistsException)`,
      });
      expect(find(report, 'aliases', SECONDARY).action).toContain('aws kms delete-alias --alias-name alias/kms-key-lab/multi-region --region ap-southeast-2');
      expect(find(report, 'aliases').result).toBe('PASS');
    });

    test('the lab roles left behind by a deleted roles stack fail; the mrk-import role without its secondary stack too', async () => {
      const aws = freshAccount();
      preflight(aws).roles.add('kms-key-lab-KeyAdmin').add(`kms-key-lab-mrk-import-${SECONDARY}`);
      const { run: r, report } = await run();
      expect(r.code).toBe(1);
      const roles = find(report, 'roles');
      expect(roles.result).toBe('FAIL');
      expect(roles.detail).toBe(
        `IAM role kms-key-lab-KeyAdmin exists, but kms-key-lab-roles, which creates it, is not deployed; IAM role kms-key-lab-mrk-import-${SECONDARY} exists, but kms-key-lab-secondary, which creates it, is not deployed: the create fails (EntityAlreadyExists)`,
      );
      // Without (e), its role is not made, so it is in nobody's way.
      preflight(aws).roles.delete('kms-key-lab-KeyAdmin');
      const without = await run(['-c', 'multiRegionImportedKey=false']);
      expect(find(without.report, 'roles').result).toBe('PASS');
    });

    test("a replica of the lab's primary pending deletion in the secondary Region, its stack gone, is a warning: the deploy adopts it", async () => {
      const aws = deployedLab();
      await deleteStack(aws, SECONDARY, 'kms-key-lab-secondary');
      const replica = aws.key('MultiRegion', 'primary');
      const replicaArn = `arn:aws:kms:${SECONDARY}:${ACCOUNT}:key/${replica.keyId}`;
      const { run: r, report } = await run();
      expect(r.code).toBe(0);
      const check = find(report, 'replicas', SECONDARY);
      expect(check.result).toBe('WARN');
      expect(check.detail).toContain(`the (b) primary ${replica.arn} already has a replica ${replicaArn} in ${SECONDARY}, PendingDeletion until `);
      expect(check.detail).toContain(`; the (e) primary ${aws.key('MultiRegionImported').arn} already has a replica`);
      expect(check.detail).toContain('the deploy adopts it');
      expect(report.checks.filter((c) => c.check === 'replicas')).toHaveLength(1);
      // The replica's aliases went with the stack; the keys pending deletion are no stack's any more.
      expect(find(report, 'aliases', SECONDARY).result).toBe('PASS');
      expect(find(report, 'keys-pending-deletion', SECONDARY).detail).toBe("3 keys of an earlier deploy pending deletion, not in the deploy's way (KMS deletes them by date)");
    });

    test('a lab key pending deletion that a deployed stack still holds fails', async () => {
      const aws = deployedLab();
      const key = aws.key('SingleRegion');
      key.state = 'PendingDeletion';
      key.deletionDate = new Date('2025-06-08T00:00:00Z');
      const { run: r, report } = await run();
      expect(r.code).toBe(1);
      expect(find(report, 'keys-pending-deletion')).toMatchObject({
        result: 'FAIL',
        detail: `${key.arn} (held by kms-key-lab-primary) is PendingDeletion until 2025-06-08T00:00:00.000Z: KMS refuses changes to it, so an update of its stack fails, and the lab cannot use it`,
      });
      expect(find(report, 'keys-pending-deletion').action).toContain(`\`kms-lab key cancel-deletion ${key.arn}\` and \`kms-lab key enable ${key.arn}\``);
      expect(find(report, 'keys-pending-deletion', SECONDARY).result).toBe('PASS');
    });

    test("keys whose tags the operator may not read are counted as not checked; another lab's keys are not this lab's", async () => {
      const aws = deployedLab();
      const foreign = aws.addKey(PRIMARY, { state: 'PendingDeletion' });
      lifecycle(aws).keyTags.set(foreign.arn, { 'kms-key-lab:lab': 'other-lab' });
      lifecycle(aws).unreadableKeys.add(aws.addKey(PRIMARY).arn);
      const { report } = await run();
      expect(find(report, 'keys-pending-deletion').detail).toBe('no lab key pending deletion; 1 key whose tags this identity may not read were not checked');
    });
  });

  describe("the lab's stacks", () => {
    test.each([
      ['UPDATE_ROLLBACK_FAILED', 'FAIL', 'continue-update-rollback --stack-name kms-key-lab-primary'],
      ['CREATE_IN_PROGRESS', 'FAIL', 'wait until it ends'],
      ['DELETE_FAILED', 'FAIL', 'kms-lab teardown'],
      ['ROLLBACK_FAILED', 'FAIL', 'delete-stack --stack-name kms-key-lab-primary'],
      ['UPDATE_FAILED', 'FAIL', 'npx cdk rollback kms-key-lab-primary'],
      ['ROLLBACK_COMPLETE', 'WARN', '`cdk deploy` deletes a stack that failed its create'],
      ['UPDATE_ROLLBACK_COMPLETE', 'PASS', ''],
    ])('a primary stack in %s is %s', async (status, result, action) => {
      const aws = deployedLab();
      aws.stacks.get(`${PRIMARY}|kms-key-lab-primary`)!.status = status;
      const { run: r, report } = await run();
      const check = find(report, 'stack:kms-key-lab-primary');
      expect(check.result).toBe(result);
      expect(check.detail.startsWith(status)).toBe(true);
      if (action) expect(check.action).toContain(action);
      else expect(check.action).toBe('');
      expect(r.code).toBe(result === 'FAIL' ? 1 : 0);
    });
  });

  describe('usage', () => {
    test('a bad setting exits 2 naming it, with nothing on stdout', async () => {
      deployedLab();
      const r = await runCli(['preflight', '-c', 'cloudHsm=maybe']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('"cloudHsm" is "maybe", but accepts true or false');
    });

    test('a --key-store-quota that is not a whole number exits 2', async () => {
      const r = await runCli(['preflight', '--key-store-quota', 'ten']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--key-store-quota "ten" is not a whole number');
    });

    test('--help lists its options and exit codes', async () => {
      const r = await runCli(['preflight', '--help']);
      expect(r.code).toBe(0);
      for (const option of ['--json', '--strict', '--toolkit-stack-name <name>', '--key-store-quota <n>']) expect(r.stdout).toContain(option);
      expect(r.stdout).toContain('Exit codes: 0 the deploy can go ahead, 1 a check failed, 2 a usage or settings mistake.');
    });
  });
});
