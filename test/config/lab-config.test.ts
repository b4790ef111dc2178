import { LabConfigError, readLabConfig } from '../../lib/config/lab-config';
import { SETTINGS } from '../../lib/config/settings';
import { ADMIN, CDK_JSON_CONTEXT, NOW, USER } from '../helpers/lab';

const read = (settings: Record<string, unknown>) =>
  readLabConfig({ tryGetContext: (key) => settings[key] }, { now: NOW });

/** The error for one bad setting, or a failure if the settings were accepted. */
function problem(settings: Record<string, unknown>): string {
  try {
    read(settings);
  } catch (e) {
    expect(e).toBeInstanceOf(LabConfigError);
    return (e as Error).message;
  }
  throw new Error(`settings were accepted: ${JSON.stringify(settings)}`);
}

describe('defaults', () => {
  test('cdk.json carries every setting default the code applies', () => {
    for (const setting of Object.values(SETTINGS)) {
      expect(CDK_JSON_CONTEXT[setting.key]).toEqual(setting.defaultValue);
    }
  });

  test('scenario (e) is on and the deletion alarm off unless asked for', () => {
    expect(read({})).toMatchObject({ multiRegionImportedKey: true, deletionAlarm: undefined });
    expect(read({ multiRegionImportedKey: 'false' }).multiRegionImportedKey).toBe(false);
    expect(read({ deletionAlarm: 'true', deletionAlarmEmail: 'ops@example.com' }).deletionAlarm).toEqual({ email: 'ops@example.com' });
  });

  test('with no settings the lab spans Singapore and Sydney with safe defaults', () => {
    const config = read({});
    expect(config).toMatchObject({
      primaryRegion: 'ap-southeast-1',
      secondaryRegion: 'ap-southeast-2',
      account: undefined,
      prefix: 'kms-key-lab',
      rotationPeriodDays: 365,
      pendingWindowDays: 7,
      wrappingAlgorithm: 'RSAES_OAEP_SHA_256',
      wrappingKeySpec: 'RSA_4096',
      materialExpiry: { model: 'KEY_MATERIAL_DOES_NOT_EXPIRE' },
      materialSource: 'generate',
      deleteImportedMaterialOnDestroy: false,
    });
  });
});

describe('values given with -c arrive as strings and are parsed', () => {
  test('numbers, booleans and lists', () => {
    const config = read({
      rotationPeriodDays: '180',
      pendingWindowDays: '30',
      deleteImportedMaterialOnDestroy: 'true',
      keyAdminArns: ADMIN,
      keyUserArns: `["${USER}"]`,
      account: '123456789012',
    });
    expect(config.rotationPeriodDays).toBe(180);
    expect(config.pendingWindowDays).toBe(30);
    expect(config.deleteImportedMaterialOnDestroy).toBe(true);
    expect(config.keyAdminArns).toEqual([ADMIN]);
    expect(config.keyUserArns).toEqual([USER]);
    expect(config.account).toBe('123456789012');
  });

  test('a comma-separated list of principals', () => {
    const other = 'arn:aws:iam::222222222222:user/alice';
    expect(read({ keyUserArns: `${USER}, ${other}` }).keyUserArns).toEqual([USER, other]);
  });

  test('an expiry date becomes an absolute ValidTo at midnight UTC', () => {
    expect(read({ materialExpiresOn: '2027-06-30' }).materialExpiry).toEqual({
      model: 'KEY_MATERIAL_EXPIRES',
      validTo: '2027-06-30T00:00:00Z',
    });
  });
});

