import { DescribeSubnetsCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { Context } from 'aws-lambda';
import { Caller, ExplainedError, makeCaller, rootCause } from '../shared/aws-call';
import { CLIENT_CONFIG } from '../shared/clients';
import { describeCluster } from '../shared/cloudhsm';
import { parseUserList, prepareCli, printUserList, readSecretInto, USERS_LOGIN_FAILED } from '../shared/cloudhsm-users';
import { CustomResourceEvent, IsCompleteEvent, IsCompleteResponse, OnEventResponse, requiredString, resourceProperties } from '../shared/custom-resource';
import { log, loggableEvent } from '../shared/log';
import { commandComment, hostCommandState, hostOnline, ListedCommand, listHostCommands, sendHostCommand } from '../shared/ssm-command';
import { beginInvocation, isAskAgainLater } from '../shared/transient';
import { checkKmsUserSetup, describeFailures, Finding, SetupFacts } from './conditions';

export { setSleepForTests } from '../shared/transient';

const ec2 = new EC2Client(CLIENT_CONFIG);
const WHAT = 'Custom::KmsUserSetupCheck';
/** In manual mode `user list` is read again this often while the deploy waits for the commands to be run by hand. */
export const MANUAL_RECHECK_MS = 5 * 60 * 1000;
const LOGIN_FAILED = 'logging in as admin failed';

interface CheckProperties {
  readonly clusterId: string;
  readonly instanceId: string;
  readonly hsmIp: string;
  readonly trustAnchor: string;
  readonly cliPackageUrl?: string;
  readonly adminSecretName: string;
  readonly kmsUserSecretName: string;
  readonly mode: 'automated' | 'manual';
  /** Manual mode: how long the deploy waits for the commands before it fails with what is missing. */
  readonly manualWaitMinutes: number;
}

function checkProperties(event: CustomResourceEvent): CheckProperties {
  const props = resourceProperties(event);
  const mode = requiredString(props, 'Mode', WHAT);
  if (mode !== 'automated' && mode !== 'manual') throw new Error(`${WHAT}: Mode is ${JSON.stringify(mode)}; accepted: automated, manual.`);
  return {
    clusterId: requiredString(props, 'ClusterId', WHAT),
    instanceId: requiredString(props, 'InstanceId', WHAT),
    hsmIp: requiredString(props, 'HsmIp', WHAT),
    trustAnchor: requiredString(props, 'TrustAnchor', WHAT),
    cliPackageUrl: typeof props.CliPackageUrl === 'string' ? props.CliPackageUrl : undefined,
    adminSecretName: requiredString(props, 'AdminSecretName', WHAT),
    kmsUserSecretName: requiredString(props, 'KmsUserSecretName', WHAT),
    mode,
    manualWaitMinutes: Number(props.ManualWaitMinutes ?? 50),
  };
}

/**
 * Checks, before the key store is created or connected, everything KMS needs
 * from the cluster: ACTIVE, two ACTIVE HSMs in two AZs, a free address in
 * every cluster subnet, kmsuser a crypto user on every HSM and not locked
 * out, and the trust anchor that signed the cluster certificate. Automated
 * mode fails at once with the conditions that do not hold; manual mode waits
 * for the commands to be run by hand, naming what is still missing.
 */
export async function onEvent(event: CustomResourceEvent, context?: Context): Promise<OnEventResponse> {
  beginInvocation(context);
  log('cloudhsm-check event', loggableEvent(event));
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  const props = checkProperties(event);
  return { PhysicalResourceId: `${props.clusterId}/kmsuser-check` };
}

export async function isComplete(event: IsCompleteEvent, context?: Context): Promise<IsCompleteResponse> {
  beginInvocation(context);
  if (event.RequestType === 'Delete') return { IsComplete: true };
  const props = checkProperties(event);
  const call = makeCaller([]);
  try {
    const prefix = commandComment('kmsuser-check', `${event.StackId}/${event.RequestId}`);
    const earlier = await listHostCommands(call, props.instanceId, prefix);
    if (props.mode === 'manual') {
      // The first command on the host marks when the wait began, so that it can end with what is missing.
      if (earlier.length === 0) {
        if (!(await hostOnline(call, props.instanceId))) return waiting(`client host ${props.instanceId} is not online in SSM yet`);
        await sendHostCommand(call, { instanceId: props.instanceId, comment: `${prefix}:start` }, ['true']);
        return waiting('waiting for the cluster to be activated by hand');
      }
      // Before activation there is no admin to log in as, and each failed login counts towards a lockout.
      const cluster = await describeCluster(call, props.clusterId);
      if (cluster?.State !== 'ACTIVE') {
        const facts = await gatherFacts(call, props, '', undefined, 'the cluster is not activated yet', cluster);
        return manualWait(props, checkKmsUserSetup(facts), earlier);
      }
    }
    const round = props.mode === 'manual' ? `:${Math.floor(Date.now() / MANUAL_RECHECK_MS)}` : '';
    const command = { instanceId: props.instanceId, comment: `${prefix}${round}` };
    const state = await hostCommandState(call, command, earlier);
    if (state.status === 'not-sent') {
      if (!(await hostOnline(call, props.instanceId))) return waiting(`client host ${props.instanceId} is not online in SSM yet`);
      await sendHostCommand(call, command, [
        ...prepareCli(props.hsmIp, props.trustAnchor, props.cliPackageUrl),
        readSecretInto('ADMIN_PW', props.adminSecretName, process.env.AWS_REGION ?? ''),
        ...printUserList(),
      ]);
      return waiting('user list requested from the client host');
    }
    if (state.status === 'running') return waiting('user list running on the client host');

    const facts = await gatherFacts(call, props, state.output, state.status === 'failed' ? state.detail : undefined);
    const findings = checkKmsUserSetup(facts);
    if (findings.every((x) => x.holds)) {
      log('kmsuser setup check passed', { clusterId: props.clusterId, conditions: findings.map((x) => x.condition) });
      return { IsComplete: true, Data: { Checked: findings.map((x) => x.condition).join(',') } };
    }
    // A failed admin login counts towards the admin's lockout (after 5): it is not tried again every few minutes.
    if (props.mode === 'manual' && facts.userListProblem !== LOGIN_FAILED) return manualWait(props, findings, earlier);
    throw new ExplainedError(`${describeFailures(props.clusterId, findings)} Deploy again once they hold.`);
  } catch (error) {
    if (isAskAgainLater(rootCause(error))) return waiting('a transient error; asking again on the next poll');
    throw error;
  }
}

/** Manual mode: keep waiting, naming what is missing, until the wait is over; then fail with it. */
function manualWait(props: CheckProperties, findings: Finding[], earlier: readonly ListedCommand[]): IsCompleteResponse {
  const message = describeFailures(props.clusterId, findings);
  const startedAt = earlier.length ? earlier[earlier.length - 1].requestedAt.getTime() : Date.now();
  if (Date.now() - startedAt >= props.manualWaitMinutes * 60_000) throw new ExplainedError(`${message} Deploy again once they hold.`);
  // Not `message`: log() puts its own message in that field, and a field of the same name would replace it.
  log('waiting for the manual setup', { missing: findings.filter((x) => !x.holds).map((x) => x.condition), problems: message });
  return { IsComplete: false };
}

async function gatherFacts(
  call: Caller,
  props: CheckProperties,
  output: string,
  failure: string | undefined,
  noUserList?: string,
  // A poll that has just described the cluster passes it on: one DescribeClusters a poll.
  described?: Awaited<ReturnType<typeof describeCluster>>,
): Promise<SetupFacts> {
  const cluster = described ?? (await describeCluster(call, props.clusterId));
  const subnetIds = Object.values(cluster?.SubnetMapping ?? {});
  const subnets = subnetIds.length
    ? ((await call('DescribeSubnets', () => ec2.send(new DescribeSubnetsCommand({ SubnetIds: subnetIds })))).Subnets ?? [])
    : [];
  const users = parseUserList(output);
  const userListProblem = noUserList
    ? noUserList
    : users
    ? undefined
    : output.includes(USERS_LOGIN_FAILED)
      ? LOGIN_FAILED
      : `the client host could not list users${failure ? ` (${failure})` : ''}`;
  return {
    clusterId: props.clusterId,
    cluster,
    subnets,
    users,
    userListProblem,
    trustAnchorPem: props.trustAnchor,
    instanceId: props.instanceId,
    adminSecretName: props.adminSecretName,
    kmsUserSecretName: props.kmsUserSecretName,
  };
}

function waiting(reason: string): IsCompleteResponse {
  log('waiting', { reason });
  return { IsComplete: false };
}
