import { Match } from 'aws-cdk-lib/assertions';
import { CRYPTOGRAPHIC_ACTIONS, KEY_USER_ACTIONS } from '../../lib/policies/key-policy';
import { ADMIN, resourcesOfType, synthLab, USER } from '../helpers/lab';

const withPrincipals = { keyAdminArns: [ADMIN], keyUserArns: [USER] };

function keyByDescription(template: ReturnType<typeof synthLab>['primary'], scenario: string) {
  const keys = Object.entries(resourcesOfType(template, 'AWS::KMS::Key')).filter(([, r]) =>
    String(r.Properties.Description).startsWith(`KMS Key Lab scenario ${scenario}`),
  );
  expect(keys).toHaveLength(1);
  return keys[0];
}

describe('scenario (a): single-Region key in the primary Region', () => {
  const { primary } = synthLab();

  test('is a symmetric key with KMS material, rotated on the set period', () => {
    const [, key] = keyByDescription(primary, '(a)');
    expect(key.Properties).toMatchObject({
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      EnableKeyRotation: true,
      RotationPeriodInDays: 365,
      PendingWindowInDays: 7,
    });
    expect(key.Properties.Origin).toBeUndefined();
    expect(key.Properties.MultiRegion).toBeUndefined();
    expect(key.DeletionPolicy).toBe('Delete');
  });

  test('carries the lab-wide alias', () => {
    const [id] = keyByDescription(primary, '(a)');
    primary.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/kms-key-lab/single-region',
      TargetKeyId: { 'Fn::GetAtt': [id, 'Arn'] },
    });
  });

  test('rotation period and pending window follow the settings', () => {
    const { primary: t } = synthLab({ rotationPeriodDays: '180', pendingWindowDays: 30 });
    const [, key] = keyByDescription(t, '(a)');
    expect(key.Properties).toMatchObject({ RotationPeriodInDays: 180, PendingWindowInDays: 30 });
  });
});

describe('scenario (b): multi-Region primary', () => {
  const { primary } = synthLab();

  test('is multi-Region with automatic rotation and a pending window', () => {
    const [id, key] = keyByDescription(primary, '(b)');
    expect(key.Properties).toMatchObject({ MultiRegion: true, EnableKeyRotation: true, RotationPeriodInDays: 365, PendingWindowInDays: 7 });
    expect(key.DeletionPolicy).toBe('Delete');
    primary.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/kms-key-lab/multi-region',
      TargetKeyId: { 'Fn::GetAtt': [id, 'Arn'] },
    });
  });

  test.each([
    ['(b)', 'MultiRegionReplicaKeyArn'],
    ['(e)', 'MultiRegionImportedReplicaKeyArn'],
  ])('names the ARN its %s replica will have in the secondary Region, in an output of its own', (scenario, output) => {
    const keys = Object.entries(primary.toJSON().Resources as Record<string, any>).filter(([, r]) =>
      String(r.Properties?.Description ?? '').startsWith(`KMS Key Lab scenario ${scenario}`) && r.Type === 'AWS::KMS::Key',
    );
    expect(keys).toHaveLength(1);
    // A replica keeps its primary's key id (ReplicateKey API): the same id, in the secondary Region.
    expect(primary.toJSON().Outputs[output].Value).toEqual({
      'Fn::Join': ['', ['arn:aws:kms:ap-southeast-2:', { Ref: 'AWS::AccountId' }, ':key/', { Ref: keys[0][0] }]],
    });
  });
});

