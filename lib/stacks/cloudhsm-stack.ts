import { Annotations, CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CloudHsmKeyStore } from '../cloudhsm/cloudhsm-key-store';
import { cloudHsmHourlyCost } from '../cloudhsm/cost';
import { HsmClientHost } from '../cloudhsm/hsm-client-host';
import { HsmCluster } from '../cloudhsm/hsm-cluster';
import { HsmNetwork } from '../cloudhsm/hsm-network';
import { KmsUserSetup } from '../cloudhsm/kms-user-setup';
import { LabExpiry } from '../cloudhsm/lab-expiry';
import { addKeyOutputs } from '../common/key-outputs';
import { labPrincipals } from '../common/lab-principals';
import { labTags } from '../common/lab-tags';
import { CloudHsmConfig, LabConfig } from '../config/lab-config';
import { CloudHsmBackedKey } from '../scenarios/cloudhsm-backed-key';
import { labAliases } from './aliases';

export interface CloudHsmStackProps extends StackProps {
  readonly config: LabConfig;
  readonly cloudHsm: CloudHsmConfig;
}

/**
 * Scenario (d) in the primary Region, in a stack of its own so that it
 * deploys, diffs and tears down apart from (a)–(c). Created in this order
 * (CloudFormation deletes in the reverse one): network → cluster → first HSM
 * → initialisation → client host → activation and kmsuser → the other HSMs →
 * kmsuser setup check → key store (connected) → key → bucket.
 */
export class CloudHsmStack extends Stack {
  readonly network: HsmNetwork;
  readonly cluster: HsmCluster;
  readonly host: HsmClientHost;
  readonly setup: KmsUserSetup;
  readonly keyStore?: CloudHsmKeyStore;
  readonly key?: CloudHsmBackedKey;
  readonly expiry?: LabExpiry;

  constructor(scope: Construct, id: string, props: CloudHsmStackProps) {
    super(scope, id, props);
    const c = props.config;
    const d = props.cloudHsm;
    const tags = labTags(c.prefix, c.owner);
    const principals = labPrincipals(this, c);

    const cost = cloudHsmHourlyCost(d.hsmCount, d.clientInstanceType);
    Annotations.of(this).addWarningV2(
      'kms-key-lab:cloudhsm-cost',
      `Scenario (d) bills about $${cost.total.toFixed(2)} an hour while it stands (${cost.lines.join('; ')}; approximate on-demand prices, ` +
        `check the pricing pages for ${this.region}). ` +
        (d.labExpiryHours > 0
          ? `It deletes itself ${d.labExpiryHours} hours after it is deployed (labExpiryHours).`
          : 'labExpiryHours is 0: it runs until you destroy it.'),
    );

    this.network = new HsmNetwork(this, 'Network', { cidr: d.vpcCidr, availabilityZones: d.availabilityZones });
    this.cluster = new HsmCluster(this, 'Cluster', {
      network: this.network,
      hsmType: d.hsmType,
      mode: d.mode,
      backupRetentionDays: d.backupRetentionDays,
      hsmCount: d.hsmCount,
      prefix: c.prefix,
      labTags: tags,
      adminArns: principals.adminArns,
    });
    const secrets = this.cluster.secretNames;
    this.host = new HsmClientHost(this, 'ClientHost', {
      network: this.network,
      clusterSecurityGroupId: this.cluster.cluster.attrSecurityGroup,
      instanceType: d.clientInstanceType,
      cliPackageUrl: d.cliPackageUrl,
      readableSecretNames: [secrets.adminPassword, secrets.kmsUserPassword],
    });
    this.setup = new KmsUserSetup(this, 'KmsUser', {
      mode: d.kmsUserSetup,
      clusterId: this.cluster.cluster.attrClusterId,
      clusterArn: this.cluster.cluster.attrArn,
      instanceId: this.host.instance.instanceId,
      hostRoleArn: this.host.role.roleArn,
      hsmIp: this.cluster.firstHsm.getAttString('EniIp'),
      trustAnchor: this.cluster.trustAnchor,
      cliPackageUrl: d.cliPackageUrl,
      adminSecretName: secrets.adminPassword,
      kmsUserSecretName: secrets.kmsUserPassword,
      labTags: tags,
      adminArns: principals.adminArns,
    });
    // Added once kmsuser exists (automated mode), so CloudHSM clones them with every user.
    const remaining = this.cluster.addRemainingHsms(d.kmsUserSetup === 'automated' ? this.setup.activation : this.cluster.initialization);
    const check = this.setup.check([this.cluster.firstHsm, ...remaining]);

    const aliasName = labAliases(c.prefix).cloudHsm;
    this.keyStore = new CloudHsmKeyStore(this, 'KeyStore', {
      // With the cluster's id: a settings change that replaces the cluster makes a new store beside the old one.
      name: `${c.prefix}-cloudhsm-${this.cluster.cluster.attrClusterId}`,
      clusterId: this.cluster.cluster.attrClusterId,
      trustAnchor: this.cluster.trustAnchor,
      kmsUserSecretName: secrets.kmsUserPassword,
      keyPendingWindowDays: c.pendingWindowDays,
    });
    this.keyStore.resource.node.addDependency(check);
    this.setup.allowKmsUserReader(this.keyStore.handler.function.role!.roleArn);

    this.key = new CloudHsmBackedKey(this, 'CloudHsmKey', {
      aliasName,
      adminArns: principals.adminArns,
      userArns: principals.userArns,
      pendingWindowDays: c.pendingWindowDays,
      customKeyStoreId: this.keyStore.customKeyStoreId,
      labTags: tags,
    });
    addKeyOutputs(this, { name: 'CloudHsm', scenario: '(d)', keyId: this.key.keyId, keyArn: this.key.keyArn, aliasName });

    if (d.labExpiryHours > 0) {
      this.expiry = new LabExpiry(this, 'Expiry', { hours: d.labExpiryHours, scheduleName: `${c.prefix}-cloudhsm-expiry` });
      // The VPC is among the last things deleted: the schedule outlives everything that bills.
      this.expiry.outlast(this.network.vpc);
      new CfnOutput(this, 'LabExpiresAt', { value: this.expiry.expiresAt, description: 'Scenario (d): when the CloudHSM stack deletes itself (UTC)' });
    }
    const out = (name: string, value: string, description: string) => new CfnOutput(this, name, { value, description: `Scenario (d): ${description}` });
    out('ClusterId', this.cluster.cluster.attrClusterId, 'CloudHSM cluster id');
    out('CustomKeyStoreId', this.keyStore.customKeyStoreId, 'KMS custom key store id');
    out('ClientHostInstanceId', this.host.instance.instanceId, 'client host, for `aws ssm start-session --target <id>`');
    out('BucketName', this.key.bucket.bucketName, 'S3 bucket encrypted under the CloudHSM-backed key');
    out('AdminPasswordSecretName', secrets.adminPassword, 'secret holding the cluster admin password');
    out('KmsUserPasswordSecretName', secrets.kmsUserPassword, "secret holding kmsuser's first password (KMS rotates it when it connects)");
    out('KmsUserSetup', d.kmsUserSetup, 'how kmsuser is set up: automated or manual');
  }
}
