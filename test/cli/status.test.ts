import * as fs from 'node:fs';
import * as path from 'node:path';
import { StatusReport } from '../../cli/status/report';
import { FakeAws, serviceError, LAB_ADMIN_ROLE, LAB_USER_ROLE, OPERATOR_ACCESS_KEY, PRIMARY, SECONDARY } from './fake-aws';
import './fake-lifecycle';
import { json, runCli, tempDir, useOperatorCredentials } from './harness';

useOperatorCredentials();

const READ_ONLY = /^(Describe|Get|List|Lookup)/;

describe('kms-lab status', () => {
  test("last use counts only events that used the key's material, not reads of it (this CLI's own included)", async () => {
    const aws = FakeAws.lab().install();
    aws.events.set(aws.key('SingleRegion').arn, [
      { at: new Date('2025-05-30T00:00:00Z'), name: 'GenerateDataKey' },
      { at: new Date('2025-06-01T05:00:00Z'), name: 'DescribeKey' },
      { at: new Date('2025-06-01T05:30:00Z'), name: 'ListKeyRotations' },
    ]);
    const report = json<StatusReport>(await runCli(['status', '--json']));
    expect(report.keys[0].lastUsed).toEqual({ at: '2025-05-30T00:00:00.000Z', event: 'GenerateDataKey' });
  });

  test('shows each stack and key: state, origin, rotation, last use', async () => {
    const aws = FakeAws.lab().install();
    aws.events.set(aws.key('SingleRegion').arn, [
      { at: new Date('2025-05-30T00:00:00Z'), name: 'Encrypt' },
      { at: new Date('2025-06-01T05:00:00Z'), name: 'Decrypt' },
    ]);
    const run = await runCli(['status', '--json']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const report = json<StatusReport>(run);
    expect(report.schemaVersion).toBe(1);
    expect(report.stacks.map((s) => [s.name, s.region, s.status])).toEqual([
      ['kms-key-lab-primary', PRIMARY, 'CREATE_COMPLETE'],
      ['kms-key-lab-secondary', SECONDARY, 'CREATE_COMPLETE'],
      ['kms-key-lab-cloudhsm', PRIMARY, 'NOT_DEPLOYED'],
      ['kms-key-lab-roles', PRIMARY, 'CREATE_COMPLETE'],
      // The opt-in alarm stacks, like (d)'s: listed, and not deployed here.
      ['kms-key-lab-alarm-primary', PRIMARY, 'NOT_DEPLOYED'],
      ['kms-key-lab-alarm-secondary', SECONDARY, 'NOT_DEPLOYED'],
    ]);
    expect(report.keys.map((k) => [k.scenario, k.where, k.region, k.state, k.origin, k.multiRegion, k.rotation])).toEqual([
      ['a', 'primary', PRIMARY, 'Enabled', 'AWS_KMS', undefined, 'on, every 365 days, next 2026-06-01T00:00:00.000Z'],
      ['a', 'secondary', SECONDARY, 'Enabled', 'AWS_KMS', undefined, 'on, every 365 days, next 2026-06-01T00:00:00.000Z'],
      ['b', 'primary', PRIMARY, 'Enabled', 'AWS_KMS', 'PRIMARY', 'on, every 365 days, next 2026-06-01T00:00:00.000Z'],
      ['b', 'secondary', SECONDARY, 'Enabled', 'AWS_KMS', 'REPLICA', 'on, every 365 days, next 2026-06-01T00:00:00.000Z'],
      ['c', 'primary', PRIMARY, 'Enabled', 'EXTERNAL', undefined, 'n/a (EXTERNAL material)'],
      ['e', 'primary', PRIMARY, 'Enabled', 'EXTERNAL', 'PRIMARY', 'n/a (EXTERNAL material)'],
      ['e', 'secondary', SECONDARY, 'Enabled', 'EXTERNAL', 'REPLICA', 'n/a (EXTERNAL material)'],
    ]);
    expect(report.labRoles).toEqual({ stack: 'kms-key-lab-roles', keyAdminRoleArn: LAB_ADMIN_ROLE, keyUserRoleArn: LAB_USER_ROLE });
    expect(report.keys[0].lastUsed).toEqual({ at: '2025-06-01T05:00:00.000Z', event: 'Decrypt' });
    expect(report.keys[1].lastUsed).toBeUndefined();
    expect(report.cloudHsm).toBeUndefined();
    expect(report.pendingDeletion).toEqual([]);
    // Read-only: only Describe/Get/Lookup calls, and no rotation status asked of the EXTERNAL keys (c) and (e).
    expect(aws.log.every((l) => READ_ONLY.test(l.split(' ')[1]))).toBe(true);
    expect(aws.log.filter((l) => l.includes('GetKeyRotationStatus'))).toHaveLength(4);
    expect(report.apiCalls).toBe(aws.log.length);
  });

  test.each([
    ['throttled', 'ThrottlingException', 'Rate exceeded'],
    ['denied', 'AccessDeniedException', 'User: operator is not authorized to perform: cloudtrail:LookupEvents'],
  ])('when the CloudTrail lookup is %s, last use is unknown with the reason, not "never"', async (_case, name, message) => {
    const aws = FakeAws.lab().install();
    aws.failures.set('LookupEvents', () => serviceError(name, message));
    const run = await runCli(['status', '--json']);
    expect(run.code).toBe(1);
    const report = json<StatusReport>(run);
    for (const k of report.keys) {
      expect(k.lastUsed).toBeUndefined();
      expect(k.lastUsedStatus).toBe('unknown');
      expect(k.lastUsedUnknownReason).toBe(`LookupEvents failed (${name}): ${message}`);
    }
    const text = await runCli(['status']);
    expect(text.stdout).toContain(`unknown: LookupEvents failed (${name}): ${message}`);
    expect(text.stdout).not.toContain('never in the last 90 days');
  });

  test('a lookup that answers with no use of the key says "never" in JSON as in text', async () => {
    FakeAws.lab().install();
    const report = json<StatusReport>(await runCli(['status', '--json']));
    expect(report.keys.map((k) => k.lastUsedStatus)).toEqual(report.keys.map(() => 'never'));
  });

  test('the text form says when a key was never used', async () => {
    FakeAws.lab().install();
    const run = await runCli(['status']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\(c\) primary\s+ap-southeast-1\s+Enabled\s+EXTERNAL\s+n\/a \(EXTERNAL material\)\s+never in the last 90 days/);
    expect(run.stdout).toContain('Pending deletion\n  nothing');
  });

  test('shows what is pending deletion and when it goes: keys by DeletionDate, the escrow secret by DeletedDate', async () => {
    const aws = FakeAws.lab().install();
    const key = aws.key('ImportedMaterial');
    key.state = 'PendingDeletion';
    key.deletionDate = new Date('2025-06-07T00:00:00Z');
    const escrow = aws.stacks.get(`${PRIMARY}|kms-key-lab-primary`)!.outputs.ImportedMaterialEscrowSecretName;
    aws.secrets.set(escrow, { deletedDate: new Date('2025-06-01T00:00:00Z') });
    const run = await runCli(['status', '--json']);
    const report = json<StatusReport>(run);
    expect(report.pendingDeletion).toEqual([
      { kind: 'secret', name: escrow, region: PRIMARY, date: '2025-06-01T00:00:00.000Z', dateMeaning: 'scheduled-on' },
      { kind: 'key', name: key.arn, region: PRIMARY, date: '2025-06-07T00:00:00.000Z', dateMeaning: 'deleted-on' },
    ]);
    const text = await runCli(['status']);
    expect(text.stdout).toContain(`secret ${escrow}`);
    expect(text.stdout).toContain('scheduled on 2025-06-01T00:00:00.000Z (deleted when its recovery window, up to 30 days, ends)');
  });

  test('scenario (d): key store state, expiry and an HSM-hours estimate', async () => {
    FakeAws.lab({ cloudHsm: { connectionState: 'DISCONNECTED' } }).install();
    const run = await runCli(['status', '--json'], { now: new Date('2025-06-01T06:00:00Z') });
    expect(run.code).toBe(0);
    const report = json<StatusReport>(run);
    expect(report.cloudHsm).toEqual({
      keyStoreId: 'cks-1234567890abcdef0',
      connectionState: 'DISCONNECTED',
      expiresAt: '2025-06-01T08:00:00Z',
      clusterId: 'cluster-abcdefghijk',
      clusterState: 'ACTIVE',
      hsmCount: 2,
      hsmHoursEstimate: 12,
    });
    expect(report.keys.find((k) => k.scenario === 'd')).toMatchObject({ state: 'Unavailable', origin: 'AWS_CLOUDHSM', rotation: 'n/a (AWS_CLOUDHSM material)' });
  });

  test('nothing deployed is a status, not an error', async () => {
    const aws = new FakeAws().install();
    const run = await runCli(['status']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/kms-key-lab-primary\s+ap-southeast-1\s+NOT_DEPLOYED/);
    expect(run.stdout).toMatch(/kms-key-lab-roles\s+ap-southeast-1\s+NOT_DEPLOYED/);
    expect(run.stdout).toContain('none: no lab stack is deployed');
    expect(run.stdout).not.toContain('Lab roles');
    expect(run.stdout).toMatch(/kms-key-lab-alarm-primary\s+ap-southeast-1\s+NOT_DEPLOYED/);
    expect(run.stdout).toMatch(/kms-key-lab-alarm-secondary\s+ap-southeast-2\s+NOT_DEPLOYED/);
    // One DescribeStacks per lab stack: primary, secondary, cloudhsm, roles and the two alarm stacks; and, with no
    // primary stack to name them, one ListSecrets for escrows a teardown left scheduled for deletion.
    expect(aws.log.map((l) => l.split(' ')[1])).toEqual([...Array(6).fill('DescribeStacks'), 'ListSecrets']);
  });

  test('with deletionAlarm=true the two alarm stacks are listed with their status, each in its Region', async () => {
    FakeAws.lab({ deletionAlarm: true }).install();
    const run = await runCli(['status', '--json']);
    expect(run.code).toBe(0);
    const report = json<StatusReport>(run);
    expect(report.stacks.map((s) => [s.role, s.name, s.region, s.status])).toEqual([
      ['primary', 'kms-key-lab-primary', PRIMARY, 'CREATE_COMPLETE'],
      ['secondary', 'kms-key-lab-secondary', SECONDARY, 'CREATE_COMPLETE'],
      ['cloudhsm', 'kms-key-lab-cloudhsm', PRIMARY, 'NOT_DEPLOYED'],
      ['roles', 'kms-key-lab-roles', PRIMARY, 'CREATE_COMPLETE'],
      ['alarm-primary', 'kms-key-lab-alarm-primary', PRIMARY, 'CREATE_COMPLETE'],
      ['alarm-secondary', 'kms-key-lab-alarm-secondary', SECONDARY, 'CREATE_COMPLETE'],
    ]);
    // The alarm stacks hold no key.
    expect(report.keys).toHaveLength(7);
    const text = await runCli(['status']);
    expect(text.stdout).toMatch(/^ {2}kms-key-lab-alarm-primary\s+ap-southeast-1\s+CREATE_COMPLETE\s+2025-06-01T00:00:00.000Z$/m);
    expect(text.stdout).toMatch(/^ {2}kms-key-lab-alarm-secondary\s+ap-southeast-2\s+CREATE_COMPLETE\s+2025-06-01T00:00:00.000Z$/m);
  });

  test('after a teardown that kept the alarm stacks, they are the stacks shown, and no key is', async () => {
    const aws = FakeAws.lab({ deletionAlarm: true }).install();
    for (const name of ['kms-key-lab-primary', 'kms-key-lab-roles']) aws.stacks.delete(`${PRIMARY}|${name}`);
    aws.stacks.delete(`${SECONDARY}|kms-key-lab-secondary`);
    const run = await runCli(['status']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/kms-key-lab-primary\s+ap-southeast-1\s+NOT_DEPLOYED/);
    expect(run.stdout).toMatch(/kms-key-lab-alarm-primary\s+ap-southeast-1\s+CREATE_COMPLETE/);
    expect(run.stdout).toMatch(/kms-key-lab-alarm-secondary\s+ap-southeast-2\s+CREATE_COMPLETE/);
    expect(run.stdout).toContain('Keys\n  none: no deployed stack holds a lab key\n');
    expect(run.stdout).not.toContain('no lab stack is deployed');
  });

  test('--profile takes credentials from that profile for every client, the older CloudHSM client included', async () => {
    const aws = FakeAws.lab({ cloudHsm: true }).install();
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    const dir = tempDir();
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
    fs.writeFileSync(process.env.AWS_SHARED_CREDENTIALS_FILE, `[lab]\naws_access_key_id = ${OPERATOR_ACCESS_KEY}\naws_secret_access_key = s\n`);
    const run = await runCli(['status', '--profile', 'lab', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(aws.log).toContain(`operator DescribeClusters ${PRIMARY}`);
    expect(json<StatusReport>(run).cloudHsm?.hsmCount).toBe(2);
  });
});
