import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { addKeyOutputs } from '../common/key-outputs';
import { labPrincipals, LabPrincipals } from '../common/lab-principals';
import { labTags } from '../common/lab-tags';
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
  /** The configured administrators and users, or the lab roles in their place. */
  readonly principals: LabPrincipals;
  /** What every imported-material key of the stack, (c) and both sides of (e), is given from the settings. */
  protected readonly importSettings: {
    pendingWindowDays: number;
    wrappingAlgorithm: LabConfig['wrappingAlgorithm'];
    wrappingKeySpec: LabConfig['wrappingKeySpec'];
    materialExpiry: LabConfig['materialExpiry'];
    labTags: Record<string, string>;
    deleteImportedMaterialOnDestroy: boolean;
  };

  constructor(scope: Construct, id: string, props: LabRegionStackProps) {
    super(scope, id, props);
    const c = props.config;
    this.aliases = labAliases(c.prefix);
    this.principals = labPrincipals(this, c);
    this.importSettings = {
      pendingWindowDays: c.pendingWindowDays,
      wrappingAlgorithm: c.wrappingAlgorithm,
      wrappingKeySpec: c.wrappingKeySpec,
      materialExpiry: c.materialExpiry,
      labTags: labTags(c.prefix, c.owner),
      deleteImportedMaterialOnDestroy: c.deleteImportedMaterialOnDestroy,
    };

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
