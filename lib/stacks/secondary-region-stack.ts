import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { addKeyOutputs } from '../common/key-outputs';
import { LabConfig } from '../config/lab-config';
import { MultiRegionReplicaKey } from '../scenarios/multi-region-key';
import { SingleRegionKey } from '../scenarios/single-region-key';
import { labAliases } from './aliases';

export interface SecondaryRegionStackProps extends StackProps {
  readonly config: LabConfig;
  /** The multi-Region primary's ARN, from the primary Region's stack. */
  readonly multiRegionPrimaryKeyArn: string;
}

/** The secondary Region (default Sydney): scenario (a) under the same alias, and the scenario (b) replica. */
export class SecondaryRegionStack extends Stack {
  readonly singleRegionKey: SingleRegionKey;
  readonly multiRegionReplica: MultiRegionReplicaKey;

  constructor(scope: Construct, id: string, props: SecondaryRegionStackProps) {
    super(scope, id, props);
    const c = props.config;
    const aliases = labAliases(c.prefix);
    const principals = { adminArns: c.keyAdminArns, userArns: c.keyUserArns };

    this.singleRegionKey = new SingleRegionKey(this, 'SingleRegionKey', {
      ...principals,
      aliasName: aliases.singleRegion,
      rotationPeriodDays: c.rotationPeriodDays,
      pendingWindowDays: c.pendingWindowDays,
    });

    this.multiRegionReplica = new MultiRegionReplicaKey(this, 'MultiRegionReplica', {
      ...principals,
      aliasName: aliases.multiRegion,
      primaryKeyArn: props.multiRegionPrimaryKeyArn,
      pendingWindowDays: c.pendingWindowDays,
    });

    addKeyOutputs(this, {
      name: 'SingleRegion',
      scenario: '(a)',
      keyId: this.singleRegionKey.key.keyId,
      keyArn: this.singleRegionKey.key.keyArn,
      aliasName: aliases.singleRegion,
    });
    addKeyOutputs(this, {
      name: 'MultiRegion',
      scenario: '(b)',
      keyId: this.multiRegionReplica.replica.attrKeyId,
      keyArn: this.multiRegionReplica.replica.attrArn,
      aliasName: aliases.multiRegion,
    });
  }
}
