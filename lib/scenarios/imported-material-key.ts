import { Annotations, ArnFormat, CustomResource, Duration, Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { LabHandler } from '../common/lab-handler';
import { LAB_TAG } from '../common/lab-tags';
import { acknowledgeWildcardResource } from '../common/nag';
import { MaterialExpiry, MaterialSource, WrappingAlgorithm, WrappingKeySpec } from '../config/settings';
import { IMPORTED_MATERIAL_ADMIN_ACTIONS, labKeyPolicy, MULTI_REGION_ADMIN_ACTIONS } from '../policies/key-policy';
import { labSecretPolicy } from '../policies/lab-secret-policy';
import { LabKeyProps } from './lab-key-props';

export interface ImportedMaterialKeyProps extends LabKeyProps {
  readonly wrappingAlgorithm: WrappingAlgorithm;
  readonly wrappingKeySpec: WrappingKeySpec;
  readonly materialExpiry: MaterialExpiry;
  readonly materialSource: MaterialSource;
  /** Required when materialSource is `secret`. */
  readonly materialSecretName?: string;
  /** The key that encrypts materialSecretName, when it is not aws/secretsmanager. */
  readonly materialSecretKeyArn?: string;
  /** The lab's tags, for the escrow secret that the import handler creates. */
  readonly labTags: Readonly<Record<string, string>>;
  /** @default false */
  readonly deleteImportedMaterialOnDestroy?: boolean;
  /**
   * Makes the key a multi-Region primary (scenario e) whose escrow Secrets
   * Manager replicates to the replica's Region. Needs generated material.
   * @default a single-Region key (scenario c)
   */
  readonly multiRegion?: ImportedMultiRegionProps;
}

export interface ImportedMultiRegionProps {
  /** Where the replica key, and the escrow's replica, live. */
  readonly replicaRegion: string;
  /** The replica's import handler role, which reads the escrow's replica there (the resource policy travels with it). */
  readonly replicaHandlerRoleArn: string;
}

/**
 * Secrets Manager waits at most 30 days before it deletes a secret, and the
 * escrow must outlive its key by a day, so the imported key waits at most 29.
 */
export const MAX_IMPORTED_KEY_PENDING_WINDOW_DAYS = 29;

/**
 * A multi-Region primary is deleted only after its replica, so it can stay
 * recoverable for two windows; its escrow outlives that by a day, within 30.
 */
export const MAX_MULTI_REGION_IMPORTED_KEY_PENDING_WINDOW_DAYS = 14;

/** `<alias path>/escrow-`: the escrow secrets of one imported key alias, each named after its key id. */
export function escrowSecretPrefix(aliasName: string): string {
  return `${aliasName.replace(/^alias\//, '')}/escrow-`;
}

/** The ARN pattern of every escrow secret under a prefix, in the stack's Region. */
export function escrowSecretArnPattern(stack: Stack, escrowPrefix: string): string {
  return stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${escrowPrefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

/**
 * Lets an import handler describe, import into (and with deleteMaterial, delete
 * the material of) the lab's imported-material keys in its Region.
 */
export function allowImportIntoLabKeys(handler: LabHandler, labTag: string, deleteMaterial: boolean): void {
  const stack = Stack.of(handler);
  // ListKeyRotations names the materials still pending import when a key with several stays PendingImport.
  const keyActions = ['kms:DescribeKey', 'kms:GetParametersForImport', 'kms:ImportKeyMaterial', 'kms:ListKeyRotations'];
  if (deleteMaterial) keyActions.push('kms:DeleteImportedKeyMaterial');
  // Not this key alone: when the key is replaced, the old resource's Delete (or a rolled-back new one's) runs
  // under the role's new policy, which names the other key. So: the lab's imported-material keys in this Region.
  const anyKey = stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' });
  handler.allow(keyActions, [anyKey], {
    StringEquals: { 'kms:KeyOrigin': 'EXTERNAL', [`aws:ResourceTag/${LAB_TAG}`]: labTag },
  });
  acknowledgeWildcardResource(
    handler.function.role!,
    anyKey,
    "A replaced key's Delete runs under the new policy, so one key ARN is not enough; the conditions limit it to this lab's (tag) imported-material (kms:KeyOrigin EXTERNAL) keys.",
  );
}

/** IAM accepts a path of at most 512 characters. */
const MAX_ROLE_PATH_LENGTH = 512;

/**
 * The IAM path of the role of the handler that owns a key's escrow:
 * `/<alias path>/<Region>/escrow-owner/`, e.g.
 * `/kms-key-lab/imported-material/ap-southeast-1/escrow-owner/`. The escrow's
 * resource policy names the owner by this path, not by the role's ARN, so it
 * keeps matching when CloudFormation replaces the role (a construct id
 * change gives it a new logical id, so a new generated name). IAM is global:
 * the Region keeps labs of the same prefix in other Regions apart.
 */
export function escrowOwnerRolePath(aliasName: string, region: string): string {
  if (Token.isUnresolved(region)) throw new Error('The escrow owner role path needs a concrete Region: give the stack an env with a region.');
  const path = `/${aliasName.replace(/^alias\//, '')}/${region}/escrow-owner/`;
  if (path.length > MAX_ROLE_PATH_LENGTH) throw new Error(`IAM role path ${path} is longer than ${MAX_ROLE_PATH_LENGTH} characters.`);
  return path;
}

/**
 * Every role under the owner's path (ArnLike on aws:PrincipalArn, which for a
 * role session is the role's ARN, path included): the handler's role, and
 * the one that replaces it.
 */
export function escrowOwnerRoleArnPattern(stack: Stack, rolePath: string): string {
  return stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: `${rolePath.slice(1)}*` });
}

/** Keeps a key's pending window within `max`, with a synth warning that says why when it is cut. */
export function cappedPendingWindow(scope: Construct, props: { requested: number; max: number; id: string; what: string; why: string }): number {
  const days = Math.min(props.requested, props.max);
  if (days < props.requested) {
    Annotations.of(scope).addWarningV2(props.id, `pendingWindowDays is ${props.requested}, but ${props.what} waits ${days} days: ${props.why}`);
  }
  return days;
}

/**
 * Scenario (c): a key with Origin EXTERNAL. CloudFormation creates it empty
 * (PendingImport); a custom resource then runs GetParametersForImport, wraps
 * the material with RSA-OAEP and calls ImportKeyMaterial.
 *
 * Generated material is escrowed first, in a secret that the import handler
 * creates, owns and schedules for deletion itself: CloudFormation never holds
 * it, so no template change can regenerate its value, and no rolled-back
 * deploy can leave it behind. Its resource policy lets only the handler and
 * the key administrators read it. It is encrypted with the AWS managed key of
 * Secrets Manager, so it stays readable while every lab key is disabled or
 * pending deletion, for the whole of its recovery window.
 *
 * Automatic rotation does not exist for imported material; it is rotated on demand.
 *
 * With `multiRegion` it is the primary of scenario (e): a multi-Region key
 * whose escrow Secrets Manager replicates to the replica's Region, where
 * `MultiRegionImportedReplicaKey` imports the same material.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys.html
 */
export class ImportedMaterialKey extends Construct {
  readonly key: kms.CfnKey;
  readonly alias: kms.CfnAlias;
  readonly handler: LabHandler;
  readonly importMaterial: CustomResource;
  /** Days between `cdk destroy` and this key's deletion: the lab's window, at most 29. */
  readonly pendingWindowDays: number;
  /** Undefined when the material comes from the user's own secret. */
  readonly escrowSecretName?: string;
  /** Who may read the escrowed material; undefined with bring-your-own material. */
  readonly escrowPolicy?: iam.PolicyDocument;

  constructor(scope: Construct, id: string, props: ImportedMaterialKeyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const multiRegion = props.multiRegion;
    if (multiRegion && props.materialSource !== 'generate') throw new Error('A multi-Region imported key needs materialSource "generate".');
    this.pendingWindowDays = multiRegion
      ? cappedPendingWindow(this, {
          requested: props.pendingWindowDays,
          max: MAX_MULTI_REGION_IMPORTED_KEY_PENDING_WINDOW_DAYS,
          id: 'kms-key-lab:multi-region-imported-key-window',
          what: 'the multi-Region imported key (primary and replica)',
          why:
            'the primary is deleted only after its replica, so it can stay recoverable for two windows, its escrow secret must ' +
            'outlive that by a day, and Secrets Manager keeps a deleted secret at most 30 days.',
        })
      : cappedPendingWindow(this, {
          requested: props.pendingWindowDays,
          max: MAX_IMPORTED_KEY_PENDING_WINDOW_DAYS,
          id: 'kms-key-lab:imported-key-window',
          what: 'the imported-material key',
          why: 'its escrow secret must outlive it by a day, and Secrets Manager keeps a deleted secret at most 30 days.',
        });

    this.key = new kms.CfnKey(this, 'Key', {
      description: multiRegion
        ? `KMS Key Lab scenario (e): multi-Region primary key with imported key material, Origin EXTERNAL (${props.aliasName})`
        : `KMS Key Lab scenario (c): imported key material, Origin EXTERNAL (${props.aliasName})`,
      origin: 'EXTERNAL',
      keySpec: 'SYMMETRIC_DEFAULT',
      keyUsage: 'ENCRYPT_DECRYPT',
      multiRegion: multiRegion ? true : undefined,
      pendingWindowInDays: this.pendingWindowDays,
      keyPolicy: labKeyPolicy({
        aliasName: props.aliasName,
        adminArns: props.adminArns,
        userArns: props.userArns,
        extraAdminActions: multiRegion ? [...IMPORTED_MATERIAL_ADMIN_ACTIONS, ...MULTI_REGION_ADMIN_ACTIONS] : IMPORTED_MATERIAL_ADMIN_ACTIONS,
      }),
    });
    this.key.applyRemovalPolicy(RemovalPolicy.DESTROY);
    Validations.of(this.key).acknowledge({
      id: 'AwsSolutions-KMS5',
      reason: 'KMS cannot rotate imported key material automatically; it is rotated on demand (new material, then RotateKeyOnDemand).',
    });
    this.alias = new kms.CfnAlias(this, 'Alias', { aliasName: props.aliasName, targetKeyId: this.key.ref });

    // The escrow's owner, named by its path in the escrow's policy (see escrowOwnerRolePath).
    const ownerRolePath = escrowOwnerRolePath(props.aliasName, stack.region);
    this.handler = new LabHandler(this, 'ImportHandler', {
      handler: 'import-key-material',
      description: `KMS Key Lab: imports key material into the scenario ${multiRegion ? '(e) primary' : '(c)'} key`,
      // Room for the transient-error backoffs (NotFound after key creation, IAM propagation) and the cleanup after them.
      timeout: Duration.minutes(3),
      rolePath: ownerRolePath,
    });
    allowImportIntoLabKeys(this.handler, props.labTags[LAB_TAG], props.deleteImportedMaterialOnDestroy ?? false);

    let sourceProperties: Record<string, unknown>;
    if (props.materialSource === 'generate') {
      // One secret per key, named after it: the name alone says which key's material it holds.
      const escrowPrefix = escrowSecretPrefix(props.aliasName);
      this.escrowSecretName = Fn.join('', [escrowPrefix, this.key.ref]);
      // The prefix, not one name: DescribeSecret of a secret that does not exist yet is authorized against the
      // bare name (no six-character suffix), and a replaced key's escrow must stay reachable from the new policy.
      const escrowArn = escrowSecretArnPattern(stack, escrowPrefix);
      acknowledgeWildcardResource(
        this.handler.function.role!,
        escrowArn,
        "The lab's escrow secrets are named after key ids, known only at deploy time; the prefix holds nothing else.",
      );
      this.handler.allow(
        [
          'secretsmanager:CreateSecret',
          'secretsmanager:TagResource',
          'secretsmanager:PutResourcePolicy',
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:RestoreSecret',
          'secretsmanager:DeleteSecret',
          'secretsmanager:UntagResource',
        ],
        [escrowArn],
      );
      if (multiRegion) {
        // The escrow is replicated once its policy and value are set (and again after a restore), only to the
        // replica's Region; a Delete removes the replica first.
        this.handler.allow(['secretsmanager:ReplicateSecretToRegions'], [escrowArn], {
          'ForAllValues:StringEquals': { 'secretsmanager:AddReplicaRegions': [multiRegion.replicaRegion] },
        });
        this.handler.allow(['secretsmanager:RemoveRegionsFromReplication'], [escrowArn]);
      }
      const owner = escrowOwnerRoleArnPattern(stack, ownerRolePath);
      this.escrowPolicy = labSecretPolicy({
        readers: multiRegion ? [owner, multiRegion.replicaHandlerRoleArn] : [owner],
        owner,
        administrators: props.adminArns,
        // `kms-lab rotate` (run as an administrator) imports new material and keeps the escrow in step.
        administratorsWrite: true,
        accountRoot: stack.formatArn({ service: 'iam', region: '', resource: 'root' }),
      });
      sourceProperties = {
        MaterialSource: 'generate',
        EscrowSecretName: this.escrowSecretName,
        EscrowSecretPolicy: this.escrowPolicy.toJSON(),
        SecretTags: props.labTags,
        ...(multiRegion ? { MultiRegion: 'primary', EscrowReplicaRegions: [multiRegion.replicaRegion] } : {}),
      };
    } else {
      if (!props.materialSecretName) throw new Error('materialSecretName is required when materialSource is "secret".');
      const secretArnPattern = stack.formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: `${props.materialSecretName}-??????`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
      this.handler.allow(['secretsmanager:GetSecretValue'], [secretArnPattern]);
      if (props.materialSecretKeyArn) {
        this.handler.allow(['kms:Decrypt'], [props.materialSecretKeyArn], {
          StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` },
        });
      }
      sourceProperties = { MaterialSource: 'secret', MaterialSecretName: props.materialSecretName };
    }

    this.importMaterial = importMaterialResource(this, this.handler, {
      ...importKeyProperties(this.key.attrArn, this.pendingWindowDays, props),
      ...sourceProperties,
    });
  }
}

/** What every import resource tells the handler about its key, whatever the material's source. */
export function importKeyProperties(
  keyArn: string,
  pendingWindowDays: number,
  props: Pick<ImportedMaterialKeyProps, 'wrappingAlgorithm' | 'wrappingKeySpec' | 'materialExpiry' | 'deleteImportedMaterialOnDestroy'>,
): Record<string, unknown> {
  return {
    KeyArn: keyArn,
    WrappingAlgorithm: props.wrappingAlgorithm,
    WrappingKeySpec: props.wrappingKeySpec,
    ExpirationModel: props.materialExpiry.model,
    ...(props.materialExpiry.model === 'KEY_MATERIAL_EXPIRES' ? { ValidTo: props.materialExpiry.validTo } : {}),
    PendingWindowDays: String(pendingWindowDays),
    DeleteMaterialOnDelete: String(props.deleteImportedMaterialOnDestroy ?? false),
  };
}

/** The `Custom::ImportedKeyMaterial` resource, served by the import handler. */
export function importMaterialResource(scope: Construct, handler: LabHandler, properties: Record<string, unknown>): CustomResource {
  return new CustomResource(scope, 'ImportMaterial', {
    serviceToken: handler.provider.serviceToken,
    resourceType: 'Custom::ImportedKeyMaterial',
    properties,
  });
}
