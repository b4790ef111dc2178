import { decodeEscrowRecord } from '../../lambda/import-key-material/escrow-record';
import { materialSpellings } from '../../lambda/import-key-material/material';
import { RotateReport } from '../../cli/rotate/report';
import { FakeAws, PRIMARY, SECONDARY, serviceError } from './fake-aws';
import { HANDLER_ROLE, keyMaterial, materialId, profileAs, sentInputs } from './fake-key-material';
import { CliRun, json, runCli, useOperatorCredentials } from './harness';

useOperatorCredentials();

const CHANGES = /^(RotateKeyOnDemand|GetParametersForImport|ImportKeyMaterial|PutSecretValue)$/;
const operations = (aws: FakeAws) => aws.log.map((l) => l.split(' ')[1]);
const changes = (aws: FakeAws) => operations(aws).filter((o) => CHANGES.test(o));
const throttled = () => serviceError('ThrottlingException', 'Rate exceeded');

/**
 * What leaves the CLI: neither stdout nor stderr may hold any material the
 * fake has seen (keys, escrow versions, imports), in any spelling; and no
 * KMS request carries raw material, only its wrapped form.
 */
function expectNoMaterial(run: CliRun, aws: FakeAws): void {
  const fake = keyMaterial(aws);
  const materials = [...fake.unwrapped, ...fake.escrowedMaterials(), ...[...fake.materials.values()].flat().map((m) => m.material)];
  const kmsInputs = sentInputs().filter((s) => !/SecretValue$/.test(s.operation));
  const sent = JSON.stringify(kmsInputs.map((s) => Object.fromEntries(Object.entries(s.input).map(([k, v]) => [k, v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v]))));
  for (const material of materials) {
    for (const spelling of materialSpellings(material)) {
      expect(run.stdout).not.toContain(spelling);
      expect(run.stderr).not.toContain(spelling);
    }
    expect(sent).not.toContain(material.toString('hex'));
  }
}

async function rotate(args: string[], options: Parameters<typeof runCli>[1] = {}) {
  return runCli(['rotate', ...args], options);
}

