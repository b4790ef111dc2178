import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { materialSpellings } from '../../lambda/import-key-material/material';
import { FakeAws, FakeKey, PRIMARY, serviceError } from './fake-aws';
import { keyMaterial, materialId, sentInputs } from './fake-key-material';
import { CliRun, runCli, tempDir, useOperatorCredentials } from './harness';

useOperatorCredentials();

const BYO_ALIAS = 'alias/kms-key-lab/byo';
const operations = (aws: FakeAws) => aws.log.map((l) => l.split(' ')[1]);

/** A file holding the material in one of the forms import-material reads. */
function materialFile(material: Buffer, form: 'raw' | 'hex' | 'base64' = 'raw', dir = tempDir()): string {
  const file = path.join(dir, `material.${form}`);
  fs.writeFileSync(file, form === 'raw' ? material : `${material.toString(form)}\n`);
  return file;
}

/** An Origin EXTERNAL key outside the lab, as the seed's ImportedCMK: waiting for its first material. */
function byoKey(aws: FakeAws, init: Partial<FakeKey> = {}): FakeKey {
  return aws.addKey(PRIMARY, { origin: 'EXTERNAL', state: 'PendingImport', alias: BYO_ALIAS, ...init });
}

/**
 * Only the wrapped material may leave the process: no request to any service
 * carries it (raw, hex or base64), and neither stdout nor stderr shows it.
 */
function expectMaterialKept(run: CliRun, material: Buffer): void {
  const sent = sentInputs();
  for (const { input } of sent) {
    for (const value of Object.values(input)) {
      if (value instanceof Uint8Array) expect(Buffer.from(value).equals(material)).toBe(false);
    }
    const text = JSON.stringify(input, (_k, v) => (v && v.type === 'Buffer' ? Buffer.from(v.data).toString('hex') : v));
    for (const spelling of materialSpellings(material)) expect(text).not.toContain(spelling);
  }
  expect(sent.some((s) => /SecretValue/.test(s.operation))).toBe(false);
  for (const spelling of materialSpellings(material)) {
    expect(run.stdout).not.toContain(spelling);
    expect(run.stderr).not.toContain(spelling);
  }
}

const importMaterial = (args: string[], options: Parameters<typeof runCli>[1] = {}) => runCli(['import-material', ...args], options);