describe('scenario (c): imported-material key', () => {
  const { primary } = synthLab();

  test('is an EXTERNAL-origin key without automatic rotation', () => {
    const [id, key] = keyByDescription(primary, '(c)');
    expect(key.Properties).toMatchObject({ Origin: 'EXTERNAL', KeySpec: 'SYMMETRIC_DEFAULT', PendingWindowInDays: 7 });
    expect(key.Properties.EnableKeyRotation).toBeUndefined();
    expect(key.Properties.Enabled).toBeUndefined();
    expect(key.DeletionPolicy).toBe('Delete');
    primary.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/kms-key-lab/imported-material', TargetKeyId: { Ref: id } });
  });

  test('a custom resource imports material with the default wrapping and no expiry', () => {
    const [id] = keyByDescription(primary, '(c)');
    primary.hasResourceProperties('Custom::ImportedKeyMaterial', {
      KeyArn: { 'Fn::GetAtt': [id, 'Arn'] },
      WrappingAlgorithm: 'RSAES_OAEP_SHA_256',
      WrappingKeySpec: 'RSA_4096',
      ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
      ValidTo: Match.absent(),
      MaterialSource: 'generate',
      PendingWindowDays: '7',
      DeleteMaterialOnDelete: 'false',
    });
  });

  test('expiring material and the SHA-1 wrapping of the lab are selectable', () => {
    const { primary: t } = synthLab({ materialExpiresOn: '2027-05-01', wrappingAlgorithm: 'RSAES_OAEP_SHA_1', wrappingKeySpec: 'RSA_2048' });
    t.hasResourceProperties('Custom::ImportedKeyMaterial', {
      WrappingAlgorithm: 'RSAES_OAEP_SHA_1',
      WrappingKeySpec: 'RSA_2048',
      ExpirationModel: 'KEY_MATERIAL_EXPIRES',
      ValidTo: '2027-05-01T00:00:00Z',
    });
  });

  const escrowName = (keyId: string) => ({ 'Fn::Join': ['', ['kms-key-lab/imported-material/escrow-', { Ref: keyId }]] });

  test('the escrow is no template resource: the handler creates and owns it, so no template change can regenerate its value', () => {
    const [keyId] = keyByDescription(primary, '(c)');
    primary.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(JSON.stringify(primary.toJSON())).not.toContain('GenerateSecretString');
    primary.hasResourceProperties('Custom::ImportedKeyMaterial', {
      MaterialSource: 'generate',
      EscrowSecretName: escrowName(keyId),
      SecretTags: { 'kms-key-lab:lab': 'kms-key-lab', 'kms-key-lab:owner': 'unassigned' },
    });
  });

  test('only the import handler (by its role path) and the key administrators may read and write the escrow', () => {
    const { primary: t } = synthLab(withPrincipals);
    const handlerRole = { 'Fn::Join': ['', ['arn:aws:iam::', { Ref: 'AWS::AccountId' }, ':role/kms-key-lab/imported-material/ap-southeast-1/escrow-owner/*']] };
    const accountRoot = { 'Fn::Join': ['', ['arn:aws:iam::', { Ref: 'AWS::AccountId' }, ':root']] };
    t.hasResourceProperties('Custom::ImportedKeyMaterial', {
      EscrowSecretPolicy: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'OnlyNamedReadersAndKeyAdministratorsRead',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'secretsmanager:GetSecretValue',
            Resource: '*',
            Condition: { ArnNotLike: { 'aws:PrincipalArn': [handlerRole, ADMIN] } },
          },
          {
            Sid: 'OnlyTheOwningHandlerAndKeyAdministratorsWrite',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: ['secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecret', 'secretsmanager:UpdateSecretVersionStage'],
            Resource: '*',
            Condition: { ArnNotLike: { 'aws:PrincipalArn': [handlerRole, ADMIN] } },
          },
          {
            Sid: 'OnlyTheLabChangesPolicyOwnershipAndDeletion',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: [
              'secretsmanager:PutResourcePolicy',
              'secretsmanager:DeleteResourcePolicy',
              'secretsmanager:TagResource',
              'secretsmanager:UntagResource',
              'secretsmanager:DeleteSecret',
            ],
            Resource: '*',
            Condition: { ArnNotLike: { 'aws:PrincipalArn': [handlerRole, ADMIN, accountRoot] } },
          },
          {
            Sid: 'KeyAdministratorsRecoverTheValue',
            Effect: 'Allow',
            Principal: { AWS: ADMIN },
            Action: [
              'secretsmanager:DescribeSecret',
              'secretsmanager:GetSecretValue',
              'secretsmanager:RestoreSecret',
              'secretsmanager:PutSecretValue',
              // A resource policy's Allow suffices within the account: the administrators can repair this policy.
              'secretsmanager:GetResourcePolicy',
              'secretsmanager:DeleteResourcePolicy',
            ],
            Resource: '*',
          },
        ],
      },
    });
    const policy = JSON.stringify(t.findResources('Custom::ImportedKeyMaterial'));
    expect(policy).not.toContain(USER);
  });

  test('the imported key waits at most 29 days, so its escrow (at most 30) outlives it, and synth says so', () => {
    const { primary: t, warnings } = synthLab({ pendingWindowDays: 30 });
    const [, key] = keyByDescription(t, '(c)');
    expect(key.Properties.PendingWindowInDays).toBe(29);
    t.hasResourceProperties('Custom::ImportedKeyMaterial', { PendingWindowDays: '29' });
    expect(keyByDescription(t, '(a)')[1].Properties.PendingWindowInDays).toBe(30);
    expect(warnings).toContain('the imported-material key waits 29 days');
  });

  test("the import handler may call exactly what it calls, on the lab's imported keys and escrows only", () => {
    primary.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayEquals([
          { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ImportedMaterialKeyImportHandlerHandlerLogs'), 'Arn'] } },
          {
            Effect: 'Allow',
            Action: ['kms:DescribeKey', 'kms:GetParametersForImport', 'kms:ImportKeyMaterial', 'kms:ListKeyRotations'],
            Resource: { 'Fn::Join': ['', ['arn:aws:kms:ap-southeast-1:', { Ref: 'AWS::AccountId' }, ':key/*']] },
            Condition: { StringEquals: { 'kms:KeyOrigin': 'EXTERNAL', 'aws:ResourceTag/kms-key-lab:lab': 'kms-key-lab' } },
          },
          {
            Effect: 'Allow',
            Action: [
              'secretsmanager:CreateSecret',
              'secretsmanager:DeleteSecret',
              'secretsmanager:DescribeSecret',
              'secretsmanager:GetSecretValue',
              'secretsmanager:PutResourcePolicy',
              'secretsmanager:PutSecretValue',
              'secretsmanager:RestoreSecret',
              'secretsmanager:TagResource',
              'secretsmanager:UntagResource',
            ],
            Resource: {
              'Fn::Join': ['', ['arn:aws:secretsmanager:ap-southeast-1:', { Ref: 'AWS::AccountId' }, ':secret:kms-key-lab/imported-material/escrow-*']],
            },
          },
        ]),
      },
    });
  });

  test('opting in to deleting material adds exactly DeleteImportedKeyMaterial', () => {
    const { primary: t } = synthLab({ deleteImportedMaterialOnDestroy: true });
    t.hasResourceProperties('Custom::ImportedKeyMaterial', { DeleteMaterialOnDelete: 'true' });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['kms:DeleteImportedKeyMaterial', 'kms:DescribeKey', 'kms:GetParametersForImport', 'kms:ImportKeyMaterial', 'kms:ListKeyRotations'],
          }),
        ]),
      },
    });
  });

  test('bring-your-own material reads only the named secret and makes no escrow secret', () => {
    const keyArn = 'arn:aws:kms:ap-southeast-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const { primary: t } = synthLab({ materialSource: 'secret', materialSecretName: 'lab/material', materialSecretKeyArn: keyArn });
    t.resourceCountIs('AWS::SecretsManager::Secret', 0);
    t.hasResourceProperties('Custom::ImportedKeyMaterial', { MaterialSource: 'secret', MaterialSecretName: 'lab/material', EscrowSecretName: Match.absent() });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: 'secretsmanager:GetSecretValue',
            Resource: { 'Fn::Join': ['', ['arn:aws:secretsmanager:ap-southeast-1:', { Ref: 'AWS::AccountId' }, ':secret:lab/material-??????']] },
          },
          {
            Effect: 'Allow',
            Action: 'kms:Decrypt',
            Resource: keyArn,
            Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.ap-southeast-1.amazonaws.com' } },
          },
        ]),
      },
    });
  });
});

