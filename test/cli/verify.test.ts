import { SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { optionalPackages } from '../../cli/aws/clients';
import { VerifyReport } from '../../cli/verify/report';
import { ADMIN_ROLE, APP_ROLE, FakeAws, fakeMocks, LAB_ADMIN_ROLE, LAB_USER_ROLE, PRIMARY, SECONDARY, USER_ROLE } from './fake-aws';
import { json, runCli, useOperatorCredentials } from './harness';

useOperatorCredentials();

const verify = async (...args: string[]) => {
  const run = await runCli(['verify', '--json', ...args]);
  return { run, report: json<VerifyReport>(run) };
};
const find = (report: VerifyReport, scenario: string, check: string) => {
  const found = report.checks.find((c) => c.scenario === scenario && c.check === check);
  if (!found) throw new Error(`no check ${scenario} ${check} in ${JSON.stringify(report.checks)}`);
  return found;
};

/**
 * A lab deployed with keyAdminArns and keyUserArns naming ADMIN_ROLE and USER_ROLE: its roles stack is there (the app
 * always makes it) but no key policy names its roles, so the policy checks take --admin-role and --user-role.
 */
const namedPrincipalsLab = () => FakeAws.lab({ labRoles: false }).install();
/** The settings that lab was deployed with, as kms-lab is told them (cdk.json or -c). */
const NAMED_PRINCIPALS = ['-c', `keyAdminArns=${JSON.stringify([ADMIN_ROLE])}`, '-c', `keyUserArns=${JSON.stringify([USER_ROLE])}`];

describe('kms-lab verify', () => {
  test('passes every check of a default lab, policy split included through the lab roles, skips the opt-in (d), and exits 0', async () => {
    const aws = FakeAws.lab().install();
    const { run, report } = await verify();
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(report.schemaVersion).toBe(1);
    expect(report.prefix).toBe('kms-key-lab');
    expect(report.regions).toEqual({ primary: PRIMARY, secondary: SECONDARY });
    expect(report.checks.map((c) => [c.scenario, c.check, c.region, c.result])).toEqual([
      ['a', 'encrypt-decrypt:primary', PRIMARY, 'PASS'],
      ['a', 'encrypt-decrypt:secondary', SECONDARY, 'PASS'],
      ['a', 'cross-region-refused', SECONDARY, 'PASS'],
      ['b', 'encrypt-decrypt:primary', PRIMARY, 'PASS'],
      ['b', 'encrypt-decrypt:secondary', SECONDARY, 'PASS'],
      ['b', 'cross-region-decrypt', SECONDARY, 'PASS'],
      ['b', 'envelope-64k', SECONDARY, 'PASS'],
      ['c', 'encrypt-decrypt:primary', PRIMARY, 'PASS'],
      ['d', 'encrypt-decrypt:primary', PRIMARY, 'SKIP'],
      ['e', 'holds-material:primary', PRIMARY, 'PASS'],
      ['e', 'holds-material:secondary', SECONDARY, 'PASS'],
      ['e', 'encrypt-decrypt:primary', PRIMARY, 'PASS'],
      ['e', 'encrypt-decrypt:secondary', SECONDARY, 'PASS'],
      ['e', 'cross-region-decrypt', SECONDARY, 'PASS'],
      ['e', 'cross-region-decrypt:reverse', PRIMARY, 'PASS'],
      ['grant', 'grant-encrypt-decrypt', PRIMARY, 'PASS'],
      ['policy', 'admin-denied-encrypt', PRIMARY, 'PASS'],
      ['policy', 'user-denied-schedule-deletion', PRIMARY, 'PASS'],
    ]);
    expect(report.summary).toEqual({ pass: 17, fail: 0, skip: 1, apiCalls: aws.log.length });
    for (const c of report.checks) {
      expect(Number.isInteger(c.ms) && c.ms >= 0).toBe(true);
      expect(c.detail).not.toBe('');
    }
    expect(find(report, 'a', 'encrypt-decrypt:secondary').keyId).toBe(aws.key('SingleRegion', 'secondary').arn);
    expect(find(report, 'd', 'encrypt-decrypt:primary').detail).toContain('-c cloudHsm=true');
    expect(find(report, 'policy', 'admin-denied-encrypt').detail).toBe(`the administrator ${LAB_ADMIN_ROLE} was denied Encrypt (AccessDeniedException)`);
    expect(find(report, 'policy', 'user-denied-schedule-deletion').detail).toContain(`the key user ${LAB_USER_ROLE} is denied kms:ScheduleKeyDeletion`);
  });

  test('a lab deployed with its principals named and without (e) skips the checks that need options or (e), saying why', async () => {
    const aws = FakeAws.lab({ multiRegionImported: false, labRoles: false }).install();
    const { run, report } = await verify(...NAMED_PRINCIPALS);
    expect(run.code).toBe(0);
    expect(report.checks.filter((c) => c.result === 'SKIP').map((c) => [c.scenario, c.check])).toEqual([
      ['d', 'encrypt-decrypt:primary'],
      ['e', 'holds-material:primary'],
      ['policy', 'admin-denied-encrypt'],
      ['policy', 'user-denied-schedule-deletion'],
    ]);
    expect(report.summary).toEqual({ pass: 9, fail: 0, skip: 4, apiCalls: aws.log.length });
    expect(find(report, 'e', 'holds-material:primary').detail).toContain('-c multiRegionImportedKey=false');
    expect(find(report, 'policy', 'admin-denied-encrypt').detail).toContain('pass --admin-role <role ARN> to check it');
  });

  test('(b) encrypts in the primary Region and decrypts in the secondary with the replica, under one mrk- key id', async () => {
    const aws = FakeAws.lab().install();
    const { report } = await verify('--scenario', 'b');
    const check = find(report, 'b', 'cross-region-decrypt');
    expect(check.result).toBe('PASS');
    expect(check.detail).toContain(`same key id ${aws.key('MultiRegion').keyId}`);
    expect(aws.key('MultiRegion').keyId).toMatch(/^mrk-/);
    expect(aws.log).toContain(`operator GenerateDataKey ${PRIMARY}`);
    expect(report.checks.every((c) => c.scenario === 'b')).toBe(true);
  });

  test("(a) passes because the secondary Region refuses the primary's ciphertext under the same alias", async () => {
    FakeAws.lab().install();
    const { report } = await verify('--scenario', 'a');
    expect(find(report, 'a', 'cross-region-refused').detail).toBe(`${SECONDARY} refused ciphertext of ${PRIMARY}'s single-Region key (IncorrectKeyException)`);
  });

  test('(a) fails when the secondary Region can decrypt the primary\'s ciphertext', async () => {
    const aws = FakeAws.lab().install();
    // A "single-Region" key that shares id and material with the primary's, as a replica would.
    const primaryKey = aws.key('SingleRegion');
    const impostor = aws.addKey(SECONDARY, { keyId: primaryKey.keyId, material: primaryKey.material, alias: 'alias/kms-key-lab/single-region' });
    aws.stacks.get(`${SECONDARY}|kms-key-lab-secondary`)!.outputs.SingleRegionKeyArn = impostor.arn;
    const { run, report } = await verify('--scenario', 'a');
    expect(find(report, 'a', 'cross-region-refused').result).toBe('FAIL');
    expect(run.code).toBe(1);
  });

  test('the table form shows each check and the totals', async () => {
    FakeAws.lab().install();
    const run = await runCli(['verify', '--scenario', 'c']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\(c\)\s+encrypt-decrypt:primary\s+ap-southeast-1\s+PASS\s+\d+\s+30 bytes encrypted with alias\/kms-key-lab\/imported-material/);
    // 4 DescribeStacks (one per lab stack, the roles stack included), Encrypt, Decrypt.
    expect(run.stdout).toMatch(/1 passed, 0 failed, 0 skipped; 6 AWS API calls\n$/);
  });

  test('the alarm stacks are never looked up: verify needs only the key stacks and the roles stack', async () => {
    const aws = FakeAws.lab({ deletionAlarm: true }).install();
    const { run, report } = await verify('--scenario', 'c');
    expect(run.code).toBe(0);
    expect(report.checks.map((c) => c.result)).toEqual(['PASS']);
    // primary, cloudhsm and roles in the primary Region, secondary in the secondary: not the two alarm stacks.
    expect(aws.log.filter((l) => l.includes('DescribeStacks')).sort()).toEqual([
      `operator DescribeStacks ${PRIMARY}`,
      `operator DescribeStacks ${PRIMARY}`,
      `operator DescribeStacks ${PRIMARY}`,
      `operator DescribeStacks ${SECONDARY}`,
    ]);
    // A lab whose alarm stacks are the only ones left is not deployed, as far as verify is concerned.
    for (const key of [...aws.stacks.keys()]) if (!key.includes('-alarm-')) aws.stacks.delete(key);
    const gone = await runCli(['verify', '--scenario', 'c']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('The stack kms-key-lab-primary (ap-southeast-1) is not deployed');
  });

  test('an alias that points at another key fails its round trip', async () => {
    const aws = FakeAws.lab().install();
    aws.aliases.set(`${PRIMARY}|alias/kms-key-lab/imported-material`, aws.key('SingleRegion').arn);
    const { run, report } = await verify('--scenario', 'c');
    expect(find(report, 'c', 'encrypt-decrypt:primary').detail).toContain('the alias points elsewhere');
    expect(run.code).toBe(1);
  });

  test('(d) round-trips with the CloudHSM key when its key store is CONNECTED', async () => {
    const aws = FakeAws.lab({ cloudHsm: true }).install();
    const { run, report } = await verify('--scenario', 'd');
    expect(run.code).toBe(0);
    expect(report.checks).toHaveLength(1);
    expect(report.checks[0]).toMatchObject({ scenario: 'd', result: 'PASS', keyId: aws.key('CloudHsm', 'cloudhsm').arn });
  });

  test('(d) fails with the key store state when it is not CONNECTED', async () => {
    FakeAws.lab({ cloudHsm: { connectionState: 'FAILED', connectionErrorCode: 'NETWORK_ERRORS' } }).install();
    const { run, report } = await verify('--scenario', 'd');
    expect(run.code).toBe(1);
    expect(report.checks[0].detail).toContain('is FAILED, ConnectionErrorCode NETWORK_ERRORS');
    expect(run.stderr).toContain('aws kms connect-custom-key-store --custom-key-store-id cks-1234567890abcdef0');
  });

  test('the application role encrypts and decrypts with key (a) through its grant only', async () => {
    const aws = FakeAws.lab().install();
    const { report } = await verify('--scenario', 'grant');
    expect(report.checks[0]).toMatchObject({ scenario: 'grant', check: 'grant-encrypt-decrypt', result: 'PASS' });
    expect(aws.log).toEqual([
      expect.stringMatching(/^operator DescribeStacks/),
      expect.stringMatching(/^operator DescribeStacks/),
      expect.stringMatching(/^operator DescribeStacks/),
      expect.stringMatching(/^operator DescribeStacks/),
      `operator AssumeRole ${PRIMARY}`,
      `${APP_ROLE} Encrypt ${PRIMARY}`,
      `${APP_ROLE} Decrypt ${PRIMARY}`,
    ]);
  });

  test('without its grant the application role is denied, and the check fails saying so', async () => {
    const aws = FakeAws.lab().install();
    aws.grants.clear();
    const { run, report } = await verify('--scenario', 'grant');
    expect(run.code).toBe(1);
    expect(report.checks[0].result).toBe('FAIL');
    expect(report.checks[0].detail).toContain('AWS denied Encrypt');
  });

  test('the policy split passes when the administrator is denied Encrypt and the user ScheduleKeyDeletion', async () => {
    namedPrincipalsLab();
    const { run, report } = await verify('--scenario', 'policy', '--admin-role', ADMIN_ROLE, '--user-role', USER_ROLE);
    expect(run.code).toBe(0);
    expect(report.checks.map((c) => [c.check, c.result])).toEqual([
      ['admin-denied-encrypt', 'PASS'],
      ['user-denied-schedule-deletion', 'PASS'],
    ]);
  });

  test('a role the key policy does not name is skipped, never assumed, and the principals the policy names are given instead', async () => {
    const aws = namedPrincipalsLab();
    // Not told keyAdminArns or keyUserArns: kms-lab falls back to the roles stack's KeyAdmin and KeyUser.
    const { run, report } = await verify('--scenario', 'policy');
    expect(run.code).toBe(0);
    expect(report.checks.map((c) => [c.check, c.result])).toEqual([
      ['admin-denied-encrypt', 'SKIP'],
      ['user-denied-schedule-deletion', 'SKIP'],
    ]);
    expect(find(report, 'policy', 'admin-denied-encrypt').detail).toContain(`does not name ${LAB_ADMIN_ROLE} as an administrator (no Allow of kms:ScheduleKeyDeletion), so a denial to it would prove nothing; it names ${ADMIN_ROLE}: pass --admin-role`);
    expect(find(report, 'policy', 'user-denied-schedule-deletion').detail).toContain(`it names ${USER_ROLE}: pass --user-role`);
    expect(aws.log.filter((l) => /AssumeRole|SimulatePrincipalPolicy|Encrypt/.test(l))).toEqual([]);
  });

  test('an administrator that may Encrypt fails the policy check', async () => {
    const aws = namedPrincipalsLab();
    aws.policy.adminMayEncrypt = true;
    const { run, report } = await verify('--scenario', 'policy', '--admin-role', ADMIN_ROLE);
    expect(run.code).toBe(1);
    expect(find(report, 'policy', 'admin-denied-encrypt').detail).toBe(`the administrator ${ADMIN_ROLE} was allowed Encrypt: the key policy does not deny it`);
  });

  test('the user check asks IAM\'s policy simulator, with the key policy\'s statements for the role, and never schedules a deletion', async () => {
    const aws = namedPrincipalsLab();
    const { run, report } = await verify('--scenario', 'policy', '--user-role', USER_ROLE, ...NAMED_PRINCIPALS);
    expect(run.code).toBe(0);
    const check = find(report, 'policy', 'user-denied-schedule-deletion');
    expect(check).toMatchObject({ result: 'PASS', keyId: aws.key('SingleRegion').arn });
    expect(check.detail).toBe(`the key user ${USER_ROLE} is denied kms:ScheduleKeyDeletion (implicitDeny; IAM policy simulation of its IAM policies and the key policy; nothing was scheduled)`);
    expect(aws.log.slice(-2)).toEqual([`operator GetKeyPolicy ${PRIMARY}`, `operator SimulatePrincipalPolicy ${PRIMARY}`]);
    expect(aws.log.some((l) => /ScheduleKeyDeletion|CancelKeyDeletion|AssumeRole/.test(l))).toBe(false);
    const simulate = fakeMocks.iam.commandCalls(SimulatePrincipalPolicyCommand)[0].args[0].input;
    expect(simulate).toMatchObject({ PolicySourceArn: USER_ROLE, ActionNames: ['kms:ScheduleKeyDeletion'], ResourceArns: [aws.key('SingleRegion').arn] });
    // Only the statement that names the user; the root's, which lets IAM policies count, and the administrator's are not the role's.
    expect(JSON.parse(simulate.PolicyInputList![0]).Statement).toEqual([expect.objectContaining({ Effect: 'Allow', Action: expect.arrayContaining(['kms:Encrypt']) })]);
  });

  test('an explicit Deny in the key policy passes as explicitDeny', async () => {
    const aws = namedPrincipalsLab();
    aws.policy.userDeniedScheduleDeletion = true;
    const { report } = await verify('--scenario', 'policy', '--user-role', USER_ROLE);
    expect(find(report, 'policy', 'user-denied-schedule-deletion')).toMatchObject({ result: 'PASS', detail: expect.stringContaining('(explicitDeny by PolicyInputList.1;') });
  });

  test('a user the key policy allows ScheduleKeyDeletion fails, and the key is left exactly as it was', async () => {
    const aws = namedPrincipalsLab();
    aws.policy.userMayScheduleDeletion = true;
    const key = aws.key('SingleRegion');
    key.state = 'Disabled';
    const { run, report } = await verify('--scenario', 'policy', '--user-role', USER_ROLE);
    expect(run.code).toBe(1);
    const check = find(report, 'policy', 'user-denied-schedule-deletion');
    expect(check.result).toBe('FAIL');
    expect(check.detail).toContain(`the key user ${USER_ROLE} would be allowed kms:ScheduleKeyDeletion by PolicyInputList.1`);
    expect(key.state).toBe('Disabled');
    expect(key.deletionDate).toBeUndefined();
    expect(aws.log.some((l) => / (ScheduleKeyDeletion|CancelKeyDeletion|EnableKey) /.test(l))).toBe(false);
  });

  test('without @aws-sdk/client-iam the user check is skipped, saying why, and nothing is scheduled', async () => {
    const aws = namedPrincipalsLab();
    const missing = jest.spyOn(optionalPackages, 'iam').mockReturnValue(undefined);
    try {
      const { run, report } = await verify('--scenario', 'policy', '--user-role', USER_ROLE, ...NAMED_PRINCIPALS);
      expect(run.code).toBe(0);
      const check = find(report, 'policy', 'user-denied-schedule-deletion');
      expect(check.result).toBe('SKIP');
      expect(check.detail).toContain('the @aws-sdk/client-iam package is not installed');
      expect(aws.log.some((l) => /ScheduleKeyDeletion|GetKeyPolicy/.test(l))).toBe(false);
    } finally {
      missing.mockRestore();
    }
  });

  test('a user role IAM does not know fails the check with IAM\'s words', async () => {
    const aws = namedPrincipalsLab();
    aws.roles.delete(USER_ROLE);
    const { run, report } = await verify('--scenario', 'policy', '--user-role', USER_ROLE);
    expect(run.code).toBe(1);
    expect(find(report, 'policy', 'user-denied-schedule-deletion').detail).toContain('SimulatePrincipalPolicy in ap-southeast-1 failed (NoSuchEntity)');
  });

  test('a stack without the outputs the CLI reads fails the checks that need them', async () => {
    const aws = FakeAws.lab().install();
    const stack = aws.stacks.get(`${PRIMARY}|kms-key-lab-primary`)!;
    stack.status = 'UPDATE_ROLLBACK_COMPLETE';
    delete stack.outputs.ImportedMaterialKeyArn;
    const { run, report } = await verify('--scenario', 'c');
    expect(run.code).toBe(1);
    expect(report.checks[0].detail).toContain('(ap-southeast-1, UPDATE_ROLLBACK_COMPLETE) has no output ImportedMaterialKeyArn');
  });

  test('scenario (c) alone needs only the primary stack', async () => {
    FakeAws.lab({ deploySecondary: false }).install();
    const { run } = await verify('--scenario', 'c');
    expect(run.code).toBe(0);
  });

  test('apiCalls counts every call, the Encryption SDK\'s included', async () => {
    const aws = FakeAws.lab().install();
    const { report } = await verify('--scenario', 'b');
    // 4 DescribeStacks; 2 round trips of 2; cross-Region 2; envelope GenerateDataKey + Decrypt.
    expect(report.summary.apiCalls).toBe(12);
    expect(aws.log).toHaveLength(12);
  });
});
