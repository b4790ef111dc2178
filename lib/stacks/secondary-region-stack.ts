import { Construct } from 'constructs';
import { MultiRegionReplicaKey } from '../scenarios/multi-region-key';
import { addKeyOutputs } from '../common/key-outputs';
import { LabRegionStack, LabRegionStackProps } from './lab-region-stack';

export interface SecondaryRegionStackProps extends LabRegionStackProps {
  /** The multi-Region primary's ARN, from the primary Region's stack. */
  readonly multiRegionPrimaryKeyArn: string;
}

/** The secondary Region (default Sydney): scenario (a) under the same alias, and the scenario (b) replica. */
export class SecondaryRegionStack extends LabRegionStack {
  readonly multiRegionReplica: MultiRegionReplicaKey;

  constructor(scope: Construct, id: string, props: SecondaryRegionStackProps) {
    super(scope, id, props);
    this.multiRegionReplica = new MultiRegionReplicaKey(this, 'MultiRegionReplica', {
      ...this.principals,
      aliasName: this.aliases.multiRegion,
      primaryKeyArn: props.multiRegionPrimaryKeyArn,
      pendingWindowDays: props.config.pendingWindowDays,
    });
    addKeyOutputs(this, {
      name: 'MultiRegion',
      scenario: '(b)',
      keyId: this.multiRegionReplica.replica.attrKeyId,
      keyArn: this.multiRegionReplica.replica.attrArn,
      aliasName: this.aliases.multiRegion,
    });
  }
}
