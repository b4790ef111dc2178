import { AwsCallError, CallContext } from './errors';

/** What an error means for the operator, and what to do about it. */
interface Explanation {
  readonly what: string;
  readonly todo: string;
}

type Explainer = (call: CallContext, serviceMessage: string) => Explanation;

const where = (call: CallContext) => (call.region ? ` in ${call.region}` : '');
const subject = (call: CallContext) => (call.resource ? ` ${call.resource}` : '');
/** The key as a remedy command needs it: its ARN when known (an alias is not accepted there). */
const keyForCommand = (call: CallContext) => call.keyArn ?? call.resource ?? '<key id>';
const regionFlag = (call: CallContext) => (call.region ? ` --region ${call.region}` : '');

const credentials: Explainer = (_call, message) => ({
  // The SDK's own reason tells a missing profile from an expired SSO session.
  what: `no AWS credentials were found (not in the environment, the shared config files, SSO or instance metadata; the SDK says: ${message})`,
  todo: 'sign in (e.g. `aws sso login --profile <name>`), then pass --profile <name> or set AWS_PROFILE, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
});
const expired: Explainer = () => ({
  what: 'the AWS credentials have expired',
  todo: 'sign in again (e.g. `aws sso login`) or refresh the session credentials, then run the command again',
});
const invalid: Explainer = () => ({
  what: 'AWS does not recognise the credentials (a wrong or deleted access key, or a session token that belongs to other keys)',
  todo: 'check which identity you use with `aws sts get-caller-identity` (with the same --profile), then fix the profile or environment variables',
});
const throttled: Explainer = (call) => ({
  what: `AWS throttled ${call.operation}${where(call)} and the SDK's retries did not get through`,
  todo: 'wait a minute and run the command again; in a busy account, allow more retries with AWS_MAX_ATTEMPTS=10',
});
const unreachable: Explainer = (call) => ({
  what: `the ${call.operation} request${where(call)} did not reach AWS (network error or timeout)`,
  todo: 'check the network, a proxy, or AWS_ENDPOINT_URL* if you set one, then run the command again',
});

/** By SDK error name. The first match wins; names not here get the service's own words. */
const BY_NAME: Readonly<Record<string, Explainer>> = {
  CredentialsProviderError: credentials,
  ExpiredToken: expired,
  ExpiredTokenException: expired,
  RequestExpired: expired,
  InvalidClientTokenId: invalid,
  UnrecognizedClientException: invalid,
  SignatureDoesNotMatch: invalid,
  ThrottlingException: throttled,
  Throttling: throttled,
  TooManyRequestsException: throttled,
  RequestLimitExceeded: throttled,
  TimeoutError: unreachable,
  NetworkingError: unreachable,
  DisabledException: (call) => ({
    what: `the KMS key${subject(call)}${where(call)} is disabled, so KMS refuses to use it`,
    todo: `enable it with \`aws kms enable-key --key-id ${keyForCommand(call)}${regionFlag(call)}\` (if you disabled it on purpose, expect this check to fail until then)`,
  }),
  KMSInvalidStateException: (call, message) => ({
    what: `the KMS key${subject(call)}${where(call)} is not in a state that allows ${call.operation} (KMS says: ${message})`,
    todo: `look at it with \`aws kms describe-key --key-id ${keyForCommand(call)}${regionFlag(call)}\`; a key pending deletion comes back with \`aws kms cancel-key-deletion\` then \`aws kms enable-key\`, a key (c) pending import needs its material imported again (deploy again)`,
  }),
  KeyUnavailableException: (call) => ({
    what: `the KMS key${subject(call)}${where(call)} is unavailable: its custom key store is not connected to its CloudHSM cluster`,
    todo: 'run `kms-lab status` to see the key store state, and connect it with `aws kms connect-custom-key-store` (it takes up to 20 minutes)',
  }),
  CustomKeyStoreInvalidStateException: (call) => ({
    what: `the custom key store${where(call)} is not CONNECTED`,
    todo: 'connect it with `aws kms connect-custom-key-store`, or deploy the cloudhsm stack again, which connects it',
  }),
  NotFoundException: (call, message) => ({
    what: `KMS${where(call)} has no key or alias${subject(call)} (KMS says: ${message})`,
    todo: 'check that the lab is deployed in this account and Region (`kms-lab status`), that --prefix and -c primaryRegion/secondaryRegion name it, and that --profile points at its account',
  }),
  AccessDeniedException: (call, message) => ({
    what: `AWS denied ${call.operation}${subject(call) ? ` on${subject(call)}` : ''}${where(call)} (${message})`,
    todo: 'use credentials that the key policy lets do this (a key user for cryptographic calls, see keyUserArns), and whose IAM policy allows it',
  }),
  AccessDenied: (call, message) => ({
    what: `AWS denied ${call.operation}${subject(call) ? ` on${subject(call)}` : ''}${where(call)} (${message})`,
    todo: "check your identity's IAM policy and, for AssumeRole, the role's trust policy",
  }),
  IncorrectKeyException: (call) => ({
    what: `the ciphertext was not encrypted under the key${subject(call)} that ${call.operation} was given`,
    todo: 'decrypt with the key that encrypted it; a single-Region key can only decrypt in its own Region',
  }),
  InvalidCiphertextException: (call) => ({
    what: `KMS${where(call)} could not decrypt the ciphertext: it is damaged, or its encryption context differs`,
    todo: 'decrypt with the same encryption context the data was encrypted with',
  }),
  IncorrectKeyMaterialException: (call) => ({
    what: `KMS${where(call)} refused the material for the key${subject(call)}: it is not material the key already holds, and a key takes back only its own material unless it is imported as new material for a rotation`,
    todo: "import the key's own material (for the lab's key (c), the escrowed material, which a deploy imports again), or import it as new material and rotate to it (`kms-lab import-material --rotate`, or `kms-lab rotate` for the lab's key)",
  }),
  ExpiredImportTokenException: (call) => ({
    what: `the import token and wrapping public key for the key${subject(call)}${where(call)} expired before ImportKeyMaterial (they are valid for 24 hours)`,
    todo: 'run the command again: it fetches fresh import parameters with GetParametersForImport each time',
  }),
  InvalidImportTokenException: (call) => ({
    what: `KMS${where(call)} did not accept the import token for the key${subject(call)}: it belongs to another key or wrapping public key`,
    todo: 'run the command again: the token and public key then come from one GetParametersForImport call for this key',
  }),
  ConflictException: (call, message) => ({
    what: `KMS${where(call)} is still busy with an earlier change to the key${subject(call)} (KMS says: ${message}); an on-demand rotation, for one, takes a few minutes to finish`,
    todo: 'wait a few minutes, then run the command again',
  }),
  ResourceNotFoundException: (call, message) => ({
    what: `AWS${where(call)} has no resource${subject(call)} (${message})`,
    todo: "check that the lab is deployed in this account and Region (`kms-lab status`); the lab's escrow secret is created by the import handler, so deploying again recreates it",
  }),
};

