import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeEscrowRecord } from '../../lambda/import-key-material/escrow-record';
import { StatusReport } from '../../cli/status/report';
import { TeardownReport } from '../../cli/teardown/report';
import { VerifyReport } from '../../cli/verify/report';
import { FakeAws, LAB_ADMIN_ROLE, LAB_USER_ROLE, OPERATOR_ACCESS_KEY, PRIMARY, SECONDARY } from './fake-aws';
import { keyMaterial, profileAs, sentInputs } from './fake-key-material';
import { lifecycle } from './fake-lifecycle';
import { json, runCli, tempDir, useOperatorCredentials, writeCdkJson } from './harness';

useOperatorCredentials();

/** The lab as `cdk deploy --all` leaves it with the default settings: scenario (e) on, and the roles stack for empty principal lists. */
const defaultLab = () => FakeAws.lab().install();

const check = (report: VerifyReport, scenario: string, id: string) => {
  const found = report.checks.find((c) => c.scenario === scenario && c.check === id);
  if (!found) throw new Error(`no check ${scenario} ${id}`);
  return found;
};

/** Back to the operator's own credentials after a run under --profile, as a key user would verify. */
const asOperator = () => Object.assign(process.env, { AWS_ACCESS_KEY_ID: OPERATOR_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: 'operator-secret' });

/** Every spelling of a material that must never be printed. */
const spellings = (m: Buffer) => [m.toString('hex'), m.toString('base64'), m.toString('base64url')];

describe('scenario (e) and the lab roles: status', () => {
  test("shows (e)'s primary and replica, the roles stack and the roles it made", async () => {
    const aws = defaultLab();
    const run = await runCli(['status', '--json']);
    const report = json<StatusReport>(run);
    expect(run.code).toBe(0);
    expect(report.stacks.map((s) => [s.name, s.region, s.status])).toContainEqual(['kms-key-lab-roles', PRIMARY, 'CREATE_COMPLETE']);
    const e = report.keys.filter((k) => k.scenario === 'e');
    expect(e.map((k) => [k.where, k.region, k.keyArn, k.origin, k.multiRegion])).toEqual([
      ['primary', PRIMARY, aws.key('MultiRegionImported').arn, 'EXTERNAL', 'PRIMARY'],
      ['secondary', SECONDARY, aws.key('MultiRegionImported', 'secondary').arn, 'EXTERNAL', 'REPLICA'],
    ]);
    expect(report.labRoles).toEqual({ stack: 'kms-key-lab-roles', keyAdminRoleArn: LAB_ADMIN_ROLE, keyUserRoleArn: LAB_USER_ROLE });

    const text = await runCli(['status']);
    expect(text.stdout).toContain('(e) replica');
    expect(text.stdout).toContain(`Lab roles (kms-key-lab-roles)\n  key administrator  ${LAB_ADMIN_ROLE}\n  key user           ${LAB_USER_ROLE}\n`);
  });

  test('a lab deployed without (e) shows no (e) key and no problem', async () => {
    FakeAws.lab({ multiRegionImported: false, labRoles: false }).install();
    const run = await runCli(['status', '--json']);
    const report = json<StatusReport>(run);
    expect(run.code).toBe(0);
    expect(report.keys.some((k) => k.scenario === 'e')).toBe(false);
    expect(report.problems).toEqual([]);
    // The roles stack is there whatever keyAdminArns and keyUserArns say (lib/stacks/roles-stack.ts).
    expect(report.stacks.find((s) => s.role === 'roles')?.status).toBe('CREATE_COMPLETE');
  });

  test('a primary stack with only some of (e)\'s outputs is a problem that names them', async () => {
    const aws = defaultLab();
    delete aws.stacks.get(`${PRIMARY}|kms-key-lab-primary`)!.outputs.MultiRegionImportedKeyAlias;
    const run = await runCli(['status', '--json']);
    expect(run.code).toBe(1);
    expect(json<StatusReport>(run).problems.join('\n')).toContain('has no output MultiRegionImportedKeyAlias');
  });
});

