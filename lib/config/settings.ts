import { RegionInfo } from 'aws-cdk-lib/region-info';

/** What a parser knows about the setting it reads, so errors can name it. */
export interface ParseContext {
  readonly key: string;
  readonly accepted: string;
  /** The instant that dates are checked against. */
  readonly now: Date;
  /**
   * Records a problem that must not fail synth. `cdk destroy` and `cdk diff`
   * synthesize first, so a check that depends on the clock or on the outside
   * world warns here instead of throwing: it must never lock a deployed lab in.
   */
  warn(reason: string): void;
}

interface SettingDefinition<T> {
  readonly description: string;
  /** What the setting accepts, in words; quoted in every error. */
  readonly accepted: string;
  /** The default, as it stands in cdk.json (undefined: unset). */
  readonly defaultValue: unknown;
  /** Turns a raw context value into a typed one, or throws SettingError. */
  parse(raw: unknown, ctx: ParseContext): T;
}

/**
 * One entry of the settings catalogue: reads one CDK context value, applies
 * its default and validates it. The README's settings table is generated from
 * the catalogue, so the two cannot drift apart.
 */
export interface SettingSpec<T> extends SettingDefinition<T> {
  /** The CDK context key, e.g. `-c rotationPeriodDays=180`. */
  readonly key: string;
}

/** One invalid setting: names the setting, the bad value and what is accepted. */
export class SettingError extends Error {
  constructor(
    readonly key: string,
    readonly value: unknown,
    readonly accepted: string,
    readonly reason?: string,
  ) {
    super(`Invalid setting "${key}": ${JSON.stringify(value)}${reason ? ` (${reason})` : ''}. Accepted: ${accepted}.`);
    this.name = 'SettingError';
  }
}

export const WRAPPING_ALGORITHMS = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] as const;
export type WrappingAlgorithm = (typeof WRAPPING_ALGORITHMS)[number];

export const WRAPPING_KEY_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096'] as const;
export type WrappingKeySpec = (typeof WRAPPING_KEY_SPECS)[number];

export const MATERIAL_SOURCES = ['generate', 'secret'] as const;
export type MaterialSource = (typeof MATERIAL_SOURCES)[number];

export const HSM_TYPES = ['hsm2m.medium', 'hsm1.medium'] as const;
export type HsmType = (typeof HSM_TYPES)[number];

export const HSM_MODES = ['FIPS', 'NON_FIPS'] as const;
export type HsmMode = (typeof HSM_MODES)[number];

export const KMS_USER_SETUPS = ['automated', 'manual'] as const;
export type KmsUserSetup = (typeof KMS_USER_SETUPS)[number];

/** KMS accepts ValidTo at most 365 days after the ImportKeyMaterial request. */
export const MAX_MATERIAL_VALIDITY_DAYS = 365;
const DAY_MS = 24 * 60 * 60 * 1000;

const fail = (ctx: ParseContext, raw: unknown, reason?: string): never => {
  throw new SettingError(ctx.key, raw, ctx.accepted, reason);
};

const isUnset = (raw: unknown) => raw === undefined || raw === null || raw === '';

function text(raw: unknown, ctx: ParseContext): string {
  return typeof raw === 'string' ? raw.trim() : fail(ctx, raw, 'not a string');
}

/** A string matching the pattern, or unset when optional. */
function matching(pattern: RegExp) {
  return (raw: unknown, ctx: ParseContext): string => {
    const value = text(raw, ctx);
    return pattern.test(value) ? value : fail(ctx, raw);
  };
}
function optionalMatching(pattern: RegExp) {
  return (raw: unknown, ctx: ParseContext): string | undefined => (isUnset(raw) ? undefined : matching(pattern)(raw, ctx));
}

function wholeNumber(min: number, max: number) {
  return (raw: unknown, ctx: ParseContext): number => {
    const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof n !== 'number' || !Number.isInteger(n)) return fail(ctx, raw, 'not a whole number');
    return n < min || n > max ? fail(ctx, raw) : n;
  };
}

function oneOf<T extends string>(allowed: readonly T[]) {
  return (raw: unknown, ctx: ParseContext): T =>
    typeof raw === 'string' && (allowed as readonly string[]).includes(raw) ? (raw as T) : fail(ctx, raw);
}

