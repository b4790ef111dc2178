import { AwsCallError, CallContext } from '../../cli/errors';
import { explainError, isCredentialsProblem, isStackNotFound, stacksNotDeployed } from '../../cli/error-messages';
import { serviceError } from './fake-aws';

const KEY_ARN = 'arn:aws:kms:ap-southeast-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const encryptByAlias: CallContext = { operation: 'Encrypt', region: 'ap-southeast-1', resource: 'alias/kms-key-lab/single-region', keyArn: KEY_ARN };

/** One paragraph: one line, a remedy, no stack frames. */
function expectParagraph(text: string): void {
  expect(text).not.toContain('\n');
  expect(text).toContain('What to do:');
  expect(text).not.toMatch(/\bat .+:\d+:\d+/);
}

describe('error messages', () => {
  test('missing credentials say how to sign in and choose a profile', () => {
    const error = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    const text = explainError(error, { operation: 'DescribeStacks', region: 'ap-southeast-1' });
    expectParagraph(text);
    expect(text).toContain('no AWS credentials were found');
    expect(text).toContain('--profile');
    expect(isCredentialsProblem(error)).toBe(true);
  });

  test("a credentials error keeps the SDK's own reason (a missing profile, an expired SSO session)", () => {
    const profile = Object.assign(new Error('Profile lab-admin could not be found or parsed in shared credentials file.'), { name: 'CredentialsProviderError' });
    const text = explainError(profile, { operation: 'DescribeStacks', region: 'ap-southeast-1' });
    expectParagraph(text);
    expect(text).toContain('the SDK says: Profile lab-admin could not be found or parsed in shared credentials file)');
    const sso = Object.assign(new Error('The SSO session associated with this profile has expired or is otherwise invalid.\nTo refresh this SSO session run aws sso login.'), {
      name: 'CredentialsProviderError',
    });
    expect(explainError(sso)).toContain('the SDK says: The SSO session associated with this profile has expired or is otherwise invalid. To refresh this SSO session run aws sso login)');
  });

  test('expired and unrecognised credentials are credentials problems too', () => {
    expect(explainError(serviceError('ExpiredTokenException', 'The security token included in the request is expired'))).toContain('expired');
    expect(isCredentialsProblem(serviceError('UnrecognizedClientException', 'invalid token'))).toBe(true);
    expect(isCredentialsProblem(serviceError('ThrottlingException', 'Rate exceeded'))).toBe(false);
  });

  test('a stack that is not deployed is recognised from DescribeStacks and named with its Region', () => {
    const error = serviceError('ValidationError', 'Stack with id kms-key-lab-primary does not exist');
    expect(isStackNotFound(error)).toBe(true);
    expect(isStackNotFound(serviceError('ValidationError', 'Template format error'))).toBe(false);
    const text = explainError(error, { operation: 'DescribeStacks', region: 'ap-southeast-1', resource: 'kms-key-lab-primary' });
    expectParagraph(text);
    expect(text).toContain('The stack kms-key-lab-primary (ap-southeast-1) is not deployed');
    expect(text).toContain('npx cdk deploy --all');
  });

  test('several missing stacks are named in one paragraph', () => {
    const text = stacksNotDeployed([
      { name: 'lab-primary', region: 'eu-west-1' },
      { name: 'lab-secondary', region: 'eu-central-1' },
    ]);
    expectParagraph(text);
    expect(text).toContain('The stacks lab-primary (eu-west-1) and lab-secondary (eu-central-1) are not deployed');
  });

  test('a disabled key says to enable it, by ARN since enable-key takes no alias', () => {
    const text = explainError(serviceError('DisabledException', `${KEY_ARN} is disabled.`), encryptByAlias);
    expectParagraph(text);
    expect(text).toContain('is disabled');
    expect(text).toContain(`aws kms enable-key --key-id ${KEY_ARN} --region ap-southeast-1`);
  });

  test('a key pending deletion says how to cancel the deletion', () => {
    const text = explainError(serviceError('KMSInvalidStateException', `${KEY_ARN} is pending deletion.`), encryptByAlias);
    expectParagraph(text);
    expect(text).toContain('is pending deletion');
    expect(text).toContain('aws kms cancel-key-deletion');
  });

  test('throttling after the SDK retries says to wait and how to allow more retries', () => {
    const text = explainError(serviceError('ThrottlingException', 'Rate exceeded'), encryptByAlias);
    expectParagraph(text);
    expect(text).toContain('throttled Encrypt in ap-southeast-1');
    expect(text).toContain('AWS_MAX_ATTEMPTS');
  });

  test('an unknown alias names the alias and how to find the lab', () => {
    const text = explainError(
      serviceError('NotFoundException', 'Alias arn:aws:kms:ap-southeast-1:111122223333:alias/kms-key-lab/single-region is not found.'),
      encryptByAlias,
    );
    expectParagraph(text);
    expect(text).toContain('has no key or alias alias/kms-key-lab/single-region');
    expect(text).toContain('--prefix');
  });

  test('an AwsCallError is explained with the call it carries', () => {
    const text = explainError(new AwsCallError(encryptByAlias, serviceError('ThrottlingException', 'Rate exceeded')));
    expect(text.startsWith('Encrypt in ap-southeast-1 failed:')).toBe(true);
  });

  test('an error with no explanation keeps its name and the service message on one line', () => {
    const text = explainError(serviceError('LimitExceededException', 'Too many\n  grants'), { operation: 'CreateGrant' });
    expect(text).toBe('CreateGrant failed (LimitExceededException): Too many grants.');
  });

  test('network errors are told apart by their code', () => {
    const error = Object.assign(new Error('getaddrinfo ENOTFOUND kms.ap-southeast-1.amazonaws.com'), { code: 'ENOTFOUND' });
    expect(explainError(error, { operation: 'Encrypt', region: 'ap-southeast-1' })).toContain('did not reach AWS');
  });
});
