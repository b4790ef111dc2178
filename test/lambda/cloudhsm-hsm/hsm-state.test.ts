import { ClusterView, hsmAt, hsmRemovalStep, nextHsmStep } from '../../../lambda/cloudhsm-hsm/hsm-state';

const IP = '10.0.1.10';
const cluster = (state: string, hsms: ClusterView['Hsms'] = []): ClusterView => ({ ClusterId: 'cluster-abc', State: state, Hsms: hsms });
const hsm = (state: string, ip = IP, extra: Record<string, string> = {}) => ({ HsmId: 'hsm-1', EniIp: ip, AvailabilityZone: 'ap-southeast-1a', State: state, ...extra });

describe('hsmAt', () => {
  test('finds the HSM at the IP and ignores one being deleted or deleted there', () => {
    expect(hsmAt(cluster('ACTIVE', [hsm('DELETED'), hsm('ACTIVE', '10.0.2.10')]), IP)).toBeUndefined();
    expect(hsmAt(cluster('ACTIVE', [hsm('DELETE_IN_PROGRESS'), hsm('CREATE_IN_PROGRESS')]), IP)?.State).toBe('CREATE_IN_PROGRESS');
  });
});

describe('nextHsmStep', () => {
  test.each(['UNINITIALIZED', 'INITIALIZED', 'ACTIVE', 'DEGRADED'])('creates the HSM when a %s cluster has none at the IP', (state) => {
    expect(nextHsmStep(cluster(state), IP)).toEqual({ kind: 'create' });
  });

  test.each(['CREATE_IN_PROGRESS', 'INITIALIZE_IN_PROGRESS', 'UPDATE_IN_PROGRESS', 'MODIFY_IN_PROGRESS'])('waits while the cluster is %s', (state) => {
    expect(nextHsmStep(cluster(state), IP)).toEqual({ kind: 'wait', reason: `the cluster is ${state}; the HSM is created once it is free` });
  });

  test.each([undefined, 'DELETE_IN_PROGRESS', 'DELETED'])('fails when the cluster is %s', (state) => {
    const step = nextHsmStep(state ? cluster(state) : undefined, IP);
    expect(step).toEqual({ kind: 'failed', reason: `the cluster is ${state ?? 'gone'}, so no HSM can be added to it` });
  });

  test('waits while the HSM is being created and is done once it is ACTIVE', () => {
    expect(nextHsmStep(cluster('ACTIVE', [hsm('CREATE_IN_PROGRESS')]), IP)).toEqual({ kind: 'wait', reason: 'HSM hsm-1 is being created' });
    expect(nextHsmStep(cluster('ACTIVE', [hsm('ACTIVE')]), IP).kind).toBe('active');
  });

  test('a DEGRADED HSM fails with its state message and is handed back for deletion', () => {
    const degraded = hsm('DEGRADED', IP, { StateMessage: 'HSM creation failed. Please delete this HSM and try again.' });
    expect(nextHsmStep(cluster('ACTIVE', [degraded]), IP)).toEqual({
      kind: 'failed',
      reason: 'HSM hsm-1 is DEGRADED (HSM creation failed. Please delete this HSM and try again.)',
      hsm: degraded,
    });
  });
});

describe('hsmRemovalStep', () => {
  test('an HSM still there is deleted, whatever its state but DELETE_IN_PROGRESS', () => {
    for (const state of ['CREATE_IN_PROGRESS', 'ACTIVE', 'DEGRADED']) expect(hsmRemovalStep(cluster('ACTIVE', [hsm(state)]), IP)).toBe('delete');
  });

  test('an HSM being deleted is waited for', () => {
    expect(hsmRemovalStep(cluster('ACTIVE', [hsm('DELETE_IN_PROGRESS')]), IP)).toBe('wait');
  });

  test('no HSM at the IP, a DELETED one, or no cluster at all is done', () => {
    expect(hsmRemovalStep(cluster('ACTIVE', [hsm('DELETED'), hsm('ACTIVE', '10.0.2.10')]), IP)).toBe('gone');
    expect(hsmRemovalStep(undefined, IP)).toBe('gone');
  });
});
