import { CfnOutput } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ApplicationGrant } from '../scenarios/application-grant';
import { ImportedMaterialKey } from '../scenarios/imported-material-key';
import { MultiRegionImportedPrimaryKey } from '../scenarios/multi-region-imported-key';
import { MultiRegionPrimaryKey } from '../scenarios/multi-region-key';
import { addKeyOutputs } from '../common/key-outputs';
import { LabRegionStack, LabRegionStackProps } from './lab-region-stack';

export type PrimaryRegionStackProps = LabRegionStackProps;

/** The primary Region (default Singapore): scenarios (a), (b) primary, (c) and (e) primary, and the grant example. */
export class PrimaryRegionStack extends LabRegionStack {
  readonly multiRegionKey: MultiRegionPrimaryKey;
  readonly importedMaterialKey: ImportedMaterialKey;
  /** Scenario (e), unless `multiRegionImportedKey=false`. */
  readonly multiRegionImportedKey?: MultiRegionImportedPrimaryKey;
  readonly applicationGrant: ApplicationGrant;
  /** The output that names the (b) replica's ARN, which the secondary stack reads whole. */
  readonly multiRegionReplicaArnOutput: CfnOutput;
  /** The output that names the (e) replica's ARN, unless `multiRegionImportedKey=false`. */
  readonly multiRegionImportedReplicaArnOutput?: CfnOutput;

  constructor(scope: Construct, id: string, props: PrimaryRegionStackProps) {
    super(scope, id, props);
    const c = props.config;

    this.multiRegionKey = new MultiRegionPrimaryKey(this, 'MultiRegionKey', {
      ...this.principals,
      aliasName: this.aliases.multiRegion,
      rotationPeriodDays: c.rotationPeriodDays,
      pendingWindowDays: c.pendingWindowDays,
    });
    addKeyOutputs(this, {
      name: 'MultiRegion',
      scenario: '(b)',
      keyId: this.multiRegionKey.key.keyId,
      keyArn: this.multiRegionKey.key.keyArn,
      aliasName: this.aliases.multiRegion,
    });

    this.multiRegionReplicaArnOutput = replicaArnOutput(this, 'MultiRegionReplicaKeyArn', '(b)', c.secondaryRegion, this.multiRegionKey.key.keyId);

    this.importedMaterialKey = new ImportedMaterialKey(this, 'ImportedMaterialKey', {
      ...this.principals,
      ...this.importSettings,
      aliasName: this.aliases.importedMaterial,
      materialSource: c.materialSource,
      materialSecretName: c.materialSecretName,
      materialSecretKeyArn: c.materialSecretKeyArn,
    });
    addKeyOutputs(this, {
      name: 'ImportedMaterial',
      scenario: '(c)',
      keyId: this.importedMaterialKey.key.ref,
      keyArn: this.importedMaterialKey.key.attrArn,
      aliasName: this.aliases.importedMaterial,
    });

    if (this.importedMaterialKey.escrowSecretName) {
      new CfnOutput(this, 'ImportedMaterialEscrowSecretName', {
        value: this.importedMaterialKey.escrowSecretName,
        description: 'Scenario (c): secret that escrows the generated key material, for re-import after expiry or deletion',
      });
    }

    if (c.multiRegionImportedKey) {
      this.multiRegionImportedKey = new MultiRegionImportedPrimaryKey(this, 'MultiRegionImportedKey', {
        ...this.principals,
        ...this.importSettings,
        aliasName: this.aliases.multiRegionImported,
        prefix: c.prefix,
        replicaRegion: c.secondaryRegion,
      });
      addKeyOutputs(this, {
        name: 'MultiRegionImported',
        scenario: '(e)',
        keyId: this.multiRegionImportedKey.key.ref,
        keyArn: this.multiRegionImportedKey.key.attrArn,
        aliasName: this.aliases.multiRegionImported,
      });
      this.multiRegionImportedReplicaArnOutput = replicaArnOutput(this, 'MultiRegionImportedReplicaKeyArn', '(e)', c.secondaryRegion, this.multiRegionImportedKey.key.ref);
      new CfnOutput(this, 'MultiRegionImportedEscrowSecretName', {
        value: this.multiRegionImportedKey.escrowSecretName!,
        description: `Scenario (e): secret that escrows the generated key material, replicated to ${c.secondaryRegion}`,
      });
    }

    this.applicationGrant = new ApplicationGrant(this, 'ApplicationGrant', {
      key: this.singleRegionKey.key,
      grantName: `${c.prefix}-application`,
    });
    new CfnOutput(this, 'ApplicationRoleArn', {
      value: this.applicationGrant.role.roleArn,
      description: 'Role that may Encrypt and Decrypt with the scenario (a) key through a KMS grant only',
    });
  }
}

/**
 * The ARN a replica of this key has in the secondary Region (a replica keeps
 * its primary's key id), as an output of its own: the secondary stack reads
 * it whole with Fn::GetStackOutput, nested in no other function, and its
 * replica handler's IAM policy names it exactly.
 */
function replicaArnOutput(stack: PrimaryRegionStack, id: string, scenario: string, replicaRegion: string, keyId: string): CfnOutput {
  return new CfnOutput(stack, id, {
    value: stack.formatArn({ service: 'kms', region: replicaRegion, resource: 'key', resourceName: keyId }),
    description: `Scenario ${scenario}: the ARN of this key's replica in ${replicaRegion}`,
  });
}
