import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { ADMIN, resourcesOfType, synthLab, USER } from '../helpers/lab';

const opted = { cloudHsm: true, keyAdminArns: [ADMIN], keyUserArns: [USER] };
const logicalIdOf = (resources: Record<string, unknown>) => Object.keys(resources)[0];

describe('scenario (d) is opt-in', () => {
  test('without cloudHsm=true the app has no CloudHSM stack and no CloudHSM resource anywhere', () => {
    const { lab, app, primary, secondary } = synthLab();
    expect(lab.cloudHsm).toBeUndefined();
    expect(app.node.children.filter((c) => c instanceof Stack).map((c) => c.node.id).sort()).toEqual(['kms-key-lab-primary', 'kms-key-lab-roles', 'kms-key-lab-secondary']);
    for (const t of [primary, secondary]) {
      expect(JSON.stringify(t.toJSON())).not.toMatch(/CloudHSM|CloudHsm|CustomKeyStore/);
    }
  });

  test('with it, <prefix>-cloudhsm stands in the primary Region, apart from the other stacks but for the roles its key policy names', () => {
    const { lab } = synthLab({ ...opted, prefix: 'team-lab' });
    expect(lab.cloudHsm!.stackName).toBe('team-lab-cloudhsm');
    expect(lab.cloudHsm!.region).toBe('ap-southeast-1');
    expect(lab.cloudHsm!.dependencies).toEqual([lab.roles]);
  });

  test('the opt-in leaves the primary and secondary templates exactly as they are', () => {
    const without = synthLab({ keyAdminArns: [ADMIN], keyUserArns: [USER] });
    const withIt = synthLab(opted);
    expect(withIt.primary.toJSON()).toEqual(without.primary.toJSON());
    expect(withIt.secondary.toJSON()).toEqual(without.secondary.toJSON());
  });

  test('synth warns with the hourly cost and the expiry', () => {
    const { warnings } = synthLab({ ...opted, hsmCount: 3 });
    expect(warnings).toContain('Scenario (d) bills about $5.77 an hour while it stands (3 HSMs × $1.90 = $5.70; 1 NAT gateway $0.06; client host t3.micro $0.013');
    expect(warnings).toContain('It deletes itself 8 hours after it is deployed (labExpiryHours).');
  });
});

describe('cluster and HSMs', () => {
  const { cloudHsm } = synthLab(opted);
  const t = cloudHsm!;

  test('the cluster takes its type, mode and backup retention from the settings, in both HSM subnets', () => {
    const { cloudHsm: c } = synthLab({ ...opted, hsmType: 'hsm2m.medium', hsmMode: 'NON_FIPS', hsmBackupRetentionDays: 30 });
    c!.hasResourceProperties('AWS::CloudHSM::Cluster', {
      HsmType: 'hsm2m.medium',
      Mode: 'NON_FIPS',
      BackupRetentionPolicy: { Type: 'DAYS', Value: '30' },
      SubnetIds: [{ Ref: Match.stringLikeRegexp('^NetworkVpcHsmSubnet1') }, { Ref: Match.stringLikeRegexp('^NetworkVpcHsmSubnet2') }],
    });
    expect(resourcesOfType(c!, 'AWS::CloudHSM::Cluster')[logicalIdOf(resourcesOfType(c!, 'AWS::CloudHSM::Cluster'))].DeletionPolicy).toBe('Delete');
  });

  test('one HSM per custom resource, spread over the two zones at fixed addresses', () => {
    const { cloudHsm: c } = synthLab({ ...opted, hsmCount: 3 });
    const hsms = Object.values(resourcesOfType(c!, 'Custom::CloudHsmHsm')).map((r) => r.Properties);
    expect(hsms.map((p) => [p.AvailabilityZone, p.IpAddress])).toEqual([
      ['ap-southeast-1a', '10.42.0.138'],
      ['ap-southeast-1b', '10.42.0.202'],
      ['ap-southeast-1a', '10.42.0.139'],
    ]);
  });

  test('the first HSM comes with the cluster; the others wait for kmsuser, so they are cloned with it', () => {
    const hsms = resourcesOfType(t, 'Custom::CloudHsmHsm');
    const activation = logicalIdOf(resourcesOfType(t, 'Custom::CloudHsmActivation'));
    const [first, second] = Object.values(hsms);
    expect(first.DependsOn).toBeUndefined();
    expect(second.DependsOn).toEqual([activation]);
  });

  test('in manual mode the other HSMs follow the initialisation instead', () => {
    const { cloudHsm: c } = synthLab({ ...opted, kmsUserSetup: 'manual' });
    const init = logicalIdOf(resourcesOfType(c!, 'Custom::CloudHsmInitialization'));
    expect(Object.values(resourcesOfType(c!, 'Custom::CloudHsmHsm'))[1].DependsOn).toEqual([init]);
    c!.hasResourceProperties('Custom::KmsUserSetupCheck', { Mode: 'manual', ManualWaitMinutes: '50' });
    c!.hasResourceProperties('Custom::CloudHsmActivation', { Mode: 'manual' });
  });

  test('initialisation keeps the CA key in a secret it owns and reads only its own', () => {
    const clusterId = { 'Fn::GetAtt': [Match.stringLikeRegexp('^Cluster[0-9A-F]{8}$'), 'ClusterId'] };
    t.hasResourceProperties('Custom::CloudHsmInitialization', {
      ClusterId: clusterId,
      // Named after the cluster: a redeploy's new cluster gets new secrets, never the old ones locked to old roles.
      CaSecretName: { 'Fn::Join': ['', ['kms-key-lab/cloudhsm/', clusterId, '/ca']] },
      CaCommonName: 'KMS Key Lab CA (kms-key-lab)',
    });
  });
});