describe('key policies separate administrators from users', () => {
  const { primary } = synthLab(withPrincipals);

  test.each(['(a)', '(b)', '(c)'])('scenario %s key policy', (scenario) => {
    const [, key] = keyByDescription(primary, scenario);
    const statements: any[] = key.Properties.KeyPolicy.Statement;
    const bySid = (sid: string) => statements.find((s) => s.Sid === sid);

    expect(bySid('EnableIamPolicies')).toMatchObject({ Effect: 'Allow', Action: 'kms:*' });
    const admins = bySid('KeyAdministrators');
    expect(admins.Principal).toEqual({ AWS: ADMIN });
    for (const action of KEY_USER_ACTIONS.filter((a) => a !== 'kms:DescribeKey')) expect(admins.Action).not.toContain(action);
    expect(admins.Action).not.toContain('kms:CreateGrant');
    expect(admins.Action.some((a: string) => a.includes('*'))).toBe(false);
    expect(admins.Action).toEqual(expect.arrayContaining(['kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion']));

    expect(bySid('DenyKeyAdministratorsCryptographicUse')).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: ADMIN },
    });
    expect([...bySid('DenyKeyAdministratorsCryptographicUse').Action].sort()).toEqual([...CRYPTOGRAPHIC_ACTIONS].sort());
    expect(bySid('KeyUsers')).toMatchObject({ Effect: 'Allow', Principal: { AWS: USER } });
    expect([...bySid('KeyUsers').Action].sort()).toEqual([...KEY_USER_ACTIONS].sort());
  });

  test.each(['(a)', '(b)', '(c)'])('scenario %s administrators may create, repoint and delete the lab aliases, for the alias-swap rotation', (scenario) => {
    const statements = keyByDescription(primary, scenario)[1].Properties.KeyPolicy.Statement;
    expect(statements.find((s: any) => s.Sid === 'KeyAdministratorsManageLabAliases')).toEqual({
      Sid: 'KeyAdministratorsManageLabAliases',
      Effect: 'Allow',
      Principal: { AWS: ADMIN },
      Action: ['kms:CreateAlias', 'kms:DeleteAlias', 'kms:UpdateAlias'],
      Resource: '*',
      Condition: { StringLike: { 'kms:AliasName': 'alias/kms-key-lab/*' } },
    });
    expect(statements.find((s: any) => s.Sid === 'KeyAdministrators').Action).not.toContain('kms:UpdateAlias');
  });

  test('only the imported key lets administrators manage imported material', () => {
    const adminActions = (scenario: string) =>
      keyByDescription(primary, scenario)[1].Properties.KeyPolicy.Statement.find((s: any) => s.Sid === 'KeyAdministrators').Action;
    expect(adminActions('(c)')).toEqual(expect.arrayContaining(['kms:ImportKeyMaterial', 'kms:DeleteImportedKeyMaterial']));
    expect(adminActions('(a)')).not.toContain('kms:ImportKeyMaterial');
    expect(adminActions('(b)')).toContain('kms:UpdatePrimaryRegion');
  });

  test('administrators may not replicate a multi-Region key: a replica would carry a key policy of their choosing', () => {
    for (const scenario of ['(b)', '(e)']) {
      const statements = keyByDescription(primary, scenario)[1].Properties.KeyPolicy.Statement;
      expect(statements.find((s: any) => s.Sid === 'KeyAdministrators').Action).not.toContain('kms:ReplicateKey');
      expect(statements.find((s: any) => s.Sid === 'DenyKeyAdministratorsCryptographicUse').Action).toContain('kms:ReplicateKey');
    }
  });

  test('without principals the policy names the lab roles in their place', () => {
    const { primary: t } = synthLab();
    const [, key] = keyByDescription(t, '(b)');
    const statements = key.Properties.KeyPolicy.Statement as any[];
    expect(statements.map((s) => s.Sid)).toEqual([
      'EnableIamPolicies',
      'KeyAdministrators',
      'KeyAdministratorsManageLabAliases',
      'DenyKeyAdministratorsCryptographicUse',
      'KeyUsers',
    ]);
    const principal = (sid: string) => JSON.stringify(statements.find((s) => s.Sid === sid).Principal.AWS);
    expect(principal('DenyKeyAdministratorsCryptographicUse')).toContain(':role/kms-key-lab-KeyAdmin');
    expect(principal('KeyUsers')).toContain(':role/kms-key-lab-KeyUser');
  });
});