describe('scenario (e) and the lab roles: verify', () => {
  test('proves (e) both ways across Regions, and checks the policy split with the lab roles, without --admin-role or --user-role', async () => {
    const aws = defaultLab();
    const run = await runCli(['verify', '--json']);
    const report = json<VerifyReport>(run);
    expect(run.code).toBe(0);
    expect(report.checks.filter((c) => c.scenario === 'e').map((c) => [c.check, c.region, c.result])).toEqual([
      ['holds-material:primary', PRIMARY, 'PASS'],
      ['holds-material:secondary', SECONDARY, 'PASS'],
      ['encrypt-decrypt:primary', PRIMARY, 'PASS'],
      ['encrypt-decrypt:secondary', SECONDARY, 'PASS'],
      ['cross-region-decrypt', SECONDARY, 'PASS'],
      ['cross-region-decrypt:reverse', PRIMARY, 'PASS'],
    ]);
    const id = aws.key('MultiRegionImported').keyId;
    expect(check(report, 'e', 'cross-region-decrypt:reverse').detail).toBe(
      `encrypted in ${SECONDARY} by the replica, decrypted in ${PRIMARY} by the primary (same key id ${id})`,
    );
    expect(check(report, 'policy', 'admin-denied-encrypt')).toMatchObject({ result: 'PASS' });
    expect(check(report, 'policy', 'admin-denied-encrypt').detail).toContain(LAB_ADMIN_ROLE);
    expect(check(report, 'policy', 'user-denied-schedule-deletion').detail).toContain(LAB_USER_ROLE);
    expect(report.summary.skip).toBe(1);
  });

  test('a replica stuck in PendingImport fails its check with the remedy, and the checks that need it say why they did not run', async () => {
    const aws = defaultLab();
    const replica = aws.key('MultiRegionImported', 'secondary');
    replica.state = 'PendingImport';
    const run = await runCli(['verify', '--json', '--scenario', 'e']);
    const report = json<VerifyReport>(run);
    expect(run.code).toBe(1);
    expect(check(report, 'e', 'holds-material:primary').result).toBe('PASS');
    const failed = check(report, 'e', 'holds-material:secondary');
    expect(failed.result).toBe('FAIL');
    expect(failed.detail).toContain(`the replica ${replica.arn} in ${SECONDARY} is PendingImport`);
    expect(failed.detail).toContain('npx cdk deploy kms-key-lab-secondary');
    expect(failed.detail).toContain(`kms-lab import-material --key ${replica.arn} --from-escrow`);
    for (const id of ['encrypt-decrypt:secondary', 'cross-region-decrypt', 'cross-region-decrypt:reverse']) {
      expect(check(report, 'e', id)).toMatchObject({ result: 'FAIL', detail: `not run: ${replica.arn} cannot be used (see holds-material:secondary)` });
    }
    expect(check(report, 'e', 'encrypt-decrypt:primary').result).toBe('PASS');
    expect(run.stderr).toContain('(e) holds-material:secondary');
  });

  test('without the secondary stack, (e)\'s primary is checked, and every check that needs the replica skips for the same reason', async () => {
    FakeAws.lab({ deploySecondary: false }).install();
    const report = json<VerifyReport>(await runCli(['verify', '--json', '--scenario', 'e']));
    expect(report.checks.map((c) => [c.check, c.result])).toEqual([
      ['holds-material:primary', 'PASS'],
      ['holds-material:secondary', 'SKIP'],
      ['encrypt-decrypt:primary', 'PASS'],
      ['encrypt-decrypt:secondary', 'SKIP'],
      ['cross-region-decrypt', 'SKIP'],
      ['cross-region-decrypt:reverse', 'SKIP'],
    ]);
    for (const c of report.checks.filter((c) => c.result === 'SKIP')) expect(c.detail).toBe('the stack kms-key-lab-secondary is not deployed');
  });

  test('a lab deployed without (e) skips its checks, saying why', async () => {
    FakeAws.lab({ multiRegionImported: false }).install();
    const report = json<VerifyReport>(await runCli(['verify', '--json', '--scenario', 'e']));
    expect(report.checks.map((c) => c.result)).toEqual(['SKIP']);
    expect(report.checks[0].detail).toContain('multiRegionImportedKey=false');
  });

  test('with keyAdminArns and keyUserArns set, the roles stack left from an earlier deploy is not used', async () => {
    defaultLab();
    const dir = tempDir();
    writeCdkJson(dir, { keyAdminArns: ['arn:aws:iam::111122223333:role/Admins'], keyUserArns: 'arn:aws:iam::111122223333:role/Users' });
    const report = json<VerifyReport>(await runCli(['verify', '--json', '--scenario', 'policy'], { cwd: dir }));
    expect(report.checks.map((c) => c.result)).toEqual(['SKIP', 'SKIP']);
    expect(report.checks[0].detail).toBe("pass --admin-role <role ARN> to check it (keyAdminArns names the lab's principals, so the lab made no role of its own)");
  });

  test('without the roles stack, the policy checks say which stack would have held the roles', async () => {
    // A lab whose roles stack was deleted (or made by a version of the app without one).
    const aws = FakeAws.lab({ labRoles: false }).install();
    aws.stacks.delete(`${PRIMARY}|kms-key-lab-roles`);
    const report = json<VerifyReport>(await runCli(['verify', '--json', '--scenario', 'policy']));
    expect(report.checks[1].detail).toBe(
      "pass --user-role <role ARN> to check it (the stack kms-key-lab-roles, which holds the lab's own roles when keyUserArns is empty, is not deployed)",
    );
  });

  test('a principal list that is not a list is a usage error naming the setting', async () => {
    defaultLab();
    const run = await runCli(['verify', '-c', 'keyAdminArns=[not json']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('"keyAdminArns" is "[not json", but accepts a list of IAM principal ARNs');
  });
});

describe('scenario (e): rotate', () => {
  test('escrows new material first in the primary Region, imports the same bytes into both Regions, then rotates the primary', async () => {
    const aws = defaultLab();
    const km = keyMaterial(aws);
    const primary = aws.key('MultiRegionImported');
    const replica = aws.key('MultiRegionImported', 'secondary');
    const before = km.escrowRecord(km.multiRegionEscrowName)!;
    const run = await runCli(['rotate', '--yes', '--scenario', 'e', ...profileAs(aws, 'keyadmin')]);
    expect(run.code).toBe(0);

    const after = km.escrowRecord(km.multiRegionEscrowName)!;
    expect(after.material.equals(before.material)).toBe(false);
    expect(after.previous?.[0].material.equals(before.material)).toBe(true);
    expect(after.keyMaterialId).toBe(primary.currentKeyMaterialId);
    // The same new bytes, unwrapped by each Region's own private key, and now current in both keys.
    expect(km.unwrapped.map((m) => m.equals(after.material))).toEqual([true, true]);
    expect(primary.material.equals(after.material)).toBe(true);
    expect(replica.material.equals(after.material)).toBe(true);
    expect(replica.currentKeyMaterialId).toBe(primary.currentKeyMaterialId);

    const calls = aws.log.filter((l) => /PutSecretValue|GetParametersForImport|ImportKeyMaterial|RotateKeyOnDemand/.test(l)).map((l) => l.split(' ').slice(1).join(' '));
    expect(calls).toEqual([
      `PutSecretValue ${PRIMARY}`,
      `GetParametersForImport ${PRIMARY}`,
      `ImportKeyMaterial ${PRIMARY}`,
      `GetParametersForImport ${SECONDARY}`,
      `ImportKeyMaterial ${SECONDARY}`,
      `RotateKeyOnDemand ${PRIMARY}`,
      `PutSecretValue ${PRIMARY}`,
    ]);
    const imports = sentInputs().filter((c) => c.operation === 'ImportKeyMaterial').map((c) => [c.input.KeyId, c.input.ImportType]);
    expect(imports).toEqual([
      [primary.arn, 'NEW_KEY_MATERIAL'],
      [replica.arn, 'EXISTING_KEY_MATERIAL'],
    ]);
    for (const m of km.escrowedMaterials()) for (const s of spellings(m)) expect(run.stdout + run.stderr).not.toContain(s);
    expect(run.stdout).toContain(`(imported into the replica in ${SECONDARY} too)`);

    // Both directions still work, on the new material.
    asOperator();
    const verify = json<VerifyReport>(await runCli(['verify', '--json', '--scenario', 'e']));
    expect(verify.summary.fail).toBe(0);
  });

  test('refuses, changing nothing, when the replica is PendingImport', async () => {
    const aws = defaultLab();
    const km = keyMaterial(aws);
    const replica = aws.key('MultiRegionImported', 'secondary');
    replica.state = 'PendingImport';
    const versions = km.secretValues.get(km.multiRegionEscrowName)!.length;
    const run = await runCli(['rotate', '--yes', '--scenario', 'e', ...profileAs(aws, 'keyadmin')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`its replica ${replica.arn} in ${SECONDARY} is PendingImport`);
    expect(run.stderr).toContain(`kms-lab import-material --key ${replica.arn} --from-escrow`);
    expect(km.secretValues.get(km.multiRegionEscrowName)!.length).toBe(versions);
    expect(aws.log.some((l) => /ImportKeyMaterial|RotateKeyOnDemand|PutSecretValue/.test(l))).toBe(false);
  });

  test('a replica that refuses the material stops before the rotation, keeps the new material escrowed, and a second run finishes it', async () => {
    const aws = defaultLab();
    const km = keyMaterial(aws);
    const primary = aws.key('MultiRegionImported');
    const replica = aws.key('MultiRegionImported', 'secondary');
    const current = primary.currentKeyMaterialId;
    // The replica's Region refuses its first ImportKeyMaterial (throttled past the SDK's retries); the primary's goes through.
    let refused = false;
    const origResolve = aws.resolve.bind(aws);
    aws.resolve = (ref: string, region: string) => {
      if (region === SECONDARY && ref === replica.arn && !refused && aws.log[aws.log.length - 1]?.includes('ImportKeyMaterial')) {
        refused = true;
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} });
      }
      return origResolve(ref, region);
    };
    const first = await runCli(['rotate', '--yes', '--scenario', 'e', ...profileAs(aws, 'keyadmin')]);
    expect(refused).toBe(true);
    expect(first.code).toBe(1);
    expect(first.stderr).toContain(`but not into the replica ${replica.arn} in ${SECONDARY}, so no key uses it yet: run \`kms-lab rotate --scenario e\` again`);
    expect(primary.currentKeyMaterialId).toBe(current);
    expect(km.escrowRecord(km.multiRegionEscrowName)!.keyMaterialId).toBeDefined();

    const second = await runCli(['rotate', '--yes', '--scenario', 'e', ...profileAs(aws, 'keyadmin')]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('finish an interrupted rotation');
    expect(primary.currentKeyMaterialId).not.toBe(current);
    expect(replica.material.equals(km.escrowRecord(km.multiRegionEscrowName)!.material)).toBe(true);
  });

  test('never writes the escrow replica in the secondary Region', async () => {
    const aws = defaultLab();
    await runCli(['rotate', '--yes', '--scenario', 'e', ...profileAs(aws, 'keyadmin')]);
    expect(aws.log.filter((l) => l.includes('PutSecretValue')).every((l) => l.endsWith(PRIMARY))).toBe(true);
  });
});

