import { LabSettings } from './settings';

/**
 * The lab's stacks: the key stacks ((a)–(c) and (e) in two Regions, and the
 * opt-in (d) in the primary Region); the roles stack, always deployed with
 * the lab's own key administrator and key user roles (the key policies name
 * them while keyAdminArns or keyUserArns is empty); and the opt-in alarm
 * stacks (`deletionAlarm=true`), one per Region.
 */
export type StackRole = KeyStackRole | 'roles' | AlarmStackRole;

/** The stacks that hold the lab's keys. */
export type KeyStackRole = 'primary' | 'secondary' | 'cloudhsm';

/**
 * The alarm on use of a key pending deletion, one stack per Region, only with
 * `deletionAlarm=true`: `<prefix>-alarm-primary` and `<prefix>-alarm-secondary`.
 * They outlive the key stacks on purpose: each deletes itself (a scheduled
 * function calls DeleteStack on it) once no key stack of its Region is live
 * and the keys' window has passed since the last was deleted (see
 * alarmWatchDays in teardown/plan.ts).
 */
export type AlarmStackRole = 'alarm-primary' | 'alarm-secondary';

/** Every stack of the lab, in the order status lists them. */
export const STACK_ROLES: readonly StackRole[] = ['primary', 'secondary', 'cloudhsm', 'roles', 'alarm-primary', 'alarm-secondary'];

/** The key stacks and the roles stack: all that verify and rotate read (they never need the alarm stacks). */
export const KEY_STACKS_AND_ROLES: readonly StackRole[] = ['primary', 'secondary', 'cloudhsm', 'roles'];

/** The alarm stacks, each with the key stacks of its Region that it watches and outlives (lib/lab-app.ts). */
export const ALARM_WATCHES: Readonly<Record<AlarmStackRole, readonly KeyStackRole[]>> = {
  'alarm-primary': ['primary', 'cloudhsm'],
  'alarm-secondary': ['secondary'],
};

export function isAlarmStack(role: StackRole): role is AlarmStackRole {
  return role === 'alarm-primary' || role === 'alarm-secondary';
}

export interface LabStackRef {
  readonly role: StackRole;
  readonly name: string;
  readonly region: string;
}

/** A stack as DescribeStacks answered. */
export interface DeployedStack extends LabStackRef {
  readonly status: string;
  readonly statusReason?: string;
  readonly lastUpdated?: Date;
  readonly outputs: Readonly<Record<string, string>>;
  /** The stack's tags, as DescribeStacks answered them (the lab tags every stack `kms-key-lab:lab=<prefix>`). */
  readonly tags: Readonly<Record<string, string>>;
  /**
   * DescribeStacks' RoleARN: the CloudFormation execution role the stack was deployed with (`cdk deploy` passes the
   * bootstrap's), which "CloudFormation uses ... to make calls on your behalf" during every later stack operation
   * (CloudFormation API reference, Stack); absent when it was deployed with the caller's own credentials.
   */
  readonly roleArn?: string;
}

/**
 * Each lab stack, or undefined where it is not deployed (or, for a command
 * that reads only some stacks, where it was not looked up: see describeLab).
 */
export type LabDeployment = Readonly<Record<StackRole, DeployedStack | undefined>>;

export type KeyScenario = 'a' | 'b' | 'c' | 'd' | 'e';

/** Where the stacks define each key (lib/common/key-outputs.ts: `<name>KeyId`, `KeyArn`, `KeyAlias`, `KeyRegion`). */
export interface KeySpec {
  readonly scenario: KeyScenario;
  /** Names the key within its scenario; also the suffix of check ids, e.g. `encrypt-decrypt:secondary`. */
  readonly where: 'primary' | 'secondary';
  readonly stack: StackRole;
  readonly outputName: string;
  /**
   * A stack may be deployed without this key (scenario (e) off, or deployed
   * before (e) existed): when its stack has none of the key's outputs, the
   * key is treated as not deployed rather than as outputs missing.
   */
  readonly optional?: boolean;
}

export const KEY_SPECS: readonly KeySpec[] = [
  { scenario: 'a', where: 'primary', stack: 'primary', outputName: 'SingleRegion' },
  { scenario: 'a', where: 'secondary', stack: 'secondary', outputName: 'SingleRegion' },
  { scenario: 'b', where: 'primary', stack: 'primary', outputName: 'MultiRegion' },
  { scenario: 'b', where: 'secondary', stack: 'secondary', outputName: 'MultiRegion' },
  { scenario: 'c', where: 'primary', stack: 'primary', outputName: 'ImportedMaterial' },
  { scenario: 'd', where: 'primary', stack: 'cloudhsm', outputName: 'CloudHsm' },
  { scenario: 'e', where: 'primary', stack: 'primary', outputName: 'MultiRegionImported', optional: true },
  { scenario: 'e', where: 'secondary', stack: 'secondary', outputName: 'MultiRegionImported', optional: true },
];

