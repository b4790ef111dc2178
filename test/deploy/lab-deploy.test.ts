import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { RotateReport } from '../../cli/rotate/report';
import { VerifyReport } from '../../cli/verify/report';
import { FakeAws, serviceError } from '../cli/fake-aws';
import '../cli/fake-key-material';
import { keyMaterial } from '../cli/fake-key-material';
import { lifecycle } from '../cli/fake-lifecycle';
import { json, runCli, tempDir, useOperatorCredentials, writeCdkJson } from '../cli/harness';
import { CDK_JSON_CONTEXT, synthLab } from '../helpers/lab';
import { assemblyStacks } from './cloud-assembly';
import { FakeAwsDeployment } from './fake-aws-deploy';

/**
 * One offline `cdk deploy --all` of the synthesized lab (default settings)
 * into the CLI's FakeAws, then the CLI in-process on what it deployed:
 * verify, status, rotate (imported material too), key disable/enable, and
 * teardown, which deletes every stack through the same engine.
 */
jest.setTimeout(120_000);
useOperatorCredentials();

let assembly: CloudAssembly;
let aws: FakeAws;
let deployment: FakeAwsDeployment;
let cwd: string;
beforeAll(() => {
  assembly = synthLab().app.synth();
  cwd = tempDir();
  writeCdkJson(cwd, CDK_JSON_CONTEXT);
  aws = new FakeAws();
  deployment = new FakeAwsDeployment(aws);
});
// The fake's mocks answer for this world in every test; the world itself lives across the tests, as a deployed lab does.
beforeEach(() => void aws.install());

const cli = (argv: string[]) => runCli(argv, { cwd });

