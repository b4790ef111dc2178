import { DescribeClustersCommand } from '@aws-sdk/client-cloudhsm-v2';
import { LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { DescribeCustomKeyStoresCommand, DescribeKeyCommand, GetKeyRotationStatusCommand } from '@aws-sdk/client-kms';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { AwsClients } from '../aws/clients';
import { describeLab } from '../aws/describe-lab';
import { escrowsPendingDeletion } from '../aws/escrows';
import { alarmRoleMessage, alarmStacksWithoutTheirRole } from '../aws/execution-roles';
import { escrowRecovery, PendingEscrow } from '../escrow-recovery';
import { awsCall, AwsCallError, CliError } from '../errors';
import { errorName, explainError, isCredentialsProblem, serviceMessage } from '../error-messages';
import { escrowSecrets, findKey, KEY_SPECS, LabDeployment, LabKey, labRoles, labStacks, missingOutputsMessage, STACK_ROLES } from '../lab-stacks';
import { DEFAULT_PENDING_WINDOW_DAYS, LabSettings } from '../settings';
import { CloudHsmStatus, estimateHsmHours, KeyStatus, LastUse, lastUseFields, pendingDeletions, rotationText, StackStatus, StatusReport } from './report';

/** Collects the failures of optional reads; a credentials problem would repeat on every call, so it ends the command. */
class Problems {
  readonly paragraphs: string[] = [];

  async attempt<T>(fn: () => Promise<T>): Promise<T | undefined> {
    const outcome = await this.attemptOrWhy(fn);
    return 'value' in outcome ? outcome.value : undefined;
  }

  /** As attempt, but a failure also says why in one line (the error's name and message), for a field that must not read as "none". */
  async attemptOrWhy<T>(fn: () => Promise<T>): Promise<{ value: T } | { failed: string }> {
    try {
      return { value: await fn() };
    } catch (error) {
      if (isCredentialsProblem(error)) throw new CliError(explainError(error));
      this.paragraphs.push(explainError(error));
      const cause = error instanceof AwsCallError ? error.cause : error;
      return { failed: `${error instanceof AwsCallError ? error.call.operation : 'the call'} failed (${errorName(cause)}): ${serviceMessage(cause)}` };
    }
  }
}

/** States in which rotation is moot, and in which KMS may refuse GetKeyRotationStatus. */
const NO_ROTATION_STATES = ['PendingDeletion', 'PendingReplicaDeletion', 'Unavailable', 'Creating'];

async function keyStatus(clients: AwsClients, key: LabKey, problems: Problems): Promise<Omit<KeyStatus, 'lastUsedStatus'>> {
  const kms = clients.kms(key.region);
  const call = (operation: string) => ({ operation, region: key.region, resource: key.keyArn });
  const described = await problems.attempt(() => awsCall(call('DescribeKey'), () => kms.send(new DescribeKeyCommand({ KeyId: key.keyArn }))));
  const meta = described?.KeyMetadata;
  const state = meta?.KeyState ?? 'unknown';
  let rotation: { enabled?: boolean; periodDays?: number; next?: Date } = {};
  if (meta?.Origin === 'AWS_KMS' && !NO_ROTATION_STATES.includes(state)) {
    const answer = await problems.attempt(() =>
      awsCall(call('GetKeyRotationStatus'), () => kms.send(new GetKeyRotationStatusCommand({ KeyId: key.keyArn }))),
    );
    if (answer) rotation = { enabled: answer.KeyRotationEnabled, periodDays: answer.RotationPeriodInDays, next: answer.NextRotationDate };
  }
  return {
    scenario: key.scenario,
    where: key.where,
    region: key.region,
    keyArn: key.keyArn,
    alias: key.alias,
    state,
    enabled: meta?.Enabled,
    origin: meta?.Origin,
    multiRegion: meta?.MultiRegionConfiguration?.MultiRegionKeyType,
    rotation: meta ? rotationText({ origin: meta.Origin, state, ...rotation }) : 'unknown',
    deletionDate: meta?.DeletionDate?.toISOString(),
  };
}

/** Events that use a key's material: what "last used" means before a deletion (seed 003), unlike reads of it. */
const CRYPTOGRAPHIC_EVENTS = /^(Encrypt|Decrypt|ReEncrypt|GenerateDataKey\w*|GenerateMac|VerifyMac|Sign|Verify|DeriveSharedSecret|GenerateRandom)$/;

/**
 * The newest CloudTrail event that used the key (reads such as DescribeKey,
 * this CLI's own included, do not count). One page of 50 events per key:
 * LookupEvents allows two requests a second per Region, so the caller asks
 * for one key at a time.
 */
async function lastUsed(clients: AwsClients, key: LabKey, problems: Problems): Promise<LastUse> {
  const answer = await problems.attemptOrWhy(() =>
    awsCall({ operation: 'LookupEvents', region: key.region, resource: key.keyArn }, () =>
      clients.cloudTrail(key.region).send(
        new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: key.keyArn }], MaxResults: 50 }),
      ),
    ),
  );
  // Throttled or denied: the key's use is unknown, which must not read as "never used".
  if ('failed' in answer) return { status: 'unknown', reason: answer.failed };
  const event = answer.value.Events?.find((e) => CRYPTOGRAPHIC_EVENTS.test(e.EventName ?? ''));
  return event?.EventTime ? { status: 'used', at: event.EventTime.toISOString(), event: event.EventName ?? 'unknown event' } : { status: 'never' };
}

