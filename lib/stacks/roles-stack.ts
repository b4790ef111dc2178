import { CfnOutput, CustomResource, Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { labRoleNames, labRolesNeeded } from '../common/lab-principals';
import { LabHandler } from '../common/lab-handler';
import { acknowledgeWildcardResource } from '../common/nag';
import { LabConfig } from '../config/lab-config';

export interface LabRolesStackProps extends StackProps {
  readonly config: LabConfig;
}

/**
 * The key administrator and key user roles, so the separation of the two is
 * there to try from the first deploy. IAM is global: the roles are made once,
 * here, and every key policy in every Region names them while keyAdminArns or
 * keyUserArns is empty. A stack of their own, deployed before the key stacks,
 * gives IAM time to make a new role visible to KMS, which refuses a key policy
 * naming a principal it cannot see yet: it completes only once the roles have
 * existed for a minute (the RolesSettled wait).
 *
 * Both roles exist whatever the settings say. Setting a list on a deployed lab
 * updates this stack first; if it deleted the role there and the key stacks'
 * update then failed, their rollback would restore key policies that name a
 * deleted role, which KMS refuses, and leave them in UPDATE_ROLLBACK_FAILED.
 */
export class LabRolesStack extends Stack {
  readonly keyAdmin: iam.Role;
  readonly keyUser: iam.Role;

  constructor(scope: Construct, id: string, props: LabRolesStackProps) {
    super(scope, id, props);
    const c = props.config;
    const names = labRoleNames(c.prefix);
    const named = labRolesNeeded(c);
    // The lab's stacks in any Region: the roles can read the outputs that `kms-lab` looks keys up by.
    const labStacks = this.formatArn({ service: 'cloudformation', region: '*', resource: 'stack', resourceName: `${c.prefix}-*/*` });

    const role = (id: string, roleName: string, what: string) => {
      const r = new iam.Role(this, id, {
        roleName,
        description: `KMS Key Lab (${c.prefix}): ${what}`,
        // Any principal of the account whose own IAM policy allows sts:AssumeRole on this role.
        assumedBy: new iam.AccountRootPrincipal(),
        maxSessionDuration: Duration.hours(1),
      });
      r.addToPolicy(new iam.PolicyStatement({ sid: 'ReadLabStackOutputs', actions: ['cloudformation:DescribeStacks'], resources: [labStacks] }));
      // ListAliases has no resource-level permissions: '*' is the only resource it takes.
      r.addToPolicy(new iam.PolicyStatement({ sid: 'FindKeysByAlias', actions: ['kms:ListAliases'], resources: ['*'] }));
      acknowledgeWildcardResource(r, '*', 'kms:ListAliases takes no resource but "*"; it reveals alias names only, no key use.');
      acknowledgeWildcardResource(r, labStacks, "The lab's stacks are named <prefix>-<role> in two Regions; the pattern holds nothing else.");
      return r;
    };
    const namedOrNot = (isNamed: boolean, setting: string) =>
      isNamed ? 'named in every lab key policy' : `not named in any key policy while ${setting} is set`;
    this.keyAdmin = role(
      'KeyAdmin',
      names.keyAdmin,
      'key administrator. Manages the lab keys (policy, rotation, aliases, deletion) and is denied their cryptographic use by every key policy that names it.',
    );
    new CfnOutput(this, 'KeyAdminRoleArn', {
      value: this.keyAdmin.roleArn,
      description: `Key administrator role, ${namedOrNot(named.keyAdmin, 'keyAdminArns')}: assume it to see Encrypt denied`,
    });
    this.keyUser = role('KeyUser', names.keyUser, 'key user. Encrypts and decrypts with the lab keys that name it and cannot manage them.');
    new CfnOutput(this, 'KeyUserRoleArn', {
      value: this.keyUser.roleArn,
      description: `Key user role, ${namedOrNot(named.keyUser, 'keyUserArns')}: assume it to see ScheduleKeyDeletion denied`,
    });

    // KMS refuses a key policy naming a role it cannot see yet, and CloudFormation's AWS::KMS::Key does not retry:
    // this stack completes only once the roles are old enough (lambda/iam-settle/settle.ts), and every key stack
    // comes after it (lib/lab-app.ts).
    const settle = new LabHandler(this, 'RolesSettled', {
      handler: 'iam-settle',
      description: 'KMS Key Lab: waits until the lab roles are old enough for KMS to accept them in key policies',
      timeout: Duration.seconds(30),
      // A minute's wait, looked at every 15 s; IAM that does not show a role in 5 minutes is a failure to look into.
      wait: { queryInterval: Duration.seconds(15), totalTimeout: Duration.minutes(5) },
    });
    settle.allow(['iam:GetRole'], [this.keyAdmin.roleArn, this.keyUser.roleArn]);
    new CustomResource(this, 'RolesSettledWait', {
      serviceToken: settle.provider.serviceToken,
      resourceType: 'Custom::IamRolesSettled',
      properties: { RoleNames: [this.keyAdmin.roleName, this.keyUser.roleName] },
    });
  }
}