/** The scenarios whose secondary key is a multi-Region replica of the primary. */
export const MULTI_REGION_SCENARIOS: readonly KeyScenario[] = ['b', 'e'];

/** "(a) primary", "(b) replica", "(e) replica". */
export function keyLabel(key: { readonly scenario: KeyScenario; readonly where: 'primary' | 'secondary' }): string {
  return `(${key.scenario}) ${MULTI_REGION_SCENARIOS.includes(key.scenario) && key.where === 'secondary' ? 'replica' : key.where}`;
}

/** The escrow secret of each imported-material scenario, by the primary stack's output naming it (always in the primary Region). */
export const ESCROW_OUTPUTS = { c: 'ImportedMaterialEscrowSecretName', e: 'MultiRegionImportedEscrowSecretName' } as const;
export type EscrowScenario = keyof typeof ESCROW_OUTPUTS;

/** Every escrow secret the primary stack names, with its scenario. */
export function escrowSecrets(deployment: LabDeployment): { scenario: EscrowScenario; name: string }[] {
  const outputs = deployment.primary?.outputs ?? {};
  return (Object.keys(ESCROW_OUTPUTS) as EscrowScenario[]).flatMap((scenario) => (outputs[ESCROW_OUTPUTS[scenario]] ? [{ scenario, name: outputs[ESCROW_OUTPUTS[scenario]] }] : []));
}

export interface LabKey extends KeySpec {
  readonly keyId: string;
  readonly keyArn: string;
  readonly alias: string;
  readonly region: string;
}

/** Every lab stack by role, deployed or not: `<prefix>-<role>` (e.g. kms-key-lab-alarm-primary), in its Region. */
export function labStacks(settings: LabSettings): Readonly<Record<StackRole, LabStackRef>> {
  const ref = (role: StackRole, region: string): LabStackRef => ({ role, name: `${settings.prefix}-${role}`, region });
  return {
    primary: ref('primary', settings.primaryRegion),
    secondary: ref('secondary', settings.secondaryRegion),
    cloudhsm: ref('cloudhsm', settings.primaryRegion),
    // IAM is global; the lab makes its roles from the primary Region.
    roles: ref('roles', settings.primaryRegion),
    // A CloudTrail trail delivers only its own Region's KMS events: one alarm stack per Region.
    'alarm-primary': ref('alarm-primary', settings.primaryRegion),
    'alarm-secondary': ref('alarm-secondary', settings.secondaryRegion),
  };
}

/**
 * The key administrator and key user roles the lab made, read from the roles
 * stack's outputs, but only for a list that the settings leave empty: a role
 * left behind by an earlier deploy is not named by the key policies once
 * the list is set. The settings are kms-lab's, which may not be those the lab
 * was deployed with (the roles stack keeps both roles whatever the lists
 * say): what reads a key (verify's policy checks) asks its key policy
 * whether it names the role before relying on it.
 */
export function labRoles(deployment: LabDeployment, settings: LabSettings): { readonly admin?: string; readonly user?: string } {
  const outputs = deployment.roles?.outputs ?? {};
  const admin = (settings.keyAdminArns ?? []).length === 0 ? outputs.KeyAdminRoleArn || undefined : undefined;
  const user = (settings.keyUserArns ?? []).length === 0 ? outputs.KeyUserRoleArn || undefined : undefined;
  return { ...(admin ? { admin } : {}), ...(user ? { user } : {}) };
}

/** A key of a deployed stack, or the outputs that stack lacks (a stack mid-deploy or rolled back has none). */
export type KeyLookup = { readonly key: LabKey } | { readonly missing: readonly string[]; readonly stack: DeployedStack } | undefined;

/** Reads one key's outputs; undefined when its stack is not deployed, or (for an optional key) has none of its outputs. */
export function findKey(deployment: LabDeployment, spec: KeySpec): KeyLookup {
  const stack = deployment[spec.stack];
  if (!stack) return undefined;
  const name = (suffix: string) => `${spec.outputName}${suffix}`;
  const wanted = ['KeyId', 'KeyArn', 'KeyAlias'].map(name);
  const missing = wanted.filter((n) => !stack.outputs[n]);
  if (spec.optional && missing.length === wanted.length) return undefined;
  if (missing.length > 0) return { missing, stack };
  return {
    key: {
      ...spec,
      keyId: stack.outputs[name('KeyId')],
      keyArn: stack.outputs[name('KeyArn')],
      alias: stack.outputs[name('KeyAlias')],
      region: stack.outputs[name('KeyRegion')] || stack.region,
    },
  };
}

/** One paragraph for a stack that lacks outputs the CLI reads. */
export function missingOutputsMessage(stack: DeployedStack, missing: readonly string[]): string {
  return (
    `The stack ${stack.name} (${stack.region}, ${stack.status}) has no output ${missing.join(', ')}. ` +
    'What to do: wait for a deploy in progress to finish, or deploy the lab again with `npx cdk deploy --all` so the stack has every output.'
  );
}
