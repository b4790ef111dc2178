import { Token } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { ADMIN, resourcesOfType, synthLab, USER } from '../helpers/lab';

type Template = ReturnType<typeof synthLab>['secondary'];
const byScenario = (template: Template, type: string, scenario: string) => {
  const found = Object.entries(resourcesOfType(template, type)).filter(([, r]) => String(r.Properties.Description).includes(`scenario ${scenario}`));
  expect(found).toHaveLength(1);
  return found[0];
};

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

  test("scenario (b): the replica is a Custom::LabReplicaKey that names the primary's ARN through a weak cross-Region reference", () => {
    expect(Object.keys(resourcesOfType(secondary, 'AWS::KMS::ReplicaKey'))).toEqual([]);
    const [replicaId, replica] = byScenario(secondary, 'Custom::LabReplicaKey', '(b)');
    expect(replica.Properties.PendingWindowDays).toBe('7');
    expect(replica.Properties.Tags).toEqual({ 'kms-key-lab:lab': 'kms-key-lab', 'kms-key-lab:owner': 'unassigned' });
    const ref = replica.Properties.PrimaryKeyArn['Fn::GetStackOutput'];
    expect(ref).toMatchObject({ StackName: 'kms-key-lab-primary', Region: 'ap-southeast-1' });

    // The output it reads exists in the primary and holds the multi-Region key's ARN.
    const [mrkId] = byScenario(primary, 'AWS::KMS::Key', '(b)');
    expect(primary.toJSON().Outputs[ref.OutputName].Value).toEqual({ 'Fn::GetAtt': [mrkId, 'Arn'] });

    secondary.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/kms-key-lab/multi-region',
      TargetKeyId: { 'Fn::GetAtt': [replicaId, 'KeyId'] },
    });
    secondary.hasOutput('MultiRegionKeyId', { Value: { 'Fn::GetAtt': [replicaId, 'KeyId'] } });
    secondary.hasOutput('MultiRegionKeyArn', { Value: { 'Fn::GetAtt': [replicaId, 'Arn'] } });
  });

  test('the weak reference adds no export, SSM parameter or cross-Region reader', () => {
    const types = new Set(Object.values(secondary.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type));
    expect([...types].filter((t) => t.startsWith('AWS::SSM::') || t.startsWith('Custom::CrossRegion'))).toEqual([]);
    // The custom resources are the replicas and scenario (e)'s import, not a reference reader.
    expect([...types].filter((t) => t.startsWith('Custom::')).sort()).toEqual(['Custom::ImportedKeyMaterial', 'Custom::LabReplicaKey']);
    expect(JSON.stringify(primary.toJSON().Outputs)).not.toContain('Export');
  });

  test('the replica has the same separated key policy', () => {
    const [, replica] = byScenario(secondary, 'Custom::LabReplicaKey', '(b)');
    const sids = replica.Properties.KeyPolicy.Statement.map((s: any) => s.Sid);
    expect(sids).toEqual(['EnableIamPolicies', 'KeyAdministrators', 'KeyAdministratorsManageLabAliases', 'DenyKeyAdministratorsCryptographicUse', 'KeyUsers']);
  });

  test('one replica handler serves both replicas, and waits for Creating to end with isComplete', () => {
    const functions = Object.values(resourcesOfType(secondary, 'AWS::Lambda::Function')).filter((f) => String(f.Properties.Description).includes('adopts its replica pending deletion'));
    expect(functions).toHaveLength(2);
    expect(functions.map((f) => f.Properties.Handler).sort()).toEqual(['index.isComplete', 'index.onEvent']);
    const tokens = new Set(Object.values(resourcesOfType(secondary, 'Custom::LabReplicaKey')).map((r) => JSON.stringify(r.Properties.ServiceToken)));
    expect(tokens.size).toBe(1);
  });

  test('every value read from the primary stack is a whole Fn::GetStackOutput, nested in no other intrinsic function', () => {
    // CloudFormation's reference lists which functions each function may contain; none lists Fn::GetStackOutput yet.
    const nested: string[] = [];
    const walk = (value: unknown, path: string, inFunction: string | undefined): void => {
      if (Array.isArray(value)) return value.forEach((v, i) => walk(v, `${path}/${i}`, inFunction));
      if (value === null || typeof value !== 'object') return;
      for (const [k, v] of Object.entries(value)) {
        if (k === 'Fn::GetStackOutput' && inFunction) nested.push(`${path} (inside ${inFunction})`);
        walk(v, `${path}/${k}`, k.startsWith('Fn::') || k === 'Ref' ? k : inFunction);
      }
    };
    const template = secondary.toJSON();
    walk(template, '', undefined);
    expect(JSON.stringify(template)).toContain('Fn::GetStackOutput');
    expect(nested).toEqual([]);
  });

  test("the replica handler's role names each key exactly: ReplicateKey on the primary into this Region, the rest on the replica's ARN", () => {
    const [id] = byScenario(secondary, 'Custom::LabReplicaKey', '(b)');
    const replica = resourcesOfType(secondary, 'Custom::LabReplicaKey')[id];
    const primaryArn = replica.Properties.PrimaryKeyArn;
    const statements = Object.values(resourcesOfType(secondary, 'AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p).includes('kms:ReplicateKey'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    // One statement for both primaries (CDK merges them), into this Region only.
    const replicate = statements.find((st: any) => st.Action === 'kms:ReplicateKey');
    expect(replicate.Condition).toEqual({ StringEquals: { 'kms:ReplicaRegion': 'ap-southeast-2' } });
    expect(replicate.Resource).toContainEqual(primaryArn);
    expect(replicate.Resource).toHaveLength(2);
    // The primary stack's output names the replica's ARN whole (see the primary stack's tests for its value).
    const replicaArn = { 'Fn::GetStackOutput': { StackName: 'kms-key-lab-primary', Region: 'ap-southeast-1', OutputName: 'MultiRegionReplicaKeyArn' } };
    const onReplica = statements.find((st: any) => JSON.stringify(st.Resource) === JSON.stringify(replicaArn));
    expect(onReplica.Action).toEqual([
      'kms:CancelKeyDeletion',
      'kms:DescribeKey',
      'kms:EnableKey',
      'kms:ListResourceTags',
      'kms:PutKeyPolicy',
      'kms:ScheduleKeyDeletion',
      'kms:TagResource',
      'kms:UntagResource',
      'kms:UpdateKeyDescription',
    ]);
    // CreateKey (ReplicateKey's half in this Region) is the one action without a key ARN, and only in this Region.
    expect(statements.filter((st: any) => st.Resource === '*')).toEqual([
      { Effect: 'Allow', Action: 'kms:CreateKey', Resource: '*', Condition: { StringEquals: { 'aws:RequestedRegion': ['ap-southeast-2', 'ap-southeast-1'] } } },
    ]);
    // ReplicateKey's Tags: TagResource on any key of this Region's account too, for a request carrying the lab's tag only.
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 'kms:TagResource',
      Resource: { 'Fn::Join': ['', ['arn:aws:kms:ap-southeast-2:', { Ref: 'AWS::AccountId' }, ':key/*']] },
      Condition: { StringEquals: { 'aws:RequestTag/kms-key-lab:lab': 'kms-key-lab' } },
    });
    // The replicas the resource owns, by its owner tag, for the Delete after a replacement.
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['kms:DescribeKey', 'kms:ListResourceTags', 'kms:ScheduleKeyDeletion'],
      Resource: { 'Fn::Join': ['', ['arn:aws:kms:ap-southeast-2:', { Ref: 'AWS::AccountId' }, ':key/*']] },
      Condition: { StringEquals: { 'aws:ResourceTag/kms-key-lab:managed-by': { 'Fn::Join': ['', [{ Ref: 'AWS::StackId' }, `/${id}`]] } } },
    });
  });

  test('the secondary stack deploys after the primary', () => {
    expect(lab.secondary.dependencies).toContain(lab.primary);
  });

  test.each(['SingleRegion', 'MultiRegion', 'MultiRegionImported'])('%s key id, ARN, alias and Region are outputs', (name) => {
    for (const suffix of ['KeyId', 'KeyArn', 'KeyAlias']) secondary.hasOutput(`${name}${suffix}`, {});
    secondary.hasOutput(`${name}KeyRegion`, { Value: 'ap-southeast-2' });
  });

  test('Regions come from the settings', () => {
    const other = synthLab({ primaryRegion: 'eu-west-1', secondaryRegion: 'eu-central-1' });
    expect(other.lab.primary.region).toBe('eu-west-1');
    const [, replica] = byScenario(other.secondary, 'Custom::LabReplicaKey', '(b)');
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

describe('scenario (e): the replica of the multi-Region imported key', () => {
  const { primary, secondary } = synthLab({ keyAdminArns: [ADMIN], keyUserArns: [USER] });

  test("replicates the (e) primary, whose ARN comes through the weak cross-Region reference, under the lab's alias", () => {
    const [replicaId, replica] = byScenario(secondary, 'Custom::LabReplicaKey', '(e)');
    const ref = replica.Properties.PrimaryKeyArn['Fn::GetStackOutput'];
    expect(ref).toMatchObject({ StackName: 'kms-key-lab-primary', Region: 'ap-southeast-1' });
    const [primaryId] = byScenario(primary, 'AWS::KMS::Key', '(e)');
    expect(primary.toJSON().Outputs[ref.OutputName].Value).toEqual({ 'Fn::GetAtt': [primaryId, 'Arn'] });
    secondary.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/kms-key-lab/multi-region-imported',
      TargetKeyId: { 'Fn::GetAtt': [replicaId, 'KeyId'] },
    });
  });

  test('its key policy is the primary’s, with UpdatePrimaryRegion for the replica', () => {
    const [, replica] = byScenario(secondary, 'Custom::LabReplicaKey', '(e)');
    const admins = replica.Properties.KeyPolicy.Statement.find((st: any) => st.Sid === 'KeyAdministrators').Action;
    expect(admins).toEqual(expect.arrayContaining(['kms:ImportKeyMaterial', 'kms:GetParametersForImport', 'kms:DeleteImportedKeyMaterial', 'kms:UpdatePrimaryRegion']));
    expect(admins).not.toContain('kms:ReplicateKey');
  });

  test('its replica handler may delete the material of the (e) replica alone, so an adopted replica waits for the import', () => {
    const [id] = byScenario(secondary, 'Custom::LabReplicaKey', '(e)');
    expect(resourcesOfType(secondary, 'Custom::LabReplicaKey')[id].Properties.PrimaryKeyArn['Fn::GetStackOutput'].StackName).toBe('kms-key-lab-primary');
    const statements = Object.values(resourcesOfType(secondary, 'AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const deleting = statements.filter((st: any) => [st.Action].flat().includes('kms:DeleteImportedKeyMaterial'));
    expect(deleting).toHaveLength(1);
    expect(deleting[0].Resource).toEqual({
      'Fn::GetStackOutput': { StackName: 'kms-key-lab-primary', Region: 'ap-southeast-1', OutputName: 'MultiRegionImportedReplicaKeyArn' },
    });
  });

  test('its import resource reads the escrow replica named after the replica’s (shared) key id', () => {
    const [replicaId] = byScenario(secondary, 'Custom::LabReplicaKey', '(e)');
    secondary.hasResourceProperties('Custom::ImportedKeyMaterial', {
      KeyArn: { 'Fn::GetAtt': [replicaId, 'Arn'] },
      MultiRegion: 'replica',
      MaterialSource: 'escrow-replica',
      EscrowSecretName: { 'Fn::Join': ['', ['kms-key-lab/multi-region-imported/escrow-', { 'Fn::GetAtt': [replicaId, 'KeyId'] }]] },
      EscrowSecretPolicy: Match.absent(),
      PendingWindowDays: '7',
    });
    secondary.hasOutput('MultiRegionImportedEscrowSecretName', {});
  });

  test('its handler role has the fixed name the primary’s escrow policy names, and may only read the escrow replica', () => {
    secondary.hasResourceProperties('AWS::IAM::Role', { RoleName: 'kms-key-lab-mrk-import-ap-southeast-2' });
    const policies = Object.values(resourcesOfType(secondary, 'AWS::IAM::Policy')).filter((p) => JSON.stringify(p).includes('secretsmanager'));
    expect(policies).toHaveLength(1);
    expect(policies[0].Properties.PolicyDocument.Statement).toEqual(
      expect.arrayContaining([
        {
          Effect: 'Allow',
          Action: ['kms:DescribeKey', 'kms:GetParametersForImport', 'kms:ImportKeyMaterial', 'kms:ListKeyRotations'],
          Resource: { 'Fn::Join': ['', ['arn:aws:kms:ap-southeast-2:', { Ref: 'AWS::AccountId' }, ':key/*']] },
          Condition: { StringEquals: { 'kms:KeyOrigin': 'EXTERNAL', 'aws:ResourceTag/kms-key-lab:lab': 'kms-key-lab' } },
        },
        {
          Effect: 'Allow',
          Action: 'secretsmanager:GetSecretValue',
          Resource: { 'Fn::Join': ['', ['arn:aws:secretsmanager:ap-southeast-2:', { Ref: 'AWS::AccountId' }, ':secret:kms-key-lab/multi-region-imported/escrow-*']] },
        },
      ]),
    );
    const actions = JSON.stringify(policies[0].Properties.PolicyDocument.Statement.map((st: any) => st.Action));
    for (const write of ['PutSecretValue', 'CreateSecret', 'DeleteSecret', 'Replicate', 'RemoveRegions']) expect(actions).not.toContain(write);
  });

  test('the role name stays within IAM’s 64 characters for the longest prefix', () => {
    const { secondary: t } = synthLab({ prefix: 'a23456789012345678901234567890ab', secondaryRegion: 'ap-southeast-5' });
    const names = Object.values(resourcesOfType(t, 'AWS::IAM::Role')).map((r) => r.Properties.RoleName).filter(Boolean);
    expect(names).toEqual(['a23456789012345678901234567890ab-mrk-import-ap-southeast-5']);
    expect(names[0].length).toBeLessThanOrEqual(64);
  });
});
