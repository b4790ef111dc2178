import { RegionInfo } from 'aws-cdk-lib/region-info';

/**
 * The catalogue of lab settings. Each entry reads one CDK context value,
 * applies its default and validates it. The README's settings table is
 * generated from this list, so the two cannot drift apart.
 */
export interface SettingSpec<T> {
  /** The CDK context key, e.g. `-c rotationPeriodDays=180`. */
  readonly key: string;
  readonly description: string;
  /** What the setting accepts, in words; quoted in every error. */
  readonly accepted: string;
  /** The default, as it stands in cdk.json (undefined: unset). */
  readonly defaultValue: unknown;
  /** Turns a raw context value into a typed one, or throws SettingError. */
  parse(raw: unknown, now: Date): T;
}

/** One invalid setting: names the setting, the bad value and what is accepted. */
export class SettingError extends Error {
  constructor(
    readonly key: string,
    readonly value: unknown,
    readonly accepted: string,
    readonly reason?: string,
  ) {
    super(
      `Invalid setting "${key}": ${JSON.stringify(value)}${reason ? ` (${reason})` : ''}. Accepted: ${accepted}.`,
    );
    this.name = 'SettingError';
  }
}

export const WRAPPING_ALGORITHMS = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] as const;
export type WrappingAlgorithm = (typeof WRAPPING_ALGORITHMS)[number];

export const WRAPPING_KEY_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096'] as const;
export type WrappingKeySpec = (typeof WRAPPING_KEY_SPECS)[number];

export const MATERIAL_SOURCES = ['generate', 'secret'] as const;
export type MaterialSource = (typeof MATERIAL_SOURCES)[number];

/** KMS accepts ValidTo at most 365 days after the ImportKeyMaterial request. */
export const MAX_MATERIAL_VALIDITY_DAYS = 365;
const DAY_MS = 24 * 60 * 60 * 1000;

function spec<T>(s: SettingSpec<T>): SettingSpec<T> {
  return s;
}

function text(key: string, raw: unknown, accepted: string): string {
  if (typeof raw !== 'string') throw new SettingError(key, raw, accepted, 'not a string');
  return raw.trim();
}

function wholeNumber(key: string, raw: unknown, min: number, max: number, unit: string): number {
  const accepted = `a whole number of ${unit} from ${min} to ${max}`;
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new SettingError(key, raw, accepted, 'not a whole number');
  if (n < min || n > max) throw new SettingError(key, raw, accepted);
  return n;
}

function oneOf<T extends string>(key: string, raw: unknown, allowed: readonly T[]): T {
  const accepted = `one of ${allowed.join(', ')}`;
  if (typeof raw !== 'string' || !(allowed as readonly string[]).includes(raw)) {
    throw new SettingError(key, raw, accepted);
  }
  return raw as T;
}

function bool(key: string, raw: unknown): boolean {
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new SettingError(key, raw, 'true or false');
}

/** Lists come as JSON arrays from cdk.json, or as JSON or comma-separated strings from `-c`. */
function stringList(key: string, raw: unknown, accepted: string): string[] {
  let items: unknown = raw;
  if (typeof raw === 'string') {
    const trimmed = raw.trim();
    if (trimmed.startsWith('[')) {
      try {
        items = JSON.parse(trimmed);
      } catch {
        throw new SettingError(key, raw, accepted, 'not a valid JSON list');
      }
    } else {
      items = trimmed === '' ? [] : trimmed.split(',').map((s) => s.trim());
    }
  }
  if (!Array.isArray(items) || items.some((i) => typeof i !== 'string')) {
    throw new SettingError(key, raw, accepted, 'not a list of strings');
  }
  return items as string[];
}

const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$/;

function region(key: string, raw: unknown): string {
  const accepted = 'an AWS Region code such as ap-southeast-1';
  const value = text(key, raw, accepted);
  if (!REGION_PATTERN.test(value)) throw new SettingError(key, raw, accepted, 'not a Region code');
  return value;
}

