import { randomBytes } from 'node:crypto';
import { RawAesKeyringNode, RawAesWrappingSuiteIdentifier } from '@aws-crypto/client-node';
import { KMS } from '@aws-sdk/client-kms';
import { envelopeError, envelopeProblem, envelopeRoundTrip, envelopeSample, ENVELOPE_SAMPLE_BYTES, KeyringKms, mrkKeyring } from '../../cli/verify/envelope';
import { FakeAws, OPERATOR_ACCESS_KEY, PRIMARY, SECONDARY } from './fake-aws';
import { useOperatorCredentials } from './harness';

useOperatorCredentials();

const context = { purpose: 'kms-lab verify', lab: 'test' };
const credentials = { accessKeyId: OPERATOR_ACCESS_KEY, secretAccessKey: 'operator-secret' };
const kmsIn = (region: string) => new KeyringKms(new KMS({ region, credentials }), region);

describe('envelope encryption with the AWS Encryption SDK', () => {
  test('a 64 KiB sample is larger than the 4 KiB that KMS Encrypt takes', () => {
    expect(envelopeSample().length).toBe(ENVELOPE_SAMPLE_BYTES);
    expect(ENVELOPE_SAMPLE_BYTES).toBeGreaterThan(4096);
  });

  test('round-trips with a raw AES keyring, without KMS', async () => {
    const keyring = () =>
      new RawAesKeyringNode({
        keyName: 'lab-test-key',
        keyNamespace: 'kms-lab-test',
        unencryptedMasterKey: new Uint8Array(randomSeed),
        wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
      });
    const randomSeed = randomBytes(32);
    const sent = envelopeSample();
    const result = await envelopeRoundTrip({ encryptWith: keyring(), decryptWith: keyring(), plaintext: sent, encryptionContext: context });
    expect(envelopeProblem({ sent, context, result })).toBeUndefined();
    expect(result.ciphertextBytes).toBeGreaterThan(sent.length);
    expect(result.header.encryptionContext).toMatchObject(context);
  });

  test('encrypts in the primary Region with the multi-Region key and decrypts in the secondary with the replica', async () => {
    const aws = FakeAws.lab().install();
    const primary = aws.key('MultiRegion', 'primary');
    const replica = aws.key('MultiRegion', 'secondary');
    const sent = envelopeSample();
    const result = await envelopeRoundTrip({
      encryptWith: mrkKeyring(primary.arn, kmsIn(PRIMARY)),
      decryptWith: mrkKeyring(replica.arn, kmsIn(SECONDARY)),
      plaintext: sent,
      encryptionContext: context,
    });
    expect(envelopeProblem({ sent, context, result })).toBeUndefined();
    // The data key is wrapped by the primary; the replica, sharing its key id and material, unwraps it.
    expect(result.header.encryptedDataKeys.map((k) => k.providerInfo)).toEqual([primary.arn]);
    expect(aws.log).toEqual([`operator GenerateDataKey ${PRIMARY}`, `operator Decrypt ${SECONDARY}`]);
  });

  test("a single-Region key's message does not open in the other Region, and the KMS error is kept without the SDK's traces", async () => {
    const aws = FakeAws.lab().install();
    const primary = aws.key('SingleRegion', 'primary');
    const secondary = aws.key('SingleRegion', 'secondary');
    const opening = kmsIn(SECONDARY);
    const attempt = envelopeRoundTrip({
      encryptWith: mrkKeyring(primary.arn, kmsIn(PRIMARY)),
      // The keyring of the secondary's own key ignores a data key wrapped by another key.
      decryptWith: mrkKeyring(secondary.arn, opening),
      plaintext: envelopeSample(1024),
      encryptionContext: context,
    });
    const error = await attempt.then(
      () => undefined,
      (e: unknown) => envelopeError(e, [opening]),
    );
    expect(error?.message).toBe('the Encryption SDK failed: Unable to decrypt data key: No EDKs supplied.');
  });

  test('a KMS failure inside the keyring is reported as the KMS call that failed', async () => {
    const aws = FakeAws.lab().install();
    aws.key('MultiRegion', 'secondary').state = 'Disabled';
    const opening = kmsIn(SECONDARY);
    const error = await envelopeRoundTrip({
      encryptWith: mrkKeyring(aws.key('MultiRegion').arn, kmsIn(PRIMARY)),
      decryptWith: mrkKeyring(aws.key('MultiRegion', 'secondary').arn, opening),
      plaintext: envelopeSample(1024),
      encryptionContext: context,
    }).then(
      () => undefined,
      (e: unknown) => envelopeError(e, [opening]),
    );
    expect(error?.name).toBe('AwsCallError');
    expect(error?.message).toContain('Decrypt (Encryption SDK) failed');
    expect(error?.message).toContain('is disabled');
  });

  test('a message whose context was dropped is reported', () => {
    const sent = Buffer.from('x');
    const result = { ciphertextBytes: 1, plaintext: Buffer.from('x'), header: { encryptionContext: {} } as never };
    expect(envelopeProblem({ sent, context, result })).toBe('the message lost its encryption context (purpose, lab)');
  });
});
