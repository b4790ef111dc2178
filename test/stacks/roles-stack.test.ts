import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ADMIN, resourcesOfType, synthLab, USER } from '../helpers/lab';

const roleArn = (name: string) => ({
  'Fn::Join': ['', ['arn:aws:iam::', { Ref: 'AWS::AccountId' }, `:role/${name}`]],
});

/** Every principal that a key policy statement of the template names, by statement id. */
function keyPolicyPrincipals(template: Template): Array<{ sid: string; effect: string; principals: string[] }> {
  const keys = { ...resourcesOfType(template, 'AWS::KMS::Key'), ...resourcesOfType(template, 'Custom::LabReplicaKey') };
  return Object.values(keys).flatMap((key) =>
    (key.Properties.KeyPolicy.Statement as Array<{ Sid: string; Effect: string; Principal: { AWS: unknown } }>).map((s) => ({
      sid: s.Sid,
      effect: s.Effect,
      principals: ([] as unknown[]).concat(s.Principal.AWS).map((p) => JSON.stringify(p)),
    })),
  );
}

/** The names of the roles a template makes with a fixed name: the lab's KeyAdmin and KeyUser (the wait's handler roles have none). */
const namedRoles = (t: Template) =>
  Object.values(resourcesOfType(t, 'AWS::IAM::Role'))
    .map((r) => r.Properties.RoleName)
    .filter(Boolean)
    .sort();

