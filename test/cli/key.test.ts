import { KMSInvalidStateException } from '@aws-sdk/client-kms';
import { FakeAws, PRIMARY, SECONDARY, serviceError } from './fake-aws';
import './fake-lifecycle';
import { CliRun, runCli, useOperatorCredentials } from './harness';

useOperatorCredentials();

const calls = (aws: FakeAws) => aws.log.map((l) => l.split(' ')[1]);
const yes = { io: { confirm: async () => true } };

/** Exactly one paragraph on stderr, with a remedy. */
function paragraph(run: CliRun): string {
  const lines = run.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain('What to do:');
  return lines[0];
}

describe('kms-lab key', () => {
  test('disable says which key changed and its state before and after', async () => {
    const aws = FakeAws.lab().install();
    const key = aws.key('SingleRegion');
    const run = await runCli(['key', 'disable', 'single-region', '--yes']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `Disabled the KMS key alias/kms-key-lab/single-region (${key.arn}) in ${PRIMARY}\n` +
        '  state: Enabled → Disabled\n' +
        `  Disabling a key stops every use of it until it is enabled again. Enable it with \`kms-lab key enable ${key.arn}\`.\n`,
    );
    expect(key.state).toBe('Disabled');
    expect(calls(aws)).toEqual(['DescribeKey', 'DisableKey', 'DescribeKey']);
  });

  test('enable brings a disabled key back, by key id in the secondary Region', async () => {
    const aws = FakeAws.lab().install();
    const key = aws.key('SingleRegion', 'secondary');
    key.state = 'Disabled';
    const run = await runCli(['key', 'enable', key.keyId, '--region', SECONDARY, '--yes']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Enabled the KMS key ${key.arn} in ${SECONDARY}\n  state: Disabled → Enabled\n`);
    expect(key.state).toBe('Enabled');
    expect(aws.log).toContain(`operator EnableKey ${SECONDARY}`);
  });

  test('cancel-deletion leaves the key Disabled and says so', async () => {
    const aws = FakeAws.lab().install();
    const key = aws.key('MultiRegion');
    key.state = 'PendingDeletion';
    key.deletionDate = new Date('2025-06-08T06:00:00Z');
    const run = await runCli(['key', 'cancel-deletion', key.arn, '--yes']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('state: PendingDeletion (deleted on 2025-06-08T06:00:00.000Z) → Disabled\n');
    expect(run.stdout).toContain('It comes back Disabled, so it is still unusable: enable it with');
    expect(key.state).toBe('Disabled');
    expect(calls(aws)).not.toContain('EnableKey');
  });

  test('cancel-deletion --enable also enables it, and shows the state in between', async () => {
    const aws = FakeAws.lab().install();
    const key = aws.key('ImportedMaterial');
    key.state = 'PendingDeletion';
    key.deletionDate = new Date('2025-06-08T06:00:00Z');
    const run = await runCli(['key', 'cancel-deletion', 'imported-material', '--enable', '--yes']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('state: PendingDeletion (deleted on 2025-06-08T06:00:00.000Z) → Disabled → Enabled\n');
    expect(key.state).toBe('Enabled');
    expect(calls(aws)).toEqual(['DescribeKey', 'CancelKeyDeletion', 'DescribeKey', 'EnableKey', 'DescribeKey']);
  });

  test("delete-material empties key (c), warns that it is unusable until re-imported, and names the escrow secret output", async () => {
    const aws = FakeAws.lab().install();
    const key = aws.key('ImportedMaterial');
    const escrow = aws.stacks.get(`${PRIMARY}|kms-key-lab-primary`)!.outputs.ImportedMaterialEscrowSecretName;
    let asked = '';
    const run = await runCli(['key', 'delete-material', 'imported-material'], { io: { confirm: async (q) => ((asked = q), true) } });
    expect(run.code).toBe(0);
    expect(asked).toContain('until the same material is imported again');
    expect(asked).toContain(`${escrow} (output ImportedMaterialEscrowSecretName of kms-key-lab-primary)`);
    expect(run.stdout).toContain('state: Enabled → PendingImport\n');
    expect(run.stdout).toContain(`The lab escrowed that material in the secret ${escrow}`);
    expect(key.state).toBe('PendingImport');
  });

  test('delete-material on a key whose material KMS generated is refused before any change', async () => {
    const aws = FakeAws.lab().install();
    const run = await runCli(['key', 'delete-material', 'single-region', '--yes']);
    expect(run.code).toBe(1);
    expect(paragraph(run)).toContain('has Origin AWS_KMS: only a key with imported material (Origin EXTERNAL');
    expect(calls(aws)).toEqual(['DescribeKey']);
    expect(aws.key('SingleRegion').state).toBe('Enabled');
  });

  test('a key in the wrong state: enable on a key pending deletion is refused with its paragraph, and nothing is called', async () => {
    const aws = FakeAws.lab().install();
    const key = aws.key('SingleRegion');
    key.state = 'PendingDeletion';
    key.deletionDate = new Date('2025-06-08T06:00:00Z');
    const run = await runCli(['key', 'enable', 'single-region', '--yes']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const text = paragraph(run);
    expect(text).toContain('is PendingDeletion (deleted on 2025-06-08T06:00:00.000Z): KMS does not enable a key pending deletion (KMSInvalidStateException)');
    expect(text).toContain(`kms-lab key cancel-deletion ${key.arn} --enable`);
    expect(calls(aws)).toEqual(['DescribeKey']);
  });

  test("KMS's own KMSInvalidStateException (the key changed after it was read) is explained with the key's new state", async () => {
    const aws = FakeAws.lab().install();
    const key = aws.key('SingleRegion');
    aws.failures.set('DisableKey', () => {
      key.state = 'PendingDeletion';
      return new KMSInvalidStateException({ message: `${key.arn} is pending deletion.`, $metadata: {} });
    });
    const run = await runCli(['key', 'disable', 'single-region', '--yes']);
    expect(run.code).toBe(1);
    expect(paragraph(run)).toContain('is PendingDeletion: a key pending deletion is already unusable, and KMS does not disable it');
  });

  test('a key already in the wanted state is left alone (exit 0, no question)', async () => {
    const aws = FakeAws.lab().install();
    aws.key('SingleRegion').state = 'Disabled';
    const run = await runCli(['key', 'disable', 'single-region', '--yes']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Nothing to do:');
    expect(calls(aws)).toEqual(['DescribeKey']);
  });

  test('an unknown alias gets its paragraph, naming the lab aliases and the other Region', async () => {
    const aws = FakeAws.lab().install();
    const run = await runCli(['key', 'disable', 'alias/kms-key-lab/nope', '--yes']);
    expect(run.code).toBe(1);
    const text = paragraph(run);
    expect(text).toMatch(/^KMS in ap-southeast-1 has no alias alias\/kms-key-lab\/nope\. What to do:/);
    expect(text).toContain(`add --region ${SECONDARY}`);
    expect(calls(aws)).toEqual(['DescribeKey']);
  });

  test('throttling that outlasts the SDK retries says to wait and run it again', async () => {
    const aws = FakeAws.lab().install();
    aws.failures.set('DisableKey', () => serviceError('ThrottlingException', 'Rate exceeded'));
    const run = await runCli(['key', 'disable', 'single-region', '--yes']);
    expect(run.code).toBe(1);
    expect(paragraph(run)).toMatch(/^DisableKey in ap-southeast-1 failed: AWS throttled DisableKey in ap-southeast-1/);
    expect(aws.key('SingleRegion').state).toBe('Enabled');
  });

  test('without --yes and without a terminal it refuses before any AWS call (exit 2)', async () => {
    const aws = FakeAws.lab().install();
    const run = await runCli(['key', 'disable', 'single-region']);
    expect(run.code).toBe(2);
    expect(paragraph(run)).toBe(
      'kms-lab key disable disables a KMS key and asks for confirmation first, but there is no terminal to ask on (stdin is not a TTY), so nothing was changed. ' +
        'What to do: run it in a terminal and answer the question, or add --yes to confirm on the command line.',
    );
    expect(aws.log).toEqual([]);
  });

  test('on a terminal it asks; "no" changes nothing (exit 1), "yes" goes ahead', async () => {
    const aws = FakeAws.lab().install();
    const declined = await runCli(['key', 'disable', 'single-region'], { io: { confirm: async () => false } });
    expect(declined.code).toBe(1);
    expect(paragraph(declined)).toContain('kms-lab key disable was not confirmed, so nothing was changed');
    expect(aws.key('SingleRegion').state).toBe('Enabled');
    const accepted = await runCli(['key', 'disable', 'single-region'], yes);
    expect(accepted.code).toBe(0);
    expect(aws.key('SingleRegion').state).toBe('Disabled');
  });

  test('a key ARN of one Region with --region of another is a usage error', async () => {
    const aws = FakeAws.lab().install();
    const run = await runCli(['key', 'enable', aws.key('SingleRegion').arn, '--region', SECONDARY, '--yes']);
    expect(run.code).toBe(2);
    expect(paragraph(run)).toContain(`is in ${PRIMARY}, but --region says ${SECONDARY}`);
    expect(aws.log).toEqual([]);
  });
});
