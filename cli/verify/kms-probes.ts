import { DecryptCommand, DescribeCustomKeyStoresCommand, DescribeKeyCommand, EncryptCommand, GetKeyPolicyCommand, KMS } from '@aws-sdk/client-kms';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { AwsClients, optionalPackages, RoleCredentials } from '../aws/clients';
import { awsCall } from '../errors';

/** The README's sample plaintext, so a reader can repeat a check with the AWS CLI. */
export const SAMPLE_PLAINTEXT = Buffer.from('Hey, you must secure this file');

/** Bound to every ciphertext the checks make, so none of it decrypts outside them by accident. */
export const VERIFY_CONTEXT = { purpose: 'kms-lab verify' } as const;

/** Encrypts under keyRef (an alias or ARN); keyArn, when keyRef is an alias, lets a failure name the key for its remedy. */
export async function encrypt(kms: KMS, region: string, keyRef: string, plaintext: Uint8Array, keyArn?: string) {
  const answer = await awsCall({ operation: 'Encrypt', region, resource: keyRef, keyArn }, () =>
    kms.send(new EncryptCommand({ KeyId: keyRef, Plaintext: plaintext, EncryptionContext: { ...VERIFY_CONTEXT } })),
  );
  return { ciphertext: answer.CiphertextBlob ?? new Uint8Array(), keyId: answer.KeyId };
}

export async function decrypt(kms: KMS, region: string, keyRef: string, ciphertext: Uint8Array) {
  // KeyId pins the key: without it KMS would pick whichever key the ciphertext names.
  const answer = await awsCall({ operation: 'Decrypt', region, resource: keyRef }, () =>
    kms.send(new DecryptCommand({ KeyId: keyRef, CiphertextBlob: ciphertext, EncryptionContext: { ...VERIFY_CONTEXT } })),
  );
  return { plaintext: answer.Plaintext, keyId: answer.KeyId };
}

/** Temporary credentials of a role, from STS in the given Region. */
export async function assumeRole(clients: AwsClients, region: string, roleArn: string): Promise<RoleCredentials> {
  const answer = await awsCall({ operation: 'AssumeRole', region, resource: roleArn }, () =>
    clients.sts(region).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'kms-lab-verify', DurationSeconds: 900 })),
  );
  const c = answer.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`AssumeRole of ${roleArn} returned no credentials`);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
}

/** What DescribeKey says of a key's material: its state, origin and current material. */
export async function describeKeyMaterial(kms: KMS, region: string, keyArn: string) {
  const answer = await awsCall({ operation: 'DescribeKey', region, resource: keyArn, keyArn }, () => kms.send(new DescribeKeyCommand({ KeyId: keyArn })));
  const m = answer.KeyMetadata;
  return { state: m?.KeyState ?? 'unknown', origin: m?.Origin, multiRegionKeyType: m?.MultiRegionConfiguration?.MultiRegionKeyType, currentKeyMaterialId: m?.CurrentKeyMaterialId };
}

export async function describeKeyStore(kms: KMS, region: string, id: string) {
  const answer = await awsCall({ operation: 'DescribeCustomKeyStores', region, resource: id }, () =>
    kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id })),
  );
  const store = answer.CustomKeyStores?.[0];
  return { id, connectionState: store?.ConnectionState, connectionErrorCode: store?.ConnectionErrorCode };
}

/** What IAM's policy simulator decided for one action: allowed, explicitDeny or implicitDeny. */
export interface SimulatedDecision {
  readonly decision: string;
  /** The policies whose statements decided it, as IAM names them (e.g. "PolicyInputList.1", a role policy's name). */
  readonly matched: readonly string[];
}

type PolicyStatement = Record<string, unknown>;

const listOf = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)]);

/** The AWS principals a statement's Principal (or NotPrincipal) names; "*" for everyone. */
function awsPrincipals(principal: unknown): string[] {
  if (principal === '*') return ['*'];
  if (principal && typeof principal === 'object') return listOf((principal as Record<string, unknown>).AWS);
  return [];
}

