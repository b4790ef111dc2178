import {
  ACCOUNT_ROOT_ARN,
  HsmMode,
  HsmType,
  KmsUserSetup,
  MaterialExpiry,
  MaterialSource,
  partitionOf,
  SettingError,
  SETTINGS,
  SettingKey,
  WrappingAlgorithm,
  WrappingKeySpec,
} from './settings';

/** The validated lab settings. Built only by {@link readLabConfig}. */
export interface LabConfig {
  readonly primaryRegion: string;
  readonly secondaryRegion: string;
  /** Undefined: the stacks are account-agnostic and deploy to the credentials' account. */
  readonly account?: string;
  readonly prefix: string;
  readonly owner: string;
  readonly keyAdminArns: readonly string[];
  readonly keyUserArns: readonly string[];
  readonly rotationPeriodDays: number;
  readonly pendingWindowDays: number;
  readonly wrappingAlgorithm: WrappingAlgorithm;
  readonly wrappingKeySpec: WrappingKeySpec;
  readonly materialExpiry: MaterialExpiry;
  readonly materialSource: MaterialSource;
  readonly materialSecretName?: string;
  readonly materialSecretKeyArn?: string;
  readonly deleteImportedMaterialOnDestroy: boolean;
  /** Scenario (e): a multi-Region key with imported material in both Regions. */
  readonly multiRegionImportedKey: boolean;
  /** The alarm on use of keys pending deletion; undefined when it is off. */
  readonly deletionAlarm?: DeletionAlarmConfig;
  /** Scenario (d); undefined when its stack is not in the app. */
  readonly cloudHsm?: CloudHsmConfig;
  /** Problems that must not fail synth (see ParseContext.warn), for the stacks to show as warnings. */
  readonly warnings: readonly SettingWarning[];
}

/** The settings of scenario (d), present only with the opt-in `cloudHsm=true`. */
export interface CloudHsmConfig {
  readonly hsmCount: number;
  readonly hsmType: HsmType;
  readonly mode: HsmMode;
  readonly backupRetentionDays: number;
  readonly kmsUserSetup: KmsUserSetup;
  /** 0: never. */
  readonly labExpiryHours: number;
  readonly clientInstanceType: string;
  readonly cliPackageUrl: string;
  readonly vpcCidr: string;
  /** Two or three AZ names of the primary Region. */
  readonly availabilityZones: readonly string[];
}

/** The settings of the opt-in alarm on use of keys pending deletion. */
export interface DeletionAlarmConfig {
  /** Subscribed to the alarm's topic in both Regions. */
  readonly email?: string;
}

/** A setting that synth accepts but that the user should look at before deploying. */
export interface SettingWarning {
  /** Stable id, `kms-key-lab:<what>`, so a warning can be acknowledged. */
  readonly id: string;
  readonly message: string;
}

/** Every invalid setting at once, so one `cdk synth` shows all there is to fix. */
export class LabConfigError extends Error {
  constructor(readonly problems: readonly SettingError[]) {
    super(
      `KMS Key Lab settings are invalid (set them in cdk.json "context" or with -c key=value):\n` +
        problems.map((p) => `  - ${p.message}`).join('\n'),
    );
    this.name = 'LabConfigError';
  }
}

/** Anything that answers context look-ups: a construct node, or a plain map in tests. */
export interface ContextSource {
  tryGetContext(key: string): unknown;
  /** Every context key, to catch misspelt settings; optional for plain maps. */
  getAllContext?(): Record<string, unknown>;
}

export interface ReadOptions {
  /** The instant that material expiry is checked against. */
  readonly now?: Date;
}

