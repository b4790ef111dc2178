import { EscrowRecord } from '../../lambda/import-key-material/escrow-record';
import { materialSpellings } from '../../lambda/import-key-material/material';
import { importReport, ImportTarget, isLabEscrowKey, planImport, rotationLimitMessage } from '../../cli/import-material/plan';
import { decodeMaterialFile } from '../../cli/key-material/file';
import { rotateHelp } from '../../cli/rotate/help';
import {
  escrowDeniedMessage,
  escrowWithMaterialId,
  escrowWithNewMaterial,
  expirationOf,
  importedRotationStep,
  MaterialEntry,
  onDemandUsage,
  parseRotateScenarios,
  PlanInput,
  planRotation,
} from '../../cli/rotate/plan';
import { renderRotationResults, renderRotationStatus } from '../../cli/rotate/render';
import { KeyRotation, RotateReport, rotateExitCode } from '../../cli/rotate/report';

const ARN = 'arn:aws:kms:ap-southeast-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const material = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256));
const older = Buffer.alloc(32, 3);

const key = (over: Partial<PlanInput> = {}): PlanInput => ({ scenario: 'a', where: 'primary', region: 'ap-southeast-1', keyArn: ARN, state: 'Enabled', origin: 'AWS_KMS', ...over });
const used = (n: number) => onDemandUsage(Array.from({ length: n }, () => ({ rotationType: 'ON_DEMAND' })));

/** One paragraph: one line, a remedy, no stack frames. */
function expectParagraph(text: string): void {
  expect(text).not.toContain('\n');
  expect(text).toContain('What to do:');
}

describe('on-demand rotations', () => {
  test('counts only ON_DEMAND rotations against the 25 a key is allowed', () => {
    const materials: MaterialEntry[] = [{ state: 'NON_CURRENT' }, { rotationType: 'AUTOMATIC' }, { rotationType: 'ON_DEMAND' }, { rotationType: 'ON_DEMAND', state: 'CURRENT' }];
    expect(onDemandUsage(materials)).toEqual({ used: 2, limit: 25, left: 23 });
    expect(used(30).left).toBe(0);
  });
});

describe('planRotation', () => {
  test('a KMS-generated key rotates on demand, saying how many rotations are left', () => {
    expect(planRotation(key({ onDemand: used(3) }))).toEqual({ kind: 'rotate-on-demand', detail: 'rotate on demand (RotateKeyOnDemand), 22 of 25 left' });
  });
  test('a replica follows its primary', () => {
    expect(planRotation(key({ scenario: 'b', where: 'secondary', multiRegion: 'REPLICA' })).kind).toBe('follows-primary');
  });
  test('a CloudHSM key cannot rotate and is pointed at the alias swap', () => {
    const plan = planRotation(key({ scenario: 'd', origin: 'AWS_CLOUDHSM', customKeyStoreId: 'cks-1' }));
    expect(plan.kind).toBe('cannot-rotate');
    expect(plan.detail).toContain('alias swap');
  });
  test('imported material is rotated through the escrow', () => {
    expect(planRotation(key({ scenario: 'c', origin: 'EXTERNAL', onDemand: used(0) })).kind).toBe('rotate-imported-material');
  });
  test.each([
    ['Disabled', 'enable it first (`aws kms enable-key --key-id'],
    ['PendingDeletion', 'a key on its way out is not rotated'],
    ['PendingImport', 'it holds no material to rotate'],
    ['Unavailable', 'KMS rotates only an enabled key'],
  ])('a %s key is left alone, saying why', (state, why) => {
    const plan = planRotation(key({ state }));
    expect(plan.kind).toBe('skip');
    expect(plan.detail).toContain(why);
  });
  test('a key with no on-demand rotation left is refused with a paragraph that names the limit and what to do', () => {
    const plan = planRotation(key({ scenario: 'b', onDemand: used(25), periodDays: 180 }));
    expect(plan.kind).toBe('refused');
    expectParagraph(plan.paragraph!);
    expect(plan.paragraph).toContain('has used all 25 on-demand rotations KMS allows a key (ListKeyRotations lists 25 ON_DEMAND rotations; the quota is not adjustable)');
    expect(plan.paragraph).toContain('Its automatic rotation (every 180 days) goes on.');
    expect(plan.paragraph).toContain('--scenario a,c');
    expect(planRotation(key({ scenario: 'c', origin: 'EXTERNAL', onDemand: used(25) })).paragraph).toContain('Imported material rotates on demand only');
  });
});