describe('default settings', () => {
  test('cdk deploy --all: every stack of the assembly, in dependency order, CREATE_COMPLETE with its manifest tags', async () => {
    const stacks = assemblyStacks(assembly);
    const deployed = await deployment.deployAll(assembly);
    for (const d of deployed) expect({ stack: d.stack.stackName, failure: d.result.failure }).toEqual({ stack: d.stack.stackName, failure: undefined });
    expect(deployed.map((d) => d.stack.stackName)).toEqual(stacks.map((s) => s.stackName));
    expect(stacks.map((s) => s.stackName)).toEqual(['kms-key-lab-roles', 'kms-key-lab-primary', 'kms-key-lab-secondary']);
    for (const s of stacks) {
      const stack = aws.stacks.get(`${s.region}|${s.stackName}`)!;
      expect(stack.status).toBe('CREATE_COMPLETE');
      expect(stack.tags).toEqual(s.tags);
      expect(Object.keys(stack.outputs).sort()).toEqual(Object.keys(s.template.Outputs ?? {}).sort());
    }
    // The replica is made from the primary's output, read in the primary's Region (Fn::GetStackOutput).
    const primary = aws.stacks.get('ap-southeast-1|kms-key-lab-primary')!.outputs;
    const secondary = aws.stacks.get('ap-southeast-2|kms-key-lab-secondary')!.outputs;
    expect(secondary.MultiRegionKeyId).toBe(primary.MultiRegionKeyId);
    expect(secondary.MultiRegionKeyArn).toMatch(/^arn:aws:kms:ap-southeast-2:/);
    // The import handlers really imported: (c) and both keys of (e) are usable, escrows hold their records.
    for (const arn of [primary.ImportedMaterialKeyArn, primary.MultiRegionImportedKeyArn, secondary.MultiRegionImportedKeyArn]) {
      expect(aws.keys.get(arn)!.state).toBe('Enabled');
    }
    expect(keyMaterial(aws).escrowRecord(primary.ImportedMaterialEscrowSecretName)?.keyArn).toBe(primary.ImportedMaterialKeyArn);
  });

  test('kms-lab verify: every check passes', async () => {
    const run = await cli(['verify', '--json']);
    const report = json<VerifyReport>(run);
    // Scenario (d) is opt-in: with the default settings it is skipped, and nothing else is.
    expect(report.checks.filter((c) => c.result !== 'PASS' && c.scenario !== 'd')).toEqual([]);
    expect(report.checks.filter((c) => c.scenario === 'd').map((c) => c.result)).toEqual(['SKIP']);
    expect(new Set(report.checks.map((c) => c.scenario))).toEqual(new Set(['a', 'b', 'c', 'd', 'e', 'grant', 'policy']));
    expect(run.code).toBe(0);
  });

  test('kms-lab status: every key of the lab, enabled', async () => {
    const run = await cli(['status', '--json']);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const listed = JSON.stringify(json(run));
    // Every key the deploy made, by ARN.
    for (const k of aws.keys.values()) expect(listed).toContain(k.arn);
  });

  test('kms-lab rotate: every key that rotates, imported material (c) and (e) included', async () => {
    const primary = aws.stacks.get('ap-southeast-1|kms-key-lab-primary')!.outputs;
    const before = [primary.ImportedMaterialKeyArn, primary.MultiRegionImportedKeyArn].map((arn) => aws.keys.get(arn)!.currentKeyMaterialId);
    const run = await cli(['rotate', '--yes', '--json']);
    const report = json<RotateReport>(run);
    expect({ code: run.code, stderr: run.stderr, problems: report.problems }).toEqual({ code: 0, stderr: '', problems: [] });
    expect(report.keys.map((k) => [k.scenario, k.where, k.result ?? k.plan])).toEqual([
      ['a', 'primary', 'rotated'],
      ['a', 'secondary', 'rotated'],
      ['b', 'primary', 'rotated'],
      ['b', 'secondary', 'follows-primary'],
      ['c', 'primary', 'rotated'],
      ['e', 'primary', 'rotated'],
      ['e', 'secondary', 'follows-primary'],
    ]);
    // New imported material is current in (c) and in both keys of (e), and escrowed.
    const after = [primary.ImportedMaterialKeyArn, primary.MultiRegionImportedKeyArn].map((arn) => aws.keys.get(arn)!.currentKeyMaterialId);
    expect(after[0]).not.toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    const replica = aws.stacks.get('ap-southeast-2|kms-key-lab-secondary')!.outputs.MultiRegionImportedKeyArn;
    expect(aws.keys.get(replica)!.currentKeyMaterialId).toBe(after[1]);
    expect(keyMaterial(aws).escrowRecord(primary.ImportedMaterialEscrowSecretName)?.keyMaterialId).toBe(after[0]);
    // And every check still passes on the rotated keys.
    const verify = json<VerifyReport>(await cli(['verify', '--json']));
    expect(verify.checks.filter((c) => c.result === 'FAIL')).toEqual([]);
  });

  test('kms-lab key disable / enable', async () => {
    const arn = aws.stacks.get('ap-southeast-1|kms-key-lab-primary')!.outputs.SingleRegionKeyArn;
    expect(aws.keys.get(arn)!.state).toBe('Enabled');
    const disabled = await cli(['key', 'disable', 'single-region', '--yes']);
    expect({ code: disabled.code, stderr: disabled.stderr }).toEqual({ code: 0, stderr: '' });
    expect(aws.keys.get(arn)!.state).toBe('Disabled');
    const enabled = await cli(['key', 'enable', 'single-region', '--yes']);
    expect({ code: enabled.code, stderr: enabled.stderr }).toEqual({ code: 0, stderr: '' });
    expect(aws.keys.get(arn)!.state).toBe('Enabled');
  });

  test('kms-lab teardown --yes: every key stack deleted, every key pending deletion, escrows scheduled, the roles stack kept while they are recoverable, nothing billable left', async () => {
    const keys = [...aws.keys.values()];
    const escrows = [...aws.secrets.keys()];
    expect(keys).toHaveLength(7);
    expect(escrows).toHaveLength(2);
    const run = await cli(['teardown', '--yes']);
    // Every key stack's resources were deleted by the engine (handlers' Delete included), none failed; the roles stack
    // stays, because its KeyAdmin role is who may restore the escrows during their recovery window.
    const keyStacks = assemblyStacks(assembly).filter((s) => s.stackName !== 'kms-key-lab-roles');
    expect(deployment.deletions.map((d) => [d.stackName, d.result.failure]).sort()).toEqual(keyStacks.map((s) => [s.stackName, undefined]).sort());
    // Each key is scheduled; a multi-Region primary waits for its replicas (PendingReplicaDeletion), then its own window.
    for (const k of keys) {
      const waitsForReplicas = k.multiRegion === 'PRIMARY';
      expect({ arn: k.arn, state: k.state, scheduled: k.deletionDate !== undefined }).toEqual({
        arn: k.arn,
        state: waitsForReplicas ? 'PendingReplicaDeletion' : 'PendingDeletion',
        scheduled: !waitsForReplicas,
      });
    }
    for (const name of escrows) expect({ name, scheduled: aws.secrets.get(name)?.deletedDate !== undefined, replicas: aws.secrets.get(name)?.replicaRegions ?? [] }).toEqual({ name, scheduled: true, replicas: [] });
    const rolesStack = deployment.stacks.get('ap-southeast-1|kms-key-lab-roles')!;
    const keyAdmin = rolesStack.engine.outputs.KeyAdminRoleArn;
    expect([...aws.stacks.keys()]).toEqual(['ap-southeast-1|kms-key-lab-roles']);
    expect([...aws.secrets.entries()].filter(([, s]) => !s.deletedDate).map(([name]) => name)).toEqual([]);
    expect([...aws.aliases.keys()]).toEqual([]);
    expect(lifecycle(aws).deleteRequests.sort()).toEqual(keyStacks.map((s) => s.stackName).sort());
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });

    // Who can recover each escrow, and until when, after the teardown.
    const status = json<{ escrowRecovery: { secret: string; recoverBy: string[]; recoverableUntil: string }[] }>(await cli(['status', '--json']));
    expect(status.escrowRecovery.map((e) => [e.secret, e.recoverBy]).sort()).toEqual(escrows.map((name) => [name, [keyAdmin]]).sort());
    for (const e of status.escrowRecovery) expect(Date.parse(e.recoverableUntil)).toBeGreaterThan(lifecycle(aws).clock.getTime());

    // Once Secrets Manager has deleted the escrows at the end of their recovery window, the next teardown deletes the
    // roles stack, and nothing of the lab remains but keys pending deletion.
    for (const name of escrows) aws.secrets.delete(name);
    const last = await cli(['teardown', '--yes']);
    expect({ code: last.code, stderr: last.stderr }).toEqual({ code: 0, stderr: '' });
    expect([...aws.stacks.keys()]).toEqual([]);
    expect([...aws.roles.values()].filter((kind) => kind === 'deployed')).toEqual([]);
  });

  test('redeploying what teardown destroyed works, and every check passes again', async () => {
    const deployed = await deployment.deployAll(assembly);
    expect(deployed.map((d) => [d.stack.stackName, d.result.failure])).toEqual(assemblyStacks(assembly).map((s) => [s.stackName, undefined]));
    const report = json<VerifyReport>(await cli(['verify', '--json']));
    expect(report.checks.filter((c) => c.result === 'FAIL')).toEqual([]);
  });
});

