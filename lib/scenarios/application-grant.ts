import { CustomResource } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { LabHandler } from '../common/lab-handler';

export interface ApplicationGrantProps {
  readonly key: kms.IKey;
  /** Grant name; a repeated CreateGrant with the same name returns the same grant. */
  readonly grantName: string;
  /** @default ['Decrypt', 'Encrypt'] */
  readonly operations?: string[];
}

/**
 * Grants beside key policies (seed 003): a lab application role that no key
 * policy or IAM policy names gets Encrypt and Decrypt on the key through a KMS
 * grant. Create issues the grant; Delete revokes it.
 *
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/grants.html
 */
export class ApplicationGrant extends Construct {
  readonly role: iam.Role;
  readonly grant: CustomResource;

  constructor(scope: Construct, id: string, props: ApplicationGrantProps) {
    super(scope, id);
    const operations = [...(props.operations ?? ['Decrypt', 'Encrypt'])].sort();

    this.role = new iam.Role(this, 'ApplicationRole', {
      description: 'KMS Key Lab: application role that uses the scenario (a) key through a grant only',
      assumedBy: new iam.AccountRootPrincipal(),
    });

    const handler = new LabHandler(this, 'GrantHandler', {
      handler: 'key-grant',
      description: 'KMS Key Lab: creates and revokes the application grant',
    });
    // CreateGrant only for this grantee and only these operations.
    handler.allow(['kms:CreateGrant'], [props.key.keyArn], {
      StringEquals: { 'kms:GranteePrincipal': this.role.roleArn },
      'ForAllValues:StringEquals': { 'kms:GrantOperations': operations },
    });
    handler.allow(['kms:RevokeGrant'], [props.key.keyArn]);

    this.grant = new CustomResource(this, 'Grant', {
      serviceToken: handler.provider.serviceToken,
      resourceType: 'Custom::KmsGrant',
      properties: {
        KeyArn: props.key.keyArn,
        GranteePrincipal: this.role.roleArn,
        Operations: operations,
        Name: props.grantName,
      },
    });
  }
}