describe('invalid settings name the setting, the value and what is accepted', () => {
  test.each([
    ['rotation period below 90 days', { rotationPeriodDays: 89 }, 'rotationPeriodDays', '89', 'from 90 to 2560'],
    ['rotation period above 2560 days', { rotationPeriodDays: '2561' }, 'rotationPeriodDays', '2561', 'from 90 to 2560'],
    ['rotation period that is not a number', { rotationPeriodDays: 'yearly' }, 'rotationPeriodDays', 'yearly', 'from 90 to 2560'],
    ['pending window below 7 days', { pendingWindowDays: 6 }, 'pendingWindowDays', '6', 'from 7 to 30'],
    ['pending window above 30 days', { pendingWindowDays: 31 }, 'pendingWindowDays', '31', 'from 7 to 30'],
    ['primary Region equal to the secondary', { secondaryRegion: 'ap-southeast-1' }, 'secondaryRegion', 'ap-southeast-1', 'a Region other than primaryRegion'],
    ['a primary Region that is not a Region', { primaryRegion: 'singapore' }, 'primaryRegion', 'singapore', 'an AWS Region code'],
    ['a secondary Region that is not a Region', { secondaryRegion: 'ap-southeast' }, 'secondaryRegion', 'ap-southeast', 'an AWS Region code'],
    ['Regions in different partitions', { secondaryRegion: 'cn-north-1' }, 'secondaryRegion', 'cn-north-1', 'same partition'],
    ['a malformed account id', { account: '12345' }, 'account', '12345', 'a 12-digit account id'],
    ['a malformed administrator ARN', { keyAdminArns: ['arn:aws:iam::123:role/Admin'] }, 'keyAdminArns', 'arn:aws:iam::123:role/Admin', 'IAM role or user ARNs'],
    ['a user ARN that is not an IAM ARN', { keyUserArns: ['arn:aws:s3:::bucket'] }, 'keyUserArns', 'arn:aws:s3:::bucket', 'IAM role, user or account-root ARNs'],
    ['an IAM group as a principal', { keyUserArns: ['arn:aws:iam::111111111111:group/Devs'] }, 'keyUserArns', 'group/Devs', 'cannot be a principal'],
    ['an unknown wrapping algorithm', { wrappingAlgorithm: 'RSAES_PKCS1_V1_5' }, 'wrappingAlgorithm', 'RSAES_PKCS1_V1_5', 'RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256'],
    ['an unknown wrapping key spec', { wrappingKeySpec: 'RSA_1024' }, 'wrappingKeySpec', 'RSA_1024', 'RSA_2048, RSA_3072, RSA_4096'],
    ['a material expiry more than 365 days ahead', { materialExpiresOn: '2027-11-24' }, 'materialExpiresOn', '2027-11-24', 'more than 365 days ahead'],
    ['a material expiry that is not a date', { materialExpiresOn: '90 days' }, 'materialExpiresOn', '90 days', '"never", or a UTC date'],
    ['an unknown material source', { materialSource: 'hsm' }, 'materialSource', 'hsm', 'generate, secret'],
    ['bring-your-own material without a secret', { materialSource: 'secret' }, 'materialSecretName', 'null', 'a secret name'],
    ['a prefix with spaces', { prefix: 'my lab' }, 'prefix', 'my lab', 'letters, digits or hyphens'],
    ['the reserved prefix aws', { prefix: 'aws' }, 'prefix', 'aws', 'not "aws"'],
    ['a non-boolean deletion switch', { deleteImportedMaterialOnDestroy: 'yes' }, 'deleteImportedMaterialOnDestroy', 'yes', 'true or false'],
    ['a non-boolean scenario (e) switch', { multiRegionImportedKey: 'on' }, 'multiRegionImportedKey', 'on', 'true or false'],
    ['a non-boolean alarm switch', { deletionAlarm: 'yes' }, 'deletionAlarm', 'yes', 'true or false'],
    ['an alarm address that is not one', { deletionAlarm: true, deletionAlarmEmail: 'ops at example' }, 'deletionAlarmEmail', 'ops at example', 'an e-mail address'],
    ['the alarm without an address to tell', { deletionAlarm: true }, 'deletionAlarmEmail', 'null', 'an e-mail address such as ops@example.com while deletionAlarm=true'],
    ['an alarm address without the alarm', { deletionAlarmEmail: 'ops@example.com' }, 'deletionAlarmEmail', 'ops@example.com', 'together with deletionAlarm=true'],
  ])('%s', (_name, settings, key, value, accepted) => {
    const message = problem(settings);
    expect(message).toContain(`"${key}"`);
    expect(message).toContain(value);
    expect(message).toContain(accepted);
  });

  test('a principal cannot be both administrator and user', () => {
    const message = problem({ keyAdminArns: [ADMIN], keyUserArns: [ADMIN, USER] });
    expect(message).toContain('"keyUserArns"');
    expect(message).toContain(ADMIN);
    expect(message).toContain('not also in keyAdminArns');
  });

  test.each(['arn:aws:iam::111111111111:root', 'arn:aws:iam::222222222222:root'])(
    'an account root (%s) cannot be an administrator: its Deny would lock out every principal of the account',
    (root) => {
      const message = problem({ keyAdminArns: [ADMIN, root] });
      expect(message).toContain(`Invalid setting "keyAdminArns": "${root}"`);
      expect(message).toContain('a Deny that names an account root matches every principal of that account');
      expect(message).toContain('Accepted: IAM role or user ARNs, not an account root.');
    },
  );

  test('an account root may still be a key user', () => {
    expect(read({ keyUserArns: ['arn:aws:iam::222222222222:root'] }).keyUserArns).toEqual(['arn:aws:iam::222222222222:root']);
  });

  test('the CDK deployment role cannot be an administrator', () => {
    const execRole = 'arn:aws:iam::111111111111:role/cdk-hnb659fds-cfn-exec-role-111111111111-ap-southeast-1';
    const message = problem({ keyAdminArns: [execRole] });
    expect(message).toContain('"keyAdminArns"');
    expect(message).toContain(execRole);
    expect(message).toContain('not the CDK CloudFormation execution role');
  });

  test.each([
    ['rotationPeriod', 'rotationPeriodDays'],
    ['pendingWindow', 'pendingWindowDays'],
    ['primaryregion', 'primaryRegion'],
    ['keyAdminArn', 'keyAdminArns'],
    ['wrapingAlgorithm', 'wrappingAlgorithm'],
  ])('a misspelt setting %s fails instead of being ignored', (given, meant) => {
    const context: Record<string, unknown> = { [given]: '180' };
    let message = '';
    try {
      readLabConfig({ tryGetContext: (key) => context[key], getAllContext: () => context }, { now: NOW });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(`Invalid setting "${given}": "180" (not a setting of this lab). Accepted: the setting ${meant}.`);
  });

  test('feature flags and unrelated context keys are left alone', () => {
    const context: Record<string, unknown> = { '@aws-cdk/core:target-partitions': ['aws'], 'aws:cdk:bundling-stacks': [], team: 'x' };
    expect(() => readLabConfig({ tryGetContext: (key) => context[key], getAllContext: () => context }, { now: NOW })).not.toThrow();
  });

  test('every bad setting is reported at once', () => {
    const e = (() => {
      try {
        read({ rotationPeriodDays: 1, pendingWindowDays: 1, wrappingKeySpec: 'RSA_1' });
      } catch (err) {
        return err as LabConfigError;
      }
      throw new Error('accepted');
    })();
    expect(e.problems.map((p) => p.key)).toEqual(['rotationPeriodDays', 'pendingWindowDays', 'wrappingKeySpec']);
  });

  test('a customer managed key for the secret must be in the primary Region', () => {
    const message = problem({
      materialSource: 'secret',
      materialSecretName: 'lab/material',
      materialSecretKeyArn: 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    });
    expect(message).toContain('"materialSecretKeyArn"');
    expect(message).toContain('primaryRegion (ap-southeast-1)');
  });
});

describe('checks that depend on the clock or the outside world warn instead of failing', () => {
  test.each([
    ['a date that has passed', '2026-11-01', '2026-11-01T00:00:00Z'],
    ['today, already begun', '2026-11-23', '2026-11-23T00:00:00Z'],
  ])('a material expiry on %s is kept as deployed, with a warning', (_name, value, validTo) => {
    const config = read({ materialExpiresOn: value });
    expect(config.materialExpiry).toEqual({ model: 'KEY_MATERIAL_EXPIRES', validTo });
    expect(config.warnings).toEqual([
      {
        id: 'kms-key-lab:setting-materialExpiresOn',
        message: expect.stringContaining(`materialExpiresOn "${value}" has passed. Synth goes on so that a lab deployed with it can still be diffed and destroyed`),
      },
    ]);
  });

  test('a future date gives no warning', () => {
    expect(read({ materialExpiresOn: '2027-01-01' }).warnings).toEqual([]);
  });

  test('named principals are accepted with a warning that each must exist before the deploy', () => {
    const config = read({ keyAdminArns: [ADMIN], keyUserArns: [USER, 'arn:aws:iam::222222222222:root'] });
    expect(config.warnings).toEqual([
      {
        id: 'kms-key-lab:principals-must-exist',
        message: expect.stringContaining(`name ${ADMIN}, ${USER}. Each must exist before you deploy: KMS rejects a key policy`),
      },
    ]);
    expect(config.warnings[0].message).toContain('MalformedPolicyDocumentException');
  });
});

describe('scenario (d) settings', () => {
  test('without the opt-in there is no CloudHSM configuration', () => {
    expect(read({}).cloudHsm).toBeUndefined();
  });

  test('the opt-in gives two FIPS hsm2m.medium HSMs in zones a and b, automated kmsuser and an 8-hour expiry', () => {
    expect(read({ cloudHsm: 'true' }).cloudHsm).toEqual({
      hsmCount: 2,
      hsmType: 'hsm2m.medium',
      mode: 'FIPS',
      backupRetentionDays: 7,
      kmsUserSetup: 'automated',
      labExpiryHours: 8,
      clientInstanceType: 't3.micro',
      cliPackageUrl: 'https://s3.amazonaws.com/cloudhsmv2-software/CloudHsmClient/Amzn2023/cloudhsm-cli-latest.amzn2023.x86_64.rpm',
      vpcCidr: '10.42.0.0/16',
      availabilityZones: ['ap-southeast-1a', 'ap-southeast-1b'],
    });
  });

  test.each([
    ['one HSM, which no key store accepts', { hsmCount: 1 }, 'hsmCount', '1', 'from 2 to 6'],
    ['NON_FIPS on hsm1.medium', { hsmType: 'hsm1.medium', hsmMode: 'NON_FIPS' }, 'hsmMode', 'NON_FIPS', 'NON_FIPS with hsmType hsm2m.medium'],
    ['an unknown HSM type', { hsmType: 'hsm3.large' }, 'hsmType', 'hsm3.large', 'hsm2m.medium, hsm1.medium'],
    ['a backup retention below 7 days', { hsmBackupRetentionDays: 3 }, 'hsmBackupRetentionDays', '3', 'from 7 to 379'],
    ['an Availability Zone of another Region', { hsmAvailabilityZones: ['ap-southeast-1a', 'us-east-1b'] }, 'hsmAvailabilityZones', 'us-east-1b', 'Availability Zones of primaryRegion'],
    ['a single Availability Zone', { hsmAvailabilityZones: ['ap-southeast-1a'] }, 'hsmAvailabilityZones', 'ap-southeast-1a', '2 to 3 Availability Zone names'],
    ['a VPC block too small to split', { hsmVpcCidr: '10.0.0.0/24' }, 'hsmVpcCidr', '10.0.0.0/24', 'from /16 to /23'],
    ['an expiry over a week', { labExpiryHours: 200 }, 'labExpiryHours', '200', 'from 0 (off) to 168'],
    ['a CLI package that is not an https RPM', { hsmCliPackageUrl: 'http://example.com/cli.deb' }, 'hsmCliPackageUrl', 'http://example.com/cli.deb', 'an https URL ending in .rpm'],
    ['an unknown kmsuser setup', { kmsUserSetup: 'later' }, 'kmsUserSetup', 'later', 'automated, manual'],
  ])('%s is refused', (_name, settings, key, value, accepted) => {
    const message = problem({ cloudHsm: true, ...settings });
    expect(message).toContain(`"${key}"`);
    expect(message).toContain(value);
    expect(message).toContain(accepted);
  });
});
