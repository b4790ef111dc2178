import { CustomResource, Duration, Fn, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { LabHandler } from '../common/lab-handler';
import { LAB_TAG } from '../common/lab-tags';
import { acknowledgeWildcardResource } from '../common/nag';
import { MaterialExpiry, WrappingAlgorithm, WrappingKeySpec } from '../config/settings';
import { IMPORTED_MATERIAL_ADMIN_ACTIONS, labKeyPolicy } from '../policies/key-policy';
import {
  allowImportIntoLabKeys,
  cappedPendingWindow,
  escrowSecretArnPattern,
  escrowSecretPrefix,
  ImportedMaterialKey,
  ImportedMaterialKeyProps,
  importKeyProperties,
  importMaterialResource,
  MAX_MULTI_REGION_IMPORTED_KEY_PENDING_WINDOW_DAYS,
} from './imported-material-key';
import { LabKeyProps } from './lab-key-props';
import { LabReplicaKey } from './lab-replica-key';

/** IAM role names are at most 64 characters. */
const MAX_ROLE_NAME_LENGTH = 64;

/**
 * The fixed name of the replica's import handler role. The primary's escrow
 * policy names it before the secondary stack exists (a reference to a role of
 * a later stack is impossible); the Region keeps labs with the same prefix and
 * other secondary Regions apart. A prefix of at most 32 characters and a
 * Region code keep it within 64.
 */
export function replicaImportRoleName(prefix: string, region: string): string {
  const name = `${prefix}-mrk-import-${region}`;
  if (name.length > MAX_ROLE_NAME_LENGTH) throw new Error(`Role name ${name} is longer than ${MAX_ROLE_NAME_LENGTH} characters.`);
  return name;
}

/** The replica handler role's ARN, formatted (not referenced) in the stack that needs it. */
export function replicaImportRoleArn(stack: Stack, prefix: string, region: string): string {
  return stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: replicaImportRoleName(prefix, region) });
}

export type MultiRegionImportedPrimaryKeyProps = Omit<ImportedMaterialKeyProps, 'materialSource' | 'materialSecretName' | 'materialSecretKeyArn' | 'multiRegion'> & {
  /** The lab's prefix, which names the replica's import handler role. */
  readonly prefix: string;
  readonly replicaRegion: string;
};

/**
 * Scenario (e), primary Region: a multi-Region key (`mrk-` id) with Origin
 * EXTERNAL. Its import handler generates the material, escrows it in a secret
 * it owns, which Secrets Manager replicates to the replica's Region, and
 * imports it (NEW_KEY_MATERIAL the first time, the same material as
 * EXISTING_KEY_MATERIAL after that). The replica imports the same material in
 * its own Region, from the escrow's replica.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-import.html
 */
export class MultiRegionImportedPrimaryKey extends ImportedMaterialKey {
  constructor(scope: Construct, id: string, props: MultiRegionImportedPrimaryKeyProps) {
    const { prefix, replicaRegion, ...rest } = props;
    super(scope, id, {
      ...rest,
      materialSource: 'generate',
      multiRegion: { replicaRegion, replicaHandlerRoleArn: replicaImportRoleArn(Stack.of(scope), prefix, replicaRegion) },
    });
  }
}

export interface MultiRegionImportedReplicaKeyProps extends LabKeyProps {
  /** ARN of the primary key, from the primary Region's stack. */
  readonly primaryKeyArn: string;
  /** ARN the replica will have (the primary's key id in this Region), from the primary Region's stack. */
  readonly replicaKeyArn: string;
  /** The primary's Region. */
  readonly primaryRegion: string;
  /** The lab's prefix, which names this handler's role (see replicaImportRoleName). */
  readonly prefix: string;
  readonly wrappingAlgorithm: WrappingAlgorithm;
  readonly wrappingKeySpec: WrappingKeySpec;
  /** The same expiry as the primary's, so both Regions' material expires together. */
  readonly materialExpiry: MaterialExpiry;
  readonly labTags: Readonly<Record<string, string>>;
  /** @default false */
  readonly deleteImportedMaterialOnDestroy?: boolean;
}