describe('deployed with keyAdminArns and keyUserArns (-c on cdk deploy), verified without them', () => {
  const ADMINS = 'arn:aws:iam::111122223333:role/Admins';
  const USERS = 'arn:aws:iam::111122223333:role/Users';
  let named: FakeAws;
  beforeAll(async () => {
    named = new FakeAws();
    named.install();
    // The account's own roles, which the key policies then name.
    named.roles.set(ADMINS, 'deployed');
    named.roles.set(USERS, 'deployed');
    const results = await new FakeAwsDeployment(named).deployAll(synthLab({ keyAdminArns: [ADMINS], keyUserArns: [USERS] }).app.synth());
    expect(results.map((r) => r.result.failure).filter(Boolean)).toEqual([]);
  });
  beforeEach(() => void named.install());

  // The roles stack is deployed whatever the settings, and kms-lab takes its KeyAdmin and KeyUser roles as the lab's
  // administrator and user unless it is told keyAdminArns and keyUserArns. Encrypt denied to a role that no key policy
  // names proves nothing: the policy checks test only the principals the deployed key policy names, and skip otherwise.
  test('the policy checks skip a role that no key policy names, naming the principals it does name', async () => {
    const report = json<VerifyReport>(await runCli(['verify', '--json', '--scenario', 'policy'], { cwd }));
    expect(report.checks.map((c) => [c.check, c.result])).toEqual([
      ['admin-denied-encrypt', 'SKIP'],
      ['user-denied-schedule-deletion', 'SKIP'],
    ]);
    const [admin, user] = report.checks;
    const labRoles = named.stacks.get('ap-southeast-1|kms-key-lab-roles')!.outputs;
    expect(admin.detail).toContain(`does not name ${labRoles.KeyAdminRoleArn} as an administrator`);
    expect(admin.detail).toContain(`it names ${ADMINS}: pass --admin-role`);
    expect(user.detail).toContain(`does not name ${labRoles.KeyUserRoleArn} as a key user`);
    expect(user.detail).toContain(`it names ${USERS}: pass --user-role`);
  });

  test('told the principals the key policy names, the policy checks test them and pass', async () => {
    const report = json<VerifyReport>(await runCli(['verify', '--json', '--scenario', 'policy', '--admin-role', ADMINS, '--user-role', USERS], { cwd }));
    expect(report.checks.map((c) => [c.check, c.result])).toEqual([
      ['admin-denied-encrypt', 'PASS'],
      ['user-denied-schedule-deletion', 'PASS'],
    ]);
    const policy = JSON.stringify(named.keys.get(report.checks[0].keyId)?.policy ?? {});
    for (const c of report.checks) expect(policy).toContain(/arn:aws:iam::\d+:role\/[\w+=,.@-]+/.exec(c.detail)![0]);
  });
});


