import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { ImportedMaterialKey } from '../../lib/scenarios/imported-material-key';
import { MultiRegionImportedPrimaryKey } from '../../lib/scenarios/multi-region-imported-key';
import { ADMIN, CDK_JSON_CONTEXT, resourcesOfType, synthLab, USER } from '../helpers/lab';

/**
 * The escrow's resource policy is written by the handler that owns it, and is
 * in force when the next deploy runs. A construct id refactor gives the
 * handler's role a new logical id, so CloudFormation replaces it: the new role
 * must still be the owner under the policy the old template wrote.
 */

const ACCOUNT = '111111111111';
const REGION = 'ap-southeast-1';
const STACK_NAME = 'kms-key-lab-primary';

type Scenario = 'c' | 'e';

/** The scenario's construct under a given id, in a stack named like the lab's, synthesized. */
function synthWith(scenario: Scenario, constructId: string): Template {
  const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, STACK_NAME, { env: { account: ACCOUNT, region: REGION } });
  // A refactor moves the construct, so its path (and every logical id under it) changes.
  const scope = new Construct(stack, `${constructId}Scope`);
  const common = {
    adminArns: [ADMIN],
    userArns: [USER],
    pendingWindowDays: 7,
    wrappingAlgorithm: 'RSAES_OAEP_SHA_256',
    wrappingKeySpec: 'RSA_4096',
    materialExpiry: { model: 'KEY_MATERIAL_DOES_NOT_EXPIRE' },
    labTags: { 'kms-key-lab:lab': 'kms-key-lab' },
  } as const;
  if (scenario === 'c') {
    new ImportedMaterialKey(scope, constructId, { ...common, aliasName: 'alias/kms-key-lab/imported-material', materialSource: 'generate' });
  } else {
    new MultiRegionImportedPrimaryKey(scope, constructId, {
      ...common,
      aliasName: 'alias/kms-key-lab/multi-region-imported',
      prefix: 'kms-key-lab',
      replicaRegion: 'ap-southeast-2',
    });
  }
  return Template.fromStack(stack);
}

interface DeployedRole {
  readonly logicalId: string;
  readonly arn: string;
}

/**
 * The import handler's role as IAM would hold it: CloudFormation generates a
 * name (stack name, logical id, a random suffix) for a role without RoleName,
 * and the ARN is `arn:aws:iam::<account>:role<Path><name>` (IAM identifiers:
 * a role's ARN includes its path).
 */
function deployedHandlerRole(template: Template, suffix: string): DeployedRole {
  const roles = Object.entries(resourcesOfType(template, 'AWS::IAM::Role')).filter(([, r]) => r.Properties.Description === 'KMS Key Lab: import-key-material handler');
  expect(roles).toHaveLength(1);
  const [logicalId, role] = roles[0];
  const name = `${STACK_NAME}-${logicalId}`.slice(0, 50) + `-${suffix}`;
  return { logicalId, arn: `arn:aws:iam::${ACCOUNT}:role${role.Properties.Path ?? '/'}${name}` };
}