describe('lab roles', () => {
  // Synthesis is the slow part: each lab is built once and shared by the tests that read it.
  const defaults = synthLab();
  const withCloudHsm = synthLab({ cloudHsm: true });

  test('a roles stack holds KeyAdmin and KeyUser, assumable within the account', () => {
    const { roles, lab } = defaults;
    expect(lab.roles?.stackName).toBe('kms-key-lab-roles');
    expect(lab.roles?.region).toBe('ap-southeast-1');
    const t = roles!;
    expect(namedRoles(t)).toEqual(['kms-key-lab-KeyAdmin', 'kms-key-lab-KeyUser']);
    for (const name of ['kms-key-lab-KeyAdmin', 'kms-key-lab-KeyUser']) {
      t.hasResourceProperties('AWS::IAM::Role', {
        RoleName: name,
        MaxSessionDuration: 3600,
        AssumeRolePolicyDocument: {
          Statement: [
            {
              Action: 'sts:AssumeRole',
              Effect: 'Allow',
              Principal: { AWS: { 'Fn::Join': ['', ['arn:aws:iam::', { Ref: 'AWS::AccountId' }, ':root']] } },
            },
          ],
        },
      });
    }
    const outputs = t.findOutputs('*');
    expect(Object.keys(outputs).sort()).toEqual(['KeyAdminRoleArn', 'KeyUserRoleArn']);
  });

  test('the stack completes only after a wait for IAM (isComplete, not a sleeping Lambda) on both roles, and the key stacks come after it', () => {
    const t = defaults.roles;
    const waits = Object.values(resourcesOfType(t, 'Custom::IamRolesSettled'));
    expect(waits).toHaveLength(1);
    expect(waits[0].Properties.RoleNames).toEqual([{ Ref: expect.stringMatching(/^KeyAdmin/) }, { Ref: expect.stringMatching(/^KeyUser/) }]);
    // The Provider's waiter state machine polls isComplete; the handler asks IAM for the roles' CreateDate, nothing else.
    t.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    const handlerPolicy = Object.values(resourcesOfType(t, 'AWS::IAM::Policy')).find((p) => /^RolesSettledHandlerRole/.test(p.Properties.Roles[0].Ref))!;
    expect(handlerPolicy.Properties.PolicyDocument.Statement.find((st: { Action: unknown }) => st.Action === 'iam:GetRole').Resource).toEqual([
      { 'Fn::GetAtt': [expect.stringMatching(/^KeyAdmin/), 'Arn'] },
      { 'Fn::GetAtt': [expect.stringMatching(/^KeyUser/), 'Arn'] },
    ]);
    for (const stack of [defaults.lab.primary, defaults.lab.secondary, withCloudHsm.lab.cloudHsm!]) expect(stack.dependencies.map((d) => d.stackName)).toContain('kms-key-lab-roles');
  });

  test('nothing depends on the roles stack: no output is exported nor imported, so kms-lab teardown can delete it whenever the escrows are gone', () => {
    for (const output of Object.values(defaults.roles.findOutputs('*'))) expect(output.Export).toBeUndefined();
    for (const t of [defaults.primary, defaults.secondary, withCloudHsm.cloudHsm!]) expect(JSON.stringify(t.toJSON())).not.toContain('Fn::ImportValue');
  });

  test('the roles may read the lab stacks and list aliases, and nothing else', () => {
    const { roles } = defaults;
    // The policies of the two lab roles (the wait's handler roles have their own: see below).
    const policies = Object.values(resourcesOfType(roles!, 'AWS::IAM::Policy')).filter((p) => /^Key(Admin|User)/.test(p.Properties.Roles[0].Ref));
    expect(policies).toHaveLength(2);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual([
        {
          Sid: 'ReadLabStackOutputs',
          Action: 'cloudformation:DescribeStacks',
          Effect: 'Allow',
          Resource: {
            'Fn::Join': ['', ['arn:aws:cloudformation:*:', { Ref: 'AWS::AccountId' }, ':stack/kms-key-lab-*/*']],
          },
        },
        { Sid: 'FindKeysByAlias', Action: 'kms:ListAliases', Effect: 'Allow', Resource: '*' },
      ]);
    }
  });

  test('every key policy in both Regions names the roles: administrators denied use, users allowed it', () => {
    const { primary, secondary } = defaults;
    const admin = JSON.stringify(roleArn('kms-key-lab-KeyAdmin'));
    const user = JSON.stringify(roleArn('kms-key-lab-KeyUser'));
    for (const template of [primary, secondary]) {
      const statements = keyPolicyPrincipals(template);
      const keys = Object.keys({ ...resourcesOfType(template, 'AWS::KMS::Key'), ...resourcesOfType(template, 'Custom::LabReplicaKey') });
      expect(keys.length).toBeGreaterThanOrEqual(2);
      const denied = statements.filter((s) => s.effect === 'Deny' && s.principals.includes(admin));
      const users = statements.filter((s) => s.effect === 'Allow' && s.principals.includes(user));
      expect(denied).toHaveLength(keys.length);
      expect(users).toHaveLength(keys.length);
      // The user role is never an administrator, nor the other way round.
      expect(statements.filter((s) => s.principals.includes(user) && s.principals.includes(admin))).toEqual([]);
    }
  });

  test('the key stacks deploy after the roles and are destroyed before them', () => {
    const { lab } = withCloudHsm;
    for (const stack of [lab.primary, lab.secondary, lab.cloudHsm!]) expect(stack.dependencies).toContain(lab.roles);
  });

  test('the scenario (d) key and its secrets name the roles too', () => {
    const { cloudHsm } = withCloudHsm;
    const json = JSON.stringify(cloudHsm!.toJSON());
    const keys = Object.values(resourcesOfType(cloudHsm!, 'Custom::CloudHsmKey'));
    expect(keys).toHaveLength(1);
    expect(JSON.stringify(keys[0].Properties)).toContain(':role/kms-key-lab-KeyAdmin');
    expect(JSON.stringify(keys[0].Properties)).toContain(':role/kms-key-lab-KeyUser');
    // The cluster's secrets let the administrators recover what they hold.
    expect(json.match(/:role\/kms-key-lab-KeyAdmin/g)!.length).toBeGreaterThan(2);
  });

  test('both roles exist whatever the lists say, so setting a list never deletes a role that a rollback would name again', () => {
    const adminGiven = synthLab({ keyAdminArns: [ADMIN] });
    expect(namedRoles(adminGiven.roles!)).toEqual(['kms-key-lab-KeyAdmin', 'kms-key-lab-KeyUser']);
    const outputs = adminGiven.roles!.findOutputs('*');
    expect(outputs.KeyAdminRoleArn.Description).toContain('not named in any key policy while keyAdminArns is set');
    expect(outputs.KeyUserRoleArn.Description).toContain('named in every lab key policy');
    const statements = keyPolicyPrincipals(adminGiven.primary);
    const admin = JSON.stringify(roleArn('kms-key-lab-KeyAdmin'));
    expect(statements.some((s) => s.effect === 'Deny' && s.principals.includes(JSON.stringify(ADMIN)))).toBe(true);
    expect(statements.some((s) => s.principals.includes(admin))).toBe(false);

    const both = synthLab({ keyAdminArns: [ADMIN], keyUserArns: [USER] });
    expect(namedRoles(both.roles!)).toEqual(['kms-key-lab-KeyAdmin', 'kms-key-lab-KeyUser']);
    expect(both.lab.primary.dependencies).toContain(both.lab.roles);
    expect(JSON.stringify(both.primary.toJSON())).not.toContain(':role/kms-key-lab-Key');
    expect(both.warnings).not.toContain('kms-key-lab:principals-unset');
  });

  test('the warning names the roles created instead of the empty lists', () => {
    expect(defaults.warnings).toContain(
      "every key policy names the lab's role kms-key-lab-KeyAdmin (instead of keyAdminArns) and the role kms-key-lab-KeyUser (instead of keyUserArns) from stack kms-key-lab-roles",
    );
    expect(synthLab({ keyUserArns: [USER], prefix: 'team-a' }).warnings).toContain(
      "every key policy names the lab's role team-a-KeyAdmin (instead of keyAdminArns) from stack team-a-roles.",
    );
  });

  test('cdk-nag finds nothing unacknowledged, and each acknowledgement gives its reason', () => {
    const { lab } = defaults;
    const stack: Stack = lab.roles!;
    expect(new AwsSolutionsChecks(stack).validateScope(stack).violations).toEqual([]);
  });
});
