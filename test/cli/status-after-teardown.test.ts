import { StatusReport } from '../../cli/status/report';
import { TeardownReport } from '../../cli/teardown/report';
import { ACCOUNT, FakeAws, LAB_ADMIN_ROLE, PRIMARY, SECONDARY } from './fake-aws';
import './fake-lifecycle';
import { json, runCli, tempDir, useOperatorCredentials, writeCdkJson } from './harness';

useOperatorCredentials();

const escrowsOf = (aws: FakeAws) => {
  const outputs = aws.stacks.get(`${PRIMARY}|kms-key-lab-primary`)!.outputs;
  return { c: outputs.ImportedMaterialEscrowSecretName, e: outputs.MultiRegionImportedEscrowSecretName };
};

describe('kms-lab status after a teardown: who can restore each escrow, and until when', () => {
  test('with the roles stack kept, the key administrator role, the day its window ends, and the command', async () => {
    const aws = FakeAws.lab().install();
    const { c, e } = escrowsOf(aws);
    expect((await runCli(['teardown', '--yes'])).code).toBe(0);
    const run = await runCli(['status', '--json']);
    expect(run.code).toBe(0);
    const report = json<StatusReport>(run);
    // Scheduled at 06:00 on 1 June; (c)'s window is pendingWindowDays + 1, (e)'s 2 × pendingWindowDays + 1 (7 by default).
    expect(report.escrowRecovery).toEqual([
      { secret: c, region: PRIMARY, deletedDate: '2025-06-01T06:00:00.000Z', recoverableUntil: '2025-06-09T06:00:00.000Z', recoverBy: [LAB_ADMIN_ROLE], command: `aws secretsmanager restore-secret --secret-id ${c} --region ${PRIMARY}` },
      { secret: e, region: PRIMARY, deletedDate: '2025-06-01T06:00:00.000Z', recoverableUntil: '2025-06-16T06:00:00.000Z', recoverBy: [LAB_ADMIN_ROLE], command: `aws secretsmanager restore-secret --secret-id ${e} --region ${PRIMARY}` },
    ]);
    expect(report.pendingDeletion.filter((p) => p.kind === 'secret').map((p) => p.name).sort()).toEqual([c, e].sort());
    const text = (await runCli(['status'])).stdout;
    expect(text).toContain('Escrow recovery (secrets scheduled for deletion: who can restore them, until when, how)\n');
    expect(text).toContain(
      `  ${c} (${PRIMARY}): recoverable until 2025-06-09T06:00:00.000Z by ${LAB_ADMIN_ROLE} (assume it: \`aws sts assume-role --role-arn <arn> --role-session-name escrow-recovery\`): \`aws secretsmanager restore-secret --secret-id ${c} --region ${PRIMARY}\``,
    );
  });

  test('after --with-roles only the account root user can: status says so', async () => {
    const aws = FakeAws.lab().install();
    const { c } = escrowsOf(aws);
    await runCli(['teardown', '--yes', '--with-roles']);
    const report = json<StatusReport>(await runCli(['status', '--json']));
    expect(report.escrowRecovery.map((r) => [r.secret, r.recoverBy])).toEqual(expect.arrayContaining([[c, []]]));
    expect((await runCli(['status'])).stdout).toContain(`${c} (${PRIMARY}): recoverable until 2025-06-09T06:00:00.000Z only by the account root user`);
  });

  test('with keyAdminArns set, the principals it names', async () => {
    FakeAws.lab().install();
    const cwd = tempDir();
    const admin = `arn:aws:iam::${ACCOUNT}:role/KeyAdmin`;
    writeCdkJson(cwd, { keyAdminArns: [admin], keyUserArns: [`arn:aws:iam::${ACCOUNT}:role/KeyUser`] });
    await runCli(['teardown', '--yes'], { cwd });
    const report = json<StatusReport>(await runCli(['status', '--json'], { cwd }));
    expect(report.escrowRecovery).toHaveLength(2);
    expect(report.escrowRecovery.every((r) => r.recoverBy.length === 1 && r.recoverBy[0] === admin)).toBe(true);
  });

  test('a deployed lab has nothing to recover', async () => {
    FakeAws.lab().install();
    const report = json<StatusReport>(await runCli(['status', '--json']));
    expect(report.escrowRecovery).toEqual([]);
    expect((await runCli(['status'])).stdout).not.toContain('Escrow recovery');
  });

  test('Secrets Manager deletes the escrow at the end of its window: nothing is left to recover', async () => {
    const aws = FakeAws.lab().install();
    await runCli(['teardown', '--yes']);
    for (const [name, s] of [...aws.secrets]) if (s.deletedDate) aws.secrets.delete(name);
    expect(json<StatusReport>(await runCli(['status', '--json'])).escrowRecovery).toEqual([]);
  });
});

describe('alarm stacks whose CloudFormation execution role is gone', () => {
  const EXEC_ROLE = `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-${PRIMARY}`;
  /** A lab whose alarm stacks were deployed with an execution role; `exists`: whether that role is still there. */
  const labWithExecutionRole = (exists: boolean) => {
    const aws = FakeAws.lab({ deletionAlarm: true }).install();
    for (const key of [`${PRIMARY}|kms-key-lab-alarm-primary`, `${SECONDARY}|kms-key-lab-alarm-secondary`]) aws.stacks.get(key)!.roleArn = EXEC_ROLE;
    if (exists) aws.otherRoles.add(EXEC_ROLE);
    return aws;
  };

  test('status warns, naming the stack, the role and what to do (exit 0)', async () => {
    labWithExecutionRole(false);
    const run = await runCli(['status', '--json']);
    expect(run.code).toBe(0);
    const report = json<StatusReport>(run);
    expect(report.warnings).toHaveLength(2);
    expect(report.warnings[0]).toContain(`The alarm stack kms-key-lab-alarm-primary (${PRIMARY}) was deployed with the CloudFormation execution role ${EXEC_ROLE}, which no longer exists (IAM GetRole: NoSuchEntity).`);
    expect(report.warnings[0]).toContain('npx cdk bootstrap');
    expect(run.stderr).toContain(`Warning: ${report.warnings[1]}`);
  });

  test('status says nothing when the role is there', async () => {
    const aws = labWithExecutionRole(true);
    const report = json<StatusReport>(await runCli(['status', '--json']));
    expect(report.warnings).toEqual([]);
    expect(aws.log.filter((l) => l.includes(' GetRole '))).toHaveLength(2);
  });

  test('teardown, keeping the alarm stacks, reports each that can never delete itself (exit 1)', async () => {
    labWithExecutionRole(false);
    const run = await runCli(['teardown', '--yes', '--json']);
    expect(run.code).toBe(1);
    const report = json<TeardownReport>(run);
    expect(report.problems.filter((p) => p.includes('which no longer exists (IAM GetRole: NoSuchEntity)'))).toHaveLength(2);
    expect(report.complete).toBe(false);
  });

  test('teardown with the role there is complete', async () => {
    labWithExecutionRole(true);
    const run = await runCli(['teardown', '--yes', '--json']);
    expect(run.code).toBe(0);
  });
});