describe('importedRotationStep', () => {
  const base = { keyArn: ARN, region: 'ap-southeast-1', escrowSecretName: 'lab/escrow', currentKeyMaterialId: 'm1', materials: [{ keyMaterialId: 'm1', state: 'CURRENT' }] };
  const record = (over: Partial<EscrowRecord> = {}): EscrowRecord => ({ keyArn: ARN, material, keyMaterialId: 'm1', ...over });
  const refusal = (step: ReturnType<typeof importedRotationStep>) => {
    if (!('refuse' in step)) throw new Error(`not refused: ${JSON.stringify(step)}`);
    expectParagraph(step.refuse);
    expect(step.refuse).toContain('Nothing was changed.');
    return step.refuse;
  };

  test('generates new material when the escrow records the current material and nothing is pending', () => {
    expect(importedRotationStep({ ...base, record: record() })).toEqual({ step: 'generate' });
  });
  test('imports the escrowed material when an earlier run escrowed it and stopped before the import', () => {
    const escrowed = escrowWithNewMaterial(record(), older);
    expect(importedRotationStep({ ...base, record: escrowed })).toEqual({ step: 'import-escrowed' });
  });
  test('only rotates when an earlier run imported the escrowed material and stopped before the rotation', () => {
    const escrowed = escrowWithMaterialId(escrowWithNewMaterial(record(), older), 'm2');
    const materials = [...base.materials, { keyMaterialId: 'm2', state: 'PENDING_ROTATION' }];
    expect(importedRotationStep({ ...base, materials, record: escrowed })).toEqual({ step: 'rotate-pending', keyMaterialId: 'm2' });
  });
  test('refuses an escrow with no record, or the record of another key', () => {
    expect(refusal(importedRotationStep({ ...base, record: undefined }))).toContain('holds no escrow record');
    expect(refusal(importedRotationStep({ ...base, record: record({ keyArn: `${ARN}x` }) }))).toContain('holds the material of another key');
  });
  test("(e): the escrow names the primary's ARN, and a record is the key's own by its mrk- key id, in either Region", () => {
    const id = 'mrk-1234abcd12ab34cd56ef1234567890ab';
    const primary = `arn:aws:kms:ap-southeast-1:111122223333:key/${id}`;
    const replica = `arn:aws:kms:ap-southeast-2:111122223333:key/${id}`;
    const e = { ...base, scenario: 'e' as const, record: record({ keyArn: primary }) };
    expect(importedRotationStep({ ...e, keyArn: primary })).toEqual({ step: 'generate' });
    expect(importedRotationStep({ ...e, keyArn: replica, region: 'ap-southeast-2' })).toEqual({ step: 'generate' });
    const other = refusal(importedRotationStep({ ...e, keyArn: primary, record: record({ keyArn: primary.replace(id, 'mrk-ffffffffffffffffffffffffffffffff') }) }));
    expect(other).toContain('holds the material of another key');
    expect(other).toContain('MultiRegionImportedKeyArn and MultiRegionImportedEscrowSecretName');
    // (c) is single-Region: its record must name exactly its ARN.
    expect(refusal(importedRotationStep({ ...base, record: record({ keyArn: ARN.replace('ap-southeast-1', 'ap-southeast-2') }) }))).toContain('holds the material of another key');
  });
  test('refuses material pending rotation that the escrow does not know, with how to remove it', () => {
    const materials = [...base.materials, { keyMaterialId: 'mx', state: 'PENDING_ROTATION' }];
    expect(refusal(importedRotationStep({ ...base, materials, record: record() }))).toContain(
      `aws kms delete-imported-key-material --key-id ${ARN} --key-material-id mx --region ap-southeast-1`,
    );
  });
  test('refuses a record without a material id, and one whose material is not the current one', () => {
    expect(refusal(importedRotationStep({ ...base, record: record({ keyMaterialId: undefined }) }))).toContain('does not say which material it holds');
    expect(refusal(importedRotationStep({ ...base, record: record({ keyMaterialId: 'm0' }) }))).toContain("the escrow records the material m0, but the key's current material is m1");
    expect(refusal(importedRotationStep({ ...base, currentKeyMaterialId: undefined, record: record() }))).toContain('no CurrentKeyMaterialId');
  });
  test('no refusal ever quotes the material', () => {
    const texts = [
      importedRotationStep({ ...base, record: record({ keyArn: 'other' }) }),
      importedRotationStep({ ...base, record: record({ keyMaterialId: 'm0', previous: [{ material: older }] }) }),
    ].map((s) => JSON.stringify(s));
    for (const spelling of [...materialSpellings(material), ...materialSpellings(older)]) for (const t of texts) expect(t).not.toContain(spelling);
  });
});

