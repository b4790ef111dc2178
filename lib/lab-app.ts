import { Annotations, App, Fn, Tags } from 'aws-cdk-lib';
import { LAB_TAG, labTags, OWNER_TAG } from './common/lab-tags';
import { LabConfig } from './config/lab-config';
import { labRoleNames, labRolesNeeded } from './common/lab-principals';
import { CloudHsmStack } from './stacks/cloudhsm-stack';
import { DeletionAlarmStack } from './stacks/deletion-alarm-stack';
import { PrimaryRegionStack } from './stacks/primary-region-stack';
import { LabRolesStack } from './stacks/roles-stack';
import { SecondaryRegionStack } from './stacks/secondary-region-stack';

export interface Lab {
  readonly primary: PrimaryRegionStack;
  readonly secondary: SecondaryRegionStack;
  /** Scenario (d), only with the opt-in `cloudHsm=true`. */
  readonly cloudHsm?: CloudHsmStack;
  /** The KeyAdmin and KeyUser roles, named by the key policies when keyAdminArns or keyUserArns is empty. */
  readonly roles: LabRolesStack;
  /** The alarm on use of a key pending deletion, one stack per Region, only with the opt-in `deletionAlarm=true`. */
  readonly deletionAlarms?: { readonly primary: DeletionAlarmStack; readonly secondary: DeletionAlarmStack };
}

export { LAB_TAG, OWNER_TAG } from './common/lab-tags';

/** The whole lab: one stack per Region, the secondary reading the primary's multi-Region key ARN. */
export function buildLab(app: App, config: LabConfig): Lab {
  // Stack tags in the props: with @aws-cdk/core:explicitStackTags, Tags.of(stack) reaches only the resources, and
  // `cdk deploy` sets as CloudFormation stack tags exactly what the manifest holds, which teardown recognises a lab by.
  const tags = labTags(config.prefix, config.owner);
  const env = (region: string) => ({ account: config.account, region });
  const needed = labRolesNeeded(config);
  const roles = new LabRolesStack(app, `${config.prefix}-roles`, {
    env: env(config.primaryRegion),
    tags,
    description: `KMS Key Lab (${config.prefix}): the key administrator and key user roles that lab key policies name when no principals are given`,
    config,
  });
  const primary = new PrimaryRegionStack(app, `${config.prefix}-primary`, {
    env: env(config.primaryRegion),
    tags,
    description: `KMS Key Lab (${config.prefix}), primary Region: single-Region, multi-Region primary and imported-material keys`,
    crossRegionReferences: true,
    config,
  });
  const secondary = new SecondaryRegionStack(app, `${config.prefix}-secondary`, {
    env: env(config.secondaryRegion),
    tags,
    description: `KMS Key Lab (${config.prefix}), secondary Region: single-Region key and multi-Region replica`,
    crossRegionReferences: true,
    config,
    multiRegionPrimaryKeyArn: primary.multiRegionKey.key.keyArn,
    multiRegionImportedPrimaryKeyArn: primary.multiRegionImportedKey?.key.attrArn,
    multiRegionReplicaKeyArn: Fn.getStackOutput(primary.stackName, primary.getLogicalId(primary.multiRegionReplicaArnOutput), config.primaryRegion),
    multiRegionImportedReplicaKeyArn: primary.multiRegionImportedReplicaArnOutput
      ? Fn.getStackOutput(primary.stackName, primary.getLogicalId(primary.multiRegionImportedReplicaArnOutput), config.primaryRegion)
      : undefined,
  });

  const cloudHsm = config.cloudHsm
    ? new CloudHsmStack(app, `${config.prefix}-cloudhsm`, {
        env: env(config.primaryRegion),
        tags,
        description: `KMS Key Lab (${config.prefix}), scenario (d): CloudHSM cluster, KMS custom key store and a key in it`,
        config,
        cloudHsm: config.cloudHsm,
      })
    : undefined;

  // Per Region, because a trail delivers only its own Region's KMS events, and in stacks of their own, because the
  // alarm is for the pending window that teardown starts. No stack depends on them either way: `cdk destroy` of a key
  // stack leaves the alarm watching, and `cdk destroy` of an alarm stack takes no key stack with it.
  const deletionAlarm = (where: 'primary' | 'secondary', region: string, keyStackNames: string[]) =>
    new DeletionAlarmStack(app, `${config.prefix}-alarm-${where}`, {
      env: env(region),
      tags,
      description: `KMS Key Lab (${config.prefix}), ${where} Region: alarm on use of a key pending deletion, kept until the lab keys' pending window has passed`,
      config,
      keyStackNames,
      holdsMultiRegionPrimaries: where === 'primary',
    });
  const deletionAlarms = config.deletionAlarm
    ? {
        // The CloudHSM stack is watched even when scenario (d) is off now: it may have been deployed before.
        primary: deletionAlarm('primary', config.primaryRegion, [primary.stackName, `${config.prefix}-cloudhsm`]),
        secondary: deletionAlarm('secondary', config.secondaryRegion, [secondary.stackName]),
      }
    : undefined;

  // Key policies name the roles, and KMS refuses a principal that does not exist yet: the roles come first and go last.
  for (const stack of [primary, secondary, ...(cloudHsm ? [cloudHsm] : [])]) stack.addStackDependency(roles);

  // Settings that synth accepts but that need a look before a deploy: shown once, on the first stack.
  for (const warning of config.warnings) Annotations.of(primary).addWarningV2(warning.id, warning.message);
  for (const stack of [roles, primary, secondary, ...(cloudHsm ? [cloudHsm] : []), ...(deletionAlarms ? [deletionAlarms.primary, deletionAlarms.secondary] : [])]) {
    Tags.of(stack).add(LAB_TAG, config.prefix);
    Tags.of(stack).add(OWNER_TAG, config.owner);
    if (!config.account) {
      Annotations.of(stack).addWarningV2(
        'kms-key-lab:account-unset',
        'No "account" setting: the account is left unresolved (aws://unknown-account), so the stack deploys to the ' +
          'account of your credentials. Set -c account=123456789012 to pin it.',
      );
    }
  }
  if (needed.keyAdmin || needed.keyUser) {
    const names = labRoleNames(config.prefix);
    const created = [needed.keyAdmin ? `${names.keyAdmin} (instead of keyAdminArns)` : '', needed.keyUser ? `${names.keyUser} (instead of keyUserArns)` : '']
      .filter(Boolean)
      .map((role) => `role ${role}`);
    Annotations.of(roles).addWarningV2(
      'kms-key-lab:principals-unset',
      `keyAdminArns or keyUserArns is empty: every key policy names the lab's ${created.join(' and the ')} from stack ` +
        `${roles.stackName}. Assume a role to see administrators and users kept apart, or set the lists to your own principals.`,
    );
  }
  return { primary, secondary, cloudHsm, roles, deletionAlarms };
}