describe('grant example', () => {
  const { primary } = synthLab();

  test('gives the application role Encrypt and Decrypt on the scenario (a) key through a grant', () => {
    const [keyId] = keyByDescription(primary, '(a)');
    const roleId = Object.entries(resourcesOfType(primary, 'AWS::IAM::Role')).find(([, r]) =>
      String(r.Properties.Description).includes('application role'),
    )![0];
    primary.hasResourceProperties('Custom::KmsGrant', {
      KeyArn: { 'Fn::GetAtt': [keyId, 'Arn'] },
      GranteePrincipal: { 'Fn::GetAtt': [roleId, 'Arn'] },
      Operations: ['Decrypt', 'Encrypt'],
      Name: 'kms-key-lab-application',
    });
  });

  test('the grant handler can create only that grant, and revoke', () => {
    const [keyId] = keyByDescription(primary, '(a)');
    primary.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: 'kms:CreateGrant',
            Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
            Condition: {
              StringEquals: { 'kms:GranteePrincipal': Match.anyValue() },
              'ForAllValues:StringEquals': { 'kms:GrantOperations': ['Decrypt', 'Encrypt'] },
            },
          },
          { Effect: 'Allow', Action: 'kms:RevokeGrant', Resource: { 'Fn::GetAtt': [keyId, 'Arn'] } },
        ]),
      },
    });
  });
});