describe('scenario (e): import-material', () => {
  test('--from-escrow gives a PendingImport replica the escrowed material as EXISTING_KEY_MATERIAL, and verify passes again', async () => {
    const aws = defaultLab();
    const km = keyMaterial(aws);
    const replica = aws.key('MultiRegionImported', 'secondary');
    replica.state = 'PendingImport';
    // The record names the primary: the replica is its key by the shared mrk- key id, not by ARN.
    expect(km.escrowRecord(km.multiRegionEscrowName)!.keyArn).toBe(aws.key('MultiRegionImported').arn);
    expect(replica.arn).not.toBe(aws.key('MultiRegionImported').arn);
    const run = await runCli(['import-material', '--key', replica.arn, '--from-escrow', '--yes', ...profileAs(aws, 'keyadmin')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`from          the escrow secret ${km.multiRegionEscrowName} (${PRIMARY})`);
    expect(run.stdout).toContain('PendingImport → Enabled');
    expect(sentInputs().filter((c) => c.operation === 'ImportKeyMaterial').map((c) => c.input.ImportType)).toEqual(['EXISTING_KEY_MATERIAL']);
    expect(aws.log.filter((l) => l.includes('GetSecretValue')).map((l) => l.split(' ').pop())).toEqual([PRIMARY]);
    for (const m of km.escrowedMaterials()) for (const s of spellings(m)) expect(run.stdout + run.stderr).not.toContain(s);
    asOperator();
    const verify = json<VerifyReport>(await runCli(['verify', '--json', '--scenario', 'e']));
    expect(verify.summary.fail).toBe(0);
  });

  test('--from-escrow refuses an escrow whose record names another multi-Region key, importing nothing', async () => {
    const aws = defaultLab();
    const km = keyMaterial(aws);
    const primary = aws.key('MultiRegionImported');
    const replica = aws.key('MultiRegionImported', 'secondary');
    replica.state = 'PendingImport';
    const stranger = primary.arn.replace(primary.keyId, 'mrk-ffffffffffffffffffffffffffffffff');
    km.secretValues.get(km.multiRegionEscrowName)!.push(encodeEscrowRecord({ ...km.escrowRecord(km.multiRegionEscrowName)!, keyArn: stranger }));
    const run = await runCli(['import-material', '--key', replica.arn, '--from-escrow', '--yes', ...profileAs(aws, 'keyadmin')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`the escrow secret ${km.multiRegionEscrowName} holds the material of another key (${stranger})`);
    expect(run.stderr).toContain('Nothing was imported.');
    expect(aws.log.some((l) => l.includes('ImportKeyMaterial'))).toBe(false);
    expect(replica.state).toBe('PendingImport');
    for (const m of km.escrowedMaterials()) for (const s of spellings(m)) expect(run.stdout + run.stderr).not.toContain(s);
  });

  test('a replica takes a file\'s material as EXISTING_KEY_MATERIAL, and answers IncorrectKeyMaterialException for bytes its primary does not hold', async () => {
    const aws = defaultLab();
    const replica = aws.key('MultiRegionImported', 'secondary');
    replica.state = 'PendingImport';
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'other.bin'), Buffer.alloc(32, 0x9c));
    const wrong = await runCli(['import-material', '--key', replica.arn, '--file', 'other.bin', '--yes'], { cwd: dir });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`KMS in ${SECONDARY} refused the material for the key ${replica.arn}`);
    expect(replica.state).toBe('PendingImport');

    fs.writeFileSync(path.join(dir, 'right.bin'), aws.key('MultiRegionImported').material);
    const right = await runCli(['import-material', '--key', replica.arn, '--file', 'right.bin', '--yes'], { cwd: dir });
    expect(right.code).toBe(0);
    expect(replica.state).toBe('Enabled');
  });

  test('--rotate is refused for the replica and for the lab\'s (e) primary, pointing at kms-lab rotate', async () => {
    const aws = defaultLab();
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'm.bin'), Buffer.alloc(32, 0x9c));
    for (const key of [aws.key('MultiRegionImported', 'secondary'), aws.key('MultiRegionImported')]) {
      const run = await runCli(['import-material', '--key', key.arn, '--file', 'm.bin', '--rotate', '--yes'], { cwd: dir });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('kms-lab rotate --scenario e');
      expect(run.stderr).toContain('Nothing was imported.');
    }
    expect(aws.log.some((l) => l.includes('ImportKeyMaterial'))).toBe(false);
  });

  test('--from-escrow refuses a key whose material the lab does not escrow, and takes neither --file nor --rotate', async () => {
    const aws = defaultLab();
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'm.bin'), Buffer.alloc(32, 0x9c));
    const notEscrowed = await runCli(['import-material', '--key', aws.key('SingleRegion').arn, '--from-escrow', '--yes']);
    expect(notEscrowed.code).toBe(1);
    expect(notEscrowed.stderr).toContain('has Origin AWS_KMS');
    const both = await runCli(['import-material', '--key', 'multi-region-imported', '--from-escrow', '--file', 'm.bin', '--yes'], { cwd: dir });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('exactly one of --file <path> and --from-escrow');
    const rotate = await runCli(['import-material', '--key', 'multi-region-imported', '--from-escrow', '--rotate', '--yes']);
    expect(rotate.code).toBe(2);
    expect(rotate.stderr).toContain('kms-lab rotate --scenario c,e');
  });

  test('--from-escrow without an administrator\'s access to the escrow is refused before any import', async () => {
    const aws = defaultLab();
    const run = await runCli(['import-material', '--key', aws.key('MultiRegionImported', 'secondary').arn, '--from-escrow', '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('AWS denied GetSecretValue on the escrow secret');
    expect(aws.log.some((l) => l.includes('ImportKeyMaterial'))).toBe(false);
  });
});

