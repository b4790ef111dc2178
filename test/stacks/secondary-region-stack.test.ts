import { Token } from 'aws-cdk-lib';
import { ADMIN, resourcesOfType, synthLab, USER } from '../helpers/lab';

describe('secondary Region stack', () => {
  const { primary, secondary, lab } = synthLab({ keyAdminArns: [ADMIN], keyUserArns: [USER] });

  test('is in Sydney by default, the primary in Singapore', () => {
    expect(lab.primary.region).toBe('ap-southeast-1');
    expect(lab.secondary.region).toBe('ap-southeast-2');
    expect(lab.primary.stackName).toBe('kms-key-lab-primary');
    expect(lab.secondary.stackName).toBe('kms-key-lab-secondary');
  });

  test('scenario (a): its own rotated key under the same alias as in the primary Region', () => {
    const keys = resourcesOfType(secondary, 'AWS::KMS::Key');
    expect(Object.keys(keys)).toHaveLength(1);
    const [id, key] = Object.entries(keys)[0];
    expect(key.Properties).toMatchObject({ EnableKeyRotation: true, RotationPeriodInDays: 365, PendingWindowInDays: 7 });
    expect(key.Properties.MultiRegion).toBeUndefined();
    secondary.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/kms-key-lab/single-region',
      TargetKeyId: { 'Fn::GetAtt': [id, 'Arn'] },
    });
    primary.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/kms-key-lab/single-region' });
  });

  test("scenario (b): the replica names the primary's ARN through a weak cross-Region reference", () => {
    const [replicaId, replica] = Object.entries(resourcesOfType(secondary, 'AWS::KMS::ReplicaKey'))[0];
    expect(replica.DeletionPolicy).toBe('Delete');
    expect(replica.Properties.PendingWindowInDays).toBe(7);
    const ref = replica.Properties.PrimaryKeyArn['Fn::GetStackOutput'];
    expect(ref).toMatchObject({ StackName: 'kms-key-lab-primary', Region: 'ap-southeast-1' });

    // The output it reads exists in the primary and holds the multi-Region key's ARN.
    const mrkId = Object.entries(resourcesOfType(primary, 'AWS::KMS::Key')).find(([, k]) => k.Properties.MultiRegion)![0];
    expect(primary.toJSON().Outputs[ref.OutputName].Value).toEqual({ 'Fn::GetAtt': [mrkId, 'Arn'] });

    secondary.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/kms-key-lab/multi-region',
      TargetKeyId: { 'Fn::GetAtt': [replicaId, 'KeyId'] },
    });
  });

  test('the weak reference adds no export, SSM parameter or custom resource', () => {
    const types = new Set(Object.values(secondary.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type));
    expect([...types].sort()).toEqual(['AWS::CDK::Metadata', 'AWS::KMS::Alias', 'AWS::KMS::Key', 'AWS::KMS::ReplicaKey'].filter((t) => types.has(t)));
    expect(JSON.stringify(primary.toJSON().Outputs)).not.toContain('Export');
  });

  test('the replica has the same separated key policy', () => {
    const replica = Object.values(resourcesOfType(secondary, 'AWS::KMS::ReplicaKey'))[0];
    const sids = replica.Properties.KeyPolicy.Statement.map((s: any) => s.Sid);
    expect(sids).toEqual(['EnableIamPolicies', 'KeyAdministrators', 'KeyAdministratorsManageLabAliases', 'DenyKeyAdministratorsCryptographicUse', 'KeyUsers']);
  });

  test('the secondary stack deploys after the primary', () => {
    expect(lab.secondary.dependencies).toContain(lab.primary);
  });

  test.each(['SingleRegion', 'MultiRegion'])('%s key id, ARN, alias and Region are outputs', (name) => {
    for (const suffix of ['KeyId', 'KeyArn', 'KeyAlias']) secondary.hasOutput(`${name}${suffix}`, {});
    secondary.hasOutput(`${name}KeyRegion`, { Value: 'ap-southeast-2' });
  });

  test('Regions come from the settings', () => {
    const other = synthLab({ primaryRegion: 'eu-west-1', secondaryRegion: 'eu-central-1' });
    expect(other.lab.primary.region).toBe('eu-west-1');
    const replica = Object.values(resourcesOfType(other.secondary, 'AWS::KMS::ReplicaKey'))[0];
    expect(replica.Properties.PrimaryKeyArn['Fn::GetStackOutput'].Region).toBe('eu-west-1');
  });
});

describe('synth warnings', () => {
  test('an unset account is left unresolved, with a warning that says so', () => {
    const { lab, warnings } = synthLab();
    expect(Token.isUnresolved(lab.primary.account)).toBe(true);
    expect(lab.primary.resolve(lab.primary.account)).toEqual({ Ref: 'AWS::AccountId' });
    expect(warnings).toContain('No "account" setting: the account is left unresolved');
  });

  test('a configured account pins both stacks and silences the warning', () => {
    const { lab, warnings } = synthLab({ account: '123456789012', keyAdminArns: [ADMIN], keyUserArns: [USER] });
    expect(lab.primary.account).toBe('123456789012');
    expect(lab.secondary.account).toBe('123456789012');
    expect(warnings).not.toContain('No "account" setting');
  });
});
