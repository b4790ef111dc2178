import { CloudHSMV2Client, DescribeClustersCommand } from '@aws-sdk/client-cloudhsm-v2';
import { Caller, rootCause } from './aws-call';
import { isNamed } from './retry';

// Default configuration only: the newest client this project can install (3.332) predates the request-timeout
// shorthand of CLIENT_CONFIG. Every CloudHSM wait is a poll in isComplete, so a hung request only costs one poll.
export const cloudHsm = new CloudHSMV2Client({});

/** What DescribeClusters says of one cluster, or undefined once it is gone. */
export async function describeCluster(call: Caller, clusterId: string) {
  try {
    const out = await call('DescribeClusters', () => cloudHsm.send(new DescribeClustersCommand({ Filters: { clusterIds: [clusterId] } })));
    return out.Clusters?.find((c) => c.ClusterId === clusterId);
  } catch (error) {
    if (isNamed('CloudHsmResourceNotFoundException')(rootCause(error))) return undefined;
    throw error;
  }
}