/**
 * The key policy's statements that name the role itself (or everyone), as
 * identity-policy statements (without Principal). Statements for the
 * account's root are left out: they only let IAM policies count, and the
 * simulation includes the role's IAM policies anyway.
 */
export function statementsForRole(keyPolicy: string, roleArn: string): PolicyStatement[] {
  const parsed = JSON.parse(keyPolicy) as { Statement?: PolicyStatement | PolicyStatement[] };
  const statements = Array.isArray(parsed.Statement) ? parsed.Statement : parsed.Statement ? [parsed.Statement] : [];
  return statements
    .filter((st) => {
      if ('NotPrincipal' in st) return !awsPrincipals(st.NotPrincipal).includes(roleArn);
      const named = awsPrincipals(st.Principal);
      return named.includes('*') || named.includes(roleArn);
    })
    .map(({ Principal: _p, NotPrincipal: _n, Sid: _s, ...rest }) => rest);
}

/** The key's policy document (its only policy, "default"), as the caller may read it. */
export async function getKeyPolicy(clients: AwsClients, region: string, keyArn: string): Promise<string> {
  const answer = await awsCall({ operation: 'GetKeyPolicy', region, resource: keyArn }, () =>
    clients.kms(region).send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' })),
  );
  return answer.Policy ?? '{}';
}

/** `kms:ReEncrypt*` matches `kms:ReEncryptFrom`; IAM action names compare case-insensitively. */
function actionMatches(pattern: string, action: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.?+^$()[\]{}|\\]/g, '\\$&')).join('.*')}$`, 'i');
  return regex.test(action);
}

/**
 * The principals (by ARN, as the key policy spells them) that an Allow
 * statement of the key policy names for the action; the account root and "*"
 * are left out, since they name no one in particular.
 */
export function principalsAllowed(keyPolicy: string, action: string): string[] {
  const parsed = JSON.parse(keyPolicy) as { Statement?: PolicyStatement | PolicyStatement[] };
  const statements = Array.isArray(parsed.Statement) ? parsed.Statement : parsed.Statement ? [parsed.Statement] : [];
  const named = statements
    .filter((st) => st.Effect === 'Allow' && listOf(st.Action).some((pattern) => actionMatches(pattern, action)))
    .flatMap((st) => awsPrincipals(st.Principal))
    .filter((arn) => arn !== '*' && !/^arn:[\w-]+:iam::\d{12}:root$/.test(arn) && !/^\d{12}$/.test(arn));
  return [...new Set(named)];
}

/**
 * Would the role be allowed kms:ScheduleKeyDeletion on the key? Asked of
 * IAM's policy simulator, so no deletion is ever scheduled: the role's own
 * IAM policies plus the key policy's statements for the role. (The key
 * policy cannot go in as ResourcePolicy: IAM then requires CallerArn, which
 * only takes an IAM user, not a role.) Undefined when @aws-sdk/client-iam is
 * not installed.
 */
export async function simulateScheduleDeletion(clients: AwsClients, region: string, roleArn: string, keyArn: string, keyPolicy: string): Promise<SimulatedDecision | undefined> {
  const iam = optionalPackages.iam();
  const client = clients.iam(region);
  if (!iam || !client) return undefined;
  const statements = statementsForRole(keyPolicy, roleArn);
  const answer = await awsCall({ operation: 'SimulatePrincipalPolicy', region, resource: roleArn }, () =>
    client.send(
      new iam.SimulatePrincipalPolicyCommand({
        PolicySourceArn: roleArn,
        ActionNames: ['kms:ScheduleKeyDeletion'],
        ResourceArns: [keyArn],
        ...(statements.length > 0 ? { PolicyInputList: [JSON.stringify({ Version: '2012-10-17', Statement: statements })] } : {}),
      }),
    ),
  );
  const result = answer.EvaluationResults?.[0];
  return {
    decision: result?.EvalDecision ?? 'unknown',
    matched: [...new Set((result?.MatchedStatements ?? []).map((m) => m.SourcePolicyId ?? m.SourcePolicyType ?? '?'))],
  };
}
