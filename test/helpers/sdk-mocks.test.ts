import { CreateCustomKeyStoreCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { FakeAws } from '../cli/fake-aws';
import { useOperatorCredentials } from '../cli/harness';
import { World } from '../lambda/cloudhsm/world';
import { answerOf, own, sdkMock } from './sdk-mocks';

useOperatorCredentials();

const REGION = 'ap-southeast-1';
const callerIdentity = () => new STSClient({ region: REGION }).send(new GetCallerIdentityCommand({}));
const kms = () => new KMSClient({ region: REGION });
/** FakeAws's: KMS Encrypt with a key that does not exist answers NotFoundException. */
const fakeAwsEncrypt = () => kms().send(new EncryptCommand({ KeyId: 'alias/none', Plaintext: new Uint8Array([1]) })).catch((e: Error) => e.name);
/** The world's: a key store for a cluster that does not exist answers CloudHsmClusterNotFoundException. */
const worldKeyStore = () => kms().send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 's', CloudHsmClusterId: 'cluster-none' })).catch((e: Error) => e.name);

test('installing FakeAws after the CloudHSM world leaves the world answering the KMS commands FakeAws does not model', async () => {
  new World().install();
  new FakeAws().install();
  expect(await worldKeyStore()).toBe('CloudHsmClusterNotFoundException');
  expect(await fakeAwsEncrypt()).toBe('NotFoundException');
  expect((await callerIdentity()).Arn).toMatch(/:user\/operator$/);
});

test('installing a world again replaces only the world’s commands: FakeAws’s KMS commands still answer', async () => {
  new FakeAws().install();
  new World().install();
  new World().install();
  expect(await fakeAwsEncrypt()).toBe('NotFoundException');
  expect(await worldKeyStore()).toBe('CloudHsmClusterNotFoundException');
});

test('a command is answered by its last owner; when that owner gives it up, by the one before', () => {
  const sts = sdkMock(STSClient);
  const first = () => 'first';
  const second = () => 'second';
  own('test-first', { commands: [{ mock: sts, command: GetCallerIdentityCommand, answer: first }] });
  own('test-second', { commands: [{ mock: sts, command: GetCallerIdentityCommand, answer: second }] });
  expect(answerOf(sts, GetCallerIdentityCommand)).toBe(second);
  own('test-second', { commands: [] });
  expect(answerOf(sts, GetCallerIdentityCommand)).toBe(first);
});
