import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import type { Context } from 'aws-lambda';
import { makeCaller, rootCause } from '../shared/aws-call';
import { CLIENT_CONFIG } from '../shared/clients';
import { CustomResourceEvent, IsCompleteEvent, IsCompleteResponse, OnEventResponse, resourceProperties } from '../shared/custom-resource';
import { log, loggableEvent } from '../shared/log';
import { isNamed } from '../shared/retry';
import { beginInvocation } from '../shared/transient';
import { rolesSettled } from './settle';

export { setSleepForTests } from '../shared/transient';

const iam = new IAMClient(CLIENT_CONFIG);
const WHAT = 'Custom::IamRolesSettled';

function roleNames(props: Record<string, unknown>): string[] {
  const names = props.RoleNames;
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string' && n !== '')) {
    throw new Error(`${WHAT}: resource property RoleNames must be a non-empty list of role names.`);
  }
  return names as string[];
}

/**
 * Waits, in the roles stack, until the lab's roles are old enough for KMS to
 * see them (see settle.ts), so the key stacks that come after it can name them
 * in key policies. Creates nothing: a repeated Create converges, and Delete
 * has nothing to do.
 */
export async function onEvent(event: CustomResourceEvent, context?: Context): Promise<OnEventResponse> {
  beginInvocation(context);
  log('iam-settle event', loggableEvent(event));
  const names = roleNames(resourceProperties(event));
  return { PhysicalResourceId: event.RequestType === 'Create' ? `iam-settle:${names.join(',')}` : event.PhysicalResourceId };
}

/** Complete once IAM reports every role, each created at least the settle time ago; a role IAM does not show yet is "not yet". */
export async function isComplete(event: IsCompleteEvent, context?: Context): Promise<IsCompleteResponse> {
  beginInvocation(context);
  if (event.RequestType === 'Delete') return { IsComplete: true };
  const call = makeCaller(['accessDenied']);
  const created: Date[] = [];
  for (const name of roleNames(resourceProperties(event))) {
    try {
      const role = await call('GetRole', () => iam.send(new GetRoleCommand({ RoleName: name })));
      if (!role.Role?.CreateDate) return { IsComplete: false };
      created.push(role.Role.CreateDate);
    } catch (error) {
      // Made moments ago and not visible to this endpoint yet: the next poll looks again.
      if (isNamed('NoSuchEntity', 'NoSuchEntityException')(rootCause(error))) return { IsComplete: false };
      throw error;
    }
  }
  const done = rolesSettled(created, new Date());
  log('roles', { names: roleNames(resourceProperties(event)), created: created.map((d) => d.toISOString()), settled: done });
  return { IsComplete: done };
}
