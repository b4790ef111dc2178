import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { labKeyPolicy } from '../policies/key-policy';
import { RotatedLabKeyProps } from './lab-key-props';

/** The alias is the same in every Region, so an application moves Region without a code change. */
export type SingleRegionKeyProps = RotatedLabKeyProps;

/**
 * Scenario (a): a symmetric ENCRYPT_DECRYPT key with KMS-generated material,
 * rotated automatically. One of these stands in each Region under one alias;
 * ciphertext from one Region cannot be decrypted in the other.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/create-symmetric-cmk.html
 */
export class SingleRegionKey extends Construct {
  readonly key: kms.Key;
  readonly alias: kms.Alias;

  constructor(scope: Construct, id: string, props: SingleRegionKeyProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: `KMS Key Lab scenario (a): single-Region key, KMS-generated material (${props.aliasName})`,
      keySpec: kms.KeySpec.SYMMETRIC_DEFAULT,
      keyUsage: kms.KeyUsage.ENCRYPT_DECRYPT,
      enableKeyRotation: true,
      rotationPeriod: Duration.days(props.rotationPeriodDays),
      pendingWindow: Duration.days(props.pendingWindowDays),
      removalPolicy: RemovalPolicy.DESTROY,
      policy: labKeyPolicy({ aliasName: props.aliasName, adminArns: props.adminArns, userArns: props.userArns }),
    });
    this.alias = new kms.Alias(this, 'Alias', { aliasName: props.aliasName, targetKey: this.key });
  }
}