describe('kms-lab import-material', () => {
  test("imports a file's material into a key waiting for its first; the private key unwraps exactly the file's bytes, and only the wrapped form was sent", async () => {
    const aws = FakeAws.lab().install();
    const key = byoKey(aws);
    const material = randomBytes(32);
    const run = await importMaterial(['--key', BYO_ALIAS, '--file', materialFile(material), '--yes']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const fake = keyMaterial(aws);
    expect(fake.unwrapped).toEqual([material]);
    expect(operations(aws)).toEqual(['DescribeKey', 'GetParametersForImport', 'ImportKeyMaterial', 'DescribeKey']);
    const input = sentInputs().find((s) => s.operation === 'ImportKeyMaterial')!.input;
    expect(input).toMatchObject({ KeyId: key.arn, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    expect(input).not.toHaveProperty('ImportType');
    expect(input).not.toHaveProperty('ValidTo');
    const id = materialId(key.keyId, material);
    expect(key).toMatchObject({ state: 'Enabled', currentKeyMaterialId: id });
    expect(run.stdout).toContain(`Imported key material into ${BYO_ALIAS} (${key.arn}) in ${PRIMARY}`);
    expect(run.stdout).toMatch(new RegExp(`material id\\s+${id}`));
    expect(run.stdout).toMatch(/state\s+PendingImport → Enabled/);
    expect(run.stdout).toContain('only the RSA-wrapped form left this process (RSAES_OAEP_SHA_256 under an RSA_4096 public key');
    expectMaterialKept(run, material);
  });

  test.each(['raw', 'hex', 'base64'] as const)("re-imports the lab key (c)'s own material from a %s file as EXISTING_KEY_MATERIAL", async (form) => {
    const aws = FakeAws.lab().install();
    const key = aws.key('ImportedMaterial');
    const material = Buffer.from(key.material);
    const run = await importMaterial(['--key', 'imported-material', '--file', materialFile(material, form), '--yes']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(keyMaterial(aws).unwrapped).toEqual([material]);
    expect(sentInputs().find((s) => s.operation === 'ImportKeyMaterial')!.input.ImportType).toBe('EXISTING_KEY_MATERIAL');
    expect(run.stdout).toMatch(/import\s+material the key already holds, imported again \(EXISTING_KEY_MATERIAL\)/);
    expectMaterialKept(run, material);
  });

  test('--rotate imports new material into a key that holds other material, then rotates to it; the old material stays for decrypting', async () => {
    const aws = FakeAws.lab().install();
    const key = byoKey(aws, { state: 'Enabled' });
    const fake = keyMaterial(aws);
    const oldId = fake.of(key)[0].id;
    const material = randomBytes(32);
    const run = await importMaterial(['--key', key.arn, '--file', materialFile(material), '--rotate', '--yes']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // DescribeStacks: is this the lab's escrowed key (c)? Then --rotate would bypass its escrow.
    expect(operations(aws)).toEqual(['DescribeKey', 'DescribeStacks', 'ListKeyRotations', 'GetParametersForImport', 'ImportKeyMaterial', 'RotateKeyOnDemand', 'DescribeKey']);
    expect(sentInputs().find((s) => s.operation === 'ImportKeyMaterial')!.input.ImportType).toBe('NEW_KEY_MATERIAL');
    const newId = materialId(key.keyId, material);
    expect(fake.of(key).map((m) => [m.id, m.state])).toEqual([
      [oldId, 'NON_CURRENT'],
      [newId, 'CURRENT'],
    ]);
    expect(run.stdout).toContain(`current       ${newId} (was ${oldId}, which stays in the key for decrypting)`);
    expectMaterialKept(run, material);
  });

  test("--rotate into the lab's escrowed key (c) is refused: kms-lab rotate escrows new material first", async () => {
    const aws = FakeAws.lab().install();
    const run = await importMaterial(['--key', 'imported-material', '--file', materialFile(randomBytes(32)), '--rotate', '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("is the lab's imported-material key (c), whose material the lab escrows in the secret");
    expect(run.stderr).toContain('`kms-lab rotate --scenario c`');
    expect(operations(aws)).not.toContain('GetParametersForImport');
  });

  test("material that is not the key's own is refused by KMS, and the paragraph says what to do", async () => {
    const aws = FakeAws.lab().install();
    const material = randomBytes(32);
    const run = await importMaterial(['--key', 'imported-material', '--file', materialFile(material), '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^ImportKeyMaterial in ap-southeast-1 failed: KMS in ap-southeast-1 refused the material for the key [^\n]*What to do:[^\n]*--rotate[^\n]*\n$/);
    expect(aws.key('ImportedMaterial').state).toBe('Enabled');
    expectMaterialKept(run, material);
  });

  test('an unknown alias gives the NotFound paragraph, and nothing is imported', async () => {
    const aws = FakeAws.lab().install();
    const run = await importMaterial(['--key', 'alias/kms-key-lab/no-such-key', '--file', materialFile(randomBytes(32)), '--yes']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^KMS in ap-southeast-1 has no alias alias\/kms-key-lab\/no-such-key\. What to do: [^\n]+\n$/);
    expect(operations(aws)).toEqual(['DescribeKey']);
  });

  test('a key pending deletion is refused with how to cancel the deletion', async () => {
    const aws = FakeAws.lab().install();
    const key = aws.key('ImportedMaterial');
    key.state = 'PendingDeletion';
    key.deletionDate = new Date('2025-06-08T00:00:00Z');
    const run = await importMaterial(['--key', key.keyId, '--file', materialFile(Buffer.from(key.material)), '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`is PendingDeletion (deleted on 2025-06-08T00:00:00.000Z), and KMS imports into no key on its way out. Nothing was imported.`);
    expect(run.stderr).toContain(`aws kms cancel-key-deletion --key-id ${key.arn} --region ${PRIMARY}`);
    expect(operations(aws)).toEqual(['DescribeKey']);
  });

  test('a key whose material KMS made is refused', async () => {
    const aws = FakeAws.lab().install();
    const run = await importMaterial(['--key', 'single-region', '--file', materialFile(randomBytes(32)), '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('has Origin AWS_KMS: its material was made by KMS, so it takes no imported material.');
    expect(operations(aws)).toEqual(['DescribeKey']);
  });

  test('--rotate is refused when the key has used all 25 on-demand rotations', async () => {
    const aws = FakeAws.lab().install();
    const key = byoKey(aws, { state: 'Enabled' });
    keyMaterial(aws).addRotations(key, 25);
    const run = await importMaterial(['--key', BYO_ALIAS, '--file', materialFile(randomBytes(32)), '--rotate', '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('has used all 25 on-demand rotations KMS allows a key');
    expect(operations(aws)).not.toContain('ImportKeyMaterial');
  });

  test('asks first: the question names the file, key and kind of import, and a "no" imports nothing', async () => {
    const aws = FakeAws.lab().install();
    byoKey(aws);
    const file = materialFile(randomBytes(32));
    const questions: string[] = [];
    const run = await importMaterial(['--key', BYO_ALIAS, '--file', file], { io: { confirm: async (q) => (questions.push(q), false) } });
    expect(run.code).toBe(1);
    expect(questions).toEqual([expect.stringContaining(`Import the 32-byte material from ${file} into ${BYO_ALIAS} (`)]);
    expect(questions[0]).toContain("now PendingImport, as the key's first material?");
    expect(run.stderr).toBe('kms-lab import-material was not confirmed, so nothing was changed. What to do: run it again and answer y, or add --yes.\n');
    expect(operations(aws)).toEqual(['DescribeKey']);
  });

  test('with no terminal and no --yes it refuses with exit 2 before any AWS call', async () => {
    const aws = FakeAws.lab().install();
    const run = await importMaterial(['--key', BYO_ALIAS, '--file', materialFile(randomBytes(32))]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('kms-lab import-material imports key material into a KMS key and asks for confirmation first, but there is no terminal to ask on');
    expect(aws.log).toEqual([]);
  });

  test.each([
    ['16 raw bytes', Buffer.alloc(16, 7), 'holds 16 bytes, but raw material is exactly 32'],
    ['32 hex digits (16 bytes)', Buffer.from('ab'.repeat(16)), 'holds 32 characters of text, not 32 raw bytes'],
    ['base64 of 24 bytes', Buffer.from(`${Buffer.alloc(24, 9).toString('base64')}\n`), 'holds base64 of 24 bytes'],
    ['neither hex nor base64', Buffer.from('this is not key material, honest\n'), 'neither 64 hex digits nor base64'],
  ])('a file of %s is a usage error that never quotes it', async (_name, bytes, expected) => {
    const aws = FakeAws.lab().install();
    const file = path.join(tempDir(), 'material');
    fs.writeFileSync(file, bytes);
    const run = await importMaterial(['--key', BYO_ALIAS, '--file', file, '--yes']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(expected);
    expect(run.stderr).toContain('What to do: give a file that holds 32 raw bytes, 64 hex digits, or base64 of 32 bytes');
    expect(run.stderr).not.toContain(bytes.toString('latin1').trim());
    expect(aws.log).toEqual([]);
  });

  test('a file that cannot be read is a usage error', async () => {
    const run = await importMaterial(['--key', BYO_ALIAS, '--file', '/no/such/material.bin', '--yes']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('Could not read /no/such/material.bin (ENOENT). What to do: give the path of a readable file that holds 32 raw bytes, 64 hex digits, or base64 of 32 bytes.\n');
  });

  test('a throttled GetParametersForImport fails with one paragraph, and nothing is imported', async () => {
    const aws = FakeAws.lab().install();
    byoKey(aws);
    aws.failures.set('GetParametersForImport', () => serviceError('ThrottlingException', 'Rate exceeded'));
    const material = randomBytes(32);
    const run = await importMaterial(['--key', BYO_ALIAS, '--file', materialFile(material), '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^GetParametersForImport in ap-southeast-1 failed: AWS throttled GetParametersForImport in ap-southeast-1[^\n]*\n$/);
    expect(keyMaterial(aws).unwrapped).toEqual([]);
    expectMaterialKept(run, material);
  });

  test('--key and --file are required', async () => {
    const run = await importMaterial(['--yes']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("error: required option '--key <key>' not specified");
  });
});