async function cloudHsmStatus(clients: AwsClients, deployment: LabDeployment, now: Date, problems: Problems): Promise<CloudHsmStatus | undefined> {
  const stack = deployment.cloudhsm;
  if (!stack) return undefined;
  const { CustomKeyStoreId: keyStoreId, ClusterId: clusterId, LabExpiresAt: expiresAt } = stack.outputs;
  const [store, clusters] = await Promise.all([
    keyStoreId
      ? problems.attempt(() =>
          awsCall({ operation: 'DescribeCustomKeyStores', region: stack.region, resource: keyStoreId }, () =>
            clients.kms(stack.region).send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: keyStoreId })),
          ),
        )
      : undefined,
    clusterId
      ? problems.attempt(() =>
          awsCall({ operation: 'DescribeClusters', region: stack.region, resource: clusterId }, () =>
            clients.cloudHsm(stack.region).send(new DescribeClustersCommand({ Filters: { clusterIds: [clusterId] } })),
          ),
        )
      : undefined,
  ]);
  const s = store?.CustomKeyStores?.[0];
  const cluster = clusters?.Clusters?.[0];
  const hsmCount = cluster?.Hsms?.length;
  return {
    keyStoreId,
    connectionState: s?.ConnectionState,
    connectionErrorCode: s?.ConnectionErrorCode,
    expiresAt,
    clusterId,
    clusterState: cluster?.State,
    hsmCount,
    hsmHoursEstimate: hsmCount === undefined ? undefined : estimateHsmHours(cluster?.CreateTimestamp, hsmCount, now),
  };
}

/** The escrow secrets of (c) and (e), in the primary Region ((e)'s read-only replica goes with its primary). */
async function escrowSecretStates(clients: AwsClients, deployment: LabDeployment, problems: Problems) {
  if (!deployment.primary) return [];
  const region = deployment.primary.region;
  return Promise.all(
    escrowSecrets(deployment).map(async ({ name }) => {
      const answer = await problems.attempt(() =>
        awsCall({ operation: 'DescribeSecret', region, resource: name }, () => clients.secretsManager(region).send(new DescribeSecretCommand({ SecretId: name }))),
      );
      return { name, region, deletedDate: answer?.DeletedDate?.toISOString() };
    }),
  );
}

/**
 * The principals besides the account root user that the escrows' policy lets restore them: the lab's KeyAdmin
 * role while the roles stack stands (and keyAdminArns is empty), else the configured keyAdminArns; none when the
 * roles stack that held the role is gone.
 */
function escrowRecoverers(deployment: LabDeployment, settings: LabSettings): string[] {
  if ((settings.keyAdminArns ?? []).length > 0) return [...settings.keyAdminArns!];
  const admin = labRoles(deployment, settings).admin;
  return admin ? [admin] : [];
}