describe('-c deletionAlarm=true -c deletionAlarmEmail=ops@example.com', () => {
  const settings = { deletionAlarm: true, deletionAlarmEmail: 'ops@example.com' };
  let alarmed: CloudAssembly;
  let world: FakeAws;
  let alarms: FakeAwsDeployment;
  let dir: string;
  beforeAll(() => {
    alarmed = synthLab(settings).app.synth();
    dir = tempDir();
    writeCdkJson(dir, { ...CDK_JSON_CONTEXT, ...settings });
    world = new FakeAws();
    alarms = new FakeAwsDeployment(world);
  });
  beforeEach(() => void world.install());
  const run = (argv: string[]) => runCli(argv, { cwd: dir });

  test('deploys every stack, the alarm stacks included, and every check passes', async () => {
    const deployed = await alarms.deployAll(alarmed);
    expect(deployed.map((d) => [d.stack.stackName, d.result.failure])).toEqual(assemblyStacks(alarmed).map((s) => [s.stackName, undefined]));
    expect(deployed.map((d) => d.stack.stackName)).toEqual(expect.arrayContaining(['kms-key-lab-alarm-primary', 'kms-key-lab-alarm-secondary']));
    const report = json<VerifyReport>(await run(['verify', '--json']));
    expect(report.checks.filter((c) => c.result === 'FAIL')).toEqual([]);
    const rotated = await run(['rotate', '--yes', '--json']);
    expect({ code: rotated.code, stderr: rotated.stderr }).toEqual({ code: 0, stderr: '' });
  });

  test('teardown --yes keeps the alarm stacks, and what bills is only theirs; --with-alarms then deletes them', async () => {
    const kept = await run(['teardown', '--yes']);
    expect({ code: kept.code, stderr: kept.stderr }).toEqual({ code: 0, stderr: '' });
    // The roles stack is kept too, while the escrows are recoverable.
    expect([...world.stacks.keys()].sort()).toEqual(['ap-southeast-1|kms-key-lab-alarm-primary', 'ap-southeast-1|kms-key-lab-roles', 'ap-southeast-2|kms-key-lab-alarm-secondary']);
    expect([...world.keys.values()].filter((k) => !['PendingDeletion', 'PendingReplicaDeletion'].includes(k.state)).map((k) => k.arn)).toEqual([]);
    expect([...world.secrets.values()].filter((s) => !s.deletedDate)).toEqual([]);
    expect(new Set([...alarms.records.values()].filter((r) => r.billable).map((r) => r.stackName))).toEqual(new Set(['kms-key-lab-alarm-primary', 'kms-key-lab-alarm-secondary']));

    // --with-roles deletes the roles stack before the escrows' window ends, and says what that costs.
    const all = await run(['teardown', '--yes', '--with-alarms', '--with-roles']);
    expect(all.code).toBe(0);
    expect(all.stderr).toMatch(/^Warning: Deleted kms-key-lab-roles \(ap-southeast-1\) with --with-roles, .* from now only the account root user can restore and read them/);
    expect([...world.stacks.keys()]).toEqual([]);
    expect(alarms.deletions.map((d) => [d.stackName, d.result.failure]).sort()).toEqual(assemblyStacks(alarmed).map((s) => [s.stackName, undefined]).sort());
    expect([...alarms.records.values()]).toEqual([]);
  });
});