describe('isLabEscrowKey', () => {
  const id = 'mrk-1234abcd12ab34cd56ef1234567890ab';
  const primary = `arn:aws:kms:ap-southeast-1:111122223333:key/${id}`;
  const replica = `arn:aws:kms:ap-southeast-2:111122223333:key/${id}`;
  test("(e) is found by its mrk- key id, so its replica is the escrow's key too", () => {
    const lab = { scenario: 'e' as const, keyArn: primary, secretName: 'lab/mrk-escrow' };
    expect(isLabEscrowKey({ arn: primary }, lab)).toBe(true);
    expect(isLabEscrowKey({ arn: replica }, lab)).toBe(true);
    expect(isLabEscrowKey({ arn: primary.replace(id, 'mrk-ffffffffffffffffffffffffffffffff') }, lab)).toBe(false);
  });
  test('(c) is found by its whole ARN only, and no key is without an escrow key ARN', () => {
    const lab = { scenario: 'c' as const, keyArn: ARN, secretName: 'lab/escrow' };
    expect(isLabEscrowKey({ arn: ARN }, lab)).toBe(true);
    expect(isLabEscrowKey({ arn: ARN.replace('ap-southeast-1', 'ap-southeast-2') }, lab)).toBe(false);
    expect(isLabEscrowKey({ arn: ARN }, { scenario: 'c' })).toBe(false);
  });
});