describe('handlers, outputs and tags', () => {
  const { primary } = synthLab();

  test('handlers run on Node.js 24, arm64, with their own one-week log groups', () => {
    const functions = Object.values(resourcesOfType(primary, 'AWS::Lambda::Function')).filter((f) => f.Properties.Handler === 'index.onEvent');
    // The import handlers of (c) and (e), and the grant handler.
    expect(functions).toHaveLength(3);
    for (const f of functions) {
      expect(f.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'] });
      expect(f.Properties.LoggingConfig.LogGroup).toBeDefined();
    }
    for (const group of Object.values(resourcesOfType(primary, 'AWS::Logs::LogGroup'))) {
      expect(group.Properties.RetentionInDays).toBe(7);
      expect(group.DeletionPolicy).toBe('Delete');
    }
  });

  test('no role uses an AWS managed policy', () => {
    for (const role of Object.values(resourcesOfType(primary, 'AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  test.each(['SingleRegion', 'MultiRegion', 'ImportedMaterial', 'MultiRegionImported'])('%s key id, ARN, alias and Region are outputs', (name) => {
    for (const suffix of ['KeyId', 'KeyArn', 'KeyAlias', 'KeyRegion']) primary.hasOutput(`${name}${suffix}`, {});
    primary.hasOutput(`${name}KeyRegion`, { Value: 'ap-southeast-1' });
  });

  test('the escrow secret and the grantee role are outputs', () => {
    const [keyId] = keyByDescription(primary, '(c)');
    primary.hasOutput('ImportedMaterialEscrowSecretName', {
      Value: { 'Fn::Join': ['', ['kms-key-lab/imported-material/escrow-', { Ref: keyId }]] },
    });
    primary.hasOutput('ApplicationRoleArn', {});
    const { primary: byo } = synthLab({ materialSource: 'secret', materialSecretName: 'lab/material' });
    expect(byo.findOutputs('ImportedMaterialEscrowSecretName')).toEqual({});
  });

  test('every taggable resource carries the lab and owner tags', () => {
    const { primary: t } = synthLab({ owner: 'platform-team' });
    const tagged = Object.values(t.toJSON().Resources as Record<string, any>).filter((r) => r.Properties?.Tags);
    expect(tagged.length).toBeGreaterThan(10);
    for (const r of tagged) {
      expect(r.Properties.Tags).toEqual(
        expect.arrayContaining([
          { Key: 'kms-key-lab:lab', Value: 'kms-key-lab' },
          { Key: 'kms-key-lab:owner', Value: 'platform-team' },
        ]),
      );
    }
    for (const type of ['AWS::KMS::Key', 'AWS::Lambda::Function', 'AWS::IAM::Role', 'AWS::Logs::LogGroup']) {
      for (const r of Object.values(t.findResources(type))) expect((r as any).Properties.Tags).toBeDefined();
    }
  });
});

describe('scenario (e): multi-Region primary with imported material', () => {
  const { primary } = synthLab(withPrincipals);
  const secondaryRole = { 'Fn::Join': ['', ['arn:aws:iam::', { Ref: 'AWS::AccountId' }, ':role/kms-key-lab-mrk-import-ap-southeast-2']] };

  test('is a multi-Region EXTERNAL key under its own alias, with the imported-material and multi-Region admin actions', () => {
    const [id, key] = keyByDescription(primary, '(e)');
    expect(key.Properties).toMatchObject({ MultiRegion: true, Origin: 'EXTERNAL', KeySpec: 'SYMMETRIC_DEFAULT', PendingWindowInDays: 7 });
    expect(key.Properties.EnableKeyRotation).toBeUndefined();
    expect(key.DeletionPolicy).toBe('Delete');
    primary.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/kms-key-lab/multi-region-imported', TargetKeyId: { Ref: id } });
    const admins = key.Properties.KeyPolicy.Statement.find((st: any) => st.Sid === 'KeyAdministrators').Action;
    expect(admins).toEqual(expect.arrayContaining(['kms:ImportKeyMaterial', 'kms:GetParametersForImport', 'kms:DeleteImportedKeyMaterial', 'kms:UpdatePrimaryRegion']));
  });

  test('its import resource escrows generated material in a secret replicated to the secondary Region', () => {
    const [id] = keyByDescription(primary, '(e)');
    primary.hasResourceProperties('Custom::ImportedKeyMaterial', {
      KeyArn: { 'Fn::GetAtt': [id, 'Arn'] },
      MultiRegion: 'primary',
      MaterialSource: 'generate',
      EscrowSecretName: { 'Fn::Join': ['', ['kms-key-lab/multi-region-imported/escrow-', { Ref: id }]] },
      EscrowReplicaRegions: ['ap-southeast-2'],
      PendingWindowDays: '7',
    });
  });

  test("the escrow's readers are both import handlers: the secondary's by its fixed, Region-qualified role name", () => {
    const [id] = keyByDescription(primary, '(e)');
    const resource = Object.values(resourcesOfType(primary, 'Custom::ImportedKeyMaterial')).find(
      (r) => JSON.stringify(r.Properties.KeyArn) === JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] }),
    )!;
    const read = resource.Properties.EscrowSecretPolicy.Statement.find((st: any) => st.Sid === 'OnlyNamedReadersAndKeyAdministratorsRead');
    expect(read.Condition.ArnNotLike['aws:PrincipalArn']).toEqual([
      { 'Fn::Join': ['', ['arn:aws:iam::', { Ref: 'AWS::AccountId' }, ':role/kms-key-lab/multi-region-imported/ap-southeast-1/escrow-owner/*']] },
      secondaryRole,
      ADMIN,
    ]);
    const write = resource.Properties.EscrowSecretPolicy.Statement.find((st: any) => st.Sid === 'OnlyTheOwningHandlerAndKeyAdministratorsWrite');
    expect(JSON.stringify(write)).not.toContain('mrk-import');
  });

  test('its handler may replicate the escrow to the secondary Region only, and remove the replica', () => {
    primary.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: 'secretsmanager:ReplicateSecretToRegions',
            Resource: { 'Fn::Join': ['', ['arn:aws:secretsmanager:ap-southeast-1:', { Ref: 'AWS::AccountId' }, ':secret:kms-key-lab/multi-region-imported/escrow-*']] },
            Condition: { 'ForAllValues:StringEquals': { 'secretsmanager:AddReplicaRegions': ['ap-southeast-2'] } },
          },
        ]),
      },
    });
    // Unconditioned, it joins the escrow statement of the handler's other Secrets Manager calls.
    primary.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['secretsmanager:DeleteSecret', 'secretsmanager:RemoveRegionsFromReplication']),
            Resource: { 'Fn::Join': ['', ['arn:aws:secretsmanager:ap-southeast-1:', { Ref: 'AWS::AccountId' }, ':secret:kms-key-lab/multi-region-imported/escrow-*']] },
          }),
        ]),
      },
    });
  });

  test('key id, ARN, alias, Region and escrow secret name are outputs', () => {
    const [id] = keyByDescription(primary, '(e)');
    primary.hasOutput('MultiRegionImportedKeyId', { Value: { Ref: id } });
    primary.hasOutput('MultiRegionImportedKeyArn', { Value: { 'Fn::GetAtt': [id, 'Arn'] } });
    primary.hasOutput('MultiRegionImportedKeyAlias', { Value: 'alias/kms-key-lab/multi-region-imported' });
    primary.hasOutput('MultiRegionImportedKeyRegion', { Value: 'ap-southeast-1' });
    primary.hasOutput('MultiRegionImportedEscrowSecretName', { Value: { 'Fn::Join': ['', ['kms-key-lab/multi-region-imported/escrow-', { Ref: id }]] } });
  });

  test('both keys of (e) wait at most 14 days, so the escrow (2W+1) fits in 30, and synth says so', () => {
    const { primary: t, secondary, warnings } = synthLab({ pendingWindowDays: 20 });
    expect(keyByDescription(t, '(e)')[1].Properties.PendingWindowInDays).toBe(14);
    expect(keyByDescription(t, '(c)')[1].Properties.PendingWindowInDays).toBe(20);
    const replica = Object.values(resourcesOfType(secondary, 'Custom::LabReplicaKey')).find((r) => String(r.Properties.Description).includes('scenario (e)'))!;
    expect(replica.Properties.PendingWindowDays).toBe('14');
    expect(warnings).toContain('pendingWindowDays is 20, but the multi-Region imported key (primary and replica) waits 14 days');
    expect(synthLab({ pendingWindowDays: 14 }).warnings).not.toContain('multi-Region imported');
  });

  test('-c multiRegionImportedKey=false removes scenario (e) from both stacks', () => {
    const { primary: t, secondary } = synthLab({ multiRegionImportedKey: false });
    const all = JSON.stringify([t.toJSON(), secondary.toJSON()]);
    expect(all).not.toContain('multi-region-imported');
    expect(all).not.toContain('MultiRegionImported');
    expect(Object.keys(resourcesOfType(secondary, 'Custom::LabReplicaKey'))).toHaveLength(1);
  });
});
