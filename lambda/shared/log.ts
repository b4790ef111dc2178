import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

/**
 * One JSON line per record, so CloudWatch Logs Insights can query fields.
 * Callers pass identifiers and states only: key material, passwords and
 * private keys are never handed to this function.
 */
export function log(message: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ message, ...fields }));
}

/** The event without its pre-signed response URL, which would let anyone answer for the resource. */
export function loggableEvent(event: CloudFormationCustomResourceEvent): Record<string, unknown> {
  return { ...event, ResponseURL: '...' };
}
