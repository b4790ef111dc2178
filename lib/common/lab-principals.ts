import { Stack } from 'aws-cdk-lib';
import { LabConfig } from '../config/lab-config';

/** Names of the roles the lab creates when no administrators or users are given. */
export function labRoleNames(prefix: string) {
  return { keyAdmin: `${prefix}-KeyAdmin`, keyUser: `${prefix}-KeyUser` } as const;
}

/** Which lab roles a configuration needs: one for each empty principal list. */
export function labRolesNeeded(config: LabConfig): { readonly keyAdmin: boolean; readonly keyUser: boolean } {
  return { keyAdmin: config.keyAdminArns.length === 0, keyUser: config.keyUserArns.length === 0 };
}

export interface LabPrincipals {
  readonly adminArns: readonly string[];
  readonly userArns: readonly string[];
}

/**
 * The administrators and users every key policy of a stack names: the
 * configured ARNs, or the lab role in their place. IAM is global, so each
 * stack spells the role's ARN in its own account rather than referencing the
 * roles stack, which would lock that stack's outputs against change.
 */
export function labPrincipals(stack: Stack, config: LabConfig): LabPrincipals {
  const names = labRoleNames(config.prefix);
  const needed = labRolesNeeded(config);
  const roleArn = (name: string) => stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: name });
  return {
    adminArns: needed.keyAdmin ? [roleArn(names.keyAdmin)] : config.keyAdminArns,
    userArns: needed.keyUser ? [roleArn(names.keyUser)] : config.keyUserArns,
  };
}