describe('the order CloudFormation creates (and, reversed, deletes) things in', () => {
  const t = synthLab(opted).cloudHsm!;
  const id = (type: string) => logicalIdOf(resourcesOfType(t, type));

  test('the check waits for every HSM and the activation; the key store for the check; the key for the store', () => {
    const check = resourcesOfType(t, 'Custom::KmsUserSetupCheck')[id('Custom::KmsUserSetupCheck')];
    expect(check.DependsOn).toEqual(expect.arrayContaining([id('Custom::CloudHsmActivation'), ...Object.keys(resourcesOfType(t, 'Custom::CloudHsmHsm'))]));
    expect(resourcesOfType(t, 'Custom::KmsCustomKeyStore')[id('Custom::KmsCustomKeyStore')].DependsOn).toEqual([id('Custom::KmsUserSetupCheck')]);
    t.hasResourceProperties('Custom::CloudHsmKey', { CustomKeyStoreId: { Ref: id('Custom::KmsCustomKeyStore') } });
  });

  test('the bucket is encrypted under the HSM-backed key, with a bucket key, and emptied on destroy', () => {
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [id('Custom::CloudHsmKey'), 'KeyArn'] } },
          },
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    t.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('the key uses the lab key policy, its alias and pending window', () => {
    t.hasResourceProperties('Custom::CloudHsmKey', {
      AliasName: 'alias/kms-key-lab/cloudhsm',
      PendingWindowDays: '7',
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'KeyAdministrators' }), Match.objectLike({ Sid: 'KeyUsers' })]) },
    });
    for (const suffix of ['KeyId', 'KeyArn', 'KeyAlias', 'KeyRegion']) t.hasOutput(`CloudHsm${suffix}`, {});
  });
});

describe('secrets stay secret', () => {
  const t = synthLab(opted).cloudHsm!;

  test('no password, CA key or KeyStorePassword is in the template: only secret names', () => {
    const text = JSON.stringify(t.toJSON());
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toContain('KeyStorePassword');
    expect(text).not.toContain('GenerateSecretString');
    t.resourceCountIs('AWS::SecretsManager::Secret', 0);
    t.hasResourceProperties('Custom::KmsCustomKeyStore', {
      KmsUserSecretName: { 'Fn::Join': ['', ['kms-key-lab/cloudhsm/', { 'Fn::GetAtt': [Match.anyValue(), 'ClusterId'] }, '/kmsuser-password']] },
      Name: { 'Fn::Join': ['', ['kms-key-lab-cloudhsm-', { 'Fn::GetAtt': [Match.anyValue(), 'ClusterId'] }]] },
    });
  });

  test('the kmsuser password may be read only by the client host and the key store handler (and administrators)', () => {
    const policy = Object.values(resourcesOfType(t, 'Custom::CloudHsmActivation'))[0].Properties.KmsUserSecretPolicy;
    const readers = policy.Statement.find((s: any) => s.Sid === 'OnlyNamedReadersAndKeyAdministratorsRead').Condition.ArnNotEquals['aws:PrincipalArn'];
    expect(readers).toEqual([
      { 'Fn::GetAtt': [expect.stringMatching(/^ClientHostRole/), 'Arn'] },
      { 'Fn::GetAtt': [expect.stringMatching(/^KeyStoreHandlerHandlerRole/), 'Arn'] },
      ADMIN,
    ]);
  });
});