function bool(raw: unknown, ctx: ParseContext): boolean {
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  return fail(ctx, raw);
}

/** Lists come as JSON arrays from cdk.json, or as JSON or comma-separated strings from `-c`. */
function stringList(raw: unknown, ctx: ParseContext): string[] {
  let items: unknown = raw;
  if (typeof raw === 'string') {
    const trimmed = raw.trim();
    if (trimmed.startsWith('[')) {
      try {
        items = JSON.parse(trimmed);
      } catch {
        return fail(ctx, raw, 'not a valid JSON list');
      }
    } else {
      items = trimmed === '' ? [] : trimmed.split(',').map((s) => s.trim());
    }
  }
  if (!Array.isArray(items) || items.some((i) => typeof i !== 'string')) return fail(ctx, raw, 'not a list of strings');
  return items as string[];
}

const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$/;

function region(raw: unknown, ctx: ParseContext): string {
  const value = text(raw, ctx);
  return REGION_PATTERN.test(value) ? value : fail(ctx, raw, 'not a Region code');
}

/** The partition a Region belongs to; unknown Regions fall back to their name's hint. */
export function partitionOf(regionCode: string): string {
  const known = RegionInfo.get(regionCode).partition;
  if (known) return known;
  if (regionCode.startsWith('cn-')) return 'aws-cn';
  if (regionCode.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

const PRINCIPAL_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:(root|role\/[\w+=,.@/-]+|user\/[\w+=,.@/-]+)$/;
/** An account principal: in a key policy it stands for every principal of that account. */
export const ACCOUNT_ROOT_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:root$/;
const GROUP_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:group\//;

function principalArns(raw: unknown, ctx: ParseContext): string[] {
  const arns = stringList(raw, ctx);
  for (const arn of arns) {
    if (GROUP_ARN.test(arn)) fail(ctx, arn, 'an IAM group cannot be a principal in a key policy');
    if (!PRINCIPAL_ARN.test(arn)) fail(ctx, arn, 'not a principal ARN');
  }
  return new Set(arns).size === arns.length ? arns : fail(ctx, raw, 'an ARN is listed twice');
}

/** How imported material expires: never, or at an absolute instant (never "now + N days": synth must be deterministic). */
export type MaterialExpiry =
  | { readonly model: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }
  | { readonly model: 'KEY_MATERIAL_EXPIRES'; readonly validTo: string };

const EXPIRY_PATTERN = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?Z)?$/;

function materialExpiry(raw: unknown, ctx: ParseContext): MaterialExpiry {
  const value = text(raw, ctx);
  if (value === 'never') return { model: 'KEY_MATERIAL_DOES_NOT_EXPIRE' };
  const at = EXPIRY_PATTERN.test(value) ? new Date(value.length === 10 ? `${value}T00:00:00Z` : value) : undefined;
  if (!at || Number.isNaN(at.getTime())) return fail(ctx, raw, 'not a date');
  if (at.getTime() <= ctx.now.getTime()) {
    ctx.warn(
      `materialExpiresOn ${JSON.stringify(value)} has passed. Synth goes on so that a lab deployed with it can still be ` +
        'diffed and destroyed, but a deploy that has to import material refuses a past date: set a later date or "never" first.',
    );
  } else if (at.getTime() - ctx.now.getTime() > MAX_MATERIAL_VALIDITY_DAYS * DAY_MS) {
    // Only a date the lab was never deployed with can be this far ahead: time only brings it closer.
    fail(ctx, raw, `more than ${MAX_MATERIAL_VALIDITY_DAYS} days ahead`);
  }
  return { model: 'KEY_MATERIAL_EXPIRES', validTo: at.toISOString().replace('.000Z', 'Z') };
}

/** An IPv4 block of /16 to /23 for the CloudHSM VPC: three /26 subnets (public, HSMs, client host) per AZ. */
function vpcCidr(raw: unknown, ctx: ParseContext): string {
  const value = text(raw, ctx);
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255)) return fail(ctx, raw, 'not an IPv4 CIDR block');
  const bits = Number(m[5]);
  return bits < 16 || bits > 23 ? fail(ctx, raw, `a /${bits} block`) : value;
}

