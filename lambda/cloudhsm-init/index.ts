import { InitializeClusterCommand } from '@aws-sdk/client-cloudhsm-v2';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { Caller, ExplainedError, makeCaller, rootCause } from '../shared/aws-call';
import { CLIENT_CONFIG } from '../shared/clients';
import { cloudHsm, describeCluster } from '../shared/cloudhsm';
import { CustomResourceEvent, IsCompleteEvent, IsCompleteResponse, OnEventResponse, requiredString, resourceProperties } from '../shared/custom-resource';
import { LabSecrets } from '../shared/lab-secrets';
import { log, loggableEvent } from '../shared/log';
import { OwnedSecretProperties, ownedSecretProperties, ownedSecretSpec } from '../shared/owned-secret-props';
import { isNamed } from '../shared/retry';
import { PriorState } from '../shared/secret-lifecycle';
import { beginCleanup, beginInvocation, isAskAgainLater, transientKindsFor } from '../shared/transient';
import { createLabCa, decodeCaRecord, encodeCaRecord, issuedBy, LabCa, signClusterCsr } from './certificates';

export { setSleepForTests } from '../shared/transient';

const secretsClient = new SecretsManagerClient(CLIENT_CONFIG);
const WHAT = 'Custom::CloudHsmInitialization';

interface InitProperties {
  readonly clusterId: string;
  readonly caCommonName: string;
  readonly caSecret: OwnedSecretProperties;
}

function initProperties(event: CustomResourceEvent): InitProperties {
  const props = resourceProperties(event);
  return {
    clusterId: requiredString(props, 'ClusterId', WHAT),
    caCommonName: requiredString(props, 'CaCommonName', WHAT),
    caSecret: ownedSecretProperties(props, 'Ca', WHAT),
  };
}

/**
 * Initialises the cluster with a lab CA. onEvent makes sure the CA exists:
 * its private key lives only in a secret this handler owns. isComplete waits
 * for the cluster CSR (it appears once the first HSM is ACTIVE), signs it,
 * calls InitializeCluster and waits for INITIALIZED. The trust anchor (the CA
 * certificate, public) is the resource's `TrustAnchor` attribute.
 */
export async function onEvent(event: CustomResourceEvent, context?: Context): Promise<OnEventResponse> {
  beginInvocation(context);
  log('cloudhsm-init event', loggableEvent(event));
  const props = initProperties(event);
  const secrets = new LabSecrets(secretsClient, makeCaller(transientKindsFor(event.RequestType)));
  const spec = ownedSecretSpec(props.caSecret, event, `KMS Key Lab: CA that signed CloudHSM cluster ${props.clusterId}. Private key: keep secret.`);
  if (event.RequestType === 'Delete') {
    // Nothing to undo on the cluster: it is deleted after its HSMs. The CA's key goes with the lab.
    await secrets.release(spec.name, spec.managedBy, async () => 'none' as const);
    return { PhysicalResourceId: event.PhysicalResourceId };
  }

  let prior: PriorState | undefined;
  try {
    prior = await secrets.ensure(spec, async () => encodeCaRecord(await createLabCa({ commonName: props.caCommonName })), 'none');
    if (prior !== 'absent' && !decodeCaRecord(await secrets.read(spec.name))) {
      throw new ExplainedError(
        `CA secret ${spec.name} holds no lab CA record. Restore the secret (or an earlier version of it) with \`aws secretsmanager\`, ` +
          'or destroy the CloudHSM stack and deploy it again.',
      );
    }
  } catch (error) {
    beginCleanup();
    await secrets.undo(spec.name, prior, 'none');
    throw error;
  }
  return { PhysicalResourceId: props.clusterId };
}