/** The roles the roles stack made, whatever the settings say now: status shows what is deployed. */
function labRoleArns(deployment: LabDeployment, settings: LabSettings): { keyAdminRoleArn?: string; keyUserRoleArn?: string } {
  const all = labRoles(deployment, { ...settings, keyAdminArns: [], keyUserArns: [] });
  return { ...(all.admin ? { keyAdminRoleArn: all.admin } : {}), ...(all.user ? { keyUserRoleArn: all.user } : {}) };
}

/** Reads what is deployed; only Describe, Get and Lookup calls. */
export async function collectStatus(settings: LabSettings, now: Date, clients = new AwsClients(settings.profile)): Promise<StatusReport> {
  const deployment = await describeLab(clients, settings);
  const problems = new Problems();
  const refs = labStacks(settings);
  // Every lab stack, the opt-in ones too (cloudhsm, the alarm stacks): NOT_DEPLOYED when they are not.
  const stacks: StackStatus[] = STACK_ROLES.map((role) => {
    const d = deployment[role];
    return { ...refs[role], status: d?.status ?? 'NOT_DEPLOYED', lastUpdated: d?.lastUpdated?.toISOString() };
  });

  const keys: LabKey[] = [];
  for (const spec of KEY_SPECS) {
    const found = findKey(deployment, spec);
    if (found && 'missing' in found) problems.paragraphs.push(missingOutputsMessage(found.stack, found.missing));
    else if (found) keys.push(found.key);
  }
  const regions = [...new Set(keys.map((k) => k.region))];
  const [statuses, usedByRegion, cloudHsm, secrets, discovered, alarmRoles] = await Promise.all([
    Promise.all(keys.map((k) => keyStatus(clients, k, problems))),
    Promise.all(
      regions.map(async (region) => {
        const found = new Map<string, LastUse>();
        for (const key of keys.filter((k) => k.region === region)) found.set(key.keyArn, await lastUsed(clients, key, problems));
        return found;
      }),
    ),
    cloudHsmStatus(clients, deployment, now, problems),
    escrowSecretStates(clients, deployment, problems),
    // After a teardown the primary stack no longer names its escrows: they are found by the lab's tag and their name.
    deployment.primary ? Promise.resolve([]) : problems.attempt(() => escrowsPendingDeletion(clients, settings, [])).then((e) => e ?? []),
    problems.attempt(() => alarmStacksWithoutTheirRole(clients, deployment, settings.primaryRegion)).then((f) => f ?? []),
  ]);
  const pendingWindowDays = settings.pendingWindowDays ?? DEFAULT_PENDING_WINDOW_DAYS;
  const known = escrowSecrets(deployment);
  const pendingEscrows: PendingEscrow[] = [
    ...secrets.filter((s) => s.deletedDate).map((s) => ({ name: s.name, region: s.region, scenario: known.find((k) => k.name === s.name)?.scenario, deletedDate: new Date(s.deletedDate!) })),
    ...discovered,
  ];
  const recoverers = escrowRecoverers(deployment, settings);
  const used = new Map(usedByRegion.flatMap((m) => [...m]));
  const keyStatuses = statuses.map((k) => ({ ...k, ...lastUseFields(used.get(k.keyArn) ?? { status: 'never' }) }));

  return {
    schemaVersion: 1,
    prefix: settings.prefix,
    regions: { primary: settings.primaryRegion, secondary: settings.secondaryRegion },
    generatedAt: now.toISOString(),
    stacks,
    keys: keyStatuses,
    ...(cloudHsm ? { cloudHsm } : {}),
    ...(deployment.roles ? { labRoles: { stack: deployment.roles.name, ...labRoleArns(deployment, settings) } } : {}),
    pendingDeletion: pendingDeletions(keyStatuses, [...secrets, ...discovered.map((e) => ({ name: e.name, region: e.region, deletedDate: e.deletedDate.toISOString() }))]),
    escrowRecovery: pendingEscrows.map((e) => escrowRecovery(e, pendingWindowDays, recoverers)),
    warnings: alarmRoles.map(alarmRoleMessage),
    problems: problems.paragraphs,
    apiCalls: clients.counter.total,
  };
}
