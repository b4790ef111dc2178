import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface HsmNetworkProps {
  readonly cidr: string;
  /** Named, not looked up, so synth needs no credentials. */
  readonly availabilityZones: readonly string[];
}

/**
 * The VPC of scenario (d): a private subnet per Availability Zone for the
 * HSMs and the network interfaces KMS adds when it connects the key store,
 * another for the client host; and one NAT gateway, through which the client host reaches
 * SSM, Secrets Manager and the CloudHSM CLI download. One NAT gateway costs
 * less than the five interface endpoints (SSM, SSM messages, EC2 messages,
 * Secrets Manager, KMS) in two AZs would, and endpoints cannot reach the
 * download, which is served from outside the Region.
 */
export class HsmNetwork extends Construct {
  readonly vpc: ec2.Vpc;
  /** One per AZ: the cluster's subnets. */
  readonly hsmSubnets: ec2.ISubnet[];
  /** Subnets for the client host, apart from the HSMs' (see the subnet configuration). */
  readonly hostSubnets: ec2.ISubnet[];

  constructor(scope: Construct, id: string, props: HsmNetworkProps) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr),
      availabilityZones: [...props.availabilityZones],
      natGateways: 1,
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 26 },
        { name: 'Hsm', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 26 },
        // The client host has subnets of its own: in the HSMs' it could take an address an HSM is fixed to, and a
        // replaced host would ask for its old one while the old host still holds it.
        { name: 'Host', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 26 },
      ],
    });
    // Rejected traffic only: what a NETWORK_ERRORS connect failure needs, at little cost; deleted with the stack.
    const flowLogs = new logs.LogGroup(this, 'RejectedTrafficLogs', { retention: logs.RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY });
    this.vpc.addFlowLog('RejectedTraffic', {
      trafficType: ec2.FlowLogTrafficType.REJECT,
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
    });
    this.hsmSubnets = this.vpc.selectSubnets({ subnetGroupName: 'Hsm' }).subnets;
    this.hostSubnets = this.vpc.selectSubnets({ subnetGroupName: 'Host' }).subnets;
  }
}
