import { ArnFormat, CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { LabHandler } from '../common/lab-handler';
import { acknowledgeWildcardResource } from '../common/nag';

export interface CloudHsmKeyStoreProps {
  readonly name: string;
  readonly clusterId: string;
  readonly trustAnchor: string;
  readonly kmsUserSecretName: string;
  /** The pending window of the keys it will hold: the store can be deleted only after they are. */
  readonly keyPendingWindowDays: number;
}

/**
 * A KMS custom key store on the lab's cluster (CloudFormation has no resource
 * for it). Created with the kmsuser password read from Secrets Manager at run
 * time, connected, and followed until CONNECTED, about 20 minutes, with one
 * API call per 30-second poll. On destroy it is disconnected (KMS then
 * removes its network interfaces, so the subnets can go) and deleted, or
 * renamed `<name>-delete-after-<date>` while its keys wait out their window.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/create-keystore.html
 */
export class CloudHsmKeyStore extends Construct {
  readonly handler: LabHandler;
  readonly resource: CustomResource;
  readonly customKeyStoreId: string;

  constructor(scope: Construct, id: string, props: CloudHsmKeyStoreProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.handler = new LabHandler(this, 'Handler', {
      handler: 'custom-key-store',
      description: 'KMS Key Lab: creates, connects, disconnects and deletes the KMS custom key store',
      // Within CloudFormation's hour for one custom resource, so the explained error is what a failure shows.
      wait: { queryInterval: Duration.seconds(30), totalTimeout: Duration.minutes(55) },
    });
    this.handler.allow(
      [
        'kms:CreateCustomKeyStore',
        'kms:ConnectCustomKeyStore',
        'kms:DisconnectCustomKeyStore',
        'kms:DeleteCustomKeyStore',
        'kms:UpdateCustomKeyStore',
        'kms:DescribeCustomKeyStores',
        'cloudhsm:DescribeClusters',
      ],
      ['*'],
    );
    // KMS's own role for key stores, made once per account by the first CreateCustomKeyStore.
    this.handler.allow(['iam:CreateServiceLinkedRole'], [stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: 'aws-service-role/cks.kms.amazonaws.com/*' })], {
      StringEquals: { 'iam:AWSServiceName': 'cks.kms.amazonaws.com' },
    });
    this.handler.allow(['secretsmanager:GetSecretValue'], [
      stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${props.kmsUserSecretName}-??????`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    ]);
    const role = this.handler.function.role! as iam.Role;
    acknowledgeWildcardResource(role, '*', 'The custom key store actions and cloudhsm:DescribeClusters accept no resource ARN but *.');
    acknowledgeWildcardResource(
      role,
      stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: 'aws-service-role/cks.kms.amazonaws.com/*' }),
      "The service-linked role's name is KMS's; the condition limits it to KMS's key store role.",
    );

    this.resource = new CustomResource(this, 'KeyStore', {
      serviceToken: this.handler.provider.serviceToken,
      resourceType: 'Custom::KmsCustomKeyStore',
      properties: {
        Name: props.name,
        ClusterId: props.clusterId,
        TrustAnchor: props.trustAnchor,
        KmsUserSecretName: props.kmsUserSecretName,
        KeyPendingWindowDays: String(props.keyPendingWindowDays),
      },
    });
    this.customKeyStoreId = this.resource.ref;
  }
}
