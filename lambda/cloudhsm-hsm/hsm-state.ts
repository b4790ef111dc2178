/** What DescribeClusters says about a cluster, reduced to what the HSM lifecycle needs. */
export interface ClusterView {
  readonly ClusterId?: string;
  readonly State?: string;
  readonly Hsms?: readonly HsmView[];
}

export interface HsmView {
  readonly HsmId?: string;
  readonly AvailabilityZone?: string;
  readonly EniIp?: string;
  readonly State?: string;
  readonly StateMessage?: string;
}

/** Cluster states in which CreateHsm is accepted; in the others the cluster is busy and the HSM waits its turn. */
const ACCEPTS_NEW_HSMS = new Set(['UNINITIALIZED', 'INITIALIZED', 'ACTIVE', 'DEGRADED']);
const GONE = new Set(['DELETE_IN_PROGRESS', 'DELETED']);

export type HsmStep =
  | { readonly kind: 'create' }
  | { readonly kind: 'wait'; readonly reason: string }
  | { readonly kind: 'active'; readonly hsm: HsmView }
  | { readonly kind: 'failed'; readonly reason: string; readonly hsm?: HsmView };

/**
 * The lab's HSM is the one at its fixed IP address: a repeated Create finds
 * it instead of adding another, and it needs no state kept between polls.
 */
export function hsmAt(cluster: ClusterView | undefined, ip: string): HsmView | undefined {
  return cluster?.Hsms?.find((h) => h.EniIp === ip && !GONE.has(h.State ?? ''));
}

/** The next step towards an ACTIVE HSM at `ip`. */
export function nextHsmStep(cluster: ClusterView | undefined, ip: string): HsmStep {
  if (!cluster || GONE.has(cluster.State ?? '')) {
    return { kind: 'failed', reason: `the cluster is ${cluster?.State ?? 'gone'}, so no HSM can be added to it` };
  }
  const leaving = cluster.Hsms?.find((h) => h.EniIp === ip && h.State === 'DELETE_IN_PROGRESS');
  if (leaving) return { kind: 'wait', reason: `HSM ${leaving.HsmId} still holds ${ip} while it is deleted` };
  const hsm = hsmAt(cluster, ip);
  if (!hsm) {
    return ACCEPTS_NEW_HSMS.has(cluster.State ?? '')
      ? { kind: 'create' }
      : { kind: 'wait', reason: `the cluster is ${cluster.State}; the HSM is created once it is free` };
  }
  switch (hsm.State) {
    case 'ACTIVE':
      return { kind: 'active', hsm };
    case 'CREATE_IN_PROGRESS':
      return { kind: 'wait', reason: `HSM ${hsm.HsmId} is being created` };
    default:
      return {
        kind: 'failed',
        reason: `HSM ${hsm.HsmId} is ${hsm.State}${hsm.StateMessage ? ` (${hsm.StateMessage})` : ''}`,
        hsm,
      };
  }
}

export type HsmRemoval = 'delete' | 'wait' | 'gone';

/** Delete: an HSM still there is deleted, one being deleted is waited for, one not there is done. */
export function hsmRemovalStep(cluster: ClusterView | undefined, ip: string): HsmRemoval {
  const hsm = cluster?.Hsms?.find((h) => h.EniIp === ip && h.State !== 'DELETED');
  if (!hsm) return 'gone';
  return hsm.State === 'DELETE_IN_PROGRESS' ? 'wait' : 'delete';
}

/**
 * Whether CloudHSM's refusal of a CreateHsm will pass by itself: the cluster
 * is busy (an HSM is being created or deleted, or the cluster is changing
 * state), or it has an HSM but is not yet activated (CloudHSM adds a second
 * HSM only to an activated cluster). Any other refusal (the address is taken,
 * a quota, no capacity in the zone) will not, and is reported at once.
 */
export function refusalWillPass(cluster: ClusterView | undefined): boolean {
  if (!cluster) return false;
  if (/_IN_PROGRESS$/.test(cluster.State ?? '')) return true;
  const hsms = cluster.Hsms ?? [];
  if (hsms.some((h) => h.State === 'CREATE_IN_PROGRESS' || h.State === 'DELETE_IN_PROGRESS')) return true;
  return cluster.State !== 'ACTIVE' && hsms.some((h) => h.State === 'ACTIVE');
}
