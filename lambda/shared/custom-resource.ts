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

/** What an isComplete handler returns to the Provider framework. */
export interface IsCompleteResponse {
  readonly IsComplete: boolean;
  /** Merged into the resource's attributes once complete. */
  readonly Data?: Record<string, string>;
}

/** The event isComplete receives: the CloudFormation event with onEvent's answer merged in. */
export type IsCompleteEvent = CustomResourceEvent & { readonly PhysicalResourceId: string; readonly Data?: Record<string, string> };

/** A property that must be a non-empty string; `what` names the resource type in the error. */
export function requiredString(props: Record<string, unknown>, name: string, what: string): string {
  const v = props[name];
  if (typeof v !== 'string' || v === '') throw new Error(`${what}: resource property ${name} is missing.`);
  return v;
}
