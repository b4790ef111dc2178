import { GetRandomPasswordCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { Caller, ExplainedError, makeCaller, rootCause } from '../shared/aws-call';
import { CLIENT_CONFIG } from '../shared/clients';
import { describeCluster } from '../shared/cloudhsm';
import { KMS_USER, parseUserList, USERS_LOGIN_FAILED } from '../shared/cloudhsm-users';
import { CustomResourceEvent, IsCompleteEvent, IsCompleteResponse, OnEventResponse, requiredString, resourceProperties } from '../shared/custom-resource';
import { LabSecrets, LabSecretSpec } from '../shared/lab-secrets';
import { log, loggableEvent } from '../shared/log';
import { OwnedSecretProperties, ownedSecretProperties, ownedSecretSpec } from '../shared/owned-secret-props';
import { PriorState } from '../shared/secret-lifecycle';
import { commandComment, hostCommandState, hostOnline, sendHostCommand } from '../shared/ssm-command';
import { beginCleanup, beginInvocation, isAskAgainLater, transientKindsFor } from '../shared/transient';
import { activationScript } from './script';

export { setSleepForTests } from '../shared/transient';

const secretsClient = new SecretsManagerClient(CLIENT_CONFIG);
const WHAT = 'Custom::CloudHsmActivation';

interface ActivationProperties {
  readonly clusterId: string;
  readonly instanceId: string;
  readonly hsmIp: string;
  readonly trustAnchor: string;
  readonly cliPackageUrl?: string;
  readonly adminSecret: OwnedSecretProperties;
  readonly kmsUserSecret: OwnedSecretProperties;
  /** `manual`: the passwords are made here, and a person runs the commands (the kmsuser check says which). */
  readonly mode: 'automated' | 'manual';
}

function activationProperties(event: CustomResourceEvent): ActivationProperties {
  const props = resourceProperties(event);
  return {
    clusterId: requiredString(props, 'ClusterId', WHAT),
    instanceId: requiredString(props, 'InstanceId', WHAT),
    hsmIp: requiredString(props, 'HsmIp', WHAT),
    trustAnchor: requiredString(props, 'TrustAnchor', WHAT),
    cliPackageUrl: typeof props.CliPackageUrl === 'string' ? props.CliPackageUrl : undefined,
    adminSecret: ownedSecretProperties(props, 'Admin', WHAT),
    kmsUserSecret: ownedSecretProperties(props, 'KmsUser', WHAT),
    mode: props.Mode === 'manual' ? 'manual' : 'automated',
  };
}

function secretSpecs(props: ActivationProperties, event: CustomResourceEvent): LabSecretSpec[] {
  return [
    ownedSecretSpec(props.adminSecret, event, `KMS Key Lab: admin password of CloudHSM cluster ${props.clusterId}.`),
    ownedSecretSpec(
      props.kmsUserSecret,
      event,
      `KMS Key Lab: first password of kmsuser in ${props.clusterId}. KMS rotates it when it connects the key store, so it is stale afterwards.`,
    ),
  ];
}

/** 32 letters and digits: within CloudHSM's 7 to 32 characters, and safe in every shell and CLI argument. */
async function generatePassword(call: Caller): Promise<string> {
  const out = await call('GetRandomPassword', () =>
    secretsClient.send(new GetRandomPasswordCommand({ PasswordLength: 32, ExcludePunctuation: true, IncludeSpace: false })),
  );
  if (!out.RandomPassword) throw new ExplainedError('GetRandomPassword returned no password. Deploy again.');
  return out.RandomPassword;
}

/**
 * Activates the cluster and creates kmsuser, through SSM Run Command on the
 * client host. onEvent generates the admin and kmsuser passwords into secrets
 * this handler owns; isComplete sends the script once the host's SSM agent is
 * online, follows it, and checks in its `user list` that kmsuser is a crypto
 * user on every HSM.
 */
export async function onEvent(event: CustomResourceEvent, context?: Context): Promise<OnEventResponse> {
  beginInvocation(context);
  log('cloudhsm-activate event', loggableEvent(event));
  const props = activationProperties(event);
  const call = makeCaller(transientKindsFor(event.RequestType));
  const secrets = new LabSecrets(secretsClient, call);
  const specs = secretSpecs(props, event);
  if (event.RequestType === 'Delete') {
    // The cluster, and its users with it, go when the stack deletes the cluster; only the passwords are left to release.
    for (const spec of specs) await secrets.release(spec.name, spec.managedBy, async () => 'none' as const);
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  const priors: [LabSecretSpec, PriorState][] = [];
  try {
    for (const spec of specs) priors.push([spec, await secrets.ensure(spec, () => generatePassword(call), 'none')]);
  } catch (error) {
    beginCleanup();
    for (const [spec, prior] of priors) await secrets.undo(spec.name, prior, 'none');
    throw error;
  }
  return { PhysicalResourceId: `${props.clusterId}/activation` };
}

export async function isComplete(event: IsCompleteEvent, context?: Context): Promise<IsCompleteResponse> {
  beginInvocation(context);
  if (event.RequestType === 'Delete') return { IsComplete: true };
  const props = activationProperties(event);
  if (props.mode === 'manual') return { IsComplete: true, Data: { KmsUser: 'set up by hand' } };
  const call = makeCaller([]);
  // One script per deploy attempt: a retried deploy runs it again, which is safe (it skips what is done).
  const command = { instanceId: props.instanceId, comment: commandComment('activate', `${event.StackId}/${event.RequestId}`) };
  try {
    const state = await hostCommandState(call, command);
    switch (state.status) {
      case 'not-sent': {
        const cluster = await describeCluster(call, props.clusterId);
        if (cluster?.State !== 'INITIALIZED' && cluster?.State !== 'ACTIVE') {
          throw new ExplainedError(`Cluster ${props.clusterId} is ${cluster?.State ?? 'gone'}; it must be INITIALIZED before it can be activated.`);
        }
        if (!(await hostOnline(call, props.instanceId))) return waiting(`client host ${props.instanceId} is not online in SSM yet`);
        await sendHostCommand(
          call,
          command,
          activationScript({
            region: process.env.AWS_REGION ?? '',
            hsmIp: props.hsmIp,
            trustAnchorPem: props.trustAnchor,
            cliPackageUrl: props.cliPackageUrl,
            adminSecretName: props.adminSecret.name,
            kmsUserSecretName: props.kmsUserSecret.name,
            activate: cluster.State === 'INITIALIZED',
          }),
        );
        return waiting('activation script sent');
      }
      case 'running':
        return waiting('activation script running');
      case 'failed':
        throw new ExplainedError(
          `The activation script failed on client host ${props.instanceId} (${state.detail}). What to do: open a shell on it with ` +
            `\`aws ssm start-session --target ${props.instanceId}\`, look at the command's output in the SSM console, fix the cause, then deploy again.`,
        );
      case 'succeeded':
        return kmsUserReady(props, state.output);
    }
  } catch (error) {
    if (isAskAgainLater(rootCause(error))) return waiting('a transient error; asking again on the next poll');
    throw error;
  }
}

function kmsUserReady(props: ActivationProperties, output: string): IsCompleteResponse {
  const users = parseUserList(output);
  // The script goes on past a failed login (to print what it can), so the cause is named here rather than as a missing kmsuser.
  if (!users && output.includes(USERS_LOGIN_FAILED)) {
    throw new ExplainedError(
      `The activation script could not log in to cluster ${props.clusterId} as admin with the password in secret ${props.adminSecret.name}. ` +
        `What to do: on client host ${props.instanceId}, check that password with \`user list\` as admin; if the admin password was changed by hand, ` +
        'put the current one into the secret, then deploy again.',
    );
  }
  const kmsUser = users?.find((u) => u.username === KMS_USER);
  if (!kmsUser || kmsUser.role !== 'crypto-user') {
    throw new ExplainedError(`The activation script ran, but ${KMS_USER} is not a crypto-user in the cluster's user list. Deploy again.`);
  }
  if (kmsUser.clusterCoverage !== 'full') {
    throw new ExplainedError(
      `${KMS_USER} exists on only some HSMs (cluster-coverage: ${kmsUser.clusterCoverage}); KMS would fail to connect with USER_NOT_FOUND. ` +
        `What to do: on the client host, as admin, delete and create ${KMS_USER} again so it reaches every HSM, then deploy again.`,
    );
  }
  log('cluster active and kmsuser ready', { clusterId: props.clusterId });
  return { IsComplete: true, Data: { KmsUser: KMS_USER } };
}

function waiting(reason: string): IsCompleteResponse {
  log('waiting', { reason });
  return { IsComplete: false };
}
