import { UsageError } from './errors';

/** Which lab the CLI talks to, and as whom. */
export interface LabSettings {
  readonly prefix: string;
  readonly primaryRegion: string;
  readonly secondaryRegion: string;
  /** AWS profile for every SDK client; unset: the SDK's default chain (AWS_PROFILE included). */
  readonly profile?: string;
  /** keyAdminArns and keyUserArns; empty (or unset): the lab made its own roles in the roles stack. */
  readonly keyAdminArns?: readonly string[];
  readonly keyUserArns?: readonly string[];
  /**
   * The lab keys' pending window (7 to 30 days), which also times the alarm
   * stacks' self-deletion (pendingWindowDays + 1 days after the last key
   * stack of their Region is deleted; 2 × pendingWindowDays + 1 in the primary
   * Region, whose multi-Region primaries wait for their replicas). resolveSettings always sets it; unset
   * (settings built by hand): DEFAULT_PENDING_WINDOW_DAYS.
   */
  readonly pendingWindowDays?: number;
}

/** Where settings come from, lowest precedence first: defaults, cdk.json's context, `-c key=value`, then --prefix. */
export interface SettingsInput {
  /** The "context" object of cdk.json, if there is one. */
  readonly cdkContext?: Readonly<Record<string, unknown>>;
  /** Every `-c`/`--context` value, as typed. */
  readonly contextArgs?: readonly string[];
  readonly prefix?: string;
  readonly profile?: string;
}

/** The CDK app's own defaults (lib/config/settings.ts), repeated here because the CLI must not load aws-cdk-lib. */
export const DEFAULT_SETTINGS = { prefix: 'kms-key-lab', primaryRegion: 'ap-southeast-1', secondaryRegion: 'ap-southeast-2' } as const;

/** The CDK app's default pendingWindowDays (lib/config/settings.ts; cdk.json sets the same). */
export const DEFAULT_PENDING_WINDOW_DAYS = 7;

/** pendingWindowDays as the CDK app accepts it (lib/config/settings.ts), in the same words. */
const PENDING_WINDOW = { min: 7, max: 30, accepted: 'a whole number of days from 7 to 30' } as const;

/**
 * As the CDK app reads whole numbers (lib/config/settings.ts, wholeNumber): a
 * number, or a non-empty string that is one, with no fraction, in range;
 * undefined for anything else.
 */
function pendingWindowDays(raw: unknown): number | undefined {
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n)) return undefined;
  return n < PENDING_WINDOW.min || n > PENDING_WINDOW.max ? undefined : n;
}

/** The same rules as the CDK app's settings, so the CLI accepts exactly the labs that synth accepts. */
const RULES = {
  prefix: {
    pattern: /^[A-Za-z][A-Za-z0-9-]{1,31}$/,
    accepted: '2 to 32 letters, digits or hyphens, starting with a letter, not "aws"',
  },
  primaryRegion: { pattern: /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$/, accepted: 'an AWS Region code such as ap-southeast-1' },
  secondaryRegion: { pattern: /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$/, accepted: 'an AWS Region code such as ap-southeast-2' },
} as const;

type Key = keyof typeof RULES;

/** Principal lists the CLI reads only to know whether the lab made its own roles; synth validates each ARN. */
const LISTS = ['keyAdminArns', 'keyUserArns'] as const;
type ListKey = (typeof LISTS)[number];

/** As the CDK app reads lists: a JSON array, or a JSON or comma-separated string. Returns undefined for anything else. */
function stringList(raw: unknown): string[] | undefined {
  let items: unknown = raw;
  if (typeof raw === 'string') {
    const trimmed = raw.trim();
    if (trimmed.startsWith('[')) {
      try {
        items = JSON.parse(trimmed);
      } catch {
        return undefined;
      }
    } else {
      items = trimmed === '' ? [] : trimmed.split(',').map((s) => s.trim());
    }
  }
  return Array.isArray(items) && items.every((i) => typeof i === 'string') ? (items as string[]) : undefined;
}

