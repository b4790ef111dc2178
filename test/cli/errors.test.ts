import { FakeAws, PRIMARY, SECONDARY, serviceError } from './fake-aws';
import { CliRun, runCli, useOperatorCredentials } from './harness';

useOperatorCredentials();

/** Every line on stderr is one whole paragraph: what happened and what to do, never a stack trace. */
function expectParagraphs(run: CliRun, count: number): string[] {
  const paragraphs = run.stderr.split('\n').filter((l) => l !== '');
  expect(paragraphs).toHaveLength(count);
  for (const p of paragraphs) {
    expect(p).toContain('What to do:');
    expect(p).not.toMatch(/\bat .+:\d+:\d+/);
  }
  return paragraphs;
}

const throttled = () => serviceError('ThrottlingException', 'Rate exceeded');

describe('errors reach the operator as one paragraph and a non-zero exit', () => {
  test('missing credentials: the SDK finds none, and the command stops before any check', async () => {
    FakeAws.lab().install();
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    const run = await runCli(['verify']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const [paragraph] = expectParagraphs(run, 1);
    expect(paragraph).toMatch(/^DescribeStacks in ap-southeast-[12] failed: no AWS credentials were found/);
    expect(paragraph).toContain('--profile');
  });

  test('missing credentials stop status too', async () => {
    FakeAws.lab().install();
    delete process.env.AWS_ACCESS_KEY_ID;
    const run = await runCli(['status', '--json']);
    expect(run.code).toBe(1);
    expect(expectParagraphs(run, 1)[0]).toContain('no AWS credentials were found');
  });

  test('a stack that is not deployed: verify names the missing stacks and their Regions', async () => {
    new FakeAws().install();
    const run = await runCli(['verify']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(expectParagraphs(run, 1)[0]).toBe(
      `The stacks kms-key-lab-primary (${PRIMARY}) and kms-key-lab-secondary (${SECONDARY}) are not deployed: CloudFormation has no stack by that name in that Region. ` +
        'What to do: deploy the lab with `npx cdk deploy --all`, or point kms-lab at the lab you deployed with --prefix, -c primaryRegion=... -c secondaryRegion=... and --profile.',
    );
  });

  test('a disabled key fails its checks, each with a paragraph that says how to enable it', async () => {
    const aws = FakeAws.lab().install();
    const key = aws.key('ImportedMaterial');
    key.state = 'Disabled';
    const run = await runCli(['verify', '--scenario', 'c']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/\(c\)\s+encrypt-decrypt:primary\s+ap-southeast-1\s+FAIL/);
    const [paragraph] = expectParagraphs(run, 1);
    expect(paragraph).toContain('(c) encrypt-decrypt:primary (ap-southeast-1): Encrypt in ap-southeast-1 failed: the KMS key alias/kms-key-lab/imported-material');
    expect(paragraph).toContain(`aws kms enable-key --key-id ${key.arn} --region ${PRIMARY}`);
  });

  test('a key pending deletion fails with KMSInvalidStateException and how to cancel the deletion', async () => {
    const aws = FakeAws.lab().install();
    aws.key('SingleRegion', 'secondary').state = 'PendingDeletion';
    const run = await runCli(['verify', '--scenario', 'a', '--json']);
    expect(run.code).toBe(1);
    const [paragraph] = expectParagraphs(run, 1);
    expect(paragraph).toContain('(a) encrypt-decrypt:secondary (ap-southeast-2)');
    expect(paragraph).toContain('is not in a state that allows Encrypt (KMS says:');
    expect(paragraph).toContain('pending deletion');
    expect(paragraph).toContain('aws kms cancel-key-deletion');
    // The refusal of the primary's ciphertext is still proven: the secondary key refuses it before its state matters.
    expect(JSON.parse(run.stdout).summary).toMatchObject({ pass: 2, fail: 1 });
  });

  test('a throttled API after the SDK retries fails the check that met it, with how to retry', async () => {
    const aws = FakeAws.lab().install();
    aws.failures.set('Encrypt', throttled);
    const run = await runCli(['verify', '--scenario', 'c']);
    expect(run.code).toBe(1);
    const [paragraph] = expectParagraphs(run, 1);
    expect(paragraph).toContain('AWS throttled Encrypt in ap-southeast-1');
    expect(paragraph).toContain('AWS_MAX_ATTEMPTS=10');
  });

  test('a throttled stack lookup stops the command with one paragraph', async () => {
    const aws = FakeAws.lab().install();
    aws.failures.set('DescribeStacks', throttled);
    const run = await runCli(['verify']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(expectParagraphs(run, 1)[0]).toContain('AWS throttled DescribeStacks');
  });

  test('a throttled CloudTrail lookup in status is reported per key, and status still shows the rest', async () => {
    const aws = FakeAws.lab().install();
    aws.failures.set('LookupEvents', throttled);
    const run = await runCli(['status', '--json']);
    expect(run.code).toBe(1);
    // The default lab's seven keys: (a) and (b) in both Regions, (c), and (e)'s primary and replica.
    expect(JSON.parse(run.stdout).keys).toHaveLength(7);
    const paragraphs = expectParagraphs(run, 7);
    expect(paragraphs.every((p) => p.startsWith('LookupEvents in ap-southeast-') && p.includes('throttled'))).toBe(true);
  });

  test('an unknown alias fails with NotFoundException naming the alias', async () => {
    const aws = FakeAws.lab().install();
    aws.aliases.delete(`${PRIMARY}|alias/kms-key-lab/imported-material`);
    const run = await runCli(['verify', '--scenario', 'c']);
    expect(run.code).toBe(1);
    const [paragraph] = expectParagraphs(run, 1);
    expect(paragraph).toContain('KMS in ap-southeast-1 has no key or alias alias/kms-key-lab/imported-material');
    expect(paragraph).toContain('is not found');
  });

  test('a usage error exits 2 before any AWS call', async () => {
    const aws = FakeAws.lab().install();
    const run = await runCli(['verify', '--scenario', 'a,z']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      '--scenario "a,z" names unknown scenario z. What to do: give a comma-separated list of a, b, c, d, e, grant, policy, or leave the option out to check them all.\n',
    );
    expect(aws.log).toEqual([]);
  });

  test('a role option that is not a role ARN exits 2', async () => {
    FakeAws.lab().install();
    const run = await runCli(['verify', '--admin-role', 'KeyAdmin']);
    expect(run.code).toBe(2);
    expectParagraphs(run, 1);
  });

  test('an unexpected error is one paragraph, not a stack trace', async () => {
    const aws = FakeAws.lab().install();
    aws.failures.set('DescribeStacks', () => new TypeError('Cannot read properties of undefined (reading "x")'));
    const run = await runCli(['status']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('DescribeStacks in ap-southeast-1 failed (TypeError): Cannot read properties of undefined (reading "x").\n');
  });
});
