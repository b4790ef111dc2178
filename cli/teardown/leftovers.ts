import {
  CustomKeyStoresListEntry,
  DeleteCustomKeyStoreCommand,
  DescribeCustomKeyStoresCommand,
  DescribeKeyCommand,
  DisconnectCustomKeyStoreCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms';
import { DescribeClustersCommand } from '@aws-sdk/client-cloudhsm-v2';
import { AwsClients } from '../aws/clients';
import { describeLabSecret, listLabSecrets } from '../aws/lab-secrets';
import { awsCall, CliError, sdkErrorName } from '../errors';
import { explainError, isCredentialsProblem } from '../error-messages';
import { LabSettings } from '../settings';
import { keyStoreStep, LAB_TAG, MAX_DISCONNECT_WAIT_MS, parseKeyStoreName } from './plan';
import { DeletedItem, ec2Left, hsmClusterLeft, keyLeft, KeyLeft, keyStoreLeft, LeftItem, secretLeft } from './report';
import { Waiting } from './stacks';

export { LAB_TAG };

/** What the stacks' outputs named before they were deleted: found again even if their tags were lost. */
export interface KnownResources {
  readonly keys: readonly { readonly arn: string; readonly region: string; readonly label: string }[];
  /** The escrow secrets of (c) and (e), in the primary Region ((e)'s replica in the secondary is found by its tag). */
  readonly escrowSecretNames: readonly string[];
}

export interface Leftovers {
  readonly left: LeftItem[];
  readonly deleted: DeletedItem[];
  /** Keys whose tags the operator may not read: they could not be checked. */
  readonly unreadableKeys: number;
}

export interface LeftoverContext {
  readonly settings: LabSettings;
  readonly known: KnownResources;
  readonly now: Date;
  readonly waiting: Waiting;
  /** Asks before the first change, unless the teardown was confirmed already. */
  readonly confirm: (question: string) => Promise<void>;
  /** Paragraphs of reads that failed: then the teardown cannot say that nothing billable is left. */
  readonly problems: string[];
}


/** Runs fn over items, a few at a time: KMS's request quotas are shared by the whole account. */
export async function mapFew<T, R>(items: readonly T[], fn: (item: T) => Promise<R>, concurrency = 4): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

interface LabKeyFacts extends KeyLeft {
  readonly customKeyStoreId?: string;
}

class Scan {
  unreadableKeys = 0;

  constructor(
    private readonly clients: AwsClients,
    private readonly ctx: LeftoverContext,
  ) {}

  /** A read that failed: a credentials problem ends the command, anything else is reported and the rest goes on. */
  failed(error: unknown): undefined {
    if (isCredentialsProblem(error)) throw new CliError(explainError(error));
    this.ctx.problems.push(explainError(error));
    return undefined;
  }

  /** Every key of the Region that carries the lab's tag, or that the outputs named, as DescribeKey reports it now. */
  async keys(region: string): Promise<LabKeyFacts[]> {
    const kms = this.clients.kms(region);
    const ids: string[] = [];
    try {
      let marker: string | undefined;
      do {
        const page = await awsCall({ operation: 'ListKeys', region }, () => kms.send(new ListKeysCommand({ Limit: 1000, Marker: marker })));
        for (const k of page.Keys ?? []) if (k.KeyArn) ids.push(k.KeyArn);
        marker = page.Truncated ? page.NextMarker : undefined;
      } while (marker);
    } catch (error) {
      return this.failed(error) ?? [];
    }

    const tagged = await mapFew(ids, async (arn) => {
      try {
        const answer = await awsCall({ operation: 'ListResourceTags', region, resource: arn }, () => kms.send(new ListResourceTagsCommand({ KeyId: arn })));
        return (answer.Tags ?? []).some((t) => t.TagKey === LAB_TAG && t.TagValue === this.ctx.settings.prefix) ? arn : undefined;
      } catch (error) {
        // AWS managed keys and keys whose policy does not let this identity read their tags: not checkable here.
        if (['AccessDeniedException', 'NotFoundException', 'KMSInvalidStateException'].includes(sdkErrorName(error))) {
          this.unreadableKeys++;
          return undefined;
        }
        return this.failed(error);
      }
    });
    const labels = new Map(this.ctx.known.keys.filter((k) => k.region === region).map((k) => [k.arn, k.label]));
    const arns = [...new Set([...tagged.filter((a): a is string => a !== undefined), ...labels.keys()])];

    const described = await mapFew(arns, async (arn): Promise<LabKeyFacts | undefined> => {
      try {
        const answer = await awsCall({ operation: 'DescribeKey', region, resource: arn }, () => kms.send(new DescribeKeyCommand({ KeyId: arn })));
        const m = answer.KeyMetadata;
        return {
          arn,
          region,
          state: m?.KeyState ?? 'unknown',
          deletionDate: m?.DeletionDate,
          pendingWindowDays: m?.PendingDeletionWindowInDays,
          customKeyStoreId: m?.CustomKeyStoreId,
          label: labels.get(arn),
        };
      } catch (error) {
        // Deleted at the end of its window: nothing left of it.
        if (sdkErrorName(error) === 'NotFoundException') return undefined;
        return this.failed(error);
      }
    });
    return described.filter((k): k is LabKeyFacts => k !== undefined);
  }

  /** The lab's secrets in a Region, those scheduled for deletion included. */
  async secrets(region: string): Promise<LeftItem[]> {
    const sm = this.clients.secretsManager(region);
    const found = new Map<string, LeftItem>();
    try {
      for (const s of await listLabSecrets(sm, region, this.ctx.settings.prefix)) found.set(s.name, secretLeft({ name: s.name, region, deletedDate: s.deletedDate }));
    } catch (error) {
      this.failed(error);
    }
    const escrows = region === this.ctx.settings.primaryRegion ? this.ctx.known.escrowSecretNames.filter((name) => !found.has(name)) : [];
    for (const escrow of escrows) {
      try {
        const s = await describeLabSecret(sm, region, escrow);
        if (s) found.set(escrow, secretLeft({ name: escrow, region, deletedDate: s.deletedDate }));
      } catch (error) {
        this.failed(error);
      }
    }
    return [...found.values()];
  }

  /** The lab's custom key stores (primary Region), by the names the CloudHSM stack gives them. */
  async keyStores(region: string): Promise<CustomKeyStoresListEntry[]> {
    const kms = this.clients.kms(region);
    const stores: CustomKeyStoresListEntry[] = [];
    try {
      let marker: string | undefined;
      do {
        const page = await awsCall({ operation: 'DescribeCustomKeyStores', region }, () => kms.send(new DescribeCustomKeyStoresCommand({ Marker: marker })));
        stores.push(...(page.CustomKeyStores ?? []).filter((s) => s.CustomKeyStoreName && parseKeyStoreName(s.CustomKeyStoreName, this.ctx.settings.prefix)));
        marker = page.Truncated ? page.NextMarker : undefined;
      } while (marker);
    } catch (error) {
      this.failed(error);
    }
    return stores;
  }
}

/** True when a tag list (CloudHSM's or EC2's) carries the lab's tag with this prefix. */
const hasLabTag = (tags: readonly { Key?: string; Value?: string }[] | undefined, prefix: string) => (tags ?? []).some((t) => t.Key === LAB_TAG && t.Value === prefix);

/** Scenario (d)'s CloudHSM clusters (the CfnCluster gets its stack's tags) that outlived the stack: billed while an HSM is not DELETED. */
async function hsmClusters(clients: AwsClients, scan: Scan, region: string, prefix: string): Promise<LeftItem[]> {
  const found: LeftItem[] = [];
  try {
    let token: string | undefined;
    do {
      const page = await awsCall({ operation: 'DescribeClusters', region }, () => clients.cloudHsm(region).send(new DescribeClustersCommand({ NextToken: token })));
      for (const c of page.Clusters ?? []) {
        if (!c.ClusterId || c.State === 'DELETED' || !hasLabTag(c.TagList, prefix)) continue;
        const live = (c.Hsms ?? []).filter((h) => h.State !== 'DELETED').map((h) => h.HsmId ?? '(no id)');
        found.push(hsmClusterLeft({ id: c.ClusterId, region, state: c.State ?? 'unknown', liveHsmIds: live }));
      }
      token = page.NextToken;
    } while (token);
  } catch (error) {
    scan.failed(error);
  }
  return found;
}

/** Scenario (d)'s NAT gateways, instances and Elastic IPs, by the lab's tag (the stack's tags reach them). */
async function ec2Leftovers(clients: AwsClients, scan: Scan, region: string, prefix: string): Promise<LeftItem[]> {
  const ec2 = clients.ec2(region);
  const { DescribeAddressesCommand, DescribeInstancesCommand, DescribeNatGatewaysCommand } = require('@aws-sdk/client-ec2') as typeof import('@aws-sdk/client-ec2');
  const byTag = [{ Name: `tag:${LAB_TAG}`, Values: [prefix] }];
  const found: LeftItem[] = [];
  const read = async (operation: string, fn: () => Promise<void>) => {
    try {
      await awsCall({ operation, region }, fn);
    } catch (error) {
      scan.failed(error);
    }
  };
  await read('DescribeNatGateways', async () => {
    let token: string | undefined;
    do {
      const page = await ec2.send(new DescribeNatGatewaysCommand({ Filter: byTag, NextToken: token }));
      for (const n of page.NatGateways ?? []) {
        if (n.NatGatewayId && n.State !== 'deleted' && n.State !== 'failed' && hasLabTag(n.Tags, prefix)) {
          found.push(ec2Left({ kind: 'nat-gateway', id: n.NatGatewayId, region, state: n.State ?? 'unknown' }));
        }
      }
      token = page.NextToken;
    } while (token);
  });
  await read('DescribeInstances', async () => {
    let token: string | undefined;
    do {
      const page = await ec2.send(new DescribeInstancesCommand({ Filters: byTag, NextToken: token }));
      for (const i of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
        const state = i.State?.Name ?? 'unknown';
        if (i.InstanceId && state !== 'terminated' && hasLabTag(i.Tags, prefix)) found.push(ec2Left({ kind: 'instance', id: i.InstanceId, region, state }));
      }
      token = page.NextToken;
    } while (token);
  });
  await read('DescribeAddresses', async () => {
    const answer = await ec2.send(new DescribeAddressesCommand({ Filters: byTag }));
    for (const a of answer.Addresses ?? []) {
      const id = a.AllocationId ?? a.PublicIp;
      if (id && hasLabTag(a.Tags, prefix)) found.push(ec2Left({ kind: 'elastic-ip', id, region, state: 'allocated', label: a.PublicIp }));
    }
  });
  return found;
}

/** Disconnects a store and waits for DISCONNECTED; returns the state it reached. */
async function disconnect(clients: AwsClients, region: string, store: CustomKeyStoresListEntry, waiting: Waiting): Promise<string> {
  const id = store.CustomKeyStoreId!;
  const kms = clients.kms(region);
  const call = (operation: string) => ({ operation, region, resource: id });
  if (store.ConnectionState !== 'DISCONNECTING') {
    await awsCall(call('DisconnectCustomKeyStore'), () => kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id })));
    waiting.progress(`key store ${id} (${store.CustomKeyStoreName}): ${store.ConnectionState}, disconnect requested`);
  }
  const polls = Math.max(1, Math.ceil(MAX_DISCONNECT_WAIT_MS / waiting.pollIntervalMs));
  let state = store.ConnectionState ?? 'unknown';
  for (let i = 0; i < polls && state !== 'DISCONNECTED'; i++) {
    await waiting.sleep(waiting.pollIntervalMs);
    const answer = await awsCall(call('DescribeCustomKeyStores'), () => kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id })));
    state = answer.CustomKeyStores?.[0]?.ConnectionState ?? 'unknown';
  }
  waiting.progress(`key store ${id}: ${state}`);
  return state;
}

