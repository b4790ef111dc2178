import { ArnFormat, CustomResource, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { LabHandler } from '../common/lab-handler';
import { LAB_TAG } from '../common/lab-tags';
import { acknowledgeWildcardResource } from '../common/nag';
import { labKeyPolicy } from '../policies/key-policy';
import { LabKeyProps } from './lab-key-props';

export interface CloudHsmBackedKeyProps extends LabKeyProps {
  readonly customKeyStoreId: string;
  readonly labTags: Readonly<Record<string, string>>;
}

/**
 * Scenario (d): a symmetric key whose material KMS generates inside the lab's
 * CloudHSM cluster (Origin AWS_CLOUDHSM, in the custom key store). It cannot
 * be rotated or imported into, and it works only while the key store is
 * connected. CloudFormation's AWS::KMS::Key has no custom key store, so a
 * custom resource creates it, with the lab's key policy and alias; destroy
 * schedules its deletion. An S3 bucket encrypted under it (seed 001) shows it
 * at work.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/create-cmk-keystore.html
 */
export class CloudHsmBackedKey extends Construct {
  readonly resource: CustomResource;
  readonly keyArn: string;
  readonly keyId: string;
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: CloudHsmBackedKeyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const handler = new LabHandler(this, 'Handler', {
      handler: 'hsm-key',
      description: 'KMS Key Lab: creates the scenario (d) key in the CloudHSM key store; schedules its deletion on destroy',
    });
    const anyKey = stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' });
    handler.allow(['kms:CreateKey'], ['*'], { StringEquals: { 'kms:KeyOrigin': 'AWS_CLOUDHSM' } });
    handler.allow(['kms:TagResource'], [anyKey], { StringEquals: { [`aws:RequestTag/${LAB_TAG}`]: props.labTags[LAB_TAG] } });
    // Keys in a CloudHSM key store only. Not by tag: a new key's tags can take minutes to count for authorization,
    // and CreateAlias (or the cleanup's ScheduleKeyDeletion) follows CreateKey at once.
    handler.allow(
      ['kms:DescribeKey', 'kms:PutKeyPolicy', 'kms:UpdateKeyDescription', 'kms:ScheduleKeyDeletion', 'kms:CreateAlias', 'kms:UpdateAlias', 'kms:DeleteAlias'],
      [anyKey],
      { StringEquals: { 'kms:KeyOrigin': 'AWS_CLOUDHSM' } },
    );
    const alias = stack.formatArn({ service: 'kms', resource: 'alias', resourceName: props.aliasName.replace(/^alias\//, ''), arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    handler.allow(['kms:CreateAlias', 'kms:UpdateAlias', 'kms:DeleteAlias', 'kms:DescribeKey'], [alias]);
    const role = handler.function.role!;
    acknowledgeWildcardResource(role, '*', 'kms:CreateKey accepts no resource ARN; the condition limits it to keys in a CloudHSM key store.');
    acknowledgeWildcardResource(role, anyKey, "The key's id is unknown until it is created; the conditions limit every action to keys in a CloudHSM key store (and tagging to this lab's tag).");

    this.resource = new CustomResource(this, 'Key', {
      serviceToken: handler.provider.serviceToken,
      resourceType: 'Custom::CloudHsmKey',
      properties: {
        CustomKeyStoreId: props.customKeyStoreId,
        AliasName: props.aliasName,
        Description: `KMS Key Lab scenario (d): key in the CloudHSM key store (${props.aliasName})`,
        KeyPolicy: labKeyPolicy({ aliasName: props.aliasName, adminArns: props.adminArns, userArns: props.userArns }).toJSON(),
        PendingWindowDays: String(props.pendingWindowDays),
        Tags: props.labTags,
      },
    });
    this.keyArn = this.resource.getAttString('KeyArn');
    this.keyId = this.resource.getAttString('KeyId');

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: kms.Key.fromKeyArn(this, 'BucketKey', this.keyArn),
      // One KMS call per bucket key period instead of per object: every call reaches the HSMs.
      bucketKeyEnabled: true,
      enforceSSL: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'A lab bucket holding sample objects for a short while; access logs would need a second bucket that outlives the lab.',
    });
  }
}
