import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { labKeyPolicy, MULTI_REGION_ADMIN_ACTIONS } from '../policies/key-policy';
import { LabKeyProps, RotatedLabKeyProps } from './lab-key-props';
import { LabReplicaKey } from './lab-replica-key';

export type MultiRegionPrimaryKeyProps = RotatedLabKeyProps;

/**
 * Scenario (b), primary Region: a multi-Region primary key (`mrk-` id) with
 * KMS-generated material and automatic rotation. Rotation reaches the replicas,
 * so ciphertext from either Region decrypts in the other.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-overview.html
 */
export class MultiRegionPrimaryKey extends Construct {
  readonly key: kms.Key;
  readonly alias: kms.Alias;

  constructor(scope: Construct, id: string, props: MultiRegionPrimaryKeyProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: `KMS Key Lab scenario (b): multi-Region primary key (${props.aliasName})`,
      multiRegion: true,
      enableKeyRotation: true,
      rotationPeriod: Duration.days(props.rotationPeriodDays),
      pendingWindow: Duration.days(props.pendingWindowDays),
      removalPolicy: RemovalPolicy.DESTROY,
      policy: labKeyPolicy({
        aliasName: props.aliasName,
        adminArns: props.adminArns,
        userArns: props.userArns,
        extraAdminActions: MULTI_REGION_ADMIN_ACTIONS,
      }),
    });
    this.alias = new kms.Alias(this, 'Alias', { aliasName: props.aliasName, targetKey: this.key });
  }
}

export interface MultiRegionReplicaKeyProps extends LabKeyProps {
  /** ARN of the primary key, from the primary Region's stack. */
  readonly primaryKeyArn: string;
  /** ARN the replica will have (the primary's key id in this Region), from the primary Region's stack. */
  readonly replicaKeyArn: string;
  /** The primary's Region. */
  readonly primaryRegion: string;
  /** The lab's tags, which the replica's handler sets. */
  readonly labTags: Readonly<Record<string, string>>;
}

/**
 * Scenario (b), secondary Region: the replica of the multi-Region primary.
 * Same key id and material as the primary; its own key policy and alias. A
 * replica left pending deletion by an earlier `cdk destroy` is adopted.
 */
export class MultiRegionReplicaKey extends Construct {
  readonly replica: LabReplicaKey;
  readonly alias: kms.CfnAlias;

  constructor(scope: Construct, id: string, props: MultiRegionReplicaKeyProps) {
    super(scope, id);
    this.replica = new LabReplicaKey(this, 'Replica', {
      primaryKeyArn: props.primaryKeyArn,
      replicaKeyArn: props.replicaKeyArn,
      primaryRegion: props.primaryRegion,
      description: `KMS Key Lab scenario (b): multi-Region replica key (${props.aliasName})`,
      pendingWindowDays: props.pendingWindowDays,
      keyPolicy: labKeyPolicy({
        aliasName: props.aliasName,
        adminArns: props.adminArns,
        userArns: props.userArns,
        extraAdminActions: ['kms:UpdatePrimaryRegion'],
      }),
      tags: props.labTags,
      origin: 'AWS_KMS',
    });
    this.alias = new kms.CfnAlias(this, 'Alias', { aliasName: props.aliasName, targetKeyId: this.replica.keyId });
  }
}