/** Resolves the few intrinsics a policy condition holds, with the deployed roles' ARNs. */
function resolve(value: unknown, roles: readonly DeployedRole[]): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, any>;
  if (v.Ref === 'AWS::AccountId') return ACCOUNT;
  if (v.Ref === 'AWS::Partition') return 'aws';
  if (v.Ref === 'AWS::Region') return REGION;
  if (v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map((p) => resolve(p, roles)).join(v['Fn::Join'][0]);
  if (v['Fn::GetAtt']?.[1] === 'Arn') {
    const role = roles.find((r) => r.logicalId === v['Fn::GetAtt'][0]);
    if (!role) throw new Error(`${v['Fn::GetAtt'][0]} is not a role of this deploy`);
    return role.arn;
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

/**
 * IAM's ARN condition operators: "Each of the six colon-delimited components
 * of the ARN is checked separately and each can include multi-character match
 * wildcards (*) or single-character match wildcards (?)" (ArnLike); ArnEquals
 * behaves the same (IAM User Guide, condition operators, ARN).
 */
function arnLike(arn: string, pattern: string): boolean {
  const parts = (s: string) => {
    const p = s.split(':');
    return [...p.slice(0, 5), p.slice(5).join(':')];
  };
  const [a, b] = [parts(arn), parts(pattern)];
  return b.every((component, i) => {
    const regex = new RegExp(`^${component.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    return regex.test(a[i] ?? '');
  });
}

/** Whether one Deny statement of the escrow policy refuses a principal (its condition excepts the principals it names). */
function denies(statement: any, principalArn: string, roles: readonly DeployedRole[]): boolean {
  const [operator, keys] = Object.entries(statement.Condition as Record<string, Record<string, unknown>>)[0];
  expect(['ArnNotEquals', 'ArnNotLike']).toContain(operator);
  const values = ([] as unknown[]).concat(keys['aws:PrincipalArn']).map((v) => resolve(v, roles));
  return !values.some((pattern) => arnLike(principalArn, pattern));
}

function escrowPolicy(template: Template) {
  const resources = Object.values(resourcesOfType(template, 'Custom::ImportedKeyMaterial'));
  expect(resources).toHaveLength(1);
  return resources[0].Properties.EscrowSecretPolicy as { Statement: any[] };
}

const OWNER_STATEMENTS = ['OnlyNamedReadersAndKeyAdministratorsRead', 'OnlyTheOwningHandlerAndKeyAdministratorsWrite', 'OnlyTheLabChangesPolicyOwnershipAndDeletion'];

describe.each(['c', 'e'] as const)("scenario (%s): the escrow's owner survives a replaced handler role", (scenario) => {
  const before = synthWith(scenario, 'ImportedKey');
  const after = synthWith(scenario, 'RenamedImportedKey');
  const oldRole = deployedHandlerRole(before, 'A1B2C3D4E5F6');
  const newRole = deployedHandlerRole(after, 'Z9Y8X7W6V5U4');
  // What is in force when the refactored template's handler runs: the policy the old deploy wrote.
  const policy = escrowPolicy(before);
  const statements = OWNER_STATEMENTS.map((sid) => policy.Statement.find((s) => s.Sid === sid));

  test('the refactor does replace the role: its logical id, so its generated name and ARN, change', () => {
    expect(newRole.logicalId).not.toBe(oldRole.logicalId);
    expect(newRole.arn).not.toBe(oldRole.arn);
  });

  test('the escrow policy written before the refactor lets the new role read, write and manage the escrow', () => {
    for (const statement of statements) {
      expect(statement.Effect).toBe('Deny');
      expect(denies(statement, oldRole.arn, [oldRole])).toBe(false);
      expect(denies(statement, newRole.arn, [oldRole])).toBe(false);
    }
  });

  test('and still refuses roles outside the owner path, even one named like the handler', () => {
    const elsewhere = newRole.arn.replace(/role\/.*\//, 'role/');
    const otherLab = newRole.arn.replace('/kms-key-lab/', '/other-lab/');
    const otherRegion = newRole.arn.replace(`/${REGION}/`, '/us-east-1/');
    for (const principal of [elsewhere, otherLab, otherRegion, `arn:aws:iam::${ACCOUNT}:user/kms-key-lab/anyone`]) {
      for (const statement of statements) expect(denies(statement, principal, [oldRole])).toBe(true);
    }
  });
});

describe('the role path of the escrow owner', () => {
  const { primary, secondary } = synthLab();

  test('each owning handler has its own path, by alias and Region, and a generated name (no collision on replacement)', () => {
    const handlers = Object.values(resourcesOfType(primary, 'AWS::IAM::Role')).filter((r) => r.Properties.Description === 'KMS Key Lab: import-key-material handler');
    expect(handlers.map((r) => [r.Properties.Path, r.Properties.RoleName])).toEqual(
      expect.arrayContaining([
        ['/kms-key-lab/imported-material/ap-southeast-1/escrow-owner/', undefined],
        ['/kms-key-lab/multi-region-imported/ap-southeast-1/escrow-owner/', undefined],
      ]),
    );
    expect(handlers).toHaveLength(2);
  });

  test('the replica handler, which owns no escrow, keeps its fixed name and no path', () => {
    const handlers = Object.values(resourcesOfType(secondary, 'AWS::IAM::Role')).filter((r) => r.Properties.Description === 'KMS Key Lab: import-key-material handler');
    expect(handlers.map((r) => [r.Properties.Path, r.Properties.RoleName])).toEqual([[undefined, 'kms-key-lab-mrk-import-ap-southeast-2']]);
  });
});
