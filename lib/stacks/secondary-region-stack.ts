import { CfnOutput } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { MultiRegionImportedReplicaKey } from '../scenarios/multi-region-imported-key';
import { MultiRegionReplicaKey } from '../scenarios/multi-region-key';
import { addKeyOutputs } from '../common/key-outputs';
import { LabRegionStack, LabRegionStackProps } from './lab-region-stack';

export interface SecondaryRegionStackProps extends LabRegionStackProps {
  /** The multi-Region primary's ARN, from the primary Region's stack. */
  readonly multiRegionPrimaryKeyArn: string;
  /** Scenario (e)'s primary ARN, from the primary Region's stack; absent when scenario (e) is off. */
  readonly multiRegionImportedPrimaryKeyArn?: string;
  /** The (b) replica's ARN, read whole from the primary stack's output (see PrimaryRegionStack). */
  readonly multiRegionReplicaKeyArn: string;
  /** The (e) replica's ARN, likewise; absent when scenario (e) is off. */
  readonly multiRegionImportedReplicaKeyArn?: string;
}

/** The secondary Region (default Sydney): scenario (a) under the same alias, and the replicas of (b) and (e). */
export class SecondaryRegionStack extends LabRegionStack {
  readonly multiRegionReplica: MultiRegionReplicaKey;
  readonly multiRegionImportedReplica?: MultiRegionImportedReplicaKey;

  constructor(scope: Construct, id: string, props: SecondaryRegionStackProps) {
    super(scope, id, props);
    this.multiRegionReplica = new MultiRegionReplicaKey(this, 'MultiRegionReplica', {
      ...this.principals,
      aliasName: this.aliases.multiRegion,
      primaryKeyArn: props.multiRegionPrimaryKeyArn,
      replicaKeyArn: props.multiRegionReplicaKeyArn,
      primaryRegion: props.config.primaryRegion,
      pendingWindowDays: props.config.pendingWindowDays,
      labTags: this.importSettings.labTags,
    });
    addKeyOutputs(this, {
      name: 'MultiRegion',
      scenario: '(b)',
      keyId: this.multiRegionReplica.replica.keyId,
      keyArn: this.multiRegionReplica.replica.keyArn,
      aliasName: this.aliases.multiRegion,
    });

    const c = props.config;
    if (props.multiRegionImportedPrimaryKeyArn) {
      this.multiRegionImportedReplica = new MultiRegionImportedReplicaKey(this, 'MultiRegionImportedReplica', {
        ...this.principals,
        ...this.importSettings,
        aliasName: this.aliases.multiRegionImported,
        primaryKeyArn: props.multiRegionImportedPrimaryKeyArn,
        replicaKeyArn: props.multiRegionImportedReplicaKeyArn!,
        primaryRegion: c.primaryRegion,
        prefix: c.prefix,
      });
      addKeyOutputs(this, {
        name: 'MultiRegionImported',
        scenario: '(e)',
        keyId: this.multiRegionImportedReplica.replica.keyId,
        keyArn: this.multiRegionImportedReplica.replica.keyArn,
        aliasName: this.aliases.multiRegionImported,
      });
      new CfnOutput(this, 'MultiRegionImportedEscrowSecretName', {
        value: this.multiRegionImportedReplica.escrowSecretName,
        description: `Scenario (e): this Region's read-only replica of the escrow secret`,
      });
    }
  }
}
