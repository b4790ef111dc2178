import { UsageError } from '../errors';
import { parseContextArgs } from '../settings';

/**
 * What `cdk deploy --all` will deploy, as far as preflight needs it, read from
 * the same context as the app (cdk.json's "context", then `-c key=value`).
 * Each setting is read as lib/config/settings.ts reads it; the CLI does not
 * load aws-cdk-lib, so the few rules are repeated here, in the app's words.
 */
export interface DeployPlan {
  /** The `account` setting: the deploy targets it; unset, the account of the credentials. */
  readonly account?: string;
  /** Scenario (d): the `<prefix>-cloudhsm` stack, a CloudHSM cluster and a custom key store in the primary Region. */
  readonly cloudHsm: boolean;
  /** The alarm stacks, each with a CloudTrail trail in its Region. */
  readonly deletionAlarm: boolean;
  /** Scenario (e): its aliases in both Regions and the replica's import role `<prefix>-mrk-import-<secondary>`. */
  readonly multiRegionImportedKey: boolean;
  /** The Availability Zones of the HSM subnets (the app's default: `<primaryRegion>a` and `<primaryRegion>b`). */
  readonly hsmAvailabilityZones: readonly string[];
  /** The CDK bootstrap qualifier: `@aws-cdk/core:bootstrapQualifier`, else the default synthesizer's hnb659fds. */
  readonly qualifier: string;
}

/** aws-cdk-lib's DefaultStackSynthesizer.DEFAULT_QUALIFIER, and the context key it reads a qualifier from (BOOTSTRAP_QUALIFIER_CONTEXT). */
export const DEFAULT_QUALIFIER = 'hnb659fds';
export const QUALIFIER_CONTEXT = '@aws-cdk/core:bootstrapQualifier';

const bool = (key: string, raw: unknown, fallback: boolean, problems: string[]): boolean => {
  if (raw === undefined) return fallback;
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  problems.push(`"${key}" is ${JSON.stringify(raw)}, but accepts true or false`);
  return fallback;
};

/** As the app reads lists: a JSON array, or a JSON or comma-separated string. */
function zones(raw: unknown, primaryRegion: string, problems: string[]): string[] {
  const fallback = [`${primaryRegion}a`, `${primaryRegion}b`];
  if (raw === undefined) return fallback;
  let items: unknown = raw;
  if (typeof raw === 'string') {
    const text = raw.trim();
    try {
      items = text.startsWith('[') ? JSON.parse(text) : text === '' ? [] : text.split(',').map((s) => s.trim());
    } catch {
      items = undefined;
    }
  }
  const accepted = 'a list of 2 to 3 Availability Zone names of the primary Region, such as ap-southeast-1a, or empty';
  if (!Array.isArray(items) || items.some((z) => typeof z !== 'string' || !/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+[a-z]$/.test(z)) || items.length === 1 || items.length > 3) {
    problems.push(`"hsmAvailabilityZones" is ${JSON.stringify(raw)}, but accepts ${accepted}`);
    return fallback;
  }
  return items.length === 0 ? fallback : (items as string[]);
}

/** The deploy plan for these settings; every bad value is named in one UsageError, as synth would name it. */
export function resolveDeployPlan(input: { cdkContext?: Readonly<Record<string, unknown>>; contextArgs?: readonly string[]; primaryRegion: string }): DeployPlan {
  const context: Record<string, unknown> = { ...(input.cdkContext ?? {}), ...parseContextArgs(input.contextArgs ?? []) };
  const problems: string[] = [];
  const rawAccount = typeof context.account === 'number' ? String(context.account) : context.account;
  let account: string | undefined;
  if (rawAccount !== undefined && rawAccount !== '') {
    if (typeof rawAccount === 'string' && /^\d{12}$/.test(rawAccount.trim())) account = rawAccount.trim();
    else problems.push(`"account" is ${JSON.stringify(context.account)}, but accepts a 12-digit account id, or unset`);
  }
  const rawQualifier = context[QUALIFIER_CONTEXT];
  let qualifier = DEFAULT_QUALIFIER;
  if (rawQualifier !== undefined) {
    // `cdk bootstrap --qualifier` accepts up to 10 lower-case letters and digits.
    if (typeof rawQualifier === 'string' && /^[a-z0-9]{1,10}$/.test(rawQualifier)) qualifier = rawQualifier;
    else problems.push(`"${QUALIFIER_CONTEXT}" is ${JSON.stringify(rawQualifier)}, but accepts 1 to 10 lower-case letters and digits, as \`cdk bootstrap --qualifier\` takes it`);
  }
  const plan: DeployPlan = {
    ...(account ? { account } : {}),
    cloudHsm: bool('cloudHsm', context.cloudHsm, false, problems),
    deletionAlarm: bool('deletionAlarm', context.deletionAlarm, false, problems),
    multiRegionImportedKey: bool('multiRegionImportedKey', context.multiRegionImportedKey, true, problems),
    hsmAvailabilityZones: zones(context.hsmAvailabilityZones, input.primaryRegion, problems),
    qualifier,
  };
  if (problems.length > 0) {
    throw new UsageError(
      `Invalid setting${problems.length > 1 ? 's' : ''}: ${problems.join('; ')}. What to do: fix them in cdk.json's "context" or on the command line (-c key=value).`,
    );
  }
  return plan;
}