/**
 * `-c key=value` as cdk reads it: split at the first "=", so values may hold
 * more; a later value for the same key wins.
 */
export function parseContextArgs(args: readonly string[]): Record<string, string> {
  const context: Record<string, string> = {};
  for (const arg of args) {
    const at = arg.indexOf('=');
    if (at <= 0) throw new UsageError(`-c "${arg}" is not key=value. What to do: write it as -c key=value, e.g. -c prefix=my-lab.`);
    context[arg.slice(0, at).trim()] = arg.slice(at + 1);
  }
  return context;
}

/** Resolves and validates the lab's settings; every invalid one is named in a single UsageError. */
export function resolveSettings(input: SettingsInput): LabSettings {
  const merged: Record<string, unknown> = {
    ...DEFAULT_SETTINGS,
    ...pick(input.cdkContext ?? {}),
    ...pick(parseContextArgs(input.contextArgs ?? [])),
    ...(input.prefix !== undefined ? { prefix: input.prefix } : {}),
  };
  const problems: string[] = [];
  const value = (key: Key): string => {
    const raw = merged[key];
    const text = typeof raw === 'string' ? raw.trim() : raw;
    const rule = RULES[key];
    if (typeof text !== 'string' || !rule.pattern.test(text) || (key === 'prefix' && text.toLowerCase() === 'aws')) {
      problems.push(`"${key}" is ${JSON.stringify(raw)}, but accepts ${rule.accepted}`);
    }
    return String(text);
  };
  const settings = { prefix: value('prefix'), primaryRegion: value('primaryRegion'), secondaryRegion: value('secondaryRegion') };
  // Unset in cdk.json and on the command line: the app's default, as synth applies it (null is a value, and refused, as there).
  const windowRaw = merged.pendingWindowDays === undefined ? DEFAULT_PENDING_WINDOW_DAYS : merged.pendingWindowDays;
  const windowDays = pendingWindowDays(windowRaw);
  if (windowDays === undefined) problems.push(`"pendingWindowDays" is ${JSON.stringify(windowRaw)}, but accepts ${PENDING_WINDOW.accepted}`);
  const lists: Partial<Record<ListKey, string[]>> = {};
  for (const key of LISTS) {
    const raw = merged[key];
    if (raw === undefined) continue;
    const list = stringList(raw);
    if (list) lists[key] = list;
    else problems.push(`"${key}" is ${JSON.stringify(raw)}, but accepts a list of IAM principal ARNs (a JSON array, or a comma-separated string)`);
  }
  if (problems.length === 0 && settings.primaryRegion === settings.secondaryRegion) {
    problems.push(`"primaryRegion" and "secondaryRegion" are both ${settings.primaryRegion}, but must differ`);
  }
  if (input.profile !== undefined && input.profile.trim() === '') problems.push('--profile is empty, but needs a profile name');
  if (problems.length > 0) {
    throw new UsageError(
      `Invalid setting${problems.length > 1 ? 's' : ''}: ${problems.join('; ')}. What to do: fix them in cdk.json's "context" or on the command line (-c key=value, --prefix).`,
    );
  }
  return { ...settings, ...lists, pendingWindowDays: windowDays!, ...(input.profile ? { profile: input.profile.trim() } : {}) };
}

/** Only the keys the CLI uses; cdk.json holds many more, which synth validates. */
function pick(context: Readonly<Record<string, unknown>>): Partial<Record<Key | ListKey | 'pendingWindowDays', unknown>> {
  return Object.fromEntries(
    Object.entries(context).filter(([key, raw]) => (key in RULES || (LISTS as readonly string[]).includes(key) || key === 'pendingWindowDays') && raw !== undefined),
  );
}

/** True for an AWS Region code as the settings accept one (e.g. ap-southeast-1), for commands that take --region. */
export function isRegionCode(value: string): boolean {
  return RULES.primaryRegion.pattern.test(value);
}
