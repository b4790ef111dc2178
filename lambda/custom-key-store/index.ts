import {
  ConnectCustomKeyStoreCommand,
  CreateCustomKeyStoreCommand,
  CustomKeyStoresListEntry,
  DeleteCustomKeyStoreCommand,
  DescribeCustomKeyStoresCommand,
  DisconnectCustomKeyStoreCommand,
  KMSClient,
  UpdateCustomKeyStoreCommand,
} from '@aws-sdk/client-kms';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { Caller, ExplainedError, makeCaller, rootCause } from '../shared/aws-call';
import { CLIENT_CONFIG } from '../shared/clients';
import { CustomResourceEvent, IsCompleteEvent, IsCompleteResponse, OnEventResponse, requiredString, resourceProperties } from '../shared/custom-resource';
import { log, loggableEvent } from '../shared/log';
import { isNamed } from '../shared/retry';
import { beginCleanup, beginInvocation, isAskAgainLater, transientKindsFor } from '../shared/transient';
import { explainConnectionError } from './connection-errors';
import { connectStep, removalStep, waitingName } from './store-state';

export { setSleepForTests } from '../shared/transient';

const kms = new KMSClient(CLIENT_CONFIG);
const secretsClient = new SecretsManagerClient(CLIENT_CONFIG);
const WHAT = 'Custom::KmsCustomKeyStore';

interface StoreProperties {
  readonly name: string;
  readonly clusterId: string;
  readonly trustAnchor: string;
  readonly kmsUserSecretName: string;
  /** The pending window of the keys in the store, to name the day the store can be deleted. */
  readonly keyPendingWindowDays: number;
}

function storeProperties(props: Record<string, unknown>): StoreProperties {
  return {
    name: requiredString(props, 'Name', WHAT),
    clusterId: requiredString(props, 'ClusterId', WHAT),
    trustAnchor: requiredString(props, 'TrustAnchor', WHAT),
    kmsUserSecretName: requiredString(props, 'KmsUserSecretName', WHAT),
    keyPendingWindowDays: Number(props.KeyPendingWindowDays ?? 30),
  };
}

/**
 * A KMS custom key store on the lab's cluster. onEvent creates it (the
 * kmsuser password is read from Secrets Manager, never from the template)
 * and asks KMS to connect; isComplete polls, one DescribeCustomKeyStores per
 * call, until CONNECTED (about 20 minutes). A FAILED connect is disconnected,
 * as KMS requires before any retry, and reported with its ConnectionErrorCode
 * and remedy. Delete disconnects, waits for DISCONNECTED (so KMS removes its
 * network interfaces before the subnets go), and deletes the store, or, while
 * keys pending deletion keep it, renames it to say when it can go.
 */
export async function onEvent(event: CustomResourceEvent, context?: Context): Promise<OnEventResponse> {
  beginInvocation(context);
  log('custom-key-store event', loggableEvent(event));
  const call = makeCaller(transientKindsFor(event.RequestType));
  const props = storeProperties(resourceProperties(event));
  if (event.RequestType === 'Delete') {
    try {
      const store = await describeStore(call, { id: event.PhysicalResourceId });
      if (removalStep(store?.ConnectionState).kind === 'disconnect') await disconnect(call, event.PhysicalResourceId);
    } catch (error) {
      // A failed Delete would leave the store connected (and its network interfaces in the VPC): isComplete disconnects it too.
      if (!isAskAgainLater(rootCause(error))) throw error;
      log('disconnect left to isComplete after a transient error', { customKeyStoreId: event.PhysicalResourceId });
    }
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  if (event.RequestType === 'Update') {
    const old = storeProperties(event.OldResourceProperties);
    if (old.clusterId === props.clusterId && old.trustAnchor === props.trustAnchor) {
      // A new name is the one change KMS takes while connected; anything else means a new store.
      if (old.name !== props.name) {
        await call('UpdateCustomKeyStore', () =>
          kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: event.PhysicalResourceId, NewCustomKeyStoreName: props.name })),
        );
      }
      return { PhysicalResourceId: event.PhysicalResourceId };
    }
  }
  return createAndConnect(call, props);
}

async function createAndConnect(call: Caller, props: StoreProperties): Promise<OnEventResponse> {
  const existing = await describeStore(call, { name: props.name });
  let id = existing?.CustomKeyStoreId;
  let created = false;
  if (existing && existing.CloudHsmClusterId !== props.clusterId) {
    throw new ExplainedError(
      `A custom key store named ${props.name} already exists for another cluster (${existing.CloudHsmClusterId}). ` +
        'What to do: delete it, or give this lab another prefix.',
    );
  }
  try {
    if (!id) {
      const password = await readKmsUserPassword(call, props.kmsUserSecretName);
      const out = await call('CreateCustomKeyStore', () =>
        kms.send(
          new CreateCustomKeyStoreCommand({
            CustomKeyStoreName: props.name,
            CloudHsmClusterId: props.clusterId,
            TrustAnchorCertificate: props.trustAnchor,
            KeyStorePassword: password,
          }),
        ),
      );
      id = out.CustomKeyStoreId!;
      created = true;
      log('created custom key store', { customKeyStoreId: id, name: props.name, clusterId: props.clusterId });
    }
    if (connectStep(existing?.ConnectionState).kind === 'connect') await connect(call, id);
    return { PhysicalResourceId: id, Data: { CustomKeyStoreId: id } };
  } catch (error) {
    beginCleanup();
    // A store that is never connected still holds the cluster (one store per cluster) and its name: remove it.
    if (created && id) await kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: id })).catch(() => undefined);
    throw error;
  }
}