export function readLabConfig(context: ContextSource, options: ReadOptions = {}): LabConfig {
  const now = options.now ?? new Date();
  const problems: SettingError[] = [];
  const warnings: SettingWarning[] = [];
  const values: Partial<Record<SettingKey, unknown>> = {};

  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const setting = SETTINGS[key];
    const raw = context.tryGetContext(key);
    const warn = (message: string) => warnings.push({ id: `kms-key-lab:setting-${key}`, message });
    try {
      values[key] = setting.parse(raw === undefined ? setting.defaultValue : raw, { key, accepted: setting.accepted, now, warn });
    } catch (e) {
      if (!(e instanceof SettingError)) throw e;
      problems.push(e);
    }
  }
  problems.push(...misspeltSettings(context));
  if (problems.length === 0) problems.push(...crossChecks(values as LabConfigValues));
  if (problems.length > 0) throw new LabConfigError(problems);

  const v = values as LabConfigValues;
  warnings.push(...principalWarnings(v));
  return {
    primaryRegion: v.primaryRegion,
    secondaryRegion: v.secondaryRegion,
    account: v.account,
    prefix: v.prefix,
    owner: v.owner,
    keyAdminArns: v.keyAdminArns,
    keyUserArns: v.keyUserArns,
    rotationPeriodDays: v.rotationPeriodDays,
    pendingWindowDays: v.pendingWindowDays,
    wrappingAlgorithm: v.wrappingAlgorithm,
    wrappingKeySpec: v.wrappingKeySpec,
    materialExpiry: v.materialExpiresOn,
    materialSource: v.materialSource,
    materialSecretName: v.materialSecretName,
    materialSecretKeyArn: v.materialSecretKeyArn,
    deleteImportedMaterialOnDestroy: v.deleteImportedMaterialOnDestroy,
    multiRegionImportedKey: v.multiRegionImportedKey,
    deletionAlarm: v.deletionAlarm ? { email: v.deletionAlarmEmail } : undefined,
    cloudHsm: v.cloudHsm
      ? {
          hsmCount: v.hsmCount,
          hsmType: v.hsmType,
          mode: v.hsmMode,
          backupRetentionDays: v.hsmBackupRetentionDays,
          kmsUserSetup: v.kmsUserSetup,
          labExpiryHours: v.labExpiryHours,
          clientInstanceType: v.hsmClientInstanceType,
          cliPackageUrl: v.hsmCliPackageUrl,
          vpcCidr: v.hsmVpcCidr,
          availabilityZones: v.hsmAvailabilityZones.length ? v.hsmAvailabilityZones : [`${v.primaryRegion}a`, `${v.primaryRegion}b`],
        }
      : undefined,
    warnings,
  };
}

/**
 * Whether a principal exists cannot be checked offline, and KMS rejects a key
 * policy that names one that does not (MalformedPolicyDocumentException).
 */
function principalWarnings(v: LabConfigValues): SettingWarning[] {
  const named = [...v.keyAdminArns, ...v.keyUserArns].filter((arn) => !ACCOUNT_ROOT_ARN.test(arn));
  if (named.length === 0) return [];
  return [
    {
      id: 'kms-key-lab:principals-must-exist',
      message:
        `The key policies name ${named.join(', ')}. Each must exist before you deploy: KMS rejects a key policy that ` +
        'names a principal that does not exist (MalformedPolicyDocumentException), and the stack rolls back.',
    },
  ];
}

/**
 * A setting given under a near-miss name would be silently ignored and the
 * default used instead, so it fails like any other bad setting.
 */
function misspeltSettings(context: ContextSource): SettingError[] {
  const known = Object.keys(SETTINGS);
  const problems: SettingError[] = [];
  for (const [key, value] of Object.entries(context.getAllContext?.() ?? {})) {
    // Feature flags and CDK's own keys have ':' in them; ours never do.
    if (known.includes(key) || key.includes(':')) continue;
    const match = known.find((k) => resembles(key, k));
    if (match) problems.push(new SettingError(key, value, `the setting ${match}`, 'not a setting of this lab'));
  }
  return problems;
}

