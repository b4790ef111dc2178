import { CreateHsmCommand, DeleteHsmCommand } from '@aws-sdk/client-cloudhsm-v2';
import type { Context } from 'aws-lambda';
import { ExplainedError, makeCaller, rootCause } from '../shared/aws-call';
import { cloudHsm, describeCluster } from '../shared/cloudhsm';
import { CustomResourceEvent, IsCompleteEvent, IsCompleteResponse, OnEventResponse, requiredString, resourceProperties } from '../shared/custom-resource';
import { log, loggableEvent } from '../shared/log';
import { isNamed } from '../shared/retry';
import { beginInvocation, isAskAgainLater, transientKindsFor } from '../shared/transient';
import { ClusterView, hsmAt, HsmView, hsmRemovalStep, nextHsmStep, refusalWillPass } from './hsm-state';

export { setSleepForTests } from '../shared/transient';

interface HsmProperties {
  readonly clusterId: string;
  readonly availabilityZone: string;
  /** Fixed per HSM resource, so the HSM can always be found again without keeping state. */
  readonly ipAddress: string;
}

function hsmProperties(event: CustomResourceEvent): HsmProperties {
  const props = resourceProperties(event);
  return {
    clusterId: requiredString(props, 'ClusterId', 'Custom::CloudHsmHsm'),
    availabilityZone: requiredString(props, 'AvailabilityZone', 'Custom::CloudHsmHsm'),
    ipAddress: requiredString(props, 'IpAddress', 'Custom::CloudHsmHsm'),
  };
}

const physicalId = (p: HsmProperties) => `${p.clusterId}/${p.ipAddress}`;

/**
 * One HSM of the lab's cluster. onEvent starts CreateHsm (or DeleteHsm), and
 * isComplete polls DescribeClusters until the HSM is ACTIVE (or gone). An
 * Update that moves the HSM creates a new one under a new physical id, and
 * CloudFormation's Delete of the old id removes the old one.
 */
