import { DeleteResourcePolicyCommand, GetResourcePolicyCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { escrowSecrets } from '../../cli/lab-stacks';
import { FakeAws, PRIMARY } from '../cli/fake-aws';
import '../cli/fake-key-material';
import { useOperatorCredentials } from '../cli/harness';
import { synthLab } from '../helpers/lab';
import { FakeAwsDeployment } from './fake-aws-deploy';

/**
 * The escrow's resource policy, as the synthesized lab deploys it, lets a key
 * administrator repair it: the lab's KeyAdmin role (whose own IAM policy has
 * no Secrets Manager action) reads and deletes it; a key user cannot.
 */
jest.setTimeout(120_000);
useOperatorCredentials();

let aws: FakeAws;
let escrows: string[];
let roles: Record<string, string>;
beforeAll(async () => {
  aws = new FakeAws();
  aws.install();
  const results = await new FakeAwsDeployment(aws).deployAll(synthLab().app.synth());
  expect(results.map((r) => r.result.failure).filter(Boolean)).toEqual([]);
  const primary = aws.stacks.get(`${PRIMARY}|kms-key-lab-primary`)!;
  escrows = escrowSecrets({ primary: { outputs: primary.outputs } } as never).map((e) => e.name);
  roles = aws.stacks.get(`${PRIMARY}|kms-key-lab-roles`)!.outputs;
});
beforeEach(() => void aws.install());

async function secretsAs(roleArn: string): Promise<SecretsManagerClient> {
  const { Credentials: c } = await new STSClient({ region: PRIMARY }).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'repair' }));
  return new SecretsManagerClient({ region: PRIMARY, credentials: { accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken } });
}

test('a key user may neither read nor delete the escrow policy', async () => {
  expect(escrows).toHaveLength(2);
  const user = await secretsAs(roles.KeyUserRoleArn);
  for (const name of escrows) {
    await expect(user.send(new GetResourcePolicyCommand({ SecretId: name }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(user.send(new DeleteResourcePolicyCommand({ SecretId: name }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
  }
});

test("under an earlier version's escrow policy (no Allow to change it), the lab's key administrator role may not delete it", async () => {
  // The earlier version's policy: this version's, without the administrators' Allow of the policy actions.
  const repair = ['secretsmanager:GetResourcePolicy', 'secretsmanager:PutResourcePolicy', 'secretsmanager:DeleteResourcePolicy'];
  const name = escrows[0];
  const secret = aws.secrets.get(name)!;
  const current = secret.policy!;
  const statements = current.Statement as unknown as { Effect: string; Action: string | string[] }[];
  expect(statements.filter((st) => st.Effect === 'Allow' && [st.Action].flat().includes('secretsmanager:DeleteResourcePolicy'))).toHaveLength(1);
  secret.policy = { ...current, Statement: statements.map((st) => (st.Effect === 'Allow' ? { ...st, Action: [st.Action].flat().filter((a) => !repair.includes(a)) } : st)) } as never;
  try {
    const admin = await secretsAs(roles.KeyAdminRoleArn);
    await expect(admin.send(new DeleteResourcePolicyCommand({ SecretId: name }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(secret.policy).toBeDefined();
  } finally {
    secret.policy = current;
  }
});

test("the lab's key administrator role reads and deletes the escrow policy through the policy's own Allow", async () => {
  const admin = await secretsAs(roles.KeyAdminRoleArn);
  for (const name of escrows) {
    const read = await admin.send(new GetResourcePolicyCommand({ SecretId: name }));
    expect(JSON.stringify(JSON.parse(read.ResourcePolicy!))).toContain(roles.KeyAdminRoleArn);
    await admin.send(new DeleteResourcePolicyCommand({ SecretId: name }));
    expect(aws.secrets.get(name)!.policy).toBeUndefined();
  }
});