describe('kms-lab rotate', () => {
  test("--dry-run shows each key's rotation status, history and plan, and changes nothing", async () => {
    const aws = FakeAws.lab({ cloudHsm: true }).install();
    keyMaterial(aws).addRotations(aws.key('MultiRegion'), 2);
    keyMaterial(aws).addRotations(aws.key('SingleRegion'), 1, 'AUTOMATIC');
    const run = await rotate(['--dry-run', '--json', ...profileAs(aws, 'keyadmin')]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = json<RotateReport>(run);
    expect(report.dryRun).toBe(true);
    expect(report.keys.map((k) => [k.scenario, k.where, k.origin, k.plan, k.onDemand?.used])).toEqual([
      ['a', 'primary', 'AWS_KMS', 'rotate-on-demand', 0],
      ['a', 'secondary', 'AWS_KMS', 'rotate-on-demand', 0],
      ['b', 'primary', 'AWS_KMS', 'rotate-on-demand', 2],
      ['b', 'secondary', 'AWS_KMS', 'follows-primary', 2],
      ['c', 'primary', 'EXTERNAL', 'rotate-imported-material', 0],
      ['d', 'primary', 'AWS_CLOUDHSM', 'cannot-rotate', undefined],
      ['e', 'primary', 'EXTERNAL', 'rotate-imported-material', 0],
      ['e', 'secondary', 'EXTERNAL', 'follows-primary', 0],
    ]);
    const [a, , b, replica, c, d, e, eReplica] = report.keys;
    expect(a.automaticRotation).toBe('on, every 365 days, next 2026-06-01T00:00:00.000Z');
    expect(a.materials.map((m) => [m.state, m.rotationType])).toEqual([
      ['NON_CURRENT', undefined],
      ['CURRENT', 'AUTOMATIC'],
    ]);
    expect(b.onDemand).toEqual({ used: 2, limit: 25, left: 23 });
    expect(replica.planDetail).toContain("a replica shares its primary's material");
    expect(c.automaticRotation).toBe('n/a (EXTERNAL material)');
    expect(c.materials).toEqual([{ keyMaterialId: aws.key('ImportedMaterial').currentKeyMaterialId, state: 'CURRENT', importState: 'IMPORTED' }]);
    expect(d.planDetail).toContain('keys in a CloudHSM key store rotate neither automatically nor on demand');
    expect(d.materials).toEqual([]);
    expect(e.planDetail).toBe(
      `new material: 32 random bytes escrowed first, then imported as NEW_KEY_MATERIAL into the primary, then as EXISTING_KEY_MATERIAL into the replica in ${SECONDARY} and rotated to; the current material ${aws.key('MultiRegionImported').currentKeyMaterialId} stays in the keys and the escrow for decrypting`,
    );
    expect(eReplica.planDetail).toBe('a replica takes no new material of its own: rotating the (e) primary imports the same new material into it (EXISTING_KEY_MATERIAL) first');
    // Read-only, every key's whole history asked for, and no rotation status asked of imported or CloudHSM material.
    expect(changes(aws)).toEqual([]);
    const lists = sentInputs().filter((s) => s.operation === 'ListKeyRotations');
    expect(lists).toHaveLength(7);
    expect(lists.every((s) => s.input.IncludeKeyMaterial === 'ALL_KEY_MATERIAL')).toBe(true);
    expect(operations(aws).filter((o) => o === 'GetKeyRotationStatus')).toHaveLength(4);
    expect(report.apiCalls).toBe(aws.log.length);
    expectNoMaterial(run, aws);
  });

  test('the text form shows the keys, the material history and says a dry run rotated nothing', async () => {
    const aws = FakeAws.lab().install();
    const run = await rotate(['--dry-run', '--scenario', 'a,b']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\(a\) primary\s+ap-southeast-1\s+Enabled\s+AWS_KMS\s+on, every 365 days[^\n]+0 of 25 used\s+rotate on demand/);
    expect(run.stdout).toMatch(/\(b\) replica\s+ap-southeast-2[^\n]+a replica shares its primary's material/);
    expect(run.stdout).toContain(`(b) primary    ${aws.key('MultiRegion').currentKeyMaterialId}  CURRENT`);
    expect(run.stdout).toMatch(/Dry run: nothing was rotated\.\n\d+ AWS API calls\n$/);
  });

  test('rotates (a) in both Regions and the (b) primary on demand once confirmed; the replica follows its primary', async () => {
    const aws = FakeAws.lab().install();
    const before = aws.key('MultiRegion').currentKeyMaterialId;
    const questions: string[] = [];
    const run = await rotate(['--scenario', 'a,b'], { io: { confirm: async (q) => (questions.push(q), true) } });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(questions).toEqual([
      `Rotate 3 keys: (a) primary in ${PRIMARY} on demand, (a) secondary in ${SECONDARY} on demand, (b) primary in ${PRIMARY} on demand? Each rotation uses one of the 25 on-demand rotations its key is allowed.`,
    ]);
    expect(aws.log.filter((l) => l.includes('RotateKeyOnDemand'))).toEqual([
      `operator RotateKeyOnDemand ${PRIMARY}`,
      `operator RotateKeyOnDemand ${SECONDARY}`,
      `operator RotateKeyOnDemand ${PRIMARY}`,
    ]);
    const replica = aws.key('MultiRegion', 'secondary');
    expect(replica.currentKeyMaterialId).not.toBe(before);
    expect(replica.currentKeyMaterialId).toBe(aws.key('MultiRegion').currentKeyMaterialId);
    expect(run.stdout).toMatch(/\(b\) primary\s+ROTATED\s+rotated on demand \(1 of 25 on-demand rotations now used\)/);
  });

  test('rotates the imported material end to end: escrow first, import as new, rotate, then the escrow records the new id and keeps the old material', async () => {
    const aws = FakeAws.lab().install();
    const fake = keyMaterial(aws);
    const key = aws.key('ImportedMaterial');
    const old = { material: Buffer.from(key.material), id: key.currentKeyMaterialId! };
    const run = await rotate(['--scenario', 'c', '--yes', '--json', ...profileAs(aws, 'keyadmin')]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);

    expect(aws.log.filter((l) => !/Describe|ListKeyRotations/.test(l))).toEqual(
      ['GetSecretValue', 'PutSecretValue', 'GetParametersForImport', 'ImportKeyMaterial', 'RotateKeyOnDemand', 'PutSecretValue'].map((o) => `${aws.adminRole} ${o} ${PRIMARY}`),
    );
    // The wrapping check: the private key unwraps exactly the bytes the escrow received first.
    const versions = fake.secretValues.get(fake.escrowName)!.map((v) => decodeEscrowRecord(v)!);
    expect(versions).toHaveLength(3);
    const [, escrowedFirst, final] = versions;
    expect(fake.unwrapped).toHaveLength(1);
    expect(fake.unwrapped[0].equals(escrowedFirst.material)).toBe(true);
    expect(escrowedFirst.keyMaterialId).toBeUndefined();
    expect(escrowedFirst.previous).toEqual([{ material: old.material, keyMaterialId: old.id }]);
    const newId = materialId(key.keyId, fake.unwrapped[0]);
    expect(final).toEqual({ keyArn: key.arn, material: fake.unwrapped[0], keyMaterialId: newId, previous: [{ material: old.material, keyMaterialId: old.id }] });

    const imported = sentInputs().find((s) => s.operation === 'ImportKeyMaterial')!.input;
    expect(imported).toMatchObject({ KeyId: key.arn, ImportType: 'NEW_KEY_MATERIAL', ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    expect(sentInputs().find((s) => s.operation === 'GetParametersForImport')!.input).toMatchObject({ WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_4096' });
    expect(key.currentKeyMaterialId).toBe(newId);
    expect(fake.of(key).map((m) => [m.id, m.state, m.rotationType])).toEqual([
      [old.id, 'NON_CURRENT', undefined],
      [newId, 'CURRENT', 'ON_DEMAND'],
    ]);
    const c = json<RotateReport>(run).keys[0];
    expect(c).toMatchObject({ plan: 'rotate-imported-material', result: 'rotated', newKeyMaterialId: newId });
    expect(c.resultDetail).toContain(`the previous material ${old.id} stays in the key and in the escrow`);
    expectNoMaterial(run, aws);

    // A second rotation keeps both earlier materials, newest first.
    const again = await rotate(['--scenario', 'c', '--yes', ...profileAs(aws, 'keyadmin')]);
    expect(again.code).toBe(0);
    expect(fake.escrowRecord()!.previous!.map((p) => p.keyMaterialId)).toEqual([newId, old.id]);
    expectNoMaterial(again, aws);
  });

  test('without access to the escrows, (c) and (e) are refused before anything is touched, and no other key is rotated either', async () => {
    const aws = FakeAws.lab().install();
    const key = aws.key('ImportedMaterial');
    const before = key.currentKeyMaterialId;
    const run = await rotate(['--yes']);
    expect(run.code).toBe(1);
    expect(changes(aws)).toEqual([]);
    expect(key.currentKeyMaterialId).toBe(before);
    expect(keyMaterial(aws).secretValues.get(keyMaterial(aws).escrowName)).toHaveLength(1);
    expect(keyMaterial(aws).secretValues.get(keyMaterial(aws).multiRegionEscrowName)).toHaveLength(1);
    const paragraphs = run.stderr.trim().split('\n');
    expect(paragraphs).toHaveLength(2);
    expect(paragraphs[0]).toContain(`stopped before touching the key: AWS denied GetSecretValue on its escrow secret ${keyMaterial(aws).escrowName}`);
    expect(paragraphs[0]).toContain("lets only the import handler's role and the key administrators (keyAdminArns)");
    expect(paragraphs[0]).toContain("What to do: run kms-lab rotate as a key administrator (--profile <an administrator's profile>). Or leave (c) out with --scenario a,b,e.");
    expect(paragraphs[1]).toContain(
      `Rotating the imported material of (e) ${aws.key('MultiRegionImported').arn} stopped before touching the key: AWS denied GetSecretValue on its escrow secret ${keyMaterial(aws).multiRegionEscrowName} in ${PRIMARY}`,
    );
    expect(paragraphs[1]).toContain("What to do: run kms-lab rotate as a key administrator (--profile <an administrator's profile>). Or leave (e) out with --scenario a,b,c.");
    expect(run.stdout).toContain('Nothing was rotated (see the paragraphs on stderr).');
    expectNoMaterial(run, aws);
  });

  test('an administrator whom an escrow policy does not let write is refused at PutSecretValue, before the key is touched', async () => {
    const aws = FakeAws.lab().install();
    const fake = keyMaterial(aws);
    // A policy that lets only the import handler write (the lab's own lets the key administrators write too).
    fake.escrowPolicy.writers = [HANDLER_ROLE];
    const run = await rotate(['--yes', '--scenario', 'a,c', ...profileAs(aws, 'keyadmin')]);
    expect(run.code).toBe(1);
    expect(changes(aws)).toEqual(['PutSecretValue']);
    expect(fake.secretValues.get(fake.escrowName)).toHaveLength(1);
    expect(fake.unwrapped).toEqual([]);
    expect(run.stderr).toContain('AWS denied PutSecretValue on its escrow secret');
    expect(run.stderr).toContain('Nothing was changed: the escrow write comes first, and the new material was discarded.');
    expect(run.stderr).toContain('it must name the administrators too');
    expect(run.stdout).toMatch(/\(c\) primary\s+FAILED/);
    expect(run.stdout).toMatch(/\(a\) primary\s+NOT-RUN/);
    expectNoMaterial(run, aws);
  });

  test('with no terminal and no --yes it refuses with one paragraph and exit 2, before any AWS call', async () => {
    const aws = FakeAws.lab().install();
    const run = await rotate([]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^kms-lab rotate rotates KMS keys [^\n]*there is no terminal to ask on \(stdin is not a TTY\)[^\n]*What to do:[^\n]*--yes[^\n]*\n$/);
    expect(aws.log).toEqual([]);
  });

  test('a "no" at the question rotates nothing and exits 1', async () => {
    const aws = FakeAws.lab().install();
    const run = await rotate(['--scenario', 'a'], { io: { confirm: async () => false } });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('kms-lab rotate was not confirmed, so nothing was changed. What to do: run it again and answer y, or add --yes.\n');
    expect(changes(aws)).toEqual([]);
  });

  test('counts ON_DEMAND rotations across pages and refuses a key that has used all 25, rotating nothing', async () => {
    const aws = FakeAws.lab().install();
    const fake = keyMaterial(aws);
    fake.pageSize = 10;
    fake.addRotations(aws.key('MultiRegion'), 25);
    const run = await rotate(['--scenario', 'a,b', '--yes', '--json']);
    expect(run.code).toBe(1);
    expect(changes(aws)).toEqual([]);
    const b = json<RotateReport>(run).keys.find((k) => k.scenario === 'b' && k.where === 'primary')!;
    expect(b).toMatchObject({ plan: 'refused', onDemand: { used: 25, limit: 25, left: 0 } });
    expect(b.materials).toHaveLength(26);
    expect(aws.log.filter((l) => l === `operator ListKeyRotations ${PRIMARY}`).length).toBeGreaterThanOrEqual(4);
    expect(run.stderr).toContain(`(b) primary ${aws.key('MultiRegion').arn} in ${PRIMARY} has used all 25 on-demand rotations KMS allows a key`);
    expect(run.stderr).toContain('Its automatic rotation (every 365 days) goes on.');
    expect(run.stderr).toContain('leave it out with --scenario (e.g. --scenario a,c,e)');
  });

  test('a key pending deletion is shown and left alone; the others rotate', async () => {
    const aws = FakeAws.lab().install();
    aws.key('SingleRegion', 'secondary').state = 'PendingDeletion';
    const run = await rotate(['--scenario', 'a', '--yes', '--json']);
    expect(run.code).toBe(0);
    const [primary, secondary] = json<RotateReport>(run).keys;
    expect(primary).toMatchObject({ plan: 'rotate-on-demand', result: 'rotated' });
    expect(secondary).toMatchObject({ state: 'PendingDeletion', plan: 'skip', planDetail: 'PendingDeletion: a key on its way out is not rotated', materials: [] });
    expect(changes(aws)).toEqual(['RotateKeyOnDemand']);
  });

  test('throttling stops the rotations at the first failure, with one paragraph, and says what was not run', async () => {
    const aws = FakeAws.lab().install();
    aws.failures.set('RotateKeyOnDemand', throttled);
    const run = await rotate(['--scenario', 'a', '--yes', '--json']);
    expect(run.code).toBe(1);
    const paragraphs = run.stderr.trim().split('\n');
    expect(paragraphs).toEqual([expect.stringMatching(/^RotateKeyOnDemand in ap-southeast-1 failed: AWS throttled RotateKeyOnDemand in ap-southeast-1[^\n]*AWS_MAX_ATTEMPTS=10/)]);
    expect(json<RotateReport>(run).keys.map((k) => k.result)).toEqual(['failed', 'not-run']);
  });

  test('a throttled read stops the command before any change', async () => {
    const aws = FakeAws.lab().install();
    aws.failures.set('ListKeyRotations', throttled);
    const run = await rotate(['--yes']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^ListKeyRotations in ap-southeast-[12] failed: AWS throttled ListKeyRotations/);
    expect(changes(aws)).toEqual([]);
  });

  test('a failed import puts the escrow back as it was, and nothing is rotated', async () => {
    const aws = FakeAws.lab().install();
    const fake = keyMaterial(aws);
    const key = aws.key('ImportedMaterial');
    const before = { record: fake.escrowRecord(), id: key.currentKeyMaterialId };
    aws.failures.set('ImportKeyMaterial', throttled);
    const run = await rotate(['--scenario', 'c', '--yes', ...profileAs(aws, 'keyadmin')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('AWS throttled ImportKeyMaterial');
    expect(run.stderr).toContain('was put back to its previous record, so the key and the escrow are as they were.');
    expect(fake.escrowRecord()).toEqual(before.record);
    expect(key.currentKeyMaterialId).toBe(before.id);
    expect(operations(aws)).not.toContain('RotateKeyOnDemand');
    expectNoMaterial(run, aws);
  });

  test('a rotation interrupted after the import is finished by the next run, without new material', async () => {
    const aws = FakeAws.lab().install();
    const fake = keyMaterial(aws);
    const key = aws.key('ImportedMaterial');
    const profile = profileAs(aws, 'keyadmin');
    aws.failures.set('RotateKeyOnDemand', throttled);
    const first = await rotate(['--scenario', 'c', '--yes', ...profile]);
    expect(first.code).toBe(1);
    const pendingId = materialId(key.keyId, fake.unwrapped[0]);
    expect(first.stderr).toContain(`The new material ${pendingId} is escrowed and imported, but not yet current: run \`kms-lab rotate --scenario c\` again`);
    expect(fake.escrowRecord()!.keyMaterialId).toBe(pendingId);

    aws.failures.clear();
    const second = await rotate(['--scenario', 'c', '--yes', '--json', ...profile]);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(json<RotateReport>(second).keys[0].planDetail).toContain(`the escrowed material ${pendingId} is imported and pending; rotate to it`);
    expect(fake.unwrapped).toHaveLength(1);
    expect(key.currentKeyMaterialId).toBe(pendingId);
    expectNoMaterial(second, aws);
  });

  test('an escrow that does not record the material the key uses is refused, before anything changes', async () => {
    const aws = FakeAws.lab().install();
    const fake = keyMaterial(aws);
    const record = fake.escrowRecord()!;
    fake.addRotations(aws.key('ImportedMaterial'), 1);
    const run = await rotate(['--scenario', 'c', '--yes', ...profileAs(aws, 'keyadmin')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`the escrow records the material ${record.keyMaterialId}, but the key's current material is ${aws.key('ImportedMaterial').currentKeyMaterialId}`);
    expect(changes(aws)).toEqual([]);
  });

  test('the alarm stacks are never looked up, and a lab of only its alarm stacks has no primary stack to rotate', async () => {
    const aws = FakeAws.lab({ deletionAlarm: true }).install();
    const run = await rotate(['--dry-run', '--json', '--scenario', 'a', ...profileAs(aws, 'keyadmin')]);
    expect(run.code).toBe(0);
    expect(aws.log.filter((l) => l.includes('DescribeStacks'))).toHaveLength(4);
    for (const key of [...aws.stacks.keys()]) if (!key.includes('-alarm-')) aws.stacks.delete(key);
    const gone = await rotate(['--dry-run', ...profileAs(aws, 'keyadmin')]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('The stack kms-key-lab-primary (ap-southeast-1) is not deployed');
  });

  test('a lab without its primary stack is named with its Region', async () => {
    new FakeAws().install();
    const run = await rotate(['--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`The stack kms-key-lab-primary (${PRIMARY}) is not deployed`);
  });

  test('an unknown scenario is a usage error', async () => {
    const run = await rotate(['--scenario', 'a,x', '--yes']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--scenario "a,x" names unknown scenario x');
  });

  test('--help documents the options and the alias-swap rotation', async () => {
    const run = await rotate(['--help']);
    expect(run.code).toBe(0);
    for (const text of ['--json', '--yes', '--dry-run', '--scenario <list>', 'aws kms update-alias --alias-name alias/<prefix>/<name>', 'keep the old key for decrypting']) {
      expect(run.stdout).toContain(text);
    }
  });
});
