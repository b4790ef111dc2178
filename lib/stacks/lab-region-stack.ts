import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { addKeyOutputs } from '../common/key-outputs';
import { LabConfig } from '../config/lab-config';
import { SingleRegionKey } from '../scenarios/single-region-key';
import { labAliases } from './aliases';

export interface LabRegionStackProps extends StackProps {
  readonly config: LabConfig;
}

/**
 * What every Region of the lab has: the scenario (a) key under the lab-wide
 * alias, and outputs that name each key's id, ARN, alias and Region.
 */
export abstract class LabRegionStack extends Stack {
  readonly singleRegionKey: SingleRegionKey;
  protected readonly aliases: ReturnType<typeof labAliases>;
  protected readonly principals: { adminArns: readonly string[]; userArns: readonly string[] };

  constructor(scope: Construct, id: string, props: LabRegionStackProps) {
    super(scope, id, props);
    const c = props.config;
    this.aliases = labAliases(c.prefix);
    this.principals = { adminArns: c.keyAdminArns, userArns: c.keyUserArns };

    this.singleRegionKey = new SingleRegionKey(this, 'SingleRegionKey', {
      ...this.principals,
      aliasName: this.aliases.singleRegion,
      rotationPeriodDays: c.rotationPeriodDays,
      pendingWindowDays: c.pendingWindowDays,
    });
    addKeyOutputs(this, {
      name: 'SingleRegion',
      scenario: '(a)',
      keyId: this.singleRegionKey.key.keyId,
      keyArn: this.singleRegionKey.key.keyArn,
      aliasName: this.aliases.singleRegion,
    });
  }
}