describe('the roles stack: teardown', () => {
  test('is deleted last, after the primary (with --with-roles while the escrows are recoverable)', async () => {
    const aws = defaultLab();
    const escrow = keyMaterial(aws).multiRegionEscrowName;
    const run = await runCli(['teardown', '--yes', '--json', '--with-roles']);
    const report = json<TeardownReport>(run);
    expect(run.code).toBe(0);
    expect(lifecycle(aws).deleteRequests).toEqual(['kms-key-lab-secondary', 'kms-key-lab-primary', 'kms-key-lab-roles']);
    expect(report.stacks.map((s) => [s.name, s.result])).toEqual([
      ['kms-key-lab-cloudhsm', 'not-deployed'],
      ['kms-key-lab-secondary', 'deleted'],
      ['kms-key-lab-primary', 'deleted'],
      ['kms-key-lab-roles', 'deleted'],
      ['kms-key-lab-alarm-secondary', 'not-deployed'],
      ['kms-key-lab-alarm-primary', 'not-deployed'],
    ]);
    expect(report.left?.find((l) => l.id === escrow)).toMatchObject({ kind: 'secret', state: 'PendingDeletion', billable: false });
  });

  test('a roles stack without the lab\'s tag is left alone, with its paragraph, after the others are deleted', async () => {
    const aws = defaultLab();
    aws.stacks.get(`${PRIMARY}|kms-key-lab-roles`)!.tags = { team: 'identity' };
    const run = await runCli(['teardown', '--yes', '--json']);
    const report = json<TeardownReport>(run);
    expect(run.code).toBe(1);
    expect(lifecycle(aws).deleteRequests).toEqual(['kms-key-lab-secondary', 'kms-key-lab-primary']);
    expect(report.stacks.find((s) => s.role === 'roles')?.result).toBe('not-lab');
    expect(run.stderr).toContain(`The stack kms-key-lab-roles (${PRIMARY}) is not this lab's`);
    expect(aws.stacks.has(`${PRIMARY}|kms-key-lab-roles`)).toBe(true);
  });
});
