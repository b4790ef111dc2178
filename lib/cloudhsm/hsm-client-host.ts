import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from '../common/nag';
import { HsmNetwork } from './hsm-network';

export interface HsmClientHostProps {
  readonly network: HsmNetwork;
  /** The security group CloudHSM made for the cluster: members reach the HSMs on TCP 2223-2225. */
  readonly clusterSecurityGroupId: string;
  readonly instanceType: string;
  readonly cliPackageUrl: string;
  /** The secrets the host reads at run time (the admin and kmsuser passwords), by name. */
  readonly readableSecretNames: readonly string[];
}

/**
 * The CloudHSM client host: Amazon Linux 2023 with the CloudHSM CLI (Client
 * SDK 5), in a subnet of its own beside the cluster's, managed only through SSM (no SSH key, no
 * inbound rule). It joins the cluster's security group to reach the HSMs.
 * Its role can read the lab's two passwords and nothing else.
 */
export class HsmClientHost extends Construct {
  readonly instance: ec2.Instance;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: HsmClientHostProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'KMS Key Lab: CloudHSM client host (SSM-managed; reads the lab passwords only)',
    });
    // What the SSM agent needs for Run Command and Session Manager, instead of the broader managed policy.
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'ssm:UpdateInstanceInformation',
          'ssm:ListInstanceAssociations',
          'ssmmessages:CreateControlChannel',
          'ssmmessages:CreateDataChannel',
          'ssmmessages:OpenControlChannel',
          'ssmmessages:OpenDataChannel',
          'ec2messages:AcknowledgeMessage',
          'ec2messages:DeleteMessage',
          'ec2messages:FailMessage',
          'ec2messages:GetEndpoint',
          'ec2messages:GetMessages',
          'ec2messages:SendReply',
        ],
        resources: ['*'],
      }),
    );
    acknowledgeWildcardResource(this.role, '*', 'The SSM agent calls accept no resource ARN; the instance can only act as itself.');
    for (const name of props.readableSecretNames) {
      const arn = stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${name}-??????`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
      this.role.addToPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [arn] }));
    }

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.network.vpc,
      description: 'KMS Key Lab: CloudHSM client host; no inbound rules (SSM only), outbound for SSM, Secrets Manager and the CLI download',
      allowAllOutbound: true,
    });
    const userData = ec2.UserData.forLinux();
    // A few tries: the first boot can come before the NAT route carries traffic. The SSM scripts try again too.
    userData.addCommands(`for i in 1 2 3 4 5; do dnf install -y '${props.cliPackageUrl}' && break; sleep 20; done`);
    const subnet = props.network.hostSubnets[0];
    this.instance = new ec2.Instance(this, 'Instance', {
      vpc: props.network.vpc,
      vpcSubnets: { subnets: [subnet] },
      instanceType: new ec2.InstanceType(props.instanceType),
      // Resolved when the instance launches, not at each deploy: a newer AMI does not replace a working host.
      machineImage: ec2.MachineImage.resolveSsmParameterAtLaunch('/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64', {
        os: ec2.OperatingSystemType.LINUX,
      }),
      role: this.role,
      securityGroup,
      userData,
      requireImdsv2: true,
      detailedMonitoring: true,
      blockDevices: [{ deviceName: '/dev/xvda', volume: ec2.BlockDeviceVolume.ebs(8, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }) }],
    });
    this.instance.addSecurityGroup(ec2.SecurityGroup.fromSecurityGroupId(this, 'ClusterSecurityGroup', props.clusterSecurityGroupId));
    // Its first boot downloads the CLI through the NAT gateway: the subnet's route out must exist first.
    this.instance.node.addDependency(subnet.internetConnectivityEstablished);
    Validations.of(this.instance).acknowledge({
      id: 'CloudFormation-Validate::E1152',
      reason: 'EC2 takes `resolve:ssm:<parameter>` as an ImageId and resolves it at launch; the validator expects an ami- id only.',
    });
    Validations.of(this.instance).acknowledge({
      id: 'AwsSolutions-EC29',
      reason: 'The lab is torn down as a whole (by cdk destroy or its expiry): termination protection would block that.',
    });
  }
}