/**
 * What the lab leaves once its stacks are gone, found without them (their
 * aliases and outputs are gone too): keys by the lab's tag (and by the ARNs
 * the outputs gave before deletion), secrets by the lab's tag, key stores by
 * name. Finishes what has become possible: a store whose date has passed and
 * whose keys are gone is deleted, a store left connected is disconnected.
 */
export async function collectLeftovers(clients: AwsClients, ctx: LeftoverContext): Promise<Leftovers> {
  const { settings, now, waiting } = ctx;
  const scan = new Scan(clients, ctx);
  const regions = [settings.primaryRegion, settings.secondaryRegion];
  const [keysByRegion, secretsByRegion, stores, clusters, ec2] = await Promise.all([
    Promise.all(regions.map((r) => scan.keys(r))),
    Promise.all(regions.map((r) => scan.secrets(r))),
    scan.keyStores(settings.primaryRegion),
    hsmClusters(clients, scan, settings.primaryRegion, settings.prefix),
    ec2Leftovers(clients, scan, settings.primaryRegion, settings.prefix),
  ]);
  const keys = keysByRegion.flat();
  const left: LeftItem[] = [...keys.map(keyLeft), ...secretsByRegion.flat(), ...clusters, ...ec2];
  const deleted: DeletedItem[] = [];

  const region = settings.primaryRegion;
  for (const store of stores) {
    const id = store.CustomKeyStoreId!;
    const name = store.CustomKeyStoreName!;
    const { deleteAfter } = parseKeyStoreName(name, settings.prefix)!;
    const keysLeft = keys.filter((k) => k.customKeyStoreId === id);
    const step = keyStoreStep({ state: store.ConnectionState ?? 'unknown', deleteAfter, keysLeft: keysLeft.length, now });
    let state = store.ConnectionState ?? 'unknown';
    let hasKeys = false;
    try {
      if (step !== 'wait') {
        const doing = step === 'disconnect' ? `disconnect the custom key store ${id} (${name}), whose stack is gone` : `delete the custom key store ${id} (${name}), which holds no more keys`;
        await ctx.confirm(`Finish the teardown of the KMS Key Lab "${settings.prefix}": ${doing}?`);
      }
      if ((step === 'disconnect' || step === 'disconnect-then-delete') && state !== 'DISCONNECTED') state = await disconnect(clients, region, store, waiting);
      if ((step === 'delete' || step === 'disconnect-then-delete') && state === 'DISCONNECTED') {
        try {
          await awsCall({ operation: 'DeleteCustomKeyStore', region, resource: id }, () => clients.kms(region).send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: id })));
          waiting.progress(`key store ${id} (${name}): deleted`);
          deleted.push({ kind: 'key-store', id, label: name, region });
          continue;
        } catch (error) {
          // Keys the lab's tag does not name (made by hand in the store, say): it waits for them too.
          if (sdkErrorName(error) !== 'CustomKeyStoreHasCMKsException') throw error;
          hasKeys = true;
        }
      }
    } catch (error) {
      if (error instanceof CliError) throw error;
      scan.failed(error);
    }
    left.push(keyStoreLeft({ id, name, region, state, deleteAfter, keysLeft, hasKeys }));
  }
  return { left, deleted, unreadableKeys: scan.unreadableKeys };
}