/** Same name but for case, a unit suffix, or one or two typed characters. */
function resembles(given: string, known: string): boolean {
  const a = given.toLowerCase();
  const b = known.toLowerCase();
  if (a === b || b.startsWith(a) || a.startsWith(b)) return a.length >= 4;
  return editDistance(a, b) <= 2;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

type LabConfigValues = { [K in SettingKey]: ReturnType<(typeof SETTINGS)[K]['parse']> };

/** Rules that span more than one setting. */
function crossChecks(v: LabConfigValues): SettingError[] {
  const problems: SettingError[] = [];
  if (v.primaryRegion === v.secondaryRegion) {
    problems.push(
      new SettingError('secondaryRegion', v.secondaryRegion, 'a Region other than primaryRegion', 'equal to primaryRegion'),
    );
  } else if (partitionOf(v.primaryRegion) !== partitionOf(v.secondaryRegion)) {
    problems.push(
      new SettingError(
        'secondaryRegion',
        v.secondaryRegion,
        `a Region in the same partition as primaryRegion (${partitionOf(v.primaryRegion)})`,
        'multi-Region keys cannot replicate across partitions',
      ),
    );
  }
  const partition = partitionOf(v.primaryRegion);
  for (const key of ['keyAdminArns', 'keyUserArns'] as const) {
    for (const arn of v[key]) {
      if (arn.split(':')[1] !== partition) {
        problems.push(new SettingError(key, arn, `ARNs in the ${partition} partition of ${v.primaryRegion}`));
      }
    }
  }
  for (const root of v.keyAdminArns.filter((arn) => ACCOUNT_ROOT_ARN.test(arn))) {
    problems.push(
      new SettingError(
        'keyAdminArns',
        root,
        'IAM role or user ARNs, not an account root',
        'administrators are denied cryptographic use of the keys, and a Deny that names an account root matches every ' +
          'principal of that account: CloudFormation, the lab handlers and every key user would be locked out',
      ),
    );
  }
  const deployRole = v.keyAdminArns.find((arn) => /:role\/cdk-[a-z0-9]+-cfn-exec-role-/.test(arn));
  if (deployRole) {
    problems.push(
      new SettingError(
        'keyAdminArns',
        deployRole,
        'human or automation administrator roles, not the CDK CloudFormation execution role',
        'administrators are denied cryptographic use, and CloudFormation deploys with that role resources that are encrypted under the lab keys',
      ),
    );
  }
  const both = v.keyAdminArns.filter((arn) => v.keyUserArns.includes(arn));
  if (both.length > 0) {
    problems.push(
      new SettingError(
        'keyUserArns',
        both,
        'principals that are not also in keyAdminArns',
        'administrators are denied cryptographic use of the keys, so a principal cannot be both',
      ),
    );
  }
  // The watch reports its own failure (a self-deletion that failed, so the trail bills on) only to the topic: without a subscriber nobody hears it.
  if (v.deletionAlarm && !v.deletionAlarmEmail) {
    problems.push(
      new SettingError(
        'deletionAlarmEmail',
        v.deletionAlarmEmail ?? null,
        'an e-mail address such as ops@example.com while deletionAlarm=true',
        'the alarm and a failed self-deletion of the alarm stacks are only published to the topic, and without a subscriber nobody is told',
      ),
    );
  }
  if (v.deletionAlarmEmail && !v.deletionAlarm) {
    problems.push(
      new SettingError('deletionAlarmEmail', v.deletionAlarmEmail, 'unset, or an address together with deletionAlarm=true', 'deletionAlarm is off'),
    );
  }
  const foreignZone = v.hsmAvailabilityZones.find((z) => !z.startsWith(v.primaryRegion));
  if (foreignZone) {
    problems.push(new SettingError('hsmAvailabilityZones', foreignZone, `Availability Zones of primaryRegion (${v.primaryRegion})`));
  }
  if (v.hsmMode === 'NON_FIPS' && v.hsmType !== 'hsm2m.medium') {
    problems.push(
      new SettingError('hsmMode', v.hsmMode, 'FIPS, or NON_FIPS with hsmType hsm2m.medium', `hsmType ${v.hsmType} runs in FIPS mode only`),
    );
  }
  if (v.materialSource === 'secret' && !v.materialSecretName) {
    problems.push(
      new SettingError('materialSecretName', v.materialSecretName ?? null, 'a secret name when materialSource is "secret"', 'missing'),
    );
  }
  if (v.materialSource === 'generate' && (v.materialSecretName || v.materialSecretKeyArn)) {
    problems.push(
      new SettingError(
        v.materialSecretName ? 'materialSecretName' : 'materialSecretKeyArn',
        v.materialSecretName ?? v.materialSecretKeyArn,
        'unset while materialSource is "generate" (set materialSource to "secret" to bring your own material)',
      ),
    );
  }
  if (v.materialSecretKeyArn && v.materialSecretKeyArn.split(':')[3] !== v.primaryRegion) {
    problems.push(
      new SettingError('materialSecretKeyArn', v.materialSecretKeyArn, `a KMS key ARN in primaryRegion (${v.primaryRegion})`),
    );
  }
  return problems;
}
