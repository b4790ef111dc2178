import { LabSettings } from './settings';

/** The lab's stacks: (a)–(c) in two Regions, and the opt-in (d). */
export type StackRole = 'primary' | 'secondary' | 'cloudhsm';

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
}

/** Each lab stack, or undefined where it is not deployed. */
export type LabDeployment = Readonly<Record<StackRole, DeployedStack | undefined>>;

export type KeyScenario = 'a' | 'b' | 'c' | 'd';

/** Where the stacks define each key (lib/common/key-outputs.ts: `<name>KeyId`, `KeyArn`, `KeyAlias`, `KeyRegion`). */
export interface KeySpec {
  readonly scenario: KeyScenario;
  /** Names the key within its scenario; also the suffix of check ids, e.g. `encrypt-decrypt:secondary`. */
  readonly where: 'primary' | 'secondary';
  readonly stack: StackRole;
  readonly outputName: string;
}

export const KEY_SPECS: readonly KeySpec[] = [
  { scenario: 'a', where: 'primary', stack: 'primary', outputName: 'SingleRegion' },
  { scenario: 'a', where: 'secondary', stack: 'secondary', outputName: 'SingleRegion' },
  { scenario: 'b', where: 'primary', stack: 'primary', outputName: 'MultiRegion' },
  { scenario: 'b', where: 'secondary', stack: 'secondary', outputName: 'MultiRegion' },
  { scenario: 'c', where: 'primary', stack: 'primary', outputName: 'ImportedMaterial' },
  { scenario: 'd', where: 'primary', stack: 'cloudhsm', outputName: 'CloudHsm' },
];

export interface LabKey extends KeySpec {
  readonly keyId: string;
  readonly keyArn: string;
  readonly alias: string;
  readonly region: string;
}

export function labStacks(settings: LabSettings): Readonly<Record<StackRole, LabStackRef>> {
  const ref = (role: StackRole, region: string): LabStackRef => ({ role, name: `${settings.prefix}-${role}`, region });
  return {
    primary: ref('primary', settings.primaryRegion),
    secondary: ref('secondary', settings.secondaryRegion),
    cloudhsm: ref('cloudhsm', settings.primaryRegion),
  };
}

/** A key of a deployed stack, or the outputs that stack lacks (a stack mid-deploy or rolled back has none). */
export type KeyLookup = { readonly key: LabKey } | { readonly missing: readonly string[]; readonly stack: DeployedStack } | undefined;

/** Reads one key's outputs; undefined when its stack is not deployed. */
export function findKey(deployment: LabDeployment, spec: KeySpec): KeyLookup {
  const stack = deployment[spec.stack];
  if (!stack) return undefined;
  const name = (suffix: string) => `${spec.outputName}${suffix}`;
  const missing = ['KeyId', 'KeyArn', 'KeyAlias'].map(name).filter((n) => !stack.outputs[n]);
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
