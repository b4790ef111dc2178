import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { addKeyOutputs } from '../common/key-outputs';
import { LabConfig } from '../config/lab-config';
import { ApplicationGrant } from '../scenarios/application-grant';
import { ImportedMaterialKey } from '../scenarios/imported-material-key';
import { MultiRegionPrimaryKey } from '../scenarios/multi-region-key';
import { SingleRegionKey } from '../scenarios/single-region-key';
import { labAliases } from './aliases';

export interface PrimaryRegionStackProps extends StackProps {
  readonly config: LabConfig;
}

/** The primary Region (default Singapore): scenarios (a), (b) primary and (c), and the grant example. */
export class PrimaryRegionStack extends Stack {
  readonly singleRegionKey: SingleRegionKey;
  readonly multiRegionKey: MultiRegionPrimaryKey;
  readonly importedMaterialKey: ImportedMaterialKey;
  readonly applicationGrant: ApplicationGrant;

  constructor(scope: Construct, id: string, props: PrimaryRegionStackProps) {
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

    this.multiRegionKey = new MultiRegionPrimaryKey(this, 'MultiRegionKey', {
      ...principals,
      aliasName: aliases.multiRegion,
      rotationPeriodDays: c.rotationPeriodDays,
      pendingWindowDays: c.pendingWindowDays,
    });

    this.importedMaterialKey = new ImportedMaterialKey(this, 'ImportedMaterialKey', {
      ...principals,
      aliasName: aliases.importedMaterial,
      pendingWindowDays: c.pendingWindowDays,
      wrappingAlgorithm: c.wrappingAlgorithm,
      wrappingKeySpec: c.wrappingKeySpec,
      materialExpiry: c.materialExpiry,
      materialSource: c.materialSource,
      materialSecretName: c.materialSecretName,
      materialSecretKeyArn: c.materialSecretKeyArn,
      escrowKey: this.singleRegionKey.key,
      deleteImportedMaterialOnDestroy: c.deleteImportedMaterialOnDestroy,
    });

    this.applicationGrant = new ApplicationGrant(this, 'ApplicationGrant', {
      key: this.singleRegionKey.key,
      grantName: `${c.prefix}-application`,
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
      keyId: this.multiRegionKey.key.keyId,
      keyArn: this.multiRegionKey.key.keyArn,
      aliasName: aliases.multiRegion,
    });
    addKeyOutputs(this, {
      name: 'ImportedMaterial',
      scenario: '(c)',
      keyId: this.importedMaterialKey.key.ref,
      keyArn: this.importedMaterialKey.key.attrArn,
      aliasName: aliases.importedMaterial,
    });
  }
}