export async function isComplete(event: IsCompleteEvent, context?: Context): Promise<IsCompleteResponse> {
  beginInvocation(context);
  if (event.RequestType === 'Delete') return { IsComplete: true };
  const props = initProperties(event);
  const call = makeCaller([]);
  let cluster;
  try {
    cluster = await describeCluster(call, props.clusterId);
  } catch (error) {
    if (isAskAgainLater(rootCause(error))) return { IsComplete: false };
    throw error;
  }
  const state = cluster?.State;
  switch (state) {
    case 'UNINITIALIZED': {
      const csr = cluster?.Certificates?.ClusterCsr;
      if (!csr) return waiting('the cluster CSR appears once the first HSM is ACTIVE', props);
      await initialize(call, props, csr);
      return waiting('InitializeCluster started', props);
    }
    case 'INITIALIZED':
    case 'ACTIVE': {
      const ca = await readCa(call, props);
      const clusterCertificate = cluster?.Certificates?.ClusterCertificate ?? '';
      if (!issuedBy(clusterCertificate, ca.certificatePem)) {
        throw new ExplainedError(
          `Cluster ${props.clusterId} is ${state}, but its certificate was not signed by the lab CA in ${props.caSecret.name}: it was ` +
            'initialised by hand or by another lab. What to do: give the lab a cluster of its own (destroy and redeploy the CloudHSM stack).',
        );
      }
      log('cluster initialised with the lab CA', { clusterId: props.clusterId, state });
      return { IsComplete: true, Data: { TrustAnchor: ca.certificatePem, ClusterState: state } };
    }
    case 'CREATE_IN_PROGRESS':
    case 'INITIALIZE_IN_PROGRESS':
    case 'UPDATE_IN_PROGRESS':
    case 'MODIFY_IN_PROGRESS':
      return waiting(`the cluster is ${state}`, props);
    default:
      throw new ExplainedError(
        `Cluster ${props.clusterId} is ${state ?? 'gone'}${cluster?.StateMessage ? ` (${cluster.StateMessage})` : ''}, so it cannot be initialised. ` +
          'What to do: look at the cluster in the CloudHSM console; destroy and redeploy the CloudHSM stack.',
      );
  }
}

function waiting(reason: string, props: InitProperties): IsCompleteResponse {
  log('waiting', { reason, clusterId: props.clusterId });
  return { IsComplete: false };
}

async function readCa(call: Caller, props: InitProperties): Promise<LabCa> {
  const secrets = new LabSecrets(secretsClient, call);
  const ca = decodeCaRecord(await secrets.read(props.caSecret.name));
  if (!ca) throw new ExplainedError(`CA secret ${props.caSecret.name} holds no lab CA record; restore it and deploy again.`);
  return ca;
}

async function initialize(call: Caller, props: InitProperties, csr: string): Promise<void> {
  const ca = await readCa(call, props);
  const signedCert = await signClusterCsr(csr, ca);
  try {
    await call('InitializeCluster', () =>
      cloudHsm.send(new InitializeClusterCommand({ ClusterId: props.clusterId, SignedCert: signedCert, TrustAnchor: ca.certificatePem })),
    );
    log('InitializeCluster started', { clusterId: props.clusterId });
  } catch (error) {
    // Polls never overlap, and this one saw the cluster UNINITIALIZED with its CSR: unless the cluster has moved on,
    // a refusal is CloudHSM's verdict on the certificates, which no later poll would change.
    const cause = rootCause(error);
    if (!isNamed('CloudHsmInvalidRequestException')(cause)) throw error;
    // An SDK retry of a call that went through is refused too: the cluster has moved on, and the next poll sees it.
    const now = await describeCluster(call, props.clusterId).catch(() => undefined);
    if (now?.State && now.State !== 'UNINITIALIZED') return log('InitializeCluster already under way', { clusterId: props.clusterId, state: now.State });
    throw new ExplainedError(
      `InitializeCluster of ${props.clusterId} was refused: ${(cause as Error).message}. What to do: destroy the CloudHSM stack and deploy it ` +
        'again; if it is refused again, look at the cluster and its CSR in the CloudHSM console.',
    );
  }
}
