import { ArnFormat, CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { LabHandler } from '../common/lab-handler';
import { MaterialExpiry, MaterialSource, WrappingAlgorithm, WrappingKeySpec } from '../config/settings';
import { IMPORTED_MATERIAL_ADMIN_ACTIONS, labKeyPolicy } from '../policies/key-policy';
import { LabKeyProps } from './lab-key-props';

export interface ImportedMaterialKeyProps extends LabKeyProps {  readonly wrappingAlgorithm: WrappingAlgorithm;
  readonly wrappingKeySpec: WrappingKeySpec;
  readonly materialExpiry: MaterialExpiry;
  readonly materialSource: MaterialSource;
  /** Required when materialSource is `secret`. */
  readonly materialSecretName?: string;
  /** The key that encrypts materialSecretName, when it is not aws/secretsmanager. */
  readonly materialSecretKeyArn?: string;
  /**
   * Encrypts the escrow secret of generated material. Must not be the imported
   * key itself: the escrow has to stay readable when that key is not.
   */
  readonly escrowKey: kms.IKey;
  /** @default false */
  readonly deleteImportedMaterialOnDestroy?: boolean;
}

/**
 * Scenario (c): a key with Origin EXTERNAL. CloudFormation creates it empty
 * (PendingImport); a custom resource then runs GetParametersForImport, wraps
 * the material with RSA-OAEP and calls ImportKeyMaterial. Generated material is
 * escrowed first, in a secret encrypted with a different key, so it can be
 * imported again after expiry or DeleteImportedKeyMaterial.
 *
 * Automatic rotation does not exist for imported material; it is rotated on demand.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys.html
 */
export class ImportedMaterialKey extends Construct {
  readonly key: kms.CfnKey;
  readonly alias: kms.CfnAlias;
  readonly handler: LabHandler;
  readonly importMaterial: CustomResource;
  /** Undefined when the material comes from the user's own secret. */
  readonly escrowSecret?: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ImportedMaterialKeyProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.key = new kms.CfnKey(this, 'Key', {
      description: `KMS Key Lab scenario (c): imported key material, Origin EXTERNAL (${props.aliasName})`,
      origin: 'EXTERNAL',
      keySpec: 'SYMMETRIC_DEFAULT',
      keyUsage: 'ENCRYPT_DECRYPT',
      pendingWindowInDays: props.pendingWindowDays,
      keyPolicy: labKeyPolicy({
        adminArns: props.adminArns,
        userArns: props.userArns,
        extraAdminActions: IMPORTED_MATERIAL_ADMIN_ACTIONS,
      }),
    });
    this.key.applyRemovalPolicy(RemovalPolicy.DESTROY);
    Validations.of(this.key).acknowledge({
      id: 'AwsSolutions-KMS5',
      reason: 'KMS cannot rotate imported key material automatically; it is rotated on demand (new material, then RotateKeyOnDemand).',
    });
    this.alias = new kms.CfnAlias(this, 'Alias', { aliasName: props.aliasName, targetKeyId: this.key.ref });

    this.handler = new LabHandler(this, 'ImportHandler', {
      handler: 'import-key-material',
      description: 'KMS Key Lab: imports key material into the scenario (c) key',
      // Room for the NotFound backoff after key creation, then two KMS calls.
      timeout: Duration.minutes(2),
    });
    const keyActions = ['kms:DescribeKey', 'kms:GetParametersForImport', 'kms:ImportKeyMaterial'];
    if (props.deleteImportedMaterialOnDestroy) keyActions.push('kms:DeleteImportedKeyMaterial');
    this.handler.allow(keyActions, [this.key.attrArn]);
    const viaSecretsManager = { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` } };

    let sourceProperties: Record<string, string>;
    if (props.materialSource === 'generate') {
      this.escrowSecret = new secretsmanager.Secret(this, 'EscrowSecret', {
        description: `KMS Key Lab: escrowed key material of ${props.aliasName}. Restore it to re-import after expiry.`,
        encryptionKey: props.escrowKey,
        // CloudFormation never deletes it; the import handler schedules its deletion with a
        // recovery window as long as the key's pending window, so it outlives the key.
        removalPolicy: RemovalPolicy.RETAIN,
      });
      Validations.of(this.escrowSecret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: 'The secret escrows key material that KMS holds; a rotated value would no longer match the key and could not be re-imported.',
      });
      this.handler.allow(
        [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:RestoreSecret',
          'secretsmanager:DeleteSecret',
        ],
        [this.escrowSecret.secretArn],
      );
      this.handler.allow(['kms:Decrypt', 'kms:GenerateDataKey'], [props.escrowKey.keyArn], viaSecretsManager);
      sourceProperties = { MaterialSource: 'generate', EscrowSecretArn: this.escrowSecret.secretArn };
    } else {
      if (!props.materialSecretName) throw new Error('materialSecretName is required when materialSource is "secret".');
      const secretArnPattern = stack.formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        // Secrets Manager appends six random characters to every secret's ARN.
        resourceName: `${props.materialSecretName}-??????`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
      this.handler.allow(['secretsmanager:GetSecretValue'], [secretArnPattern]);
      if (props.materialSecretKeyArn) this.handler.allow(['kms:Decrypt'], [props.materialSecretKeyArn], viaSecretsManager);
      sourceProperties = { MaterialSource: 'secret', MaterialSecretName: props.materialSecretName };
    }

    this.importMaterial = new CustomResource(this, 'ImportMaterial', {
      serviceToken: this.handler.provider.serviceToken,
      resourceType: 'Custom::ImportedKeyMaterial',
      properties: {
        KeyArn: this.key.attrArn,
        WrappingAlgorithm: props.wrappingAlgorithm,
        WrappingKeySpec: props.wrappingKeySpec,
        ExpirationModel: props.materialExpiry.model,
        ...(props.materialExpiry.model === 'KEY_MATERIAL_EXPIRES' ? { ValidTo: props.materialExpiry.validTo } : {}),
        PendingWindowDays: String(props.pendingWindowDays),
        DeleteMaterialOnDelete: String(props.deleteImportedMaterialOnDestroy ?? false),
        ...sourceProperties,
      },
    });
  }
}
