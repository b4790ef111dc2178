import * as iam from 'aws-cdk-lib/aws-iam';

export interface LabSecretPolicyProps {
  /** Roles that read the value: the handlers and hosts that use it. */
  readonly readers: readonly string[];
  /**
   * The handler that owns the secret: the only one that writes the value. A
   * role ARN, or an ARN pattern (`*`) that matches the role whatever its
   * generated name (see escrowOwnerRoleArnPattern).
   */
  readonly owner: string;
  /** Key administrators: may read, describe and restore the secret, to recover what it holds, and read, replace or delete its resource policy. */
  readonly administrators: readonly string[];
  /**
   * Whether the administrators may also write the value: the escrow, which
   * `kms-lab rotate` keeps in step when it rotates imported material.
   * @default false
   */
  readonly administratorsWrite?: boolean;
  /** The account root user's ARN: may always repair the policy once the owner's role is gone. */
  readonly accountRoot: string;
}

const SECRET_MANAGEMENT_ACTIONS = [
  'secretsmanager:PutResourcePolicy',
  'secretsmanager:DeleteResourcePolicy',
  'secretsmanager:TagResource',
  'secretsmanager:UntagResource',
  'secretsmanager:DeleteSecret',
];

/**
 * The resource policy of a secret that a lab handler owns (escrowed material,
 * passwords, a CA key). IAM alone would let anyone with GetSecretValue in an
 * IAM policy read it; this policy, not IAM, decides: only the named readers
 * (and the administrators, for recovery) read it, only its owner writes it,
 * and only the lab (owner, administrators, account root user) may change the
 * policy, the ownership tags or the deletion schedule, so nobody else can
 * lift these rules or make the owner's Delete skip the secret.
 */
export function labSecretPolicy(props: LabSecretPolicyProps): iam.PolicyDocument {
  const everyone = [new iam.AnyPrincipal()];
  // ArnNotLike takes patterns as well as exact ARNs; a list without a pattern keeps ArnNotEquals, which says so.
  const exceptFor = (arns: readonly string[]) => ({
    [arns.some((arn) => arn.includes('*')) ? 'ArnNotLike' : 'ArnNotEquals']: { 'aws:PrincipalArn': arns.length === 1 ? arns[0] : [...arns] },
  });
  const unique = (arns: readonly string[]) => [...new Set(arns)];
  const doc = new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        sid: 'OnlyNamedReadersAndKeyAdministratorsRead',
        effect: iam.Effect.DENY,
        principals: everyone,
        actions: ['secretsmanager:GetSecretValue'],
        resources: ['*'],
        conditions: exceptFor(unique([...props.readers, ...props.administrators])),
      }),
      new iam.PolicyStatement({
        sid: props.administratorsWrite ? 'OnlyTheOwningHandlerAndKeyAdministratorsWrite' : 'OnlyTheOwningHandlerWrites',
        effect: iam.Effect.DENY,
        principals: everyone,
        actions: ['secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecret', 'secretsmanager:UpdateSecretVersionStage'],
        resources: ['*'],
        conditions: exceptFor(unique([props.owner, ...(props.administratorsWrite ? props.administrators : [])])),
      }),
      new iam.PolicyStatement({
        sid: 'OnlyTheLabChangesPolicyOwnershipAndDeletion',
        effect: iam.Effect.DENY,
        principals: everyone,
        actions: SECRET_MANAGEMENT_ACTIONS,
        resources: ['*'],
        conditions: exceptFor(unique([props.owner, ...props.administrators, props.accountRoot])),
      }),
    ],
  });
  if (props.administrators.length > 0) {
    doc.addStatements(
      new iam.PolicyStatement({
        sid: 'KeyAdministratorsRecoverTheValue',
        principals: props.administrators.map((arn) => new iam.ArnPrincipal(arn)),
        actions: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:RestoreSecret',
          ...(props.administratorsWrite ? ['secretsmanager:PutSecretValue'] : []),
          // The administrators may repair this policy (read it, or delete it for the handler to put the lab's back on
          // the next deploy), e.g. when it names an owner's role that no longer exists. Not replace it: a policy of their
          // own could let any principal of the account read the material. This Allow is enough on its own: "If either
          // the identity-based policy or the resource-based policy within the same account allows the request and the
          // other doesn't, the request is still allowed" (IAM User Guide, Policy evaluation for requests within a single
          // account); the lab's KeyAdmin role has no Secrets Manager permission in its IAM policy.
          'secretsmanager:GetResourcePolicy',
          'secretsmanager:DeleteResourcePolicy',
        ],
        resources: ['*'],
      }),
    );
  }
  return doc;
}
