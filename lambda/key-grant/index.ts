import { CreateGrantCommand, KMSClient, RevokeGrantCommand } from '@aws-sdk/client-kms';
import type { Context } from 'aws-lambda';
import { CLIENT_CONFIG } from '../shared/clients';
import { CustomResourceEvent, OnEventResponse, resourceProperties } from '../shared/custom-resource';
import { log, loggableEvent } from '../shared/log';
import { errorName, isNamed } from '../shared/retry';
import { beginInvocation, retryTransient, transientKindsFor } from '../shared/transient';
import { grantPhysicalId, parseGrantPhysicalId, parseGrantProperties } from './properties';

export { setSleepForTests } from '../shared/transient';

const kms = new KMSClient(CLIENT_CONFIG);

/**
 * A KMS grant beside the key policy: lets one principal use the key for the
 * listed operations without touching the policy. Create issues it; Delete
 * revokes it; an Update that changes it issues a new one, and CloudFormation's
 * Delete of the old physical id revokes the old.
 */
export async function onEvent(event: CustomResourceEvent, context?: Context): Promise<OnEventResponse> {
  beginInvocation(context);
  log('key-grant event', loggableEvent(event));
  if (event.RequestType === 'Delete') return revoke(event.PhysicalResourceId);

  const props = parseGrantProperties(resourceProperties(event));
  try {
    // A key or grantee role created moments ago may not be visible to KMS yet, and this role's policy may still be propagating.
    const out = await retryTransient(
      () =>
        kms.send(
          new CreateGrantCommand({
            KeyId: props.keyArn,
            GranteePrincipal: props.granteePrincipal,
            Operations: props.operations,
            Name: props.name,
          }),
        ),
      { retry: transientKindsFor(event.RequestType), call: 'CreateGrant', notFoundNames: ['InvalidArnException'] },
    );
    if (!out.GrantId) throw new Error('CreateGrant returned no GrantId.');
    log('grant in place', { keyArn: props.keyArn, grantId: out.GrantId, operations: props.operations });
    // The grant token is a bearer credential for the grant's first minutes; it is neither logged nor returned.
    return { PhysicalResourceId: grantPhysicalId(props.keyArn, out.GrantId), Data: { GrantId: out.GrantId } };
  } catch (error) {
    const name = errorName(error) ?? 'Error';
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      `CreateGrant on ${props.keyArn} for ${props.granteePrincipal} failed (${name}): ${message}. ` +
        'What to do: check that the key is Enabled and that the grantee role exists, then deploy again.',
    );
  }
}

async function revoke(physicalId: string): Promise<OnEventResponse> {
  const parsed = parseGrantPhysicalId(physicalId);
  if (!parsed) {
    log('physical id names no grant; nothing to revoke', { physicalId });
    return { PhysicalResourceId: physicalId };
  }
  try {
    await kms.send(new RevokeGrantCommand({ KeyId: parsed.keyArn, GrantId: parsed.grantId }));
    log('revoked grant', parsed);
  } catch (error) {
    // The grant or the key is already gone, or the key is pending deletion: the grant can no longer be used.
    if (!isNamed('NotFoundException', 'KMSInvalidStateException', 'InvalidGrantIdException')(error)) throw error;
    log('grant already unusable', { ...parsed, reason: errorName(error) });
  }
  return { PhysicalResourceId: physicalId };
}
