import { ArnFormat, CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudhsm from 'aws-cdk-lib/aws-cloudhsm';
import { Construct, IDependable } from 'constructs';
import { LabHandler } from '../common/lab-handler';
import { acknowledgeWildcardResource } from '../common/nag';
import { HsmMode, HsmType } from '../config/settings';
import { labSecretPolicy } from '../policies/lab-secret-policy';
import { hsmIpAddress, hsmPlacement } from './addresses';
import { HsmNetwork } from './hsm-network';
import { cloudHsmSecretNames } from './lab-secret-names';

export interface HsmClusterProps {
  readonly network: HsmNetwork;
  readonly hsmType: HsmType;
  readonly mode: HsmMode;
  readonly backupRetentionDays: number;
  readonly hsmCount: number;
  /** The lab's prefix, for the CA's name and the secrets' names. */
  readonly prefix: string;
  readonly labTags: Readonly<Record<string, string>>;
  readonly adminArns: readonly string[];
}

/**
 * The CloudHSM cluster (CloudFormation's AWS::CloudHSM::Cluster), its HSMs
 * (one custom resource each, at fixed addresses, waiting until ACTIVE) and
 * its initialisation with a lab CA. The first HSM is created with the
 * cluster, because initialisation needs its CSR; the others are added once
 * kmsuser exists (see addRemainingHsms), so that CloudHSM clones them from a
 * backup that already holds every user, and they are created in parallel.
 *
 * @see https://docs.aws.amazon.com/cloudhsm/latest/userguide/getting-started.html
 */
export class HsmCluster extends Construct {
  readonly cluster: cloudhsm.CfnCluster;
  readonly hsmHandler: LabHandler;
  readonly firstHsm: CustomResource;
  readonly remainingHsms: CustomResource[] = [];
  readonly initialization: CustomResource;
  readonly initHandler: LabHandler;
  /** The lab CA's certificate (public): the trust anchor of the cluster and of the key store. */
  readonly trustAnchor: string;
  /** The names of the scenario's secrets, which hold the cluster's id. */
  readonly secretNames: ReturnType<typeof cloudHsmSecretNames>;
  /** Where each HSM goes: its zone's subnet and its fixed address. */
  private readonly placements: { subnetId: string; availabilityZone: string; ipAddress: string }[];

  constructor(scope: Construct, id: string, props: HsmClusterProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const subnets = props.network.hsmSubnets;
    this.cluster = new cloudhsm.CfnCluster(this, 'Cluster', {
      hsmType: props.hsmType,
      mode: props.mode,
      subnetIds: subnets.map((s) => s.subnetId),
      backupRetentionPolicy: { type: 'DAYS', value: String(props.backupRetentionDays) },
    });
    this.cluster.applyRemovalPolicy(RemovalPolicy.DESTROY);
    this.secretNames = cloudHsmSecretNames(props.prefix, this.cluster.attrClusterId);
    this.placements = hsmPlacement(props.hsmCount, subnets.length).map(({ zone, k }) => ({
      subnetId: subnets[zone].subnetId,
      availabilityZone: subnets[zone].availabilityZone,
      ipAddress: hsmIpAddress(subnets[zone].ipv4CidrBlock, k),
    }));

    this.hsmHandler = new LabHandler(this, 'HsmHandler', {
      handler: 'cloudhsm-hsm',
      description: 'KMS Key Lab: creates and deletes one CloudHSM HSM, waiting until it is ACTIVE or gone',
      // An HSM takes 10 to 20 minutes; one DescribeClusters a minute is enough to follow it. The wait ends before
      // CloudFormation's own hour, so its explained error, not CloudFormation's timeout, is what a failure shows.
      wait: { queryInterval: Duration.minutes(1), totalTimeout: Duration.minutes(55) },
    });
    this.hsmHandler.allow(['cloudhsm:DescribeClusters'], ['*']);
    this.hsmHandler.allow(['cloudhsm:CreateHsm', 'cloudhsm:DeleteHsm'], [this.cluster.attrArn]);
    // CloudHSM creates and removes each HSM's network interface with the caller's permissions.
    const ec2InRegion = stack.formatArn({ service: 'ec2', resource: '*' });
    this.hsmHandler.allow(
      [
        'ec2:CreateNetworkInterface',
        'ec2:DeleteNetworkInterface',
        'ec2:CreateSecurityGroup',
        'ec2:AuthorizeSecurityGroupIngress',
        'ec2:AuthorizeSecurityGroupEgress',
        'ec2:RevokeSecurityGroupEgress',
      ],
      [ec2InRegion],
    );
    this.hsmHandler.allow(['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets'], ['*']);
    const role = this.hsmHandler.function.role!;
    acknowledgeWildcardResource(role, '*', 'cloudhsm:DescribeClusters and the ec2:Describe* calls CreateHsm makes accept no resource ARN.');
    acknowledgeWildcardResource(
      role,
      ec2InRegion,
      "CreateHsm creates the HSM's network interface, whose id is unknown in advance, with the caller's permissions; limited to this account and Region.",
    );

    this.firstHsm = this.hsm(0);

    this.initHandler = new LabHandler(this, 'InitHandler', {
      handler: 'cloudhsm-init',
      description: 'KMS Key Lab: initialises the CloudHSM cluster with a lab CA',
      wait: { queryInterval: Duration.seconds(30), totalTimeout: Duration.minutes(30) },
    });
    this.initHandler.allow(['cloudhsm:DescribeClusters'], ['*']);
    this.initHandler.allow(['cloudhsm:InitializeCluster'], [this.cluster.attrArn]);
    acknowledgeWildcardResource(this.initHandler.function.role!, '*', 'cloudhsm:DescribeClusters accepts no resource ARN.');
    ownedSecretGrant(this.initHandler, this.secretNames.ca, ['secretsmanager:GetSecretValue']);
    const initRole = this.initHandler.function.role!.roleArn;
    this.initialization = new CustomResource(this, 'Initialization', {
      serviceToken: this.initHandler.provider.serviceToken,
      resourceType: 'Custom::CloudHsmInitialization',
      properties: {
        ClusterId: this.cluster.attrClusterId,
        CaCommonName: `KMS Key Lab CA (${props.prefix})`,
        CaSecretName: this.secretNames.ca,
        CaSecretPolicy: labSecretPolicy({
          readers: [initRole],
          owner: initRole,
          administrators: [],
          accountRoot: stack.formatArn({ service: 'iam', region: '', resource: 'root' }),
        }).toJSON(),
        SecretTags: props.labTags,
      },
    });
    this.initialization.node.addDependency(this.firstHsm);
    this.trustAnchor = this.initialization.getAttString('TrustAnchor');
  }

  /** The HSMs after the first, created in parallel once `after` (kmsuser's creation) is done. */
  addRemainingHsms(after: IDependable): CustomResource[] {
    for (let i = 1; i < this.placements.length; i++) {
      const hsm = this.hsm(i);
      hsm.node.addDependency(after);
      this.remainingHsms.push(hsm);
    }
    return this.remainingHsms;
  }

  /** Every HSM of the cluster. */
  get hsms(): CustomResource[] {
    return [this.firstHsm, ...this.remainingHsms];
  }

  private hsm(i: number): CustomResource {
    const p = this.placements[i];
    return new CustomResource(this, `Hsm${i + 1}`, {
      serviceToken: this.hsmHandler.provider.serviceToken,
      resourceType: 'Custom::CloudHsmHsm',
      properties: { ClusterId: this.cluster.attrClusterId, AvailabilityZone: p.availabilityZone, IpAddress: p.ipAddress },
    });
  }
}

/**
 * What a handler needs to own one secret of the scenario: create, tag,
 * lock down, write, restore and schedule it, by name, before it exists.
 * Returns the ARN pattern granted.
 */
export function ownedSecretGrant(handler: LabHandler, secretName: string, extraActions: string[] = []): string {
  const stack = Stack.of(handler);
  // The bare name must match too: DescribeSecret of a secret that does not exist yet is authorized against it.
  const arn = stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${secretName}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  handler.allow(
    [
      'secretsmanager:CreateSecret',
      'secretsmanager:DescribeSecret',
      'secretsmanager:PutResourcePolicy',
      'secretsmanager:PutSecretValue',
      'secretsmanager:TagResource',
      'secretsmanager:UntagResource',
      'secretsmanager:RestoreSecret',
      'secretsmanager:DeleteSecret',
      ...extraActions,
    ],
    [arn],
  );
  acknowledgeWildcardResource(
    handler.function.role!,
    arn,
    "Secrets Manager adds six random characters to a secret's ARN, and the secret does not exist until this handler creates it.",
  );
  return arn;
}