describe('escrow records of a rotation', () => {
  test('the new material goes first, with the current and every earlier one kept, newest first', () => {
    const current: EscrowRecord = { keyArn: ARN, material, keyMaterialId: 'm2', previous: [{ material: older, keyMaterialId: 'm1' }] };
    const next = Buffer.alloc(32, 9);
    const escrowed = escrowWithNewMaterial(current, next);
    expect(escrowed).toEqual({ keyArn: ARN, material: next, previous: [{ material, keyMaterialId: 'm2' }, { material: older, keyMaterialId: 'm1' }] });
    expect(escrowWithMaterialId(escrowed, 'm3')).toEqual({ ...escrowed, keyMaterialId: 'm3' });
    expect(escrowWithMaterialId(escrowed, undefined)).toBe(escrowed);
  });
  test('the new material keeps the key\'s expiry', () => {
    const validTo = new Date('2026-01-01T00:00:00Z');
    expect(expirationOf({ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo })).toEqual({ model: 'KEY_MATERIAL_EXPIRES', validTo });
    expect(expirationOf({ ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' })).toEqual({ model: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    expect(expirationOf({})).toEqual({ model: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
  });
  test('a refused escrow read or write says a key administrator is needed, and why', () => {
    const input = { keyArn: ARN, region: 'ap-southeast-1', secretName: 'lab/escrow', serviceMessage: 'explicit deny' };
    const read = escrowDeniedMessage({ ...input, operation: 'GetSecretValue' });
    const write = escrowDeniedMessage({ ...input, operation: 'PutSecretValue' });
    for (const text of [read, write]) {
      expectParagraph(text);
      expect(text).toContain('stopped before touching the key');
      expect(text).toContain('key administrators (keyAdminArns)');
      expect(text).toContain('--profile');
    }
    expect(write).toContain('the new material was discarded');
  });
});

describe('parseRotateScenarios', () => {
  test('selects every scenario by default, and the listed ones in lab order', () => {
    expect(parseRotateScenarios(undefined)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(parseRotateScenarios(' C,a ')).toEqual(['a', 'c']);
    expect(parseRotateScenarios('a,grant')).toContain('unknown scenario grant');
    expect(parseRotateScenarios(',')).toContain('names no scenario');
  });
});

describe('decodeMaterialFile', () => {
  test.each([
    ['raw bytes', material],
    ['hex', Buffer.from(material.toString('hex'))],
    ['HEX with a newline', Buffer.from(`${material.toString('hex').toUpperCase()}\n`)],
    ['base64 with a newline', Buffer.from(`${material.toString('base64')}\r\n`)],
  ])('reads 32 bytes of %s', (_name, bytes) => {
    expect(decodeMaterialFile('m', bytes)).toEqual(material);
  });
  test.each([
    ['empty', Buffer.alloc(0), 'm is empty'],
    ['33 raw bytes', Buffer.concat([material, Buffer.from([0xff])]), 'holds 33 bytes, but raw material is exactly 32'],
    ['32 base64 characters (24 bytes)', Buffer.from(Buffer.alloc(24, 200).toString('base64')), 'holds 32 characters of text'],
    ['hex of 31 bytes', Buffer.from(material.subarray(1).toString('hex')), 'neither 64 hex digits nor base64'],
  ])('refuses %s, naming lengths only', (_name, bytes, expected) => {
    const problem = decodeMaterialFile('m', bytes);
    expect(typeof problem).toBe('string');
    expect(problem).toContain(expected);
    expect(problem).toContain('What to do:');
    if (bytes.length > 0) expect(problem).not.toContain(bytes.toString('latin1').trim());
  });
});

describe('planImport', () => {
  const target = (over: Partial<ImportTarget> = {}): ImportTarget => ({ arn: ARN, region: 'ap-southeast-1', asGiven: 'alias/lab/byo', state: 'Enabled', origin: 'EXTERNAL', currentKeyMaterialId: 'm1', ...over });

  test("a key's first material leaves the import type to KMS; --rotate does not apply and says so", () => {
    expect(planImport(target({ state: 'PendingImport', currentKeyMaterialId: undefined }), false)).toEqual({ kind: 'import', rotate: false, describe: "the key's first material" });
    expect(planImport(target({ state: 'PendingImport', currentKeyMaterialId: undefined }), true)).toMatchObject({ rotate: false, note: expect.stringContaining('--rotate does not apply') });
  });
  test('without --rotate, material the key holds is imported again; with it, new material is imported and rotated to', () => {
    expect(planImport(target(), false)).toMatchObject({ kind: 'import', importType: 'EXISTING_KEY_MATERIAL', rotate: false });
    expect(planImport(target(), true)).toMatchObject({ kind: 'import', importType: 'NEW_KEY_MATERIAL', rotate: true });
  });
  test.each([
    ['a KMS-made key', target({ origin: 'AWS_KMS' }), false, 'has Origin AWS_KMS'],
    ['a key pending deletion', target({ state: 'PendingDeletion', deletionDate: new Date('2025-06-08T00:00:00Z') }), false, 'aws kms cancel-key-deletion'],
    ['an HMAC key', target({ keySpec: 'HMAC_256' }), false, 'is a HMAC_256 key'],
    ['--rotate on a multi-Region key', target({ multiRegion: 'PRIMARY' }), true, 'is a multi-Region key'],
  ])('refuses %s', (_name, t, rotate, expected) => {
    const plan = planImport(t, rotate);
    expect(plan.kind).toBe('refuse');
    if (plan.kind === 'refuse') {
      expectParagraph(plan.message);
      expect(plan.message).toContain(expected);
      expect(plan.message).toContain('Nothing was imported.');
    }
  });
  test("refuses --rotate into the lab's escrowed key, but not a re-import of its own material", () => {
    const lab = { keyArn: ARN, secretName: 'lab/escrow' };
    expect(planImport(target(), true, lab)).toMatchObject({ kind: 'refuse', message: expect.stringContaining('kms-lab rotate --scenario c') });
    expect(planImport(target(), false, lab).kind).toBe('import');
    expect(planImport(target(), true, { keyArn: ARN }).kind).toBe('import');
  });
  test('--rotate needs an on-demand rotation left', () => {
    expect(rotationLimitMessage(target(), used(24))).toBeUndefined();
    expect(rotationLimitMessage(target(), used(25))).toContain('has used all 25 on-demand rotations');
  });
  test('the report names the key, the material id and the state before and after', () => {
    const plan = planImport(target(), true);
    if (plan.kind !== 'import') throw new Error('refused');
    const text = importReport({ before: target(), after: { state: 'Enabled', currentKeyMaterialId: 'm2' }, file: 'm.bin', plan, keyMaterialId: 'm2', wrapping: 'RSAES_OAEP_SHA_256' });
    expect(text).toContain(`Imported key material into alias/lab/byo (${ARN}) in ap-southeast-1`);
    expect(text).toContain('material id   m2');
    expect(text).toContain('state         Enabled → Enabled');
    expect(text).toContain('current       m2 (was m1, which stays in the key for decrypting)');
  });
});

describe('rotate report', () => {
  const row = (over: Partial<KeyRotation> = {}): KeyRotation => ({
    scenario: 'a',
    where: 'primary',
    region: 'ap-southeast-1',
    keyArn: ARN,
    alias: 'alias/kms-key-lab/single-region',
    state: 'Enabled',
    origin: 'AWS_KMS',
    automaticRotation: 'off',
    onDemand: used(1),
    materials: [{ keyMaterialId: 'm1', state: 'CURRENT' }],
    plan: 'rotate-on-demand',
    planDetail: 'rotate on demand',
    ...over,
  });
  const report = (keys: KeyRotation[], over: Partial<RotateReport> = {}): RotateReport => ({
    schemaVersion: 1,
    prefix: 'kms-key-lab',
    regions: { primary: 'ap-southeast-1', secondary: 'ap-southeast-2' },
    dryRun: false,
    keys,
    problems: [],
    apiCalls: 1,
    ...over,
  });

  test('exits 1 on a refusal, a failure or any problem paragraph, 0 otherwise', () => {
    expect(rotateExitCode(report([row({ result: 'rotated' })]))).toBe(0);
    expect(rotateExitCode(report([row({ plan: 'refused' })]))).toBe(1);
    expect(rotateExitCode(report([row({ result: 'failed' })]))).toBe(1);
    expect(rotateExitCode(report([row({ result: 'rotated' })], { problems: ['x'] }))).toBe(1);
  });
  test('the text shows the plan, the history, then the results', () => {
    const r = report([row({ result: 'rotated', resultDetail: 'rotated on demand' }), row({ scenario: 'b', where: 'secondary', region: 'ap-southeast-2', plan: 'follows-primary', planDetail: 'follows', onDemand: undefined, materials: [] })]);
    expect(renderRotationStatus(r)).toMatch(/\(a\) primary\s+ap-southeast-1\s+Enabled\s+AWS_KMS\s+off\s+1 of 25 used\s+rotate on demand/);
    expect(renderRotationStatus(r)).toMatch(/\(b\) replica\s+ap-southeast-2\s+Enabled\s+AWS_KMS\s+off\s+n\/a\s+follows/);
    expect(renderRotationStatus(r)).toMatch(/\(a\) primary\s+m1\s+CURRENT\s+first material/);
    expect(renderRotationResults(r)).toBe('\nRotations\n  KEY          RESULT   DETAIL\n  (a) primary  ROTATED  rotated on demand\n1 AWS API call\n');
    expect(renderRotationResults(report([row()]))).toBe('\nNothing to rotate.\n1 AWS API call\n');
  });
});

describe('rotateHelp', () => {
  test('documents the alias swap of the seed: a new key, UpdateAlias, and the old key kept for decrypting', () => {
    expect(rotateHelp).toContain('aws kms create-key');
    expect(rotateHelp).toContain('aws kms update-alias --alias-name alias/<prefix>/<name> --target-key-id <new key id>');
    expect(rotateHelp).toContain('keep the old key for decrypting');
    expect(rotateHelp).toContain('25 on-demand rotations per key');
    expect(rotateHelp).toContain('replica follows its primary');
  });
});