describe('a teardown whose escrow deletion fails', () => {
  let world: FakeAws;
  let engine: FakeAwsDeployment;
  beforeAll(() => {
    world = new FakeAws();
    engine = new FakeAwsDeployment(world);
  });
  beforeEach(() => void world.install());

  test('the primary stack ends DELETE_FAILED with the import resources and their keys kept, teardown exits 1; a second teardown completes', async () => {
    const deployed = await engine.deployAll(assembly);
    expect(deployed.map((d) => d.result.failure).filter(Boolean)).toEqual([]);
    // Secrets Manager refuses every DeleteSecret, after the SDK's retries.
    world.failures.set('DeleteSecret', () => serviceError('AccessDeniedException', 'User is not authorized to perform: secretsmanager:DeleteSecret'));
    const first = await cli(['teardown', '--yes', '--json']);
    const primary = engine.deletions.find((d) => d.stackName === 'kms-key-lab-primary')!;
    expect(primary.result.ok).toBe(false);
    expect(primary.result.failure).toMatch(/ImportMaterial/);
    expect(world.stacks.get('ap-southeast-1|kms-key-lab-primary')?.status).toBe('DELETE_FAILED');
    expect(first.code).toBe(1);
    // Teardown names each resource that failed, with the handler's reason, and stops before the roles stack.
    const report = json<{ problems: string[] }>(first);
    expect(report.problems.join('\n')).toContain('ImportedMaterialKeyImportMaterial169ECB78 (Custom::ImportedKeyMaterial) failed to delete: DeleteSecret failed (AccessDeniedException)');
    expect(lifecycle(world).deleteRequests).not.toContain('kms-key-lab-roles');
    // What the failed resources depend on stays, as CloudFormation leaves it: the imported-material keys, not scheduled yet.
    const outputs = engine.stacks.get('ap-southeast-1|kms-key-lab-primary')!.engine.outputs;
    expect(world.keys.get(outputs.ImportedMaterialKeyArn)!.state).toBe('Enabled');
    // Resources that do not wait for them were deleted: the single-Region key is pending deletion already.
    expect(world.keys.get(outputs.SingleRegionKeyArn)!.state).toBe('PendingDeletion');

    world.failures.delete('DeleteSecret');
    const second = await cli(['teardown', '--yes']);
    expect({ code: second.code, stderr: second.stderr }).toEqual({ code: 0, stderr: '' });
    // The roles stack stays while the escrows it administers are recoverable.
    expect([...world.stacks.keys()]).toEqual(['ap-southeast-1|kms-key-lab-roles']);
    expect([...world.keys.values()].filter((k) => !['PendingDeletion', 'PendingReplicaDeletion'].includes(k.state)).map((k) => k.arn)).toEqual([]);
    expect([...world.secrets.values()].filter((s) => !s.deletedDate)).toEqual([]);
  });
});