export async function isComplete(event: IsCompleteEvent, context?: Context): Promise<IsCompleteResponse> {
  beginInvocation(context);
  const call = makeCaller([]);
  const id = event.PhysicalResourceId;
  try {
    const store = await describeStore(call, { id });
    if (event.RequestType === 'Delete') return await removeStore(call, id, store, storeProperties(event.ResourceProperties));
    const step = connectStep(store?.ConnectionState, store?.ConnectionErrorCode);
    switch (step.kind) {
      case 'done':
        log('custom key store CONNECTED', { customKeyStoreId: id });
        return { IsComplete: true, Data: { CustomKeyStoreId: id } };
      case 'wait':
        return waiting(id, store?.ConnectionState);
      case 'connect':
        if (!store) throw new ExplainedError(`Custom key store ${id} no longer exists. What to do: deploy again to create it.`);
        await connect(call, id);
        return waiting(id, 'DISCONNECTED, connect requested');
      case 'disconnect-then-fail':
        await disconnect(call, id);
        throw new ExplainedError(`Custom key store ${id} failed to connect to its cluster. ${explainConnectionError(step.code)}`);
      default:
        return waiting(id, store?.ConnectionState);
    }
  } catch (error) {
    if (isAskAgainLater(rootCause(error))) return waiting(id, 'transient error');
    throw error;
  }
}

async function removeStore(call: Caller, id: string, store: CustomKeyStoresListEntry | undefined, props: StoreProperties): Promise<IsCompleteResponse> {
  const step = removalStep(store?.ConnectionState);
  if (step.kind === 'done') return { IsComplete: true };
  if (step.kind === 'disconnect') {
    await disconnect(call, id);
    return waiting(id, 'disconnect requested');
  }
  if (step.kind === 'wait') return waiting(id, store?.ConnectionState);
  try {
    await call('DeleteCustomKeyStore', () => kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: id })));
    log('deleted custom key store', { customKeyStoreId: id });
  } catch (error) {
    if (!isNamed('CustomKeyStoreHasCMKsException')(rootCause(error))) throw error;
    // Its keys are pending deletion; the store costs nothing while disconnected, and its name says when it can go.
    const name = waitingName(store?.CustomKeyStoreName ?? props.name, props.keyPendingWindowDays, new Date());
    await call('UpdateCustomKeyStore', () => kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: id, NewCustomKeyStoreName: name })));
    log('custom key store disconnected; it can be deleted once its keys are', { customKeyStoreId: id, name });
  }
  return { IsComplete: true };
}

async function describeStore(call: Caller, by: { id?: string; name?: string }): Promise<CustomKeyStoresListEntry | undefined> {
  try {
    const out = await call('DescribeCustomKeyStores', () =>
      kms.send(new DescribeCustomKeyStoresCommand(by.id ? { CustomKeyStoreId: by.id } : { CustomKeyStoreName: by.name })),
    );
    return out.CustomKeyStores?.[0];
  } catch (error) {
    if (isNamed('CustomKeyStoreNotFoundException')(rootCause(error))) return undefined;
    throw error;
  }
}

async function connect(call: Caller, id: string): Promise<void> {
  try {
    // Right after CreateCustomKeyStore, KMS may not find the new store for a moment: waited out like any NotFound.
    await call('ConnectCustomKeyStore', () => kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id })), {
      notFoundNames: ['CustomKeyStoreNotFoundException'],
    });
    log('connect requested', { customKeyStoreId: id });
  } catch (error) {
    // Already connecting or connected: the next poll sees it.
    if (!isNamed('CustomKeyStoreInvalidStateException')(rootCause(error))) throw error;
  }
}

async function disconnect(call: Caller, id: string): Promise<void> {
  try {
    await call('DisconnectCustomKeyStore', () => kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id })));
    log('disconnect requested', { customKeyStoreId: id });
  } catch (error) {
    if (!isNamed('CustomKeyStoreInvalidStateException', 'CustomKeyStoreNotFoundException')(rootCause(error))) throw error;
  }
}

/** Read at run time, passed to KMS once, never logged or returned. KMS rotates it when it connects. */
async function readKmsUserPassword(call: Caller, secretName: string): Promise<string> {
  const out = await call('GetSecretValue', () => secretsClient.send(new GetSecretValueCommand({ SecretId: secretName })));
  if (!out.SecretString) throw new ExplainedError(`Secret ${secretName} holds no kmsuser password. Deploy again to generate one.`);
  return out.SecretString;
}

function waiting(id: string, state: string | undefined): IsCompleteResponse {
  log('waiting', { customKeyStoreId: id, state });
  return { IsComplete: false };
}