/**
 * Scenario (e), secondary Region: the replica of the multi-Region imported
 * key. KMS replicates the key without material (PendingImport), so its own
 * import handler, with its own wrapping key and token, imports the material
 * it reads from this Region's replica of the primary's escrow, as
 * EXISTING_KEY_MATERIAL. It only reads the escrow: the primary's handler owns
 * it, its replica included.
 */
export class MultiRegionImportedReplicaKey extends Construct {
  readonly replica: LabReplicaKey;
  readonly alias: kms.CfnAlias;
  readonly handler: LabHandler;
  readonly importMaterial: CustomResource;
  /** Days between `cdk destroy` and this key's deletion: the lab's window, at most 14. */
  readonly pendingWindowDays: number;
  /** This Region's replica of the primary's escrow. */
  readonly escrowSecretName: string;

  constructor(scope: Construct, id: string, props: MultiRegionImportedReplicaKeyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.pendingWindowDays = cappedPendingWindow(this, {
      requested: props.pendingWindowDays,
      max: MAX_MULTI_REGION_IMPORTED_KEY_PENDING_WINDOW_DAYS,
      id: 'kms-key-lab:multi-region-imported-key-window',
      what: 'the multi-Region imported replica key',
      why: 'its primary is deleted only after it, and the escrow secret in the primary Region must outlive both by a day (at most 30 days).',
    });

    // KMS replicates an imported key without material (PendingImport); the import resource below imports it.
    this.replica = new LabReplicaKey(this, 'Replica', {
      primaryKeyArn: props.primaryKeyArn,
      replicaKeyArn: props.replicaKeyArn,
      primaryRegion: props.primaryRegion,
      description: `KMS Key Lab scenario (e): multi-Region replica key with imported key material (${props.aliasName})`,
      pendingWindowDays: this.pendingWindowDays,
      keyPolicy: labKeyPolicy({
        aliasName: props.aliasName,
        adminArns: props.adminArns,
        userArns: props.userArns,
        extraAdminActions: [...IMPORTED_MATERIAL_ADMIN_ACTIONS, 'kms:UpdatePrimaryRegion'],
      }),
      tags: props.labTags,
      origin: 'EXTERNAL',
    });
    this.alias = new kms.CfnAlias(this, 'Alias', { aliasName: props.aliasName, targetKeyId: this.replica.keyId });

    this.handler = new LabHandler(this, 'ImportHandler', {
      handler: 'import-key-material',
      description: 'KMS Key Lab: imports key material into the scenario (e) replica key',
      timeout: Duration.minutes(3),
      roleName: replicaImportRoleName(props.prefix, stack.region),
    });
    allowImportIntoLabKeys(this.handler, props.labTags[LAB_TAG], props.deleteImportedMaterialOnDestroy ?? false);

    // The replica has the primary's key id, so the escrow's name is known here without the primary's stack.
    const escrowPrefix = escrowSecretPrefix(props.aliasName);
    this.escrowSecretName = Fn.join('', [escrowPrefix, this.replica.keyId]);
    const escrowArn = escrowSecretArnPattern(stack, escrowPrefix);
    acknowledgeWildcardResource(
      this.handler.function.role!,
      escrowArn,
      "The escrow's replicas are named after key ids, known only at deploy time; the prefix holds nothing else, and only reads are allowed.",
    );
    this.handler.allow(['secretsmanager:GetSecretValue'], [escrowArn]);

    this.importMaterial = importMaterialResource(this, this.handler, {
      ...importKeyProperties(this.replica.keyArn, this.pendingWindowDays, props),
      MultiRegion: 'replica',
      MaterialSource: 'escrow-replica',
      EscrowSecretName: this.escrowSecretName,
    });
  }
}