/** The partition a Region belongs to; unknown Regions fall back to the pattern's own hint. */
export function partitionOf(regionCode: string): string {
  const known = RegionInfo.get(regionCode).partition;
  if (known) return known;
  if (regionCode.startsWith('cn-')) return 'aws-cn';
  if (regionCode.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

const PRINCIPAL_ARN_ACCEPTED =
  'IAM role, user or account-root ARNs such as arn:aws:iam::123456789012:role/KeyAdmin (a list)';
const PRINCIPAL_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:(root|role\/[\w+=,.@/-]+|user\/[\w+=,.@/-]+)$/;

function principalArns(key: string, raw: unknown): string[] {
  const arns = stringList(key, raw, PRINCIPAL_ARN_ACCEPTED);
  for (const arn of arns) {
    if (/^arn:aws(-cn|-us-gov)?:iam::\d{12}:group\//.test(arn)) {
      throw new SettingError(key, arn, PRINCIPAL_ARN_ACCEPTED, 'an IAM group cannot be a principal in a key policy');
    }
    if (!PRINCIPAL_ARN.test(arn)) throw new SettingError(key, arn, PRINCIPAL_ARN_ACCEPTED, 'not a principal ARN');
  }
  if (new Set(arns).size !== arns.length) {
    throw new SettingError(key, raw, PRINCIPAL_ARN_ACCEPTED, 'an ARN is listed twice');
  }
  return arns;
}

/** How imported material expires: never, or at an absolute instant (never "now + N days": synth must be deterministic). */
export type MaterialExpiry =
  | { readonly model: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }
  | { readonly model: 'KEY_MATERIAL_EXPIRES'; readonly validTo: string };

const EXPIRY_ACCEPTED = `"never", or a UTC date (YYYY-MM-DD) or timestamp (YYYY-MM-DDThh:mm:ssZ) after now and at most ${MAX_MATERIAL_VALIDITY_DAYS} days ahead`;
const EXPIRY_PATTERN = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?Z)?$/;

function materialExpiry(key: string, raw: unknown, now: Date): MaterialExpiry {
  const value = text(key, raw, EXPIRY_ACCEPTED);
  if (value === 'never') return { model: 'KEY_MATERIAL_DOES_NOT_EXPIRE' };
  const at = EXPIRY_PATTERN.test(value) ? new Date(value.length === 10 ? `${value}T00:00:00Z` : value) : undefined;
  if (!at || Number.isNaN(at.getTime())) throw new SettingError(key, raw, EXPIRY_ACCEPTED, 'not a date');
  if (at.getTime() <= now.getTime()) throw new SettingError(key, raw, EXPIRY_ACCEPTED, 'in the past');
  if (at.getTime() - now.getTime() > MAX_MATERIAL_VALIDITY_DAYS * DAY_MS) {
    throw new SettingError(key, raw, EXPIRY_ACCEPTED, `more than ${MAX_MATERIAL_VALIDITY_DAYS} days ahead`);
  }
  return { model: 'KEY_MATERIAL_EXPIRES', validTo: at.toISOString().replace('.000Z', 'Z') };
}

const PREFIX_ACCEPTED = '2 to 32 letters, digits or hyphens, starting with a letter, not "aws"';

export const SETTINGS = {
  primaryRegion: spec({
    key: 'primaryRegion',
    description: 'Region of the primary stack: scenario (a) key, multi-Region primary, imported-material key.',
    accepted: 'an AWS Region code, different from secondaryRegion and in the same partition',
    defaultValue: 'ap-southeast-1',
    parse: (raw) => region('primaryRegion', raw),
  }),
  secondaryRegion: spec({
    key: 'secondaryRegion',
    description: 'Region of the secondary stack: scenario (a) key under the same alias, multi-Region replica.',
    accepted: 'an AWS Region code, different from primaryRegion and in the same partition',
    defaultValue: 'ap-southeast-2',
    parse: (raw) => region('secondaryRegion', raw),
  }),
  account: spec<string | undefined>({
    key: 'account',
    description: 'AWS account id for both stacks. Unset: the stacks take the account of the deploying credentials.',
    accepted: 'a 12-digit account id, or unset',
    defaultValue: undefined,
    parse: (raw) => {
      if (raw === undefined || raw === null || raw === '') return undefined;
      const value = typeof raw === 'number' ? String(raw) : raw;
      if (typeof value !== 'string' || !/^\d{12}$/.test(value)) {
        throw new SettingError('account', raw, 'a 12-digit account id, or unset');
      }
      return value;
    },
  }),
  prefix: spec({
    key: 'prefix',
    description: 'Name prefix for stacks (`<prefix>-primary`, `<prefix>-secondary`) and aliases (`alias/<prefix>/...`); also the value of the `kms-key-lab:lab` tag.',
    accepted: PREFIX_ACCEPTED,
    defaultValue: 'kms-key-lab',
    parse: (raw) => {
      const value = text('prefix', raw, PREFIX_ACCEPTED);
      if (!/^[A-Za-z][A-Za-z0-9-]{1,31}$/.test(value) || value.toLowerCase() === 'aws') {
        throw new SettingError('prefix', raw, PREFIX_ACCEPTED);
      }
      return value;
    },
  }),
  owner: spec({
    key: 'owner',
    description: 'Value of the `kms-key-lab:owner` tag on every resource, for cost reports and teardown automation.',
    accepted: '1 to 256 letters, digits, spaces or _ . : / = + - @',
    defaultValue: 'unassigned',
    parse: (raw) => {
      const accepted = '1 to 256 letters, digits, spaces or _ . : / = + - @';
      const value = text('owner', raw, accepted);
      if (!/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$/u.test(value)) throw new SettingError('owner', raw, accepted);
      return value;
    },
  }),
  keyAdminArns: spec({
    key: 'keyAdminArns',
    description: 'Key administrators: manage every lab key (policy, rotation, deletion) but are denied its cryptographic use.',
    accepted: PRINCIPAL_ARN_ACCEPTED,
    defaultValue: [],
    parse: (raw) => principalArns('keyAdminArns', raw),
  }),
  keyUserArns: spec({
    key: 'keyUserArns',
    description: 'Key users: Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*, DescribeKey on every lab key.',
    accepted: PRINCIPAL_ARN_ACCEPTED,
    defaultValue: [],
    parse: (raw) => principalArns('keyUserArns', raw),
  }),
  rotationPeriodDays: spec({
    key: 'rotationPeriodDays',
    description: 'Automatic rotation period of the KMS-generated keys (scenarios a and b).',
    accepted: 'a whole number of days from 90 to 2560',
    defaultValue: 365,
    parse: (raw) => wholeNumber('rotationPeriodDays', raw, 90, 2560, 'days'),
  }),
  pendingWindowDays: spec({
    key: 'pendingWindowDays',
    description: 'Waiting period before a destroyed key is deleted; also the recovery window of the escrow secret.',
    accepted: 'a whole number of days from 7 to 30',
    defaultValue: 7,
    parse: (raw) => wholeNumber('pendingWindowDays', raw, 7, 30, 'days'),
  }),
  wrappingAlgorithm: spec({
    key: 'wrappingAlgorithm',
    description: 'Algorithm that wraps imported key material (scenario c).',
    accepted: `one of ${WRAPPING_ALGORITHMS.join(', ')}`,
    defaultValue: 'RSAES_OAEP_SHA_256',
    parse: (raw) => oneOf('wrappingAlgorithm', raw, WRAPPING_ALGORITHMS),
  }),
  wrappingKeySpec: spec({
    key: 'wrappingKeySpec',
    description: 'RSA wrapping public key that KMS hands out for the import (scenario c).',
    accepted: `one of ${WRAPPING_KEY_SPECS.join(', ')}`,
    defaultValue: 'RSA_4096',
    parse: (raw) => oneOf('wrappingKeySpec', raw, WRAPPING_KEY_SPECS),
  }),
  materialExpiresOn: spec({
    key: 'materialExpiresOn',
    description: 'When imported material expires: never (KEY_MATERIAL_DOES_NOT_EXPIRE) or at an absolute UTC instant (KEY_MATERIAL_EXPIRES + ValidTo).',
    accepted: EXPIRY_ACCEPTED,
    defaultValue: 'never',
    parse: (raw, now) => materialExpiry('materialExpiresOn', raw, now),
  }),
  materialSource: spec({
    key: 'materialSource',
    description: '`generate`: 32 random bytes, escrowed in a secret encrypted with the scenario (a) key. `secret`: bring your own from materialSecretName.',
    accepted: `one of ${MATERIAL_SOURCES.join(', ')}`,
    defaultValue: 'generate',
    parse: (raw) => oneOf('materialSource', raw, MATERIAL_SOURCES),
  }),
  materialSecretName: spec<string | undefined>({
    key: 'materialSecretName',
    description: 'Secrets Manager secret (primary Region) holding your 32-byte material: SecretBinary, or base64 or hex SecretString. Needed when materialSource is `secret`.',
    accepted: 'a secret name of 1 to 512 characters from A-Z a-z 0-9 / _ + = . @ -',
    defaultValue: undefined,
    parse: (raw) => {
      if (raw === undefined || raw === null || raw === '') return undefined;
      const accepted = 'a secret name of 1 to 512 characters from A-Z a-z 0-9 / _ + = . @ -';
      const value = text('materialSecretName', raw, accepted);
      if (!/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(value)) throw new SettingError('materialSecretName', raw, accepted);
      return value;
    },
  }),
  materialSecretKeyArn: spec<string | undefined>({
    key: 'materialSecretKeyArn',
    description: 'Customer managed KMS key that encrypts materialSecretName, if it is not the aws/secretsmanager key; the import handler gets Decrypt on it through Secrets Manager only.',
    accepted: 'a KMS key ARN in the primary Region, or unset',
    defaultValue: undefined,
    parse: (raw) => {
      if (raw === undefined || raw === null || raw === '') return undefined;
      const accepted = 'a KMS key ARN in the primary Region, or unset';
      const value = text('materialSecretKeyArn', raw, accepted);
      if (!/^arn:aws(-cn|-us-gov)?:kms:[a-z0-9-]+:\d{12}:key\/(mrk-)?[0-9a-f-]{32,36}$/.test(value)) {
        throw new SettingError('materialSecretKeyArn', raw, accepted);
      }
      return value;
    },
  }),
  deleteImportedMaterialOnDestroy: spec({
    key: 'deleteImportedMaterialOnDestroy',
    description: 'On destroy, also call DeleteImportedKeyMaterial so the imported key is unusable at once instead of at the end of its pending window.',
    accepted: 'true or false',
    defaultValue: false,
    parse: (raw) => bool('deleteImportedMaterialOnDestroy', raw),
  }),
} as const;

export type SettingKey = keyof typeof SETTINGS;
