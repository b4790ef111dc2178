import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

export const STACK_ID = 'arn:aws:cloudformation:ap-southeast-1:111111111111:stack/kms-key-lab-primary/guid';
export const RESPONSE_URL = 'https://cloudformation-custom-resource-response.example/signed?X-Amz-Signature=do-not-log';

type Props = Record<string, unknown>;

/** A CloudFormation custom-resource event as the Provider framework passes it on. */
export function cfnEvent(
  requestType: 'Create' | 'Update' | 'Delete',
  properties: Props,
  options: { physicalId?: string; oldProperties?: Props; resourceType?: string; logicalId?: string } = {},
): CloudFormationCustomResourceEvent {
  const common = {
    ServiceToken: 'arn:aws:lambda:ap-southeast-1:111111111111:function:provider',
    ResponseURL: RESPONSE_URL,
    StackId: STACK_ID,
    RequestId: 'request-1',
    LogicalResourceId: options.logicalId ?? 'Resource',
    ResourceType: options.resourceType ?? 'Custom::Test',
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:ap-southeast-1:111111111111:function:provider', ...properties },
  };
  if (requestType === 'Create') return { ...common, RequestType: 'Create' } as CloudFormationCustomResourceEvent;
  if (requestType === 'Update') {
    return {
      ...common,
      RequestType: 'Update',
      PhysicalResourceId: options.physicalId ?? 'physical-id',
      OldResourceProperties: { ServiceToken: common.ServiceToken, ...(options.oldProperties ?? properties) },
    } as CloudFormationCustomResourceEvent;
  }
  return { ...common, RequestType: 'Delete', PhysicalResourceId: options.physicalId ?? 'physical-id' } as CloudFormationCustomResourceEvent;
}
