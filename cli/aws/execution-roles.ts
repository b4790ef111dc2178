import { AlarmStackRole, DeployedStack, isAlarmStack, LabDeployment } from '../lab-stacks';
import { awsCall, sdkErrorName } from '../errors';
import { AwsClients, optionalPackages } from './clients';

/** An alarm stack whose CloudFormation execution role is gone, or could not be looked up. */
export interface AlarmRoleFinding {
  readonly stack: DeployedStack & { readonly role: AlarmStackRole };
  readonly roleArn: string;
  /** missing: IAM GetRole answered NoSuchEntity; unknown: GetRole failed otherwise (the error's name in `error`). */
  readonly finding: 'missing' | 'unknown';
  readonly error?: string;
}

/** The role's name: the last part of its ARN (`arn:aws:iam::<account>:role/<path/>name`). */
const roleName = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

/**
 * The deployed alarm stacks whose execution role (DescribeStacks' RoleARN)
 * does not exist. The watch deletes its own stack with DeleteStack, and
 * CloudFormation runs that with the stack's role; with the role gone (the
 * bootstrap stack deleted, say) the self-deletion fails every time and the
 * trail bills on. IAM's GetRole answers NoSuchEntity for a role that does not
 * exist ("The request was rejected because it referenced a resource entity
 * that does not exist", IAM API reference, GetRole, Errors). Stacks deployed
 * without a role are not looked at; nor when @aws-sdk/client-iam is missing.
 */
export async function alarmStacksWithoutTheirRole(clients: AwsClients, deployment: LabDeployment, region: string): Promise<AlarmRoleFinding[]> {
  const iam = clients.iam(region);
  const iamPackage = optionalPackages.iam();
  if (!iam || !iamPackage) return [];
  const { GetRoleCommand } = iamPackage;
  const stacks = Object.values(deployment).filter((s): s is DeployedStack & { role: AlarmStackRole } => s !== undefined && isAlarmStack(s.role) && s.roleArn !== undefined);
  const findings: AlarmRoleFinding[] = [];
  for (const stack of stacks) {
    const roleArn = stack.roleArn!;
    try {
      await awsCall({ operation: 'GetRole', region, resource: roleArn }, () => iam.send(new GetRoleCommand({ RoleName: roleName(roleArn) })));
    } catch (error) {
      const name = sdkErrorName(error);
      findings.push(name === 'NoSuchEntity' || name === 'NoSuchEntityException' ? { stack, roleArn, finding: 'missing' } : { stack, roleArn, finding: 'unknown', error: name });
    }
  }
  return findings;
}

/** The paragraph for an alarm stack whose execution role is gone (or could not be checked). */
export function alarmRoleMessage(f: AlarmRoleFinding): string {
  const { name, region } = f.stack;
  if (f.finding === 'unknown') {
    return (
      `Could not check the CloudFormation execution role ${f.roleArn} of the alarm stack ${name} (${region}): IAM GetRole failed (${f.error}). ` +
      'If that role is gone, the stack cannot delete itself and its trail bills on. What to do: check it with `aws iam get-role --role-name ' +
      `${roleName(f.roleArn)}\`.`
    );
  }
  return (
    `The alarm stack ${name} (${region}) was deployed with the CloudFormation execution role ${f.roleArn}, which no longer exists (IAM GetRole: NoSuchEntity). ` +
    'CloudFormation runs every operation on the stack with that role, its self-deletion included: the watch will fail to delete it every 6 hours, and its trail and log ingestion bill until it goes. ' +
    `What to do: recreate the role by bootstrapping again (\`npx cdk bootstrap aws://<account>/${region}\`, which makes it under the same name), then let the stack delete itself or run \`kms-lab teardown --with-alarms\`; ` +
    `or delete it with a role CloudFormation can use: \`aws cloudformation delete-stack --stack-name ${name} --region ${region} --role-arn <role>\`.`
  );
}
