import { DeleteStackCommand, DescribeStackEventsCommand, DescribeStacksCommand, StackEvent } from '@aws-sdk/client-cloudformation';
import { DescribeClustersCommand } from '@aws-sdk/client-cloudhsm-v2';
import { DescribeAddressesCommand, DescribeInstancesCommand, DescribeNatGatewaysCommand } from '@aws-sdk/client-ec2';
import {
  DeleteCustomKeyStoreCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeCustomKeyStoresCommand,
  DisableKeyCommand,
  DisconnectCustomKeyStoreCommand,
  KMSInvalidStateException,
  ListKeysCommand,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms';
import { ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { ACCOUNT, FakeAws, fakeMocks, serviceError, fakePart } from './fake-aws';

/**
 * The fake AWS of fake-aws.ts, extended for `kms-lab key` and `kms-lab
 * teardown`: KMS's lifecycle calls, key listing and tags, custom key stores
 * by name; CloudFormation deletions that move DELETE_IN_PROGRESS →
 * DELETE_COMPLETE (or DELETE_FAILED) over DescribeStacks polls, with events,
 * and do what the lab's stacks do when they go (keys scheduled, aliases
 * deleted, the escrow scheduled, the key store disconnected and renamed);
 * Secrets Manager's ListSecrets; CloudHSM's DescribeClusters without a
 * filter, and EC2's NAT gateways, instances and Elastic IPs by tag. Importing this module adds them to every
 * FakeAws that is installed.
 */

const DAY_MS = 86_400_000;
const LAB_TAG = 'kms-key-lab:lab';

/** How a stack's deletion goes: polls of DescribeStacks spent DELETE_IN_PROGRESS, and resources that fail to delete. */
export interface StackDeletionPlan {
  polls?: number;
  /** The resources whose DELETE_COMPLETE events the polls show, in order (default: a key per *KeyArn output). */
  resources?: { logicalId: string; type: string }[];
  failures?: { logicalId: string; type: string; reason: string }[];
}

interface Deleting {
  pollsLeft: number;
  resources: { logicalId: string; type: string }[];
  failures: NonNullable<StackDeletionPlan['failures']>;
}

/** The extra state, per FakeAws. */
export class LifecycleWorld {
  /** The fake's "now" for what stacks schedule (the harness's default clock). */
  clock = new Date('2025-06-01T06:00:00Z');
  /** Key ARN → its tags; keys without an entry carry the lab's tags. */
  readonly keyTags = new Map<string, Record<string, string>>();
  /** Keys whose tags the operator may not read (AccessDeniedException). */
  readonly unreadableKeys = new Set<string>();
  /** Secret name → tags and Region; secrets without an entry carry the lab's tags, in the primary Region. */
  readonly secretInfo = new Map<string, { tags?: Record<string, string>; region?: string }>();
  /** Key store id → name; the lab's store is named as the CloudHSM stack names it. */
  readonly storeNames = new Map<string, string>();
  /** Stack name → how its deletion goes (default: two polls, no failure). */
  readonly plans = new Map<string, StackDeletionPlan>();
  /** Stack names in the order DeleteStack was asked for them. */
  readonly deleteRequests: string[] = [];
  readonly deleting = new Map<string, Deleting>();
  /** StackId → events, oldest first. */
  readonly events = new Map<string, StackEvent[]>();
  /** StackId → the deleted stack. */
  readonly deleted = new Map<string, { name: string; region: string }>();
  /** Cluster ids that outlive their stack's deletion (retained), HSMs and all. */
  readonly retainedClusters = new Set<string>();
  /** EC2 resources: NAT gateways, instances, Elastic IPs (id = allocation id), in the primary Region unless said. */
  readonly ec2: { kind: 'nat-gateway' | 'instance' | 'elastic-ip'; id: string; state: string; tags: Record<string, string>; region?: string; publicIp?: string }[] = [];
  /** `<region>|<name>` of stacks whose resources a deploy engine deleted (test/deploy/): nothing to make up when they go. */
  readonly engineDeleted = new Set<string>();
  private eventCount = 0;

  constructor(private readonly aws: FakeAws) {}

  stackId(region: string, name: string): string {
    return `arn:aws:cloudformation:${region}:${ACCOUNT}:stack/${name}/0000-${name}`;
  }

  labTags(): Record<string, string> {
    return { [LAB_TAG]: this.aws.prefix, 'kms-key-lab:owner': 'unassigned' };
  }

  storeName(id: string): string {
    return this.storeNames.get(id) ?? `${this.aws.prefix}-cloudhsm-cluster-abcdefghijk`;
  }

  event(stackId: string, name: string, e: { logicalId: string; type: string; status: string; reason?: string }): void {
    const list = this.events.get(stackId) ?? [];
    this.eventCount++;
    list.push({
      EventId: `event-${this.eventCount}`,
      StackId: stackId,
      StackName: name,
      LogicalResourceId: e.logicalId,
      ResourceType: e.type,
      ResourceStatus: e.status as StackEvent['ResourceStatus'],
      ResourceStatusReason: e.reason,
      Timestamp: new Date(this.clock.getTime() + this.eventCount * 1000),
    });
    this.events.set(stackId, list);
  }

  /** One DescribeStacks poll of a stack being deleted: a resource goes, or the deletion ends. */
  advance(region: string, name: string): void {
    const key = `${region}|${name}`;
    const d = this.deleting.get(key);
    const stack = this.aws.stacks.get(key);
    if (!d || !stack) return;
    const id = this.stackId(region, name);
    d.pollsLeft--;
    const resource = d.resources.shift();
    if (resource && d.pollsLeft > 0) this.event(id, name, { ...resource, status: 'DELETE_COMPLETE' });
    if (d.pollsLeft > 0) return;
    this.deleting.delete(key);
    if (d.failures.length > 0) {
      for (const f of d.failures) this.event(id, name, { logicalId: f.logicalId, type: f.type, status: 'DELETE_FAILED', reason: f.reason });
      const reason = `The following resource(s) failed to delete: [${d.failures.map((f) => f.logicalId).join(', ')}]. `;
      this.event(id, name, { logicalId: name, type: 'AWS::CloudFormation::Stack', status: 'DELETE_FAILED', reason });
      stack.status = 'DELETE_FAILED';
      return;
    }
    this.event(id, name, { logicalId: name, type: 'AWS::CloudFormation::Stack', status: 'DELETE_COMPLETE' });
    this.aws.stacks.delete(key);
    this.deleted.set(id, { name, region });
    if (!this.engineDeleted.delete(key)) this.destroyed(stack.outputs);
  }

  /** What the lab's resources do when their stack is deleted. */
  private destroyed(outputs: Record<string, string>): void {
    const aws = this.aws;
    const day = (days: number) => new Date(this.clock.getTime() + days * DAY_MS);
    for (const [name, arn] of Object.entries(outputs)) {
      if (!name.endsWith('KeyArn')) continue;
      const key = aws.keys.get(arn);
      if (!key) continue;
      const replicas = [...aws.keys.values()].filter((k) => k !== key && k.keyId === key.keyId && key.multiRegion === 'PRIMARY');
      key.state = (replicas.length > 0 ? 'PendingReplicaDeletion' : 'PendingDeletion') as typeof key.state;
      key.deletionDate = replicas.length > 0 ? undefined : day(7);
      for (const [alias, target] of aws.aliases) if (target === arn) aws.aliases.delete(alias);
    }
    for (const escrow of [outputs.ImportedMaterialEscrowSecretName, outputs.MultiRegionImportedEscrowSecretName]) {
      if (escrow && aws.secrets.has(escrow)) aws.secrets.get(escrow)!.deletedDate = this.clock;
    }
    const storeId = outputs.CustomKeyStoreId;
    const store = storeId ? aws.keyStores.get(storeId) : undefined;
    if (store) {
      store.state = 'DISCONNECTED';
      this.storeNames.set(storeId, `${this.storeName(storeId)}-delete-after-${day(8).toISOString().slice(0, 10)}`);
    }
    if (outputs.ClusterId && !this.retainedClusters.has(outputs.ClusterId)) aws.clusters.delete(outputs.ClusterId);
  }

  startDeletion(region: string, name: string): void {
    const key = `${region}|${name}`;
    const stack = this.aws.stacks.get(key);
    if (!stack || this.deleting.has(key)) return;
    const plan = this.plans.get(name) ?? {};
    stack.status = 'DELETE_IN_PROGRESS';
    this.event(this.stackId(region, name), name, { logicalId: name, type: 'AWS::CloudFormation::Stack', status: 'DELETE_IN_PROGRESS', reason: 'User Initiated' });
    const resources =
      plan.resources ??
      Object.keys(stack.outputs)
        .filter((o) => o.endsWith('KeyArn'))
        .map((o) => ({ logicalId: o.replace(/Arn$/, ''), type: 'AWS::KMS::Key' }));
    this.deleting.set(key, { pollsLeft: plan.polls ?? 2, resources, failures: plan.failures ?? [] });
  }
}

/** The lifecycle state of a fake, made on first use. */
export const lifecycle = fakePart((aws) => new LifecycleWorld(aws));

const stackRef = /^arn:aws:cloudformation:([^:]+):\d+:stack\/([^/]+)\//;
const validation = (message: string) => Object.assign(serviceError('ValidationError', message), { name: 'ValidationError' });

FakeAws.extensions.push((aws, on) => {
  const world = lifecycle(aws);
  const { cfn, kms, secrets, cloudHsm, ec2 } = fakeMocks;

  // --- CloudFormation: by name (live stacks) or by StackId (deleted ones too), as CloudFormation answers.
  on(cfn, DescribeStacksCommand, 'DescribeStacks', (i: { StackName: string }, who) => {
    const byId = stackRef.exec(i.StackName);
    const region = byId?.[1] ?? who.region;
    const name = byId?.[2] ?? i.StackName;
    const id = world.stackId(region, name);
    world.advance(region, name);
    if (byId && world.deleted.has(id) && !aws.stacks.has(`${region}|${name}`)) {
      return { Stacks: [{ StackId: id, StackName: name, StackStatus: 'DELETE_COMPLETE', CreationTime: new Date('2025-06-01T00:00:00Z') }] };
    }
    const stack = aws.stacks.get(`${region}|${name}`);
    if (!stack) throw validation(`Stack with id ${i.StackName} does not exist`);
    const reason = stack.status === 'DELETE_FAILED' ? [...(world.events.get(id) ?? [])].reverse().find((e) => e.ResourceType === 'AWS::CloudFormation::Stack')?.ResourceStatusReason : undefined;
    return {
      Stacks: [
        {
          StackId: id,
          StackName: name,
          StackStatus: stack.status,
          StackStatusReason: reason,
          CreationTime: new Date('2025-06-01T00:00:00Z'),
          Outputs: Object.entries(stack.outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
          Tags: aws.stackTags(stack),
          ...(stack.roleArn ? { RoleARN: stack.roleArn } : {}),
        },
      ],
    };
  });
  on(cfn, DeleteStackCommand, 'DeleteStack', (i: { StackName: string }, who) => {
    world.deleteRequests.push(i.StackName);
    // CloudFormation answers a DeleteStack for a stack it does not know with success.
    world.startDeletion(who.region, i.StackName);
    return {};
  });
  on(cfn, DescribeStackEventsCommand, 'DescribeStackEvents', (i: { StackName: string }, who) => {
    const byId = stackRef.exec(i.StackName);
    const region = byId?.[1] ?? who.region;
    const name = byId?.[2] ?? i.StackName;
    const id = world.stackId(region, name);
    if (!aws.stacks.has(`${region}|${name}`) && !(byId && world.deleted.has(id))) throw validation(`Stack [${i.StackName}] does not exist`);
    return { StackEvents: [...(world.events.get(id) ?? [])].reverse() };
  });

  // --- KMS lifecycle.
  const invalidState = (message: string) => new KMSInvalidStateException({ message, $metadata: {} });
  on(kms, DisableKeyCommand, 'DisableKey', (i: { KeyId: string }, who) => {
    const k = aws.resolve(i.KeyId, who.region);
    if (k.state !== 'Enabled' && k.state !== 'Disabled') throw invalidState(`${k.arn} is ${k.state === 'PendingDeletion' ? 'pending deletion' : k.state}.`);
    k.state = 'Disabled';
    return {};
  });
  on(kms, DeleteImportedKeyMaterialCommand, 'DeleteImportedKeyMaterial', (i: { KeyId: string }, who) => {
    const k = aws.resolve(i.KeyId, who.region);
    if (k.origin !== 'EXTERNAL') throw serviceError('UnsupportedOperationException', `${k.arn} origin is ${k.origin} which is not valid for this operation.`);
    if (k.state !== 'PendingDeletion') k.state = 'PendingImport';
    return {};
  });
  on(kms, ListKeysCommand, 'ListKeys', (i: { Limit?: number; Marker?: string }, who) => {
    const all = [...aws.keys.values()].filter((k) => k.region === who.region);
    const start = Number(i.Marker ?? 0);
    const page = all.slice(start, start + (i.Limit ?? 100));
    const more = start + page.length < all.length;
    return { Keys: page.map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })), Truncated: more, ...(more ? { NextMarker: String(start + page.length) } : {}) };
  });
  on(kms, ListResourceTagsCommand, 'ListResourceTags', (i: { KeyId: string }, who) => {
    const k = aws.resolve(i.KeyId, who.region);
    if (world.unreadableKeys.has(k.arn)) throw serviceError('AccessDeniedException', `User is not authorized to perform: kms:ListResourceTags on resource: ${k.arn}`);
    const tags = world.keyTags.get(k.arn) ?? world.labTags();
    return { Tags: Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })), Truncated: false };
  });
  const storeEntry = (id: string) => {
    const s = aws.keyStores.get(id)!;
    return { CustomKeyStoreId: id, CustomKeyStoreName: world.storeName(id), ConnectionState: s.state, ConnectionErrorCode: s.errorCode, CustomKeyStoreType: 'AWS_CLOUDHSM' };
  };
  on(kms, DescribeCustomKeyStoresCommand, 'DescribeCustomKeyStores', (i: { CustomKeyStoreId?: string }) => {
    if (i.CustomKeyStoreId) {
      const s = aws.keyStores.get(i.CustomKeyStoreId);
      if (!s) throw serviceError('CustomKeyStoreNotFoundException', `Custom key store ${i.CustomKeyStoreId} not found`);
      // A disconnect takes one look to finish.
      if (s.state === 'DISCONNECTING') {
        const entry = storeEntry(i.CustomKeyStoreId);
        s.state = 'DISCONNECTED';
        return { CustomKeyStores: [entry], Truncated: false };
      }
      return { CustomKeyStores: [storeEntry(i.CustomKeyStoreId)], Truncated: false };
    }
    return { CustomKeyStores: [...aws.keyStores.keys()].map(storeEntry), Truncated: false };
  });
  on(kms, DisconnectCustomKeyStoreCommand, 'DisconnectCustomKeyStore', (i: { CustomKeyStoreId: string }) => {
    const s = aws.keyStores.get(i.CustomKeyStoreId);
    if (!s) throw serviceError('CustomKeyStoreNotFoundException', `Custom key store ${i.CustomKeyStoreId} not found`);
    s.state = 'DISCONNECTING';
    return {};
  });
  on(kms, DeleteCustomKeyStoreCommand, 'DeleteCustomKeyStore', (i: { CustomKeyStoreId: string }) => {
    const s = aws.keyStores.get(i.CustomKeyStoreId);
    if (!s) throw serviceError('CustomKeyStoreNotFoundException', `Custom key store ${i.CustomKeyStoreId} not found`);
    if (s.state !== 'DISCONNECTED') throw serviceError('CustomKeyStoreInvalidStateException', `Custom key store ${i.CustomKeyStoreId} is ${s.state}`);
    if ([...aws.keys.values()].some((k) => k.customKeyStoreId === i.CustomKeyStoreId)) {
      throw serviceError('CustomKeyStoreHasCMKsException', `Custom key store ${i.CustomKeyStoreId} has KMS keys`);
    }
    aws.keyStores.delete(i.CustomKeyStoreId);
    return {};
  });

  // --- CloudHSM: by id (status) or every cluster of the Region (teardown), with the stack's tags.
  on(cloudHsm, DescribeClustersCommand, 'DescribeClusters', (i: { Filters?: { clusterIds?: string[] } }, who) => {
    const ids = i.Filters?.clusterIds ?? (who.region === aws.primary ? [...aws.clusters.keys()] : []);
    return {
      Clusters: ids
        .filter((id) => aws.clusters.has(id))
        .map((id) => {
          const c = aws.clusters.get(id)!;
          return {
            ClusterId: id,
            State: c.state,
            CreateTimestamp: c.created,
            Hsms: Array.from({ length: c.hsms }, (_, n) => ({ HsmId: `hsm-${n}`, State: 'ACTIVE' })),
            TagList: Object.entries(c.tags ?? world.labTags()).map(([Key, Value]) => ({ Key, Value })),
          };
        }),
    };
  });

  // --- EC2: the tag filter as EC2 applies it (tag:<key> = one of the values).
  const ec2Tagged = (filters: { Name: string; Values: string[] }[] | undefined, region: string, kind: string) =>
    world.ec2
      .filter((r) => r.kind === kind && (r.region ?? aws.primary) === region)
      .filter((r) => (filters ?? []).every((f) => !f.Name.startsWith('tag:') || f.Values.includes(r.tags[f.Name.slice(4)])));
  const ec2Tags = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  on(ec2, DescribeNatGatewaysCommand, 'DescribeNatGateways', (i: { Filter?: { Name: string; Values: string[] }[] }, who) => ({
    NatGateways: ec2Tagged(i.Filter, who.region, 'nat-gateway').map((r) => ({ NatGatewayId: r.id, State: r.state, Tags: ec2Tags(r.tags) })),
  }));
  on(ec2, DescribeInstancesCommand, 'DescribeInstances', (i: { Filters?: { Name: string; Values: string[] }[] }, who) => ({
    Reservations: ec2Tagged(i.Filters, who.region, 'instance').map((r) => ({ Instances: [{ InstanceId: r.id, State: { Name: r.state }, Tags: ec2Tags(r.tags) }] })),
  }));
  on(ec2, DescribeAddressesCommand, 'DescribeAddresses', (i: { Filters?: { Name: string; Values: string[] }[] }, who) => ({
    Addresses: ec2Tagged(i.Filters, who.region, 'elastic-ip').map((r) => ({ AllocationId: r.id, PublicIp: r.publicIp, Tags: ec2Tags(r.tags) })),
  }));

  // --- Secrets Manager: the tag filters match independently, as Secrets Manager's do.
  on(secrets, ListSecretsCommand, 'ListSecrets', (i: { IncludePlannedDeletion?: boolean; Filters?: { Key: string; Values: string[] }[] }, who) => {
    const list = [...aws.secrets.entries()]
      .map(([name, s]) => ({ name, s, info: world.secretInfo.get(name) ?? {} }))
      .filter(({ info }) => (info.region ?? aws.primary) === who.region)
      .filter(({ s }) => i.IncludePlannedDeletion || !s.deletedDate)
      .map(({ name, s, info }) => ({ name, deletedDate: s.deletedDate, tags: info.tags ?? world.labTags() }))
      .filter(({ tags }) =>
        (i.Filters ?? []).every((f) =>
          f.Key === 'tag-key' ? Object.keys(tags).some((k) => f.Values.includes(k)) : f.Key === 'tag-value' ? Object.values(tags).some((v) => f.Values.includes(v)) : true,
        ),
      );
    return {
      SecretList: list.map((s) => ({
        Name: s.name,
        ARN: `arn:aws:secretsmanager:${who.region}:${ACCOUNT}:secret:${s.name}-AbCdEf`,
        DeletedDate: s.deletedDate,
        Tags: Object.entries(s.tags).map(([Key, Value]) => ({ Key, Value })),
      })),
    };
  });
});