describe('client host', () => {
  const t = synthLab(opted).cloudHsm!;

  test('has no SSH key and no inbound rule, needs IMDSv2 and an encrypted disk', () => {
    const instance = Object.values(resourcesOfType(t, 'AWS::EC2::Instance'))[0].Properties;
    expect(instance.KeyName).toBeUndefined();
    for (const sg of Object.values(resourcesOfType(t, 'AWS::EC2::SecurityGroup'))) expect(sg.Properties.SecurityGroupIngress).toBeUndefined();
    t.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    t.hasResourceProperties('AWS::EC2::LaunchTemplate', { LaunchTemplateData: { MetadataOptions: { HttpTokens: 'required' } } });
    expect(instance.BlockDeviceMappings).toEqual([{ DeviceName: '/dev/xvda', Ebs: { Encrypted: true, VolumeSize: 8, VolumeType: 'gp3' } }]);
  });

  test("lives in a subnet of its own, so it never takes an HSM's fixed address", () => {
    const instance = Object.values(resourcesOfType(t, 'AWS::EC2::Instance'))[0];
    expect(instance.Properties.SubnetId).toEqual({ Ref: expect.stringMatching(/^NetworkVpcHostSubnet1/) });
    expect(instance.Properties.PrivateIpAddress).toBeUndefined();
    expect(instance.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^NetworkVpcHostSubnet1DefaultRoute/)]));
  });

  test("joins the cluster's security group to reach the HSMs", () => {
    const instance = Object.values(resourcesOfType(t, 'AWS::EC2::Instance'))[0].Properties;
    expect(instance.SecurityGroupIds).toEqual(expect.arrayContaining([{ 'Fn::GetAtt': [expect.stringMatching(/^Cluster[0-9A-F]{8}$/), 'SecurityGroup'] }]));
  });

  test('its role reads the two lab passwords and nothing else', () => {
    const statements = Object.entries(resourcesOfType(t, 'AWS::IAM::Policy'))
      .filter(([logicalId]) => logicalId.startsWith('ClientHostRole'))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    const secretStatements = statements.filter((s: any) => JSON.stringify(s.Action).includes('secretsmanager'));
    expect(secretStatements.map((s: any) => s.Action)).toEqual(['secretsmanager:GetSecretValue']);
    const resources = JSON.stringify(secretStatements[0].Resource);
    expect(resources).toContain('/admin-password-??????');
    expect(resources).toContain('/kmsuser-password-??????');
    expect(resources).not.toContain('/ca');
    expect(statements.flatMap((s: any) => [s.Action].flat())).not.toContain('secretsmanager:*');
  });

  test('installs the CloudHSM CLI from the configured package', () => {
    const { cloudHsm: c } = synthLab({ ...opted, hsmCliPackageUrl: 'https://example.com/pkgs/cloudhsm-cli.rpm' });
    expect(JSON.stringify(c!.toJSON())).toContain("dnf install -y 'https://example.com/pkgs/cloudhsm-cli.rpm'");
  });
});

describe('waiting handlers stay within CloudFormation limits', () => {
  const t = synthLab(opted).cloudHsm!;

  test('every waiter gives up before CloudFormation’s hour, and the key store spends one call per 30 s', () => {
    const machines = Object.values(resourcesOfType(t, 'AWS::StepFunctions::StateMachine')).map((m) =>
      (m.Properties.DefinitionString['Fn::Join'][1] as unknown[]).filter((x) => typeof x === 'string').join(''),
    );
    expect(machines).toHaveLength(5);
    const waits = machines.map((d) => ({
      interval: Number(/"IntervalSeconds":(\d+)/.exec(d)![1]),
      attempts: Number(/"MaxAttempts":(\d+)/.exec(d)![1]),
    }));
    for (const w of waits) expect(w.interval * w.attempts).toBeLessThanOrEqual(55 * 60);
    expect(waits).toContainEqual({ interval: 30, attempts: 110 });
  });
});

describe('lab expiry', () => {
  test('by default the stack schedules its own deletion 8 hours after the deploy, through CloudFormation', () => {
    const t = synthLab(opted).cloudHsm!;
    t.hasResourceProperties('Custom::LabExpiry', { Hours: '8', ScheduleName: 'kms-key-lab-cloudhsm-expiry', StackName: 'kms-key-lab-cloudhsm' });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{ Effect: 'Allow', Action: 'cloudformation:DeleteStack', Resource: { Ref: 'AWS::StackId' } }]) },
    });
    t.hasOutput('LabExpiresAt', {});
  });

  test('the schedule outlives everything that bills, and its role outlives it, so a half-done deletion is asked again', () => {
    const t = synthLab(opted).cloudHsm!;
    const expiry = Object.entries(resourcesOfType(t, 'Custom::LabExpiry'))[0];
    expect(expiry[1].DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^ExpirySchedulerRoleDefaultPolicy/)]));
    expect(resourcesOfType(t, 'AWS::EC2::VPC')[Object.keys(resourcesOfType(t, 'AWS::EC2::VPC'))[0]].DependsOn).toEqual([expiry[0]]);
  });

  test('labExpiryHours=0 turns it off', () => {
    const t = synthLab({ ...opted, labExpiryHours: 0 }).cloudHsm!;
    t.resourceCountIs('Custom::LabExpiry', 0);
    expect(t.findOutputs('LabExpiresAt')).toEqual({});
  });
});
