import * as iam from 'aws-cdk-lib/aws-iam';

/** What every key user may do (seed 003): use the key, never manage it. */
export const KEY_USER_ACTIONS = [
  'kms:Encrypt',
  'kms:Decrypt',
  'kms:ReEncrypt*',
  'kms:GenerateDataKey*',
  'kms:DescribeKey',
] as const;

/**
 * Operations that use a key's material. Administrators are explicitly denied
 * these, so that an IAM policy such as AdministratorAccess (honoured through
 * the account-root statement) cannot turn an administrator into a user.
 * CreateGrant is denied too: a grant would let an administrator delegate
 * use to itself; so is ReplicateKey, for the same reason.
 */
export const CRYPTOGRAPHIC_ACTIONS = [
  'kms:Encrypt',
  'kms:Decrypt',
  'kms:ReEncrypt*',
  'kms:GenerateDataKey*',
  'kms:GenerateMac',
  'kms:VerifyMac',
  'kms:Sign',
  'kms:Verify',
  'kms:DeriveSharedSecret',
  'kms:CreateGrant',
  // A replica gets a key policy of its creator's choosing and the same material: an administrator who could
  // replicate a multi-Region key could give itself use of it. CloudFormation creates the lab's replicas.
  'kms:ReplicateKey',
] as const;

/** Lifecycle actions for administrators: listed one by one, so no wildcard lets usage in. */
export const KEY_ADMIN_ACTIONS = [
  'kms:DescribeKey',
  'kms:GetKeyPolicy',
  'kms:PutKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:EnableKeyRotation',
  'kms:DisableKeyRotation',
  'kms:RotateKeyOnDemand',
  'kms:ListKeyRotations',
  'kms:ListGrants',
  'kms:ListRetirableGrants',
  'kms:RevokeGrant',
  'kms:ListKeyPolicies',
  'kms:ListResourceTags',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:EnableKey',
  'kms:DisableKey',
  'kms:UpdateKeyDescription',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
] as const;

/**
 * Manual rotation (seed 000) points an alias at a new key: both keys' policies
 * must allow it. Limited to the lab's own aliases, so an administrator cannot
 * hang other aliases on a lab key. (The caller's IAM policy must also allow
 * the action on the alias ARN.)
 */
export const ALIAS_ADMIN_ACTIONS = ['kms:CreateAlias', 'kms:UpdateAlias', 'kms:DeleteAlias'] as const;

/** `alias/<prefix>/*` for a lab alias `alias/<prefix>/<name>`. */
export function labAliasPattern(aliasName: string): string {
  return aliasName.replace(/\/[^/]+$/, '/*');
}

/** Extra lifecycle actions for the key kinds that have them. */
export const IMPORTED_MATERIAL_ADMIN_ACTIONS = [
  'kms:GetParametersForImport',
  'kms:ImportKeyMaterial',
  'kms:DeleteImportedKeyMaterial',
] as const;
export const MULTI_REGION_ADMIN_ACTIONS = ['kms:UpdatePrimaryRegion'] as const;

export interface KeyPolicyProps {
  /** The key's alias; administrators may manage the aliases beside it (`alias/<prefix>/*`). */
  readonly aliasName: string;
  readonly adminArns: readonly string[];
  readonly userArns: readonly string[];
  /** Actions that only this kind of key has, added to the administrators' list. */
  readonly extraAdminActions?: readonly string[];
}

/**
 * A key policy that separates administrators from users:
 * the account root (so IAM policies apply), administrators who manage but
 * cannot use the key, and users who use but cannot manage it.
 */
export function labKeyPolicy(props: KeyPolicyProps): iam.PolicyDocument {
  const doc = new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        sid: 'EnableIamPolicies',
        principals: [new iam.AccountRootPrincipal()],
        actions: ['kms:*'],
        resources: ['*'],
      }),
    ],
  });
  if (props.adminArns.length > 0) {
    const admins = props.adminArns.map((arn) => new iam.ArnPrincipal(arn));
    doc.addStatements(
      new iam.PolicyStatement({
        sid: 'KeyAdministrators',
        principals: admins,
        actions: [...KEY_ADMIN_ACTIONS, ...(props.extraAdminActions ?? [])],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'KeyAdministratorsManageLabAliases',
        principals: admins,
        actions: [...ALIAS_ADMIN_ACTIONS],
        resources: ['*'],
        conditions: { StringLike: { 'kms:AliasName': labAliasPattern(props.aliasName) } },
      }),
      new iam.PolicyStatement({
        sid: 'DenyKeyAdministratorsCryptographicUse',
        effect: iam.Effect.DENY,
        principals: admins,
        actions: [...CRYPTOGRAPHIC_ACTIONS],
        resources: ['*'],
      }),
    );
  }
  if (props.userArns.length > 0) {
    doc.addStatements(
      new iam.PolicyStatement({
        sid: 'KeyUsers',
        principals: props.userArns.map((arn) => new iam.ArnPrincipal(arn)),
        actions: [...KEY_USER_ACTIONS],
        resources: ['*'],
      }),
    );
  }
  return doc;
}