export function serviceMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // One paragraph: service messages can carry newlines (and, from some SDK errors, stack-like detail).
  return text.replace(/\s+/g, ' ').trim().replace(/\.$/, '') || 'no message';
}

export function errorName(error: unknown): string {
  if (!(error instanceof Error)) return 'Error';
  // Node's network errors keep their meaning in `code` (ECONNREFUSED, ENOTFOUND, ...).
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? 'NetworkingError' : error.name;
}

function isStackMissing(name: string, message: string): boolean {
  return name === 'ValidationError' && /does not exist/i.test(message);
}

/**
 * The one paragraph printed for a failed SDK call: "<call> failed: <what>.
 * What to do: <todo>." Never a stack trace; unknown errors keep the service's
 * own words and error name, which is what AWS support asks for.
 */
export function explainError(error: unknown, call?: CallContext): string {
  if (error instanceof AwsCallError) return explainError(error.cause, error.call);
  const context: CallContext = call ?? { operation: 'the AWS call' };
  const name = errorName(error);
  const message = serviceMessage(error);
  const explain = BY_NAME[name] ?? (/credential/i.test(name) ? credentials : undefined);
  const head = `${context.operation}${where(context)} failed`;
  if (isStackMissing(name, message)) {
    return stacksNotDeployed([{ name: context.resource ?? '(unnamed)', region: context.region }]);
  }
  if (!explain) return `${head} (${name}): ${message}.`;
  const { what, todo } = explain(context, message);
  return `${head}: ${what}. What to do: ${todo}.`;
}

/** True for DescribeStacks' answer about a stack that does not exist. */
export function isStackNotFound(error: unknown): boolean {
  const cause = error instanceof AwsCallError ? error.cause : error;
  return isStackMissing(errorName(cause), serviceMessage(cause));
}

/** One paragraph for every lab stack that a command needs and that is not there. */
export function stacksNotDeployed(stacks: readonly { name: string; region?: string }[]): string {
  const list = stacks.map((s) => `${s.name}${s.region ? ` (${s.region})` : ''}`);
  const named = list.length === 1 ? `The stack ${list[0]} is` : `The stacks ${list.slice(0, -1).join(', ')} and ${list[list.length - 1]} are`;
  return (
    `${named} not deployed: CloudFormation has no stack by that name in that Region. ` +
    'What to do: deploy the lab with `npx cdk deploy --all`, or point kms-lab at the lab you deployed with ' +
    '--prefix, -c primaryRegion=... -c secondaryRegion=... and --profile.'
  );
}

/** True for errors that would fail every later call the same way, so a command stops at the first. */
export function isCredentialsProblem(error: unknown): boolean {
  const cause = error instanceof AwsCallError ? error.cause : error;
  const name = errorName(cause);
  return [credentials, expired, invalid].includes(BY_NAME[name]) || /credential/i.test(name);
}
