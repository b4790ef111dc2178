import { ArnFormat, CustomResource, Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { LabHandler } from '../common/lab-handler';
import { acknowledgeWildcardResource } from '../common/nag';
import { KmsUserSetup as KmsUserSetupMode } from '../config/settings';
import { labSecretPolicy } from '../policies/lab-secret-policy';
import { ownedSecretGrant } from './hsm-cluster';

export interface KmsUserSetupProps {
  readonly mode: KmsUserSetupMode;
  readonly clusterId: string;
  readonly clusterArn: string;
  readonly instanceId: string;
  /** Role of the client host: it reads both passwords at run time. */
  readonly hostRoleArn: string;
  /** Address of the first HSM, which the CloudHSM CLI is pointed at. */
  readonly hsmIp: string;
  readonly trustAnchor: string;
  /** Installed again by the scripts when the host's user data could not. */
  readonly cliPackageUrl: string;
  readonly adminSecretName: string;
  readonly kmsUserSecretName: string;
  readonly labTags: Readonly<Record<string, string>>;
  readonly adminArns: readonly string[];
}

/**
 * Activation and kmsuser, then the check that KMS will be able to use them.
 * The activation resource generates the admin and kmsuser passwords into
 * secrets it owns and, in automated mode, runs `cluster activate` and
 * `user create` on the client host through SSM Run Command. The check
 * resource (see `check`) runs after every HSM exists.
 */
export class KmsUserSetup extends Construct {
  readonly activation: CustomResource;
  readonly activationHandler: LabHandler;
  readonly checkHandler: LabHandler;
  private readonly props: KmsUserSetupProps;
  private readonly kmsUserReaders: string[] = [];

  constructor(scope: Construct, id: string, props: KmsUserSetupProps) {
    super(scope, id);
    this.props = props;
    const stack = Stack.of(this);
    const accountRoot = stack.formatArn({ service: 'iam', region: '', resource: 'root' });

    this.activationHandler = new LabHandler(this, 'ActivationHandler', {
      handler: 'cloudhsm-activate',
      description: 'KMS Key Lab: activates the CloudHSM cluster and creates kmsuser through SSM Run Command',
      // The host boots and installs the CLI in a few minutes; the script itself takes seconds.
      wait: { queryInterval: Duration.seconds(20), totalTimeout: Duration.minutes(40) },
    });
    const activationRole = this.activationHandler.function.role!.roleArn;
    for (const name of [props.adminSecretName, props.kmsUserSecretName]) ownedSecretGrant(this.activationHandler, name);
    this.activationHandler.allow(['secretsmanager:GetRandomPassword'], ['*']);
    this.allowHostCommands(this.activationHandler);

    const passwordPolicy = (extraReaders: string[]) =>
      labSecretPolicy({ readers: [props.hostRoleArn, ...extraReaders], owner: activationRole, administrators: props.adminArns, accountRoot }).toJSON();
    this.activation = new CustomResource(this, 'Activation', {
      serviceToken: this.activationHandler.provider.serviceToken,
      resourceType: 'Custom::CloudHsmActivation',
      properties: {
        Mode: props.mode,
        ClusterId: props.clusterId,
        InstanceId: props.instanceId,
        HsmIp: props.hsmIp,
        TrustAnchor: props.trustAnchor,
        CliPackageUrl: props.cliPackageUrl,
        AdminSecretName: props.adminSecretName,
        AdminSecretPolicy: passwordPolicy([]),
        KmsUserSecretName: props.kmsUserSecretName,
        // The key store handler reads it once, for CreateCustomKeyStore (see allowKmsUserReader).
        KmsUserSecretPolicy: Lazy.any({ produce: () => passwordPolicy(this.kmsUserReaders) }),
        SecretTags: props.labTags,
      },
    });

    this.checkHandler = new LabHandler(this, 'CheckHandler', {
      handler: 'cloudhsm-check',
      description: 'KMS Key Lab: checks everything a KMS custom key store needs from the cluster before it is created',
      wait:
        props.mode === 'automated'
          ? { queryInterval: Duration.seconds(15), totalTimeout: Duration.minutes(15) }
          : { queryInterval: Duration.minutes(1), totalTimeout: Duration.minutes(55) },
    });
    this.allowHostCommands(this.checkHandler);
    this.checkHandler.allow(['ec2:DescribeSubnets'], ['*']);
  }

  /** Lets another role (the key store handler's) read kmsuser's first password; the resource policy names it too. */
  allowKmsUserReader(roleArn: string): void {
    this.kmsUserReaders.push(roleArn);
  }

  /** The kmsuser setup check, once every HSM in `hsms` is ACTIVE. */
  check(hsms: readonly Construct[]): CustomResource {
    const p = this.props;
    const check = new CustomResource(this, 'Check', {
      serviceToken: this.checkHandler.provider.serviceToken,
      resourceType: 'Custom::KmsUserSetupCheck',
      properties: {
        Mode: p.mode,
        ClusterId: p.clusterId,
        InstanceId: p.instanceId,
        HsmIp: p.hsmIp,
        TrustAnchor: p.trustAnchor,
        CliPackageUrl: p.cliPackageUrl,
        AdminSecretName: p.adminSecretName,
        KmsUserSecretName: p.kmsUserSecretName,
        // Manual mode: the deploy waits this long for the commands to be run by hand, then says what is missing.
        ManualWaitMinutes: '50',
      },
    });
    check.node.addDependency(this.activation, ...hsms);
    return check;
  }

  /** SSM Run Command on the lab's host only, with the stock shell document; CloudHSM and SSM reads. */
  private allowHostCommands(handler: LabHandler): void {
    const stack = Stack.of(this);
    const instanceArn = stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: this.props.instanceId });
    const shellDocument = stack.formatArn({ service: 'ssm', account: '', resource: 'document', resourceName: 'AWS-RunShellScript', arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    handler.allow(['ssm:SendCommand'], [instanceArn, shellDocument]);
    handler.allow(['ssm:ListCommands', 'ssm:GetCommandInvocation', 'ssm:DescribeInstanceInformation', 'cloudhsm:DescribeClusters'], ['*']);
    acknowledgeWildcardResource(
      handler.function.role!,
      '*',
      'ssm:ListCommands, GetCommandInvocation, DescribeInstanceInformation and cloudhsm:DescribeClusters accept no resource ARN; SendCommand is limited to the lab host.',
    );
  }
}
