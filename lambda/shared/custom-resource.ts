import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

/** What a Provider-framework onEvent handler returns. */
export interface OnEventResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

export type CustomResourceEvent = CloudFormationCustomResourceEvent;

/** The properties CloudFormation sent, minus ServiceToken; every value arrives as a string. */
export function resourceProperties(event: { ResourceProperties: Record<string, unknown> }): Record<string, unknown> {
  const { ServiceToken: _token, ...rest } = event.ResourceProperties;
  return rest;
}