const PRINCIPALS_ACCEPTED = 'IAM role, user or account-root ARNs such as arn:aws:iam::123456789012:role/KeyAdmin (a list)';
const ADMINS_ACCEPTED = 'IAM role or user ARNs such as arn:aws:iam::123456789012:role/KeyAdmin (a list), not an account root';

/** Gives every definition its key, so a key is written once. */
function catalogue<D extends Record<string, SettingDefinition<unknown>>>(defs: D): { [K in keyof D]: D[K] & { key: K & string } } {
  return Object.fromEntries(Object.entries(defs).map(([key, def]) => [key, { ...def, key }])) as never;
}

export const SETTINGS = catalogue({
  primaryRegion: {
    description: 'Region of the primary stack: scenario (a) key, multi-Region primary, imported-material key.',
    accepted: 'an AWS Region code such as ap-southeast-1, different from secondaryRegion and in the same partition',
    defaultValue: 'ap-southeast-1',
    parse: region,
  },
  secondaryRegion: {
    description: 'Region of the secondary stack: scenario (a) key under the same alias, multi-Region replica.',
    accepted: 'an AWS Region code such as ap-southeast-2, different from primaryRegion and in the same partition',
    defaultValue: 'ap-southeast-2',
    parse: region,
  },
  account: {
    description: 'AWS account id for both stacks. Unset: the stacks take the account of the deploying credentials.',
    accepted: 'a 12-digit account id, or unset',
    defaultValue: undefined,
    parse: (raw: unknown, ctx: ParseContext) => optionalMatching(/^\d{12}$/)(typeof raw === 'number' ? String(raw) : raw, ctx),
  },
  prefix: {
    description:
      'Name prefix for stacks (`<prefix>-primary`, `<prefix>-secondary`) and aliases (`alias/<prefix>/...`); also the value of the `kms-key-lab:lab` tag.',
    accepted: '2 to 32 letters, digits or hyphens, starting with a letter, not "aws"',
    defaultValue: 'kms-key-lab',
    parse: (raw: unknown, ctx: ParseContext) => {
      const value = matching(/^[A-Za-z][A-Za-z0-9-]{1,31}$/)(raw, ctx);
      return value.toLowerCase() === 'aws' ? fail(ctx, raw) : value;
    },
  },
  owner: {
    description: 'Value of the `kms-key-lab:owner` tag on every resource, for cost reports and teardown automation.',
    accepted: '1 to 256 letters, digits, spaces or _ . : / = + - @',
    defaultValue: 'unassigned',
    parse: matching(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$/u),
  },
  keyAdminArns: {
    description:
      'Key administrators: manage every lab key (policy, rotation, aliases, deletion) but are denied its cryptographic use; they may also read the escrow secret, to recover imported material.',
    accepted: ADMINS_ACCEPTED,
    defaultValue: [],
    parse: principalArns,
  },
  keyUserArns: {
    description: 'Key users: Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*, DescribeKey on every lab key.',
    accepted: PRINCIPALS_ACCEPTED,
    defaultValue: [],
    parse: principalArns,
  },
  rotationPeriodDays: {
    description: 'Automatic rotation period of the KMS-generated keys (scenarios a and b).',
    accepted: 'a whole number of days from 90 to 2560',
    defaultValue: 365,
    parse: wholeNumber(90, 2560),
  },
  pendingWindowDays: {
    description:
      'Waiting period before a destroyed key is deleted. The escrow secret waits one day longer, so it outlives its key; as secrets wait at most 30 days, the imported key waits at most 29.',
    accepted: 'a whole number of days from 7 to 30',
    defaultValue: 7,
    parse: wholeNumber(7, 30),
  },
  wrappingAlgorithm: {
    description: 'Algorithm that wraps imported key material (scenario c).',
    accepted: `one of ${WRAPPING_ALGORITHMS.join(', ')}`,
    defaultValue: 'RSAES_OAEP_SHA_256',
    parse: oneOf(WRAPPING_ALGORITHMS),
  },
  wrappingKeySpec: {
    description: 'RSA wrapping public key that KMS hands out for the import (scenario c).',
    accepted: `one of ${WRAPPING_KEY_SPECS.join(', ')}`,
    defaultValue: 'RSA_4096',
    parse: oneOf(WRAPPING_KEY_SPECS),
  },
  materialExpiresOn: {
    description:
      'When imported material expires: never (KEY_MATERIAL_DOES_NOT_EXPIRE) or at an absolute UTC instant (KEY_MATERIAL_EXPIRES + ValidTo).',
    accepted: `"never", or a UTC date (YYYY-MM-DD) or timestamp (YYYY-MM-DDThh:mm:ssZ) at most ${MAX_MATERIAL_VALIDITY_DAYS} days ahead; a date that has passed only warns, so a lab deployed with it can still be destroyed`,
    defaultValue: 'never',
    parse: materialExpiry,
  },
  materialSource: {
    description:
      '`generate`: 32 random bytes, escrowed in a secret that the import handler creates and owns (`<prefix>/imported-material/escrow-<key id>`). `secret`: bring your own from materialSecretName.',
    accepted: `one of ${MATERIAL_SOURCES.join(', ')}`,
    defaultValue: 'generate',
    parse: oneOf(MATERIAL_SOURCES),
  },
  materialSecretName: {
    description:
      'Secrets Manager secret (primary Region) holding your 32-byte material: SecretBinary, or base64 or hex SecretString. Needed when materialSource is `secret`.',
    accepted: 'a secret name of 1 to 512 characters from A-Z a-z 0-9 / _ + = . @ -, or unset',
    defaultValue: undefined,
    parse: optionalMatching(/^[A-Za-z0-9/_+=.@-]{1,512}$/),
  },
  materialSecretKeyArn: {
    description:
      'Customer managed KMS key that encrypts materialSecretName, if it is not the aws/secretsmanager key; the import handler gets Decrypt on it through Secrets Manager only.',
    accepted: 'a KMS key ARN in the primary Region, or unset',
    defaultValue: undefined,
    parse: optionalMatching(/^arn:aws(-cn|-us-gov)?:kms:[a-z0-9-]+:\d{12}:key\/(mrk-)?[0-9a-f-]{32,36}$/),
  },
  cloudHsm: {
    description:
      'Adds scenario (d), a CloudHSM-backed key in a KMS custom key store, as its own stack `<prefix>-cloudhsm` in the primary Region. It bills HSM hours (two HSMs cost roughly $3–4 an hour): synth warns with the hourly cost.',
    accepted: 'true or false',
    defaultValue: false,
    parse: bool,
  },
  hsmCount: {
    description: 'HSMs in the cluster, spread over two Availability Zones. A key store needs two active HSMs in two AZs.',
    accepted: 'a whole number from 2 to 6',
    defaultValue: 2,
    parse: wholeNumber(2, 6),
  },
  hsmType: {
    description: 'CloudHSM HSM type of the cluster (scenario d).',
    accepted: `one of ${HSM_TYPES.join(', ')}`,
    defaultValue: 'hsm2m.medium',
    parse: oneOf(HSM_TYPES),
  },
  hsmMode: {
    description: 'Cluster mode (scenario d); it cannot change after the cluster is created.',
    accepted: `one of ${HSM_MODES.join(', ')} (NON_FIPS needs hsmType hsm2m.medium)`,
    defaultValue: 'FIPS',
    parse: oneOf(HSM_MODES),
  },
  hsmBackupRetentionDays: {
    description: 'Days CloudHSM keeps the cluster backups it takes (scenario d).',
    accepted: 'a whole number of days from 7 to 379',
    defaultValue: 7,
    parse: wholeNumber(7, 379),
  },
  kmsUserSetup: {
    description:
      '`automated`: the lab activates the cluster and creates kmsuser through SSM Run Command on its client host. `manual`: you run those commands yourself (seed 000); the deploy waits at the kmsuser check, which names what is still missing.',
    accepted: `one of ${KMS_USER_SETUPS.join(', ')}`,
    defaultValue: 'automated',
    parse: oneOf(KMS_USER_SETUPS),
  },
  labExpiryHours: {
    description:
      'Hours after a deploy of the CloudHSM stack at which it deletes itself through CloudFormation (the ordered teardown), so an abandoned lab stops billing HSM hours. 0 turns it off.',
    accepted: 'a whole number of hours from 0 (off) to 168',
    defaultValue: 8,
    parse: wholeNumber(0, 168),
  },
  hsmClientInstanceType: {
    description: 'EC2 instance type of the CloudHSM client host (x86_64; managed through SSM, no SSH).',
    accepted: 'an x86_64 EC2 instance type such as t3.micro',
    defaultValue: 't3.micro',
    parse: matching(/^(t3|t3a|m5|m6i|m7i|c5|c6i|c7i)\.(nano|micro|small|medium|large|xlarge|2xlarge)$/),
  },
  hsmCliPackageUrl: {
    description: 'Where the client host downloads the CloudHSM CLI (Client SDK 5) RPM for Amazon Linux 2023, through the NAT gateway.',
    accepted: 'an https URL ending in .rpm',
    defaultValue: 'https://s3.amazonaws.com/cloudhsmv2-software/CloudHsmClient/Amzn2023/cloudhsm-cli-latest.amzn2023.x86_64.rpm',
    parse: matching(/^https:\/\/[A-Za-z0-9.-]+\/[A-Za-z0-9._~\/-]+\.rpm$/),
  },
  hsmAvailabilityZones: {
    description:
      'Availability Zones of the CloudHSM subnets, one HSM subnet each (the HSMs are spread over them in turn). Empty: `<primaryRegion>a` and `<primaryRegion>b`. Named here rather than looked up, so synth needs no AWS credentials.',
    accepted: 'a list of 2 to 3 Availability Zone names of the primary Region, such as ap-southeast-1a, or empty',
    defaultValue: [],
    parse: (raw: unknown, ctx: ParseContext) => {
      const zones = stringList(raw, ctx);
      if (zones.some((z) => !/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+[a-z]$/.test(z))) return fail(ctx, raw, 'not Availability Zone names');
      if (zones.length === 1 || zones.length > 3) return fail(ctx, raw, `${zones.length} zones`);
      return new Set(zones).size === zones.length ? zones : fail(ctx, raw, 'a zone is listed twice');
    },
  },
  hsmVpcCidr: {
    description: 'IPv4 block of the VPC that holds the CloudHSM cluster, the client host and the key store ENIs.',
    accepted: 'an IPv4 CIDR block from /16 to /23, such as 10.42.0.0/16',
    defaultValue: '10.42.0.0/16',
    parse: vpcCidr,
  },
  multiRegionImportedKey: {
    description:
      'Adds scenario (e): a multi-Region key with imported material, its primary in primaryRegion and its replica in secondaryRegion, both holding the same generated material from one escrow secret that Secrets Manager replicates to secondaryRegion. Costs one key per Region.',
    accepted: 'true or false',
    defaultValue: true,
    parse: bool,
  },
  deletionAlarm: {
    description:
      'Adds the stacks `<prefix>-alarm-primary` and `<prefix>-alarm-secondary`: in each Region, a CloudTrail trail into CloudWatch Logs, a metric filter for KMS requests refused because the key is pending deletion, and an alarm on it (alarm and SNS topic `<prefix>-pending-deletion-use`). They outlive the key stacks and delete themselves once the lab keys of their Region are past their pending window (pendingWindowDays + 1 days after the last key stack of the Region is deleted; twice pendingWindowDays + 1 in primaryRegion, whose multi-Region primaries wait for their replicas). The trail and its logs cost money.',
    accepted: 'true or false',
    defaultValue: false,
    parse: bool,
  },
  deletionAlarmEmail: {
    description:
      'E-mail address subscribed to the deletion alarm\'s SNS topic in both Regions (confirm the subscription from the mail AWS sends). Required with deletionAlarm: the alarm and a failed self-deletion of the alarm stacks are only published to the topic.',
    accepted: 'an e-mail address such as ops@example.com (required with deletionAlarm=true), or unset',
    defaultValue: undefined,
    parse: optionalMatching(/^[^@\s"'<>]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/),
  },
  deleteImportedMaterialOnDestroy: {
    description:
      'On destroy, also call DeleteImportedKeyMaterial so the imported key is unusable at once instead of at the end of its pending window.',
    accepted: 'true or false',
    defaultValue: false,
    parse: bool,
  },
});

export type SettingKey = keyof typeof SETTINGS;