export async function onEvent(event: CustomResourceEvent, context?: Context): Promise<OnEventResponse> {
  beginInvocation(context);
  log('cloudhsm-hsm event', loggableEvent(event));
  const props = hsmProperties(event);
  const call = makeCaller(transientKindsFor(event.RequestType));
  if (event.RequestType === 'Delete') {
    try {
      const cluster = await describeCluster(call, props.clusterId);
      if (hsmRemovalStep(cluster, props.ipAddress) === 'delete') await deleteHsm(props, cluster?.Hsms ?? []);
    } catch (error) {
      // A failed Delete would leave a billed HSM behind: isComplete deletes it too, and rides out what passes.
      if (!isAskAgainLater(rootCause(error))) throw error;
      log('DeleteHsm left to isComplete after a transient error', { ip: props.ipAddress });
    }
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  const cluster = await describeCluster(call, props.clusterId);
  const step = nextHsmStep(cluster, props.ipAddress);
  if (step.kind === 'create') await createHsm(call, props, cluster, 'onEvent');
  else log('HSM not created yet', { step: step.kind, ...('reason' in step ? { reason: step.reason } : {}) });
  if (step.kind === 'failed') throw new ExplainedError(`Cannot add an HSM at ${props.ipAddress} to ${props.clusterId}: ${step.reason}.`);
  return { PhysicalResourceId: physicalId(props) };
}

export async function isComplete(event: IsCompleteEvent, context?: Context): Promise<IsCompleteResponse> {
  beginInvocation(context);
  const props = hsmProperties(event);
  try {
    return await nextPoll(event, props);
  } catch (error) {
    // Throttling and service errors, of DescribeClusters or of the CreateHsm/DeleteHsm a poll makes: the next poll asks again.
    if (isAskAgainLater(rootCause(error))) return notYet('CloudHSM answered with a transient error', props);
    throw error;
  }
}

async function nextPoll(event: IsCompleteEvent, props: HsmProperties): Promise<IsCompleteResponse> {
  const call = makeCaller([]);
  const cluster = await describeCluster(call, props.clusterId);
  if (event.RequestType === 'Delete') {
    const removal = hsmRemovalStep(cluster, props.ipAddress);
    if (removal === 'delete') await deleteHsm(props, cluster?.Hsms ?? []);
    return removal === 'gone' ? { IsComplete: true } : notYet('HSM is being deleted', props);
  }
  const step = nextHsmStep(cluster, props.ipAddress);
  switch (step.kind) {
    case 'active':
      log('HSM is ACTIVE', { hsmId: step.hsm.HsmId, ip: props.ipAddress });
      return { IsComplete: true, Data: hsmData(step.hsm) };
    case 'create':
      await createHsm(call, props, cluster, 'poll');
      return notYet('HSM creation started', props);
    case 'wait':
      return notYet(step.reason, props);
    case 'failed':
      // Removed at once, so a deploy run with --no-rollback does not keep billing for an HSM that will never work.
      if (step.hsm) await deleteHsm(props, cluster?.Hsms ?? []);
      // Only an HSM that exists was deleted: a cluster that is gone had none left to delete.
      throw new ExplainedError(
        `HSM at ${props.ipAddress} in ${props.clusterId} did not become ACTIVE: ${step.reason}.${step.hsm ? ' It has been deleted.' : ''} ` +
          'What to do: deploy again; if it fails again, look at the cluster in the CloudHSM console.',
      );
  }
}

function notYet(reason: string, props: HsmProperties): IsCompleteResponse {
  log('waiting', { reason, clusterId: props.clusterId, ip: props.ipAddress });
  return { IsComplete: false };
}

function hsmData(hsm: HsmView): Record<string, string> {
  return { HsmId: hsm.HsmId ?? '', EniIp: hsm.EniIp ?? '', AvailabilityZone: hsm.AvailabilityZone ?? '' };
}

/**
 * `stage`: a refusal in a poll may come from the lab's own HSM, created by an
 * earlier call and not listed yet (eventual consistency), so it is waited out
 * (bounded by the wait's total timeout); in onEvent, before this resource has
 * created anything, a refusal of a cluster that is not busy is final.
 */
async function createHsm(call: ReturnType<typeof makeCaller>, props: HsmProperties, cluster: ClusterView | undefined, stage: 'onEvent' | 'poll'): Promise<void> {
  try {
    const out = await call('CreateHsm', () =>
      cloudHsm.send(new CreateHsmCommand({ ClusterId: props.clusterId, AvailabilityZone: props.availabilityZone, IpAddress: props.ipAddress })),
    );
    log('CreateHsm started', { hsmId: out.Hsm?.HsmId, availabilityZone: props.availabilityZone, ip: props.ipAddress });
  } catch (error) {
    const cause = rootCause(error);
    if (!isNamed('CloudHsmInvalidRequestException')(cause)) throw error;
    // Judged on a fresh look: the view this call was made on may predate a sibling's new HSM, a backup, or this
    // very HSM (an SDK retry of a CreateHsm that went through). A busy cluster (another HSM, a backup, not yet
    // activated) takes it on a later poll; anything else never will.
    const now = await describeCluster(call, props.clusterId).catch(() => cluster);
    if (hsmAt(now, props.ipAddress) || refusalWillPass(now) || refusalWillPass(cluster) || stage === 'poll') {
      log('CreateHsm refused for now; retried on the next poll', { ip: props.ipAddress, error: (cause as Error).message });
      return;
    }
    throw new ExplainedError(
      `CreateHsm at ${props.ipAddress} in ${props.availabilityZone} was refused: ${(cause as Error).message}. What to do: if the address ` +
        'is taken, a settings change is replacing the cluster in the same subnets (destroy the CloudHSM stack, then deploy); ' +
        'otherwise check the CloudHSM quota and the zone, then deploy again.',
    );
  }
}

/** DeleteHsm of the lab's HSM; one already gone is not an error. */
async function deleteHsm(props: HsmProperties, hsms: readonly HsmView[]): Promise<void> {
  const hsm = hsms.find((h) => h.EniIp === props.ipAddress && h.State !== 'DELETED' && h.State !== 'DELETE_IN_PROGRESS');
  if (!hsm?.HsmId) return;
  try {
    await cloudHsm.send(new DeleteHsmCommand({ ClusterId: props.clusterId, HsmId: hsm.HsmId }));
    log('DeleteHsm started', { hsmId: hsm.HsmId, ip: props.ipAddress });
  } catch (error) {
    if (isNamed('CloudHsmResourceNotFoundException')(error)) return;
    // Refused for now (the HSM or the cluster is busy, say still creating): the next poll asks again, so a
    // Delete never gives up on an HSM that would go on billing.
    if (isNamed('CloudHsmInvalidRequestException')(error)) {
      log('DeleteHsm refused for now; asked again on the next poll', { hsmId: hsm.HsmId, error: (error as Error).message });
      return;
    }
    throw error;
  }
}
