// tsyringe, under @peculiar/x509, throws at import time without a Reflect polyfill.
import 'reflect-metadata';
import { randomBytes, randomUUID, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import {
  CloudHSMV2Client,
  CreateClusterCommand,
  CreateHsmCommand,
  DeleteClusterCommand,
  DeleteHsmCommand,
  DescribeClustersCommand,
  InitializeClusterCommand,
} from '@aws-sdk/client-cloudhsm-v2';
import { DescribeSubnetsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  ConnectCustomKeyStoreCommand,
  CreateAliasCommand,
  CreateCustomKeyStoreCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DeleteCustomKeyStoreCommand,
  DescribeCustomKeyStoresCommand,
  DescribeKeyCommand,
  DisconnectCustomKeyStoreCommand,
  KMSClient,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  UpdateAliasCommand,
  UpdateCustomKeyStoreCommand,
  UpdateKeyDescriptionCommand,
} from '@aws-sdk/client-kms';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { Answer, own, sdkMock } from '../../helpers/sdk-mocks';
import { FakeSecrets, serviceError } from '../import-key-material/fakes';

import { fakeDateOnly } from '../../helpers/date-only-timers';
x509.cryptoProvider.set(webcrypto);

/**
 * One stateful fake of the AWS services the CloudHSM handlers call (CloudHSM
 * v2, KMS custom key stores and keys, Secrets Manager, SSM Run Command with a
 * modelled client host, EC2 subnets, EventBridge Scheduler), on a fake clock.
 * Nothing runs by itself: every state is worked out from timestamps when
 * something looks (an API call, or a test reading the world), so
 * `advance(ms)` costs nothing and tests never wait.
 */

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const REGION = 'ap-southeast-1';
export const ACCOUNT = '111111111111';
export const START = Date.parse('2030-06-01T08:00:00Z');

/** How long things take; each can be changed per test before the action starts. */
export interface Latencies {
  clusterCreate: number;
  hsmCreate: number;
  hsmDelete: number;
  initialize: number;
  /** Between `cluster activate` and DescribeClusters saying ACTIVE. */
  activate: number;
  connect: number;
  disconnect: number;
  ssmCommand: number;
  agentOnline: number;
  /** How long a DELETED HSM stays in DescribeClusters' list. */
  deletedHsmListed: number;
}

export const DEFAULT_LATENCIES: Latencies = {
  clusterCreate: 5 * MINUTE,
  hsmCreate: 10 * MINUTE,
  hsmDelete: 3 * MINUTE,
  initialize: 5 * MINUTE,
  activate: 0,
  connect: 20 * MINUTE,
  disconnect: 5 * MINUTE,
  ssmCommand: 20 * SECOND,
  agentOnline: 3 * MINUTE,
  deletedHsmListed: 5 * MINUTE,
};

/** Resources that are invisible to the next N calls right after they are created (eventual consistency). */
export type Visibility = 'cluster' | 'hsm' | 'keyStore' | 'key' | 'alias' | 'secret' | 'command';

export type Service = 'cloudhsm' | 'kms' | 'secretsmanager' | 'ssm' | 'ec2' | 'scheduler';
export interface JournalEntry {
  readonly service: Service;
  readonly operation: string;
  readonly at: number;
}

/** `refused`: the service's invalid-request error, as CloudHSM gives while an HSM or the cluster is busy. */
export type InjectedKind = 'throttle' | '5xx' | 'accessDenied' | 'refused';

export const CONNECTION_ERROR_CODES = [
  'USER_NOT_FOUND',
  'USER_LOCKED_OUT',
  'USER_LOGGED_IN',
  'INVALID_CREDENTIALS',
  'INSUFFICIENT_CLOUDHSM_HSMS',
  'INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET',
  'NETWORK_ERRORS',
  'CLUSTER_NOT_FOUND',
  'SUBNET_NOT_FOUND',
  'INTERNAL_ERROR',
] as const;
export type ConnectionErrorCode = (typeof CONNECTION_ERROR_CODES)[number];

/** Faults a test can switch on; each models a failure seen in real accounts. */
export interface Faults {
  /** CreateHsm is refused while another HSM of the cluster is being created or deleted. */
  serializeHsmCreation: boolean;
  /** HSMs created from now on end DEGRADED instead of ACTIVE. */
  hsmNeverActive: boolean;
  /** `user create` reaches only the first ACTIVE HSM (the CLI's sync is best effort). */
  kmsUserFirstHsmOnly: boolean;
  /** Every connect ends FAILED with this code, whatever the world says. */
  forcedConnectionError?: ConnectionErrorCode;
  /** The client host's CloudHSM CLI is missing (user data failed). */
  cliMissing: boolean;
}

// ---------------------------------------------------------------- CloudHSM

export interface HsmUser {
  role: string;
  password: string;
  locked: boolean;
  failedLogins: number;
  loggedIn: boolean;
}

export interface FakeHsm {
  readonly hsmId: string;
  readonly clusterId: string;
  readonly availabilityZone: string;
  readonly subnetId: string;
  readonly eniId: string;
  readonly eniIp: string;
  state: string;
  stateMessage?: string;
  deletedAt?: number;
  users: Map<string, HsmUser>;
}

export interface FakeCluster {
  readonly clusterId: string;
  state: string;
  stateMessage?: string;
  readonly subnetMapping: Record<string, string>;
  readonly vpcId: string;
  readonly hsmType: string;
  readonly createdAt: number;
  readonly hsms: FakeHsm[];
  csr?: string;
  csrPublicKeySpki?: Buffer;
  clusterCertificate?: string;
  trustAnchor?: string;
  activated: boolean;
  /** HSMs ever made ACTIVE in this cluster: the first one carries the unactivated admin. */
  everActive: number;
}

const CLUSTER_BUSY = new Set(['CREATE_IN_PROGRESS', 'INITIALIZE_IN_PROGRESS', 'UPDATE_IN_PROGRESS', 'MODIFY_IN_PROGRESS', 'DELETE_IN_PROGRESS', 'DELETED']);
const LOCKOUT_AFTER = 5;

// The cluster's own key: RSA generation is slow, so one per test file.
let clusterKeys: Promise<webcrypto.CryptoKeyPair> | undefined;
function clusterKeyPair(): Promise<webcrypto.CryptoKeyPair> {
  clusterKeys ??= webcrypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  ) as Promise<webcrypto.CryptoKeyPair>;
  return clusterKeys;
}

// ---------------------------------------------------------------- KMS

export interface FakeKeyStore {
  readonly id: string;
  name: string;
  readonly clusterId: string;
  readonly trustAnchor: string;
  /** What KMS believes kmsuser's password is: the one given at creation, then the one it rotated to. */
  password: string;
  state: 'DISCONNECTED' | 'CONNECTING' | 'CONNECTED' | 'FAILED' | 'DISCONNECTING';
  errorCode?: string;
  readonly createdAt: number;
  /** Addresses KMS holds in the cluster subnets while connected. */
  enis: string[];
  /** Bumped on every connect/disconnect, so a timer of an earlier one does nothing. */
  generation: number;
}

export interface FakeKey {
  readonly keyId: string;
  readonly arn: string;
  readonly customKeyStoreId?: string;
  readonly cloudHsmClusterId?: string;
  readonly origin: string;
  description: string;
  policy: string;
  state: string;
  deletionDate?: Date;
  tags: Record<string, string>;
}

// ---------------------------------------------------------------- SSM

export interface FakeInstance {
  readonly instanceId: string;
  readonly launchedAt: number;
  /** What the host's files and CLI configuration hold, as the scripts left them. */
  caFile?: string;
  cliIp?: string;
}

export interface FakeCommand {
  readonly commandId: string;
  readonly instanceId: string;
  readonly comment: string;
  /** The script as SSM records it (what anyone with ssm:ListCommands can read). */
  readonly text: string;
  readonly lines: readonly string[];
  readonly requestedAt: number;
  readonly finishesAt: number;
  status: 'Pending' | 'InProgress' | 'Success' | 'Failed';
  stdout: string;
  stderr: string;
}

// ---------------------------------------------------------------- EC2 / Scheduler

export interface FakeSubnet {
  readonly subnetId: string;
  readonly availabilityZone: string;
  readonly vpcId: string;
  freeAddresses: number;
  deleted: boolean;
}

export interface FakeSchedule {
  readonly name: string;
  input: Record<string, any>;
  version: number;
  fireAt?: number;
  /** A recurring schedule's period; undefined for a one-time one. */
  everyMs?: number;
}

// ---------------------------------------------------------------- Secrets Manager

/** FakeSecrets plus GetRandomPassword, whose value is handed out and kept nowhere. */
export class WorldSecrets extends FakeSecrets {
  getRandomPassword(input: { PasswordLength?: number; ExcludePunctuation?: boolean; IncludeSpace?: boolean; ExcludeCharacters?: string }) {
    const length = input.PasswordLength ?? 32;
    if (length < 1 || length > 4096) throw serviceError('InvalidParameterException', 'PasswordLength must be between 1 and 4096.');
    let alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    if (!input.ExcludePunctuation) alphabet += '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
    if (input.IncludeSpace) alphabet += ' ';
    const chars = [...alphabet].filter((c) => !(input.ExcludeCharacters ?? '').includes(c));
    const bytes = randomBytes(length);
    return { RandomPassword: Array.from(bytes, (b) => chars[b % chars.length]).join('') };
  }

  /** The values every live or scheduled secret holds: what must never show up anywhere else. */
  /** Every value any secret has held, deleted ones included: what must never appear anywhere else. */
  values(): string[] {
    return [...this.everHeld];
  }

  private readonly everHeld = new Set<string>();

  /** Notes every value as it is written, so secrets deleted at once still count. */
  override add(name: string, value: Parameters<FakeSecrets['add']>[1] = {}) {
    if (value.string) this.everHeld.add(value.string);
    return super.add(name, value);
  }

  override putSecretValue(input: { SecretId?: string; SecretString?: string }) {
    if (input.SecretString) this.everHeld.add(input.SecretString);
    return super.putSecretValue(input);
  }
}

// ---------------------------------------------------------------- the world

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

interface Injection {
  readonly operation: string;
  /** Matching calls let through before the failures start. */
  skip: number;
  remaining: number;
  readonly kind: InjectedKind;
}

const counters = new Map<string, number>();
function nextId(prefix: string, width: number, alphabet = 'abcdefghijklmnopqrstuvwxyz234567'): string {
  const n = (counters.get(prefix) ?? 0) + 1;
  counters.set(prefix, n);
  let s = '';
  for (let v = n; s.length < width; v = Math.floor(v / alphabet.length)) s = alphabet[v % alphabet.length] + s;
  return `${prefix}${s}`;
}

export class World {
  now = START;
  readonly latency: Latencies = { ...DEFAULT_LATENCIES };
  readonly faults: Faults = { serializeHsmCreation: false, hsmNeverActive: false, kmsUserFirstHsmOnly: false, cliMissing: false };
  /** For each kind of resource: how many calls after its creation still answer NotFound (or leave it out of a list). */
  readonly eventualConsistency: Record<Visibility, number> = { cluster: 0, hsm: 0, keyStore: 0, key: 0, alias: 0, secret: 0, command: 0 };
  readonly journal: JournalEntry[] = [];

  readonly clusters = new Map<string, FakeCluster>();
  readonly stores = new Map<string, FakeKeyStore>();
  readonly keys = new Map<string, FakeKey>();
  readonly aliases = new Map<string, string>();
  readonly secrets = new WorldSecrets();
  readonly instances = new Map<string, FakeInstance>();
  readonly commands: FakeCommand[] = [];
  readonly subnets = new Map<string, FakeSubnet>();
  readonly schedules = new Map<string, FakeSchedule>();
  /** Stacks an expiry schedule asked CloudFormation to delete, with when. */
  readonly deletedStacks: { stackName: string; at: number }[] = [];

  private readonly timers: Timer[] = [];
  private seq = 0;
  private readonly injections: Injection[] = [];
  /** Per resource id: calls left during which it is still invisible. */
  private readonly invisible = new Map<string, number>();
  private readonly clockListeners: ((now: number) => void)[] = [];

  // -------------------------------------------------------------- clock

  advance(ms: number): void {
    this.now += ms;
    for (const l of this.clockListeners) l(this.now);
    this.settle();
  }

  onClock(listener: (now: number) => void): void {
    this.clockListeners.push(listener);
  }

  /** Runs fn at now + delay (lazily: when the world is next looked at after that time). */
  schedule(delayMs: number, fn: () => void): void {
    this.timers.push({ at: this.now + delayMs, seq: this.seq++, fn });
  }

  /** Applies every change that is due, in time order. */
  settle(): void {
    for (;;) {
      const due = this.timers.filter((t) => t.at <= this.now).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) return;
      this.timers.splice(this.timers.indexOf(due), 1);
      due.fn();
    }
  }

  // -------------------------------------------------------------- faults

  /** The next `calls` calls of `operation` ('*' for any) fail as `kind`, after `skip` calls that succeed. */
  failNext(operation: string, calls: number, kind: InjectedKind, skip = 0): void {
    this.injections.push({ operation, skip, remaining: calls, kind });
  }

  private injected(service: Service, operation: string): void {
    const hit = this.injections.find((i) => i.remaining > 0 && (i.operation === '*' || i.operation === operation));
    if (!hit) return;
    if (hit.skip > 0) {
      hit.skip--;
      return;
    }
    hit.remaining--;
    throw injectedError(service, operation, hit.kind);
  }

  /**
   * An IAM principal created moments ago: KMS refuses a key policy naming it for the next `calls` CreateKey or
   * PutKeyPolicy calls. "The principals in the key policy must exist and be visible to KMS. When you create a new
   * AWS principal, you might need to enforce a delay before including the new principal in a key policy because
   * the new principal might not be immediately visible to KMS" (KMS API reference, CreateKey and PutKeyPolicy,
   * Policy); KMS answers MalformedPolicyDocumentException (see also aws-facts: CloudFormation's AWS::KMS::Key does
   * not retry it). The docs give no duration: tests choose the number of calls.
   */
  principalCreated(arn: string, calls: number): void {
    this.invisible.set(`principal:${arn}`, calls);
  }

  /** Each principal a key policy names must be visible to KMS; each check spends one call of an invisible one. */
  private checkPolicyPrincipals(policy: string): void {
    const statements = (JSON.parse(policy) as { Statement: { Principal?: { AWS?: string | string[] } }[] }).Statement;
    const principals = statements.flatMap((st) => [st.Principal?.AWS ?? []].flat());
    const unseen = principals.filter((arn) => this.stillInvisible(`principal:${arn}`));
    if (unseen.length > 0) throw serviceError('MalformedPolicyDocumentException', 'Policy contains a statement with one or more invalid principals.');
  }

  private becomesVisibleLater(kind: Visibility, id: string): void {
    if (this.eventualConsistency[kind] > 0) this.invisible.set(id, this.eventualConsistency[kind]);
  }

  /** True while `id` is still invisible; each look spends one call. */
  private stillInvisible(id: string): boolean {
    const left = this.invisible.get(id) ?? 0;
    if (left <= 0) return false;
    this.invisible.set(id, left - 1);
    return true;
  }

  /**
   * A secret created moments ago is not found for the next `eventualConsistency.secret` calls on it: "Secrets Manager
   * uses an eventually consistent computing model ... changes might not be immediately visible"
   * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html#troubleshoot_general_eventual-consistency).
   * The world's own Secrets Manager, or a composed deploy's (test/deploy/cloudhsm-lab-deploy.ts), asks.
   */
  secretCreated(name: string): void {
    this.becomesVisibleLater('secret', `secret:${name}`);
  }

  /** True while the secret is still invisible; each look spends one call. */
  secretStillInvisible(name: string): boolean {
    return this.stillInvisible(`secret:${name}`);
  }

  /** Calls made since `since`, optionally of one service, for counting calls while waiting. */
  calls(filter: { service?: Service; operation?: string; since?: number; until?: number } = {}): JournalEntry[] {
    return this.journal.filter(
      (j) =>
        (!filter.service || j.service === filter.service) &&
        (!filter.operation || j.operation === filter.operation) &&
        j.at >= (filter.since ?? -Infinity) &&
        j.at <= (filter.until ?? Infinity),
    );
  }

  // -------------------------------------------------------------- EC2

  addSubnet(availabilityZone: string, freeAddresses = 250): FakeSubnet {
    const subnet: FakeSubnet = { subnetId: nextId('subnet-0', 16, '0123456789abcdef'), availabilityZone, vpcId: 'vpc-0lab', freeAddresses, deleted: false };
    this.subnets.set(subnet.subnetId, subnet);
    return subnet;
  }

  describeSubnets(input: { SubnetIds?: string[] }) {
    const ids = input.SubnetIds ?? [...this.subnets.keys()];
    for (const id of ids) {
      const s = this.subnets.get(id);
      if (!s || s.deleted) throw serviceError('InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`);
    }
    return {
      Subnets: ids.map((id) => {
        const s = this.subnets.get(id)!;
        return { SubnetId: s.subnetId, AvailabilityZone: s.availabilityZone, VpcId: s.vpcId, AvailableIpAddressCount: s.freeAddresses, State: 'available' };
      }),
    };
  }

  private takeAddress(subnetId: string): boolean {
    const s = this.subnets.get(subnetId);
    if (!s || s.deleted || s.freeAddresses < 1) return false;
    s.freeAddresses--;
    return true;
  }

  private releaseAddress(subnetId: string): void {
    const s = this.subnets.get(subnetId);
    if (s && !s.deleted) s.freeAddresses++;
  }

  // -------------------------------------------------------------- CloudHSM

  createCluster(input: { SubnetIds?: string[]; HsmType?: string }) {
    const subnetMapping: Record<string, string> = {};
    for (const id of input.SubnetIds ?? []) {
      const s = this.subnets.get(id);
      if (!s || s.deleted) throw serviceError('CloudHsmInvalidRequestException', `Subnet ${id} does not exist.`);
      if (subnetMapping[s.availabilityZone]) throw serviceError('CloudHsmInvalidRequestException', 'Only one subnet per Availability Zone.');
      subnetMapping[s.availabilityZone] = id;
    }
    const cluster: FakeCluster = {
      clusterId: nextId('cluster-', 11),
      state: 'CREATE_IN_PROGRESS',
      subnetMapping,
      vpcId: 'vpc-0lab',
      hsmType: input.HsmType ?? 'hsm2m.medium',
      createdAt: this.now,
      hsms: [],
      activated: false,
      everActive: 0,
    };
    this.clusters.set(cluster.clusterId, cluster);
    this.becomesVisibleLater('cluster', cluster.clusterId);
    this.schedule(this.latency.clusterCreate, () => {
      if (cluster.state === 'CREATE_IN_PROGRESS') cluster.state = 'UNINITIALIZED';
    });
    return { Cluster: this.clusterView(cluster) };
  }

  private cluster(clusterId: string | undefined): FakeCluster {
    const c = this.clusters.get(clusterId ?? '');
    if (!c || c.state === 'DELETED') throw serviceError('CloudHsmResourceNotFoundException', `Cluster ${clusterId} not found.`);
    return c;
  }

  async describeClusters(input: { Filters?: Record<string, string[]> }) {
    const ids = input.Filters?.clusterIds;
    const found = [...this.clusters.values()].filter((c) => !ids || ids.includes(c.clusterId)).filter((c) => !this.stillInvisible(c.clusterId));
    for (const c of found) await this.ensureCsr(c);
    return { Clusters: found.map((c) => this.clusterView(c, true)) };
  }

  private clusterView(c: FakeCluster, honourVisibility = false) {
    const listed = c.hsms.filter(
      (h) => !(h.state === 'DELETED' && this.now - (h.deletedAt ?? 0) >= this.latency.deletedHsmListed) && !(honourVisibility && this.stillInvisible(h.hsmId)),
    );
    return {
      ClusterId: c.clusterId,
      State: c.state,
      StateMessage: c.stateMessage,
      HsmType: c.hsmType,
      VpcId: c.vpcId,
      SecurityGroup: `sg-${c.clusterId}`,
      SubnetMapping: { ...c.subnetMapping },
      CreateTimestamp: new Date(c.createdAt),
      Hsms: listed.map((h) => ({
        HsmId: h.hsmId,
        ClusterId: h.clusterId,
        AvailabilityZone: h.availabilityZone,
        SubnetId: h.subnetId,
        EniId: h.eniId,
        EniIp: h.eniIp,
        State: h.state,
        StateMessage: h.stateMessage,
      })),
      Certificates: {
        ...(c.csr && c.state === 'UNINITIALIZED' ? { ClusterCsr: c.csr } : {}),
        ...(c.clusterCertificate ? { ClusterCertificate: c.clusterCertificate } : {}),
      },
    };
  }

  /**
   * The CSR appears once the first HSM is ACTIVE in an UNINITIALIZED cluster:
   * a real PKCS#10 request over the cluster's own RSA key.
   */
  private async ensureCsr(c: FakeCluster): Promise<void> {
    if (c.csr || c.state !== 'UNINITIALIZED' || !c.hsms.some((h) => h.state === 'ACTIVE')) return;
    const keys = await clusterKeyPair();
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      // JSON form: the CN holds a comma, as a real cluster CSR's does.
      name: [{ C: ['US'] }, { ST: ['CA'] }, { L: ['San Jose'] }, { O: ['Cavium'] }, { OU: ['N3FIPS'] }, { CN: [`HSM:${c.clusterId}:PARTN:1, for FIPS mode`] }],
      keys,
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    });
    c.csr = csr.toString('pem');
    c.csrPublicKeySpki = Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey));
  }

  /** The cluster CSR, as a test that plays the CA by hand would download it. */
  async clusterCsr(clusterId: string): Promise<string | undefined> {
    this.settle();
    const c = this.cluster(clusterId);
    await this.ensureCsr(c);
    return c.csr;
  }

  createHsm(input: { ClusterId?: string; AvailabilityZone?: string; IpAddress?: string }) {
    const c = this.cluster(input.ClusterId);
    if (CLUSTER_BUSY.has(c.state)) throw serviceError('CloudHsmInvalidRequestException', `Cluster '${c.clusterId}' is in state ${c.state}.`);
    const subnetId = c.subnetMapping[input.AvailabilityZone ?? ''];
    if (!subnetId) throw serviceError('CloudHsmInvalidRequestException', `The cluster has no subnet in ${input.AvailabilityZone}.`);
    const live = c.hsms.filter((h) => h.state !== 'DELETED');
    // Real CloudHSM: a second HSM waits until the cluster is activated (the CSR comes from the first one).
    if (live.length > 0 && c.state !== 'ACTIVE') {
      throw serviceError('CloudHsmInvalidRequestException', `Cluster '${c.clusterId}' already contains an HSM but has not yet been fully activated`);
    }
    if (this.faults.serializeHsmCreation && live.some((h) => h.state === 'CREATE_IN_PROGRESS' || h.state === 'DELETE_IN_PROGRESS')) {
      throw serviceError('CloudHsmInvalidRequestException', `Cluster '${c.clusterId}' is busy: another HSM is being created or deleted.`);
    }
    if (input.IpAddress && live.some((h) => h.eniIp === input.IpAddress)) {
      throw serviceError('CloudHsmInvalidRequestException', `The IP address ${input.IpAddress} is already in use.`);
    }
    if (!this.takeAddress(subnetId)) throw serviceError('CloudHsmInvalidRequestException', `Subnet ${subnetId} has no free IP address.`);
    const hsm: FakeHsm = {
      hsmId: nextId('hsm-', 11),
      clusterId: c.clusterId,
      availabilityZone: input.AvailabilityZone!,
      subnetId,
      eniId: nextId('eni-0', 16, '0123456789abcdef'),
      eniIp: input.IpAddress ?? `10.0.${c.hsms.length}.${10 + c.hsms.length}`,
      state: 'CREATE_IN_PROGRESS',
      users: new Map(),
    };
    c.hsms.push(hsm);
    this.becomesVisibleLater('hsm', hsm.hsmId);
    const degrade = this.faults.hsmNeverActive;
    this.schedule(this.latency.hsmCreate, () => {
      if (hsm.state !== 'CREATE_IN_PROGRESS') return;
      if (degrade) {
        hsm.state = 'DEGRADED';
        hsm.stateMessage = 'HSM creation failed. Please delete this HSM and try again.';
        return;
      }
      hsm.state = 'ACTIVE';
      this.provisionUsers(c, hsm);
    });
    return { Hsm: { HsmId: hsm.hsmId, ClusterId: c.clusterId, AvailabilityZone: hsm.availabilityZone, EniIp: hsm.eniIp, State: hsm.state } };
  }

  /** A new HSM is a clone of the cluster: it carries the users of an ACTIVE peer, or the factory users. */
  private provisionUsers(c: FakeCluster, hsm: FakeHsm): void {
    const peer = c.hsms.find((h) => h !== hsm && h.state === 'ACTIVE');
    if (peer) hsm.users = new Map([...peer.users].map(([name, u]) => [name, { ...u, loggedIn: false }]));
    else {
      hsm.users = new Map([['app_user', { role: 'internal(APPLIANCE_USER)', password: randomUUID(), locked: false, failedLogins: 0, loggedIn: false }]]);
      if (!c.activated && c.everActive === 0) hsm.users.set('admin', { role: 'unactivated-admin', password: 'password', locked: false, failedLogins: 0, loggedIn: false });
    }
    c.everActive++;
  }

  deleteHsm(input: { ClusterId?: string; HsmId?: string; EniIp?: string }) {
    const c = this.cluster(input.ClusterId);
    const hsm = c.hsms.find((h) => (input.HsmId ? h.hsmId === input.HsmId : h.eniIp === input.EniIp) && h.state !== 'DELETED');
    if (!hsm) throw serviceError('CloudHsmResourceNotFoundException', `HSM ${input.HsmId ?? input.EniIp} not found.`);
    if (hsm.state === 'DELETE_IN_PROGRESS') throw serviceError('CloudHsmInvalidRequestException', `HSM ${hsm.hsmId} is already being deleted.`);
    hsm.state = 'DELETE_IN_PROGRESS';
    hsm.stateMessage = undefined;
    this.schedule(this.latency.hsmDelete, () => {
      hsm.state = 'DELETED';
      hsm.deletedAt = this.now;
      hsm.users.clear();
      this.releaseAddress(hsm.subnetId);
    });
    return { HsmId: hsm.hsmId };
  }

  deleteCluster(input: { ClusterId?: string }) {
    const c = this.cluster(input.ClusterId);
    if (c.hsms.some((h) => h.state !== 'DELETED')) throw serviceError('CloudHsmInvalidRequestException', 'Delete every HSM of the cluster first.');
    c.state = 'DELETED';
    return { Cluster: this.clusterView(c) };
  }

  initializeCluster(input: { ClusterId?: string; SignedCert?: string; TrustAnchor?: string }) {
    const c = this.cluster(input.ClusterId);
    if (c.state !== 'UNINITIALIZED' || !c.csr) {
      throw serviceError('CloudHsmInvalidRequestException', `Cluster '${c.clusterId}' is in state ${c.state}${c.csr ? '' : ' and has no CSR yet'}.`);
    }
    const refuse = (why: string) => {
      throw serviceError('CloudHsmInvalidRequestException', `InitializeCluster: ${why}`);
    };
    if ((input.SignedCert ?? '').length > 5000) refuse('SignedCert is longer than 5000 characters.');
    let signed: X509Certificate;
    let anchor: X509Certificate;
    try {
      signed = new X509Certificate(input.SignedCert ?? '');
      anchor = new X509Certificate(input.TrustAnchor ?? '');
    } catch {
      return refuse('SignedCert and TrustAnchor must be PEM certificates.');
    }
    if (!anchor.verify(anchor.publicKey) || !anchor.checkIssued(anchor)) refuse('the trust anchor is not a self-signed certificate.');
    if (!signed.checkIssued(anchor) || !signed.verify(anchor.publicKey)) refuse('the signed certificate does not chain to the trust anchor.');
    const certifiedKey = signed.publicKey.export({ type: 'spki', format: 'der' });
    if (!c.csrPublicKeySpki || !certifiedKey.equals(c.csrPublicKeySpki)) refuse("the signed certificate does not certify the cluster CSR's key.");
    c.state = 'INITIALIZE_IN_PROGRESS';
    this.schedule(this.latency.initialize, () => {
      if (c.state !== 'INITIALIZE_IN_PROGRESS') return;
      c.state = 'INITIALIZED';
      c.clusterCertificate = input.SignedCert;
      c.trustAnchor = input.TrustAnchor;
      c.csr = undefined;
    });
    return { State: c.state, StateMessage: 'Cluster is initializing.' };
  }

  /** ACTIVE HSMs of the cluster, in creation order. */
  activeHsms(clusterId: string): FakeHsm[] {
    this.settle();
    return this.clusters.get(clusterId)?.hsms.filter((h) => h.state === 'ACTIVE') ?? [];
  }

  /** HSMs still billed: every one not DELETED (what a failed deploy must not leave behind). */
  remainingHsms(clusterId: string): FakeHsm[] {
    this.settle();
    return this.clusters.get(clusterId)?.hsms.filter((h) => h.state !== 'DELETED') ?? [];
  }

  // ---- the CloudHSM CLI, as the client host (or a person on it) runs it

  /** `cluster activate --password`: sets the admin password on every ACTIVE HSM. */
  cliActivate(clusterId: string, password: string): string | undefined {
    const c = this.cluster(clusterId);
    if (c.activated || c.state !== 'INITIALIZED') return `cluster is ${c.activated ? 'already activated' : c.state}`;
    if (password.length < 7 || password.length > 32) return 'password must be 7 to 32 characters';
    c.activated = true;
    for (const h of c.hsms.filter((x) => x.state === 'ACTIVE')) {
      h.users.set('admin', { role: 'admin', password, locked: false, failedLogins: 0, loggedIn: false });
    }
    this.schedule(this.latency.activate, () => {
      if (c.state === 'INITIALIZED') c.state = 'ACTIVE';
    });
    return undefined;
  }

  /** An admin login as the CLI does it (on every ACTIVE HSM); undefined on success, else why not. */
  cliLogin(clusterId: string, username: string, password: string): string | undefined {
    const c = this.cluster(clusterId);
    const hsms = c.hsms.filter((h) => h.state === 'ACTIVE');
    if (!c.activated) return 'the cluster is not activated';
    if (hsms.length === 0) return 'no HSM is reachable';
    for (const h of hsms) {
      const u = h.users.get(username);
      if (!u) return `user ${username} not found`;
      if (u.locked) return `user ${username} is locked`;
      if (u.password !== password) {
        u.failedLogins++;
        if (u.failedLogins >= LOCKOUT_AFTER) u.locked = true;
        return 'invalid credentials';
      }
    }
    return undefined;
  }

  /** `user create` as admin: best-effort sync, so with the fault it reaches only the first HSM. */
  cliCreateUser(clusterId: string, username: string, role: string, password: string): string | undefined {
    const c = this.cluster(clusterId);
    const hsms = c.hsms.filter((h) => h.state === 'ACTIVE');
    if (hsms.some((h) => h.users.has(username))) return `user ${username} already exists`;
    if (password.length < 7 || password.length > 32) return 'password must be 7 to 32 characters';
    for (const h of this.faults.kmsUserFirstHsmOnly ? hsms.slice(0, 1) : hsms) {
      h.users.set(username, { role, password, locked: false, failedLogins: 0, loggedIn: false });
    }
    return undefined;
  }

  /** `user list` JSON as the CloudHSM CLI prints it. */
  cliUserList(clusterId: string): string {
    const hsms = this.cluster(clusterId).hsms.filter((h) => h.state === 'ACTIVE');
    const names = [...new Set(hsms.flatMap((h) => [...h.users.keys()]))].sort();
    const users = names.map((username) => {
      const holders = hsms.map((h) => h.users.get(username)).filter((u): u is HsmUser => u !== undefined);
      const same = <T>(values: T[]) => (values.every((v) => v === values[0]) ? values[0] : 'inconsistent');
      return {
        username,
        role: same(holders.map((u) => u.role)),
        locked: same(holders.map((u) => String(u.locked))),
        mfa: [],
        quorum: [],
        'cluster-coverage': holders.length === hsms.length ? 'full' : 'inconsistent',
      };
    });
    return JSON.stringify({ error_code: 0, data: { users } }, null, 2);
  }

  /** A test playing the person who sets kmsuser up by hand, or breaks it. */
  user(clusterId: string, username: string): { hsm: FakeHsm; user: HsmUser }[] {
    return this.activeHsms(clusterId).flatMap((hsm) => (hsm.users.has(username) ? [{ hsm, user: hsm.users.get(username)! }] : []));
  }

  // -------------------------------------------------------------- SSM and the client host

  launchInstance(): FakeInstance {
    const instance: FakeInstance = { instanceId: nextId('i-0', 17, '0123456789abcdef'), launchedAt: this.now };
    this.instances.set(instance.instanceId, instance);
    return instance;
  }

  private online(instanceId: string): boolean {
    const i = this.instances.get(instanceId);
    return i !== undefined && this.now >= i.launchedAt + this.latency.agentOnline;
  }

  describeInstanceInformation(input: { Filters?: { Key?: string; Values?: string[] }[] }) {
    const ids = input.Filters?.find((f) => f.Key === 'InstanceIds')?.Values;
    const list = [...this.instances.values()].filter((i) => (!ids || ids.includes(i.instanceId)) && this.online(i.instanceId));
    return { InstanceInformationList: list.map((i) => ({ InstanceId: i.instanceId, PingStatus: 'Online', PlatformType: 'Linux' })) };
  }

  sendCommand(input: { InstanceIds?: string[]; DocumentName?: string; Comment?: string; Parameters?: Record<string, string[]>; TimeoutSeconds?: number }) {
    const instanceId = input.InstanceIds?.[0] ?? '';
    if (input.InstanceIds?.length !== 1 || !this.online(instanceId)) throw serviceError('InvalidInstanceId', 'Instances not in a valid state for account');
    if (input.DocumentName !== 'AWS-RunShellScript') throw serviceError('InvalidDocument', `Document ${input.DocumentName} is not modelled.`);
    if ((input.Comment ?? '').length > 100) throw serviceError('ValidationException', 'Comment must be at most 100 characters.');
    const lines = input.Parameters?.commands ?? [];
    const command: FakeCommand = {
      commandId: randomUUID(),
      instanceId,
      comment: input.Comment ?? '',
      text: lines.join('\n'),
      lines,
      requestedAt: this.now,
      finishesAt: this.now + this.latency.ssmCommand,
      status: 'Pending',
      stdout: '',
      stderr: '',
    };
    this.commands.push(command);
    this.becomesVisibleLater('command', command.commandId);
    this.schedule(Math.min(SECOND, this.latency.ssmCommand), () => {
      if (command.status === 'Pending') command.status = 'InProgress';
    });
    this.schedule(this.latency.ssmCommand, () => this.runOnHost(command));
    return { Command: { CommandId: command.commandId, Comment: command.comment, Status: command.status, RequestedDateTime: new Date(command.requestedAt) } };
  }

  listCommands(input: { InstanceId?: string; CommandId?: string; MaxResults?: number }) {
    const found = this.commands
      .filter((c) => (!input.InstanceId || c.instanceId === input.InstanceId) && (!input.CommandId || c.commandId === input.CommandId))
      .sort((a, b) => b.requestedAt - a.requestedAt)
      .slice(0, input.MaxResults ?? 50);
    return {
      Commands: found.map((c) => ({
        CommandId: c.commandId,
        Comment: c.comment,
        Status: c.status,
        RequestedDateTime: new Date(c.requestedAt),
        InstanceIds: [c.instanceId],
        DocumentName: 'AWS-RunShellScript',
        Parameters: { commands: [...c.lines] },
      })),
    };
  }

  getCommandInvocation(input: { CommandId?: string; InstanceId?: string }) {
    const c = this.commands.find((x) => x.commandId === input.CommandId && x.instanceId === input.InstanceId);
    // SSM documents this one: right after SendCommand, the invocation may not exist yet (ListCommands is modelled as consistent).
    if (!c || this.stillInvisible(c.commandId)) throw serviceError('InvocationDoesNotExist', 'The command invocation does not exist.');
    return {
      CommandId: c.commandId,
      InstanceId: c.instanceId,
      Comment: c.comment,
      Status: c.status,
      StatusDetails: c.status,
      ResponseCode: c.status === 'Success' ? 0 : c.status === 'Failed' ? 1 : -1,
      StandardOutputContent: c.stdout.slice(0, 24_000),
      StandardErrorContent: c.stderr.slice(0, 8_000),
    };
  }

  /**
   * The host runs the script: each line the lab's scripts use is modelled
   * (secrets are read from Secrets Manager when the script runs, the CLI acts
   * on the fake cluster); a line it does not know fails the command, so a
   * script change is noticed.
   */
  private runOnHost(command: FakeCommand): void {
    const host = this.instances.get(command.instanceId)!;
    const env = new Map<string, string>();
    const out: string[] = [];
    const err: string[] = [];
    const finish = (ok: boolean) => {
      command.status = ok ? 'Success' : 'Failed';
      command.stdout = out.length ? `${out.join('\n')}\n` : '';
      command.stderr = err.length ? `${err.join('\n')}\n` : '';
    };
    const expand = (s: string) => s.replace(/\$\{?([A-Z_]+)\}?/g, (_, v: string) => env.get(v) ?? '');
    const cli = (envPart: string, args: string): { ok: boolean; stdout: string; stderr: string } => {
      const fail = (why: string) => ({ ok: false, stdout: JSON.stringify({ error_code: 1, data: why }), stderr: '' });
      if (this.faults.cliMissing) return { ok: false, stdout: '', stderr: 'cloudhsm-cli: No such file or directory' };
      const cluster = [...this.clusters.values()].find((c) => c.state !== 'DELETED' && c.hsms.some((h) => h.eniIp === host.cliIp && h.state === 'ACTIVE'));
      if (!cluster) return fail(`Failed to connect to the HSM at ${host.cliIp ?? '(not configured)'}`);
      if (cluster.trustAnchor && host.caFile && !sameCertificate(host.caFile, cluster.trustAnchor)) {
        return fail('TLS handshake failed: the HSM certificate does not chain to /opt/cloudhsm/etc/customerCA.crt');
      }
      const pin = /CLOUDHSM_PIN="([^:"]*):([^"]*)"/.exec(envPart);
      const login = () => (pin ? this.cliLogin(cluster.clusterId, pin[1], expand(pin[2])) : 'not logged in');
      const a = /^(\S+ \S+)(.*)$/.exec(args.trim());
      const verb = a?.[1] ?? args.trim();
      const opt = (name: string) => {
        const m = new RegExp(`--${name} ("[^"]*"|\\S+)`).exec(a?.[2] ?? '');
        return m ? expand(m[1].replace(/^"|"$/g, '')) : undefined;
      };
      switch (verb) {
        case 'cluster activate': {
          const problem = this.cliActivate(cluster.clusterId, opt('password') ?? '');
          return problem ? fail(problem) : { ok: true, stdout: JSON.stringify({ error_code: 0, data: 'Cluster activation successful' }), stderr: '' };
        }
        case 'user list': {
          // Anyone may list users; with CLOUDHSM_PIN set the CLI logs in first, and a failed login fails the command.
          const problem = pin ? login() : undefined;
          return problem ? fail(`Login failed: ${problem}`) : { ok: true, stdout: this.cliUserList(cluster.clusterId), stderr: '' };
        }
        case 'user create': {
          const problem = login() ?? this.cliCreateUser(cluster.clusterId, opt('username') ?? '', opt('role') ?? '', opt('password') ?? '');
          return problem ? fail(problem) : { ok: true, stdout: JSON.stringify({ error_code: 0, data: { username: opt('username'), role: opt('role') } }), stderr: '' };
        }
        default:
          return fail(`unmodelled CLI command: ${verb}`);
      }
    };
    const CLI = '/opt/cloudhsm/bin/cloudhsm-cli';
    const cliCall = new RegExp(`^((?:CLOUDHSM_\\w+=(?:"[^"]*"|\\S+) )*)${CLI} (.+?)(?: >/dev/null)?$`);

    for (const raw of command.lines) {
      const line = raw.trim();
      let m: RegExpExecArray | null;
      if (line === 'set -euo pipefail' || line === 'set +x') continue;
      if (line.startsWith('for i in $(seq 1 60); do [ -x ')) continue; // waits for the CLI
      // Installs the CLI when the boot did not: a host whose user data failed gets it here (the fault cliMissing
      // stands for a host where even this fails, the download being out of reach).
      if (/^\[ -x \S+ \] \|\| for i in 1 2 3; do dnf install -y '[^']+' >\/dev\/null && break; sleep 15; done$/.test(line)) continue;
      if ((m = /^\[ -x \S+ \] \|\| \{ echo "([^"]*)" >&2; exit (\d+); \}$/.exec(line))) {
        if (this.faults.cliMissing) {
          err.push(m[1]);
          return finish(false);
        }
        continue;
      }
      if ((m = /^cat > \/opt\/cloudhsm\/etc\/customerCA\.crt <<'(\w+)'\n([\s\S]*)\n\1$/.exec(raw))) {
        host.caFile = m[2];
        continue;
      }
      if ((m = /^\/opt\/cloudhsm\/bin\/configure-cli -a (\S+)$/.exec(line))) {
        host.cliIp = m[1];
        continue;
      }
      if ((m = /^(\w+)="\$\(aws secretsmanager get-secret-value --region \S* --secret-id '([^']+)' --query SecretString --output text\)"$/.exec(line))) {
        try {
          env.set(m[1], this.secretString(m[2]));
        } catch (e) {
          err.push(`An error occurred (${(e as Error).name}) when calling the GetSecretValue operation: ${(e as Error).message}`);
          return finish(false);
        }
        continue;
      }
      if ((m = /^echo "?([^"]*)"?$/.exec(line))) {
        out.push(m[1]);
        continue;
      }
      // printUserList: the list, or the marker when the CLI fails.
      if ((m = /^(.*) \|\| echo "([^"]+)"$/.exec(line)) && cliCall.test(m[1])) {
        const [, envPart, args] = cliCall.exec(m[1])!;
        const r = cli(envPart, args);
        if (r.stdout) out.push(r.stdout);
        if (r.stderr) err.push(r.stderr);
        if (!r.ok) out.push(m[2]);
        continue;
      }
      // The activation script's "create kmsuser unless it exists".
      if ((m = /^if (.+?) \| python3 -c '.*"username"\)=="(\w+)".*'; then echo "([^"]*)"; else (.+?) && echo "([^"]*)"; fi$/.exec(line))) {
        const [, listCall, username, present, createCall, created] = m;
        const listed = cliCall.exec(listCall);
        const r = listed ? cli(listed[1], listed[2]) : { ok: false, stdout: '', stderr: '' };
        const exists = r.ok && JSON.parse(r.stdout).data.users.some((u: { username: string }) => u.username === username);
        if (exists) {
          out.push(present);
          continue;
        }
        const create = cliCall.exec(createCall);
        const c = create ? cli(create[1], create[2]) : { ok: false, stdout: 'unmodelled', stderr: '' };
        if (c.ok) out.push(created);
        // `a && b` inside `else` does not trip `set -e`: the script goes on.
        else err.push(c.stdout, c.stderr);
        continue;
      }
      if ((m = cliCall.exec(line))) {
        const r = cli(m[1], m[2]);
        if (!line.endsWith('>/dev/null') && r.stdout) out.push(r.stdout);
        if (!r.ok) {
          err.push(r.stdout, r.stderr);
          return finish(false); // set -e
        }
        continue;
      }
      err.push(`fake host: unmodelled script line: ${line.slice(0, 120)}`);
      return finish(false);
    }
    finish(true);
  }

  // -------------------------------------------------------------- KMS custom key stores

  private clusterConfigProblem(c: FakeCluster): string | undefined {
    const active = c.hsms.filter((h) => h.state === 'ACTIVE');
    const zones = new Set(active.map((h) => h.availabilityZone));
    if (active.length < 2 || zones.size < 2) return `The cluster needs at least two active HSMs in different Availability Zones; it has ${active.length}.`;
    if (Object.keys(c.subnetMapping).length < 2) return 'The cluster needs subnets in at least two Availability Zones.';
    return undefined;
  }

  createCustomKeyStore(input: { CustomKeyStoreName?: string; CloudHsmClusterId?: string; TrustAnchorCertificate?: string; KeyStorePassword?: string; CustomKeyStoreType?: string }) {
    const name = input.CustomKeyStoreName ?? '';
    if ([...this.stores.values()].some((s) => s.name === name)) throw serviceError('CustomKeyStoreNameInUseException', `Custom key store name ${name} is in use.`);
    const c = this.clusters.get(input.CloudHsmClusterId ?? '');
    if (!c || c.state === 'DELETED') throw serviceError('CloudHsmClusterNotFoundException', `Cluster ${input.CloudHsmClusterId} not found.`);
    if ([...this.stores.values()].some((s) => s.clusterId === c.clusterId)) {
      throw serviceError('CloudHsmClusterInUseException', `Cluster ${c.clusterId} is already associated with a custom key store.`);
    }
    if (c.state !== 'ACTIVE') throw serviceError('CloudHsmClusterNotActiveException', `Cluster ${c.clusterId} is not active.`);
    const config = this.clusterConfigProblem(c);
    if (config) throw serviceError('CloudHsmClusterInvalidConfigurationException', config);
    if (!c.trustAnchor || !sameCertificate(input.TrustAnchorCertificate ?? '', c.trustAnchor)) {
      throw serviceError('IncorrectTrustAnchorException', 'The trust anchor certificate does not match the cluster trust anchor.');
    }
    const password = input.KeyStorePassword ?? '';
    if (password.length < 7 || password.length > 32) throw serviceError('ValidationException', 'KeyStorePassword must be 7 to 32 characters.');
    const store: FakeKeyStore = {
      id: nextId('cks-', 17, '0123456789abcdef'),
      name,
      clusterId: c.clusterId,
      trustAnchor: input.TrustAnchorCertificate!,
      password,
      state: 'DISCONNECTED',
      createdAt: this.now,
      enis: [],
      generation: 0,
    };
    this.stores.set(store.id, store);
    this.becomesVisibleLater('keyStore', store.id);
    return { CustomKeyStoreId: store.id };
  }

  private store(id: string | undefined): FakeKeyStore {
    const s = this.stores.get(id ?? '');
    if (!s || this.stillInvisible(s.id)) throw serviceError('CustomKeyStoreNotFoundException', `Custom key store ${id} not found.`);
    return s;
  }

  describeCustomKeyStores(input: { CustomKeyStoreId?: string; CustomKeyStoreName?: string }) {
    let found = [...this.stores.values()];
    if (input.CustomKeyStoreId) found = [this.store(input.CustomKeyStoreId)];
    else if (input.CustomKeyStoreName) {
      found = found.filter((s) => s.name === input.CustomKeyStoreName && !this.stillInvisible(s.id));
      if (!found.length) throw serviceError('CustomKeyStoreNotFoundException', `Custom key store ${input.CustomKeyStoreName} not found.`);
    }
    return {
      CustomKeyStores: found.map((s) => ({
        CustomKeyStoreId: s.id,
        CustomKeyStoreName: s.name,
        CloudHsmClusterId: s.clusterId,
        TrustAnchorCertificate: s.trustAnchor,
        ConnectionState: s.state,
        ...(s.state === 'FAILED' ? { ConnectionErrorCode: s.errorCode } : {}),
        CreationDate: new Date(s.createdAt),
        CustomKeyStoreType: 'AWS_CLOUDHSM',
      })),
    };
  }

  connectCustomKeyStore(input: { CustomKeyStoreId?: string }) {
    const s = this.store(input.CustomKeyStoreId);
    if (s.state === 'CONNECTED' || s.state === 'CONNECTING') return {};
    if (s.state !== 'DISCONNECTED') throw serviceError('CustomKeyStoreInvalidStateException', `Custom key store ${s.id} is ${s.state}.`);
    const c = this.clusters.get(s.clusterId);
    if (c && c.state !== 'DELETED' && c.state !== 'ACTIVE') throw serviceError('CloudHsmClusterNotActiveException', `Cluster ${c.clusterId} is not active.`);
    s.state = 'CONNECTING';
    s.errorCode = undefined;
    const generation = ++s.generation;
    this.schedule(this.latency.connect, () => {
      if (s.generation !== generation || s.state !== 'CONNECTING') return;
      const code = this.connectOutcome(s);
      if (code) {
        s.state = 'FAILED';
        s.errorCode = code;
        return;
      }
      s.state = 'CONNECTED';
      // KMS logs in as kmsuser and rotates its password: the secret's copy is stale from now on.
      const rotated = randomBytes(24).toString('base64url').slice(0, 32);
      for (const h of this.clusters.get(s.clusterId)?.hsms ?? []) {
        const kmsUser = h.state === 'ACTIVE' ? h.users.get('kmsuser') : undefined;
        if (kmsUser) kmsUser.password = rotated;
      }
      s.password = rotated;
    });
    return {};
  }

  /** What KMS finds when it tries to connect, read from the world at that moment. */
  private connectOutcome(s: FakeKeyStore): ConnectionErrorCode | undefined {
    if (this.faults.forcedConnectionError) return this.faults.forcedConnectionError;
    const c = this.clusters.get(s.clusterId);
    if (!c || c.state === 'DELETED') return 'CLUSTER_NOT_FOUND';
    const subnetIds = Object.values(c.subnetMapping);
    if (subnetIds.some((id) => this.subnets.get(id)?.deleted ?? true)) return 'SUBNET_NOT_FOUND';
    const active = c.hsms.filter((h) => h.state === 'ACTIVE');
    if (active.length === 0) return 'INSUFFICIENT_CLOUDHSM_HSMS';
    if (subnetIds.some((id) => (this.subnets.get(id)?.freeAddresses ?? 0) < 1)) return 'INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET';
    const kmsUsers = active.map((h) => h.users.get('kmsuser'));
    if (kmsUsers.some((u) => !u || u.role !== 'crypto-user')) return 'USER_NOT_FOUND';
    if (kmsUsers.some((u) => u!.locked)) return 'USER_LOCKED_OUT';
    if (kmsUsers.some((u) => u!.loggedIn)) return 'USER_LOGGED_IN';
    if (kmsUsers.some((u) => u!.password !== s.password)) {
      for (const u of kmsUsers) {
        u!.failedLogins++;
        if (u!.failedLogins >= LOCKOUT_AFTER) u!.locked = true;
      }
      return 'INVALID_CREDENTIALS';
    }
    s.enis = subnetIds.filter((id) => this.takeAddress(id));
    return undefined;
  }

  disconnectCustomKeyStore(input: { CustomKeyStoreId?: string }) {
    const s = this.store(input.CustomKeyStoreId);
    if (s.state === 'DISCONNECTED' || s.state === 'DISCONNECTING') {
      throw serviceError('CustomKeyStoreInvalidStateException', `Custom key store ${s.id} is ${s.state}.`);
    }
    s.state = 'DISCONNECTING';
    s.errorCode = undefined;
    const generation = ++s.generation;
    this.schedule(this.latency.disconnect, () => {
      if (s.generation !== generation) return;
      s.state = 'DISCONNECTED';
      // KMS removes the network interfaces it created.
      for (const id of s.enis) this.releaseAddress(id);
      s.enis = [];
    });
    return {};
  }

  deleteCustomKeyStore(input: { CustomKeyStoreId?: string }) {
    const s = this.store(input.CustomKeyStoreId);
    if (s.state !== 'DISCONNECTED') throw serviceError('CustomKeyStoreInvalidStateException', `Custom key store ${s.id} is ${s.state}; disconnect it first.`);
    if (this.storeHasKeys(s.id)) {
      throw serviceError('CustomKeyStoreHasCMKsException', `Custom key store ${s.id} contains KMS keys (including keys pending deletion).`);
    }
    this.stores.delete(s.id);
    return {};
  }

  updateCustomKeyStore(input: { CustomKeyStoreId?: string; NewCustomKeyStoreName?: string; KeyStorePassword?: string; CloudHsmClusterId?: string }) {
    const s = this.store(input.CustomKeyStoreId);
    if ((input.KeyStorePassword || input.CloudHsmClusterId) && s.state !== 'DISCONNECTED') {
      throw serviceError('CustomKeyStoreInvalidStateException', `Custom key store ${s.id} must be DISCONNECTED to change its password or cluster.`);
    }
    if (input.NewCustomKeyStoreName !== undefined) {
      if ([...this.stores.values()].some((x) => x !== s && x.name === input.NewCustomKeyStoreName)) {
        throw serviceError('CustomKeyStoreNameInUseException', `Custom key store name ${input.NewCustomKeyStoreName} is in use.`);
      }
      s.name = input.NewCustomKeyStoreName;
    }
    if (input.KeyStorePassword) s.password = input.KeyStorePassword;
    return {};
  }

  // -------------------------------------------------------------- KMS keys

  private key(id: string | undefined): FakeKey {
    let keyId = id ?? '';
    if (keyId.startsWith('alias/') || keyId.includes(':alias/')) {
      const alias = keyId.slice(keyId.indexOf('alias/'));
      if (this.stillInvisible(`alias:${alias}`)) throw serviceError('NotFoundException', `Alias ${alias} is not found.`);
      keyId = this.aliases.get(alias) ?? '';
      if (!keyId) throw serviceError('NotFoundException', `Alias ${alias} is not found.`);
    }
    const k = this.keys.get(keyId.split('/').pop() ?? '');
    if (!k || this.stillInvisible(k.keyId)) throw serviceError('NotFoundException', `Key '${id}' does not exist`);
    return k;
  }

  private metadata(k: FakeKey) {
    return {
      KeyId: k.keyId,
      Arn: k.arn,
      AWSAccountId: ACCOUNT,
      Origin: k.origin,
      CustomKeyStoreId: k.customKeyStoreId,
      CloudHsmClusterId: k.cloudHsmClusterId,
      KeyState: k.state,
      Enabled: k.state === 'Enabled',
      Description: k.description,
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeyManager: 'CUSTOMER',
      MultiRegion: false,
      DeletionDate: k.deletionDate,
    };
  }

  createKey(input: {
    Origin?: string;
    CustomKeyStoreId?: string;
    KeySpec?: string;
    KeyUsage?: string;
    Description?: string;
    Policy?: string;
    MultiRegion?: boolean;
    Tags?: { TagKey?: string; TagValue?: string }[];
  }) {
    const s = this.storeForNewKey(input);
    const keyId = randomUUID();
    const k: FakeKey = {
      keyId,
      arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`,
      customKeyStoreId: s.id,
      cloudHsmClusterId: s.clusterId,
      origin: 'AWS_CLOUDHSM',
      description: input.Description ?? '',
      policy: input.Policy ?? '{}',
      state: 'Enabled',
      tags: Object.fromEntries((input.Tags ?? []).map((t) => [t.TagKey!, t.TagValue!])),
    };
    this.keys.set(keyId, k);
    this.becomesVisibleLater('key', keyId);
    return { KeyMetadata: this.metadata(k) };
  }

  /**
   * What KMS checks before CreateKey makes a key in a CloudHSM key store: the store CONNECTED, its cluster ACTIVE with
   * "at least two active HSMs, each in a different Availability Zone in the Region" (CustomKeyStoreInvalidStateException,
   * CloudHsmClusterInvalidConfigurationException: https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html),
   * a key policy naming principals KMS can see. A composed deploy (test/deploy/cloudhsm-lab-deploy.ts), where FakeAws
   * keeps the keys, asks it too.
   */
  storeForNewKey(input: { Origin?: string; CustomKeyStoreId?: string; KeySpec?: string; Policy?: string; MultiRegion?: boolean }): FakeKeyStore {
    if (input.Origin !== 'AWS_CLOUDHSM') throw serviceError('UnsupportedOperationException', 'This fake models keys in CloudHSM key stores only.');
    if (input.MultiRegion) throw serviceError('UnsupportedOperationException', 'Multi-Region keys are not supported in custom key stores.');
    if ((input.KeySpec ?? 'SYMMETRIC_DEFAULT') !== 'SYMMETRIC_DEFAULT') throw serviceError('UnsupportedOperationException', 'Only SYMMETRIC_DEFAULT keys.');
    const s = this.store(input.CustomKeyStoreId);
    if (s.state !== 'CONNECTED') throw serviceError('CustomKeyStoreInvalidStateException', `Custom key store ${s.id} is ${s.state}, not CONNECTED.`);
    const c = this.clusters.get(s.clusterId);
    if (!c || c.state !== 'ACTIVE') throw serviceError('CloudHsmClusterNotActiveException', `Cluster ${s.clusterId} is not active.`);
    const config = this.clusterConfigProblem(c);
    if (config) throw serviceError('CloudHsmClusterInvalidConfigurationException', config);
    if (input.Policy !== undefined) {
      parsePolicy(input.Policy);
      this.checkPolicyPrincipals(input.Policy);
    }
    return s;
  }

  /**
   * Whether a key store still holds KMS keys, pending deletion ones included (DeleteCustomKeyStore refuses it then,
   * CustomKeyStoreHasCMKsException). The world's own keys unless a composed deploy, whose keys FakeAws keeps, says.
   */
  /**
   * The host's `aws secretsmanager get-secret-value`: the secret's current string, or Secrets Manager's error. The
   * world's own secrets unless a composed deploy, whose secrets FakeAws keeps, says.
   */
  secretString: (secretId: string) => string = (secretId) => this.secrets.getSecretValue({ SecretId: secretId }).SecretString ?? '';

  storeHasKeys: (storeId: string) => boolean = (storeId) => [...this.keys.values()].some((k) => k.customKeyStoreId === storeId);

  describeKey(input: { KeyId?: string }) {
    return { KeyMetadata: this.metadata(this.key(input.KeyId)) };
  }

  createAlias(input: { AliasName?: string; TargetKeyId?: string }) {
    const alias = input.AliasName ?? '';
    if (!/^alias\/[a-zA-Z0-9/_-]{1,250}$/.test(alias) || alias.startsWith('alias/aws/')) throw serviceError('InvalidAliasNameException', `Invalid alias ${alias}.`);
    if (this.aliases.has(alias)) throw serviceError('AlreadyExistsException', `An alias with the name ${alias} already exists`);
    const k = this.key(input.TargetKeyId);
    if (k.state === 'PendingDeletion') throw serviceError('KMSInvalidStateException', `${k.arn} is pending deletion.`);
    this.aliases.set(alias, k.keyId);
    this.becomesVisibleLater('alias', `alias:${alias}`);
    return {};
  }

  updateAlias(input: { AliasName?: string; TargetKeyId?: string }) {
    if (!this.aliases.has(input.AliasName ?? '')) throw serviceError('NotFoundException', `Alias ${input.AliasName} is not found.`);
    const k = this.key(input.TargetKeyId);
    if (k.state === 'PendingDeletion') throw serviceError('KMSInvalidStateException', `${k.arn} is pending deletion.`);
    this.aliases.set(input.AliasName!, k.keyId);
    return {};
  }

  deleteAlias(input: { AliasName?: string }) {
    if (!this.aliases.delete(input.AliasName ?? '')) throw serviceError('NotFoundException', `Alias ${input.AliasName} is not found.`);
    return {};
  }

  putKeyPolicy(input: { KeyId?: string; Policy?: string; PolicyName?: string }) {
    const k = this.key(input.KeyId);
    if (k.state === 'PendingDeletion') throw serviceError('KMSInvalidStateException', `${k.arn} is pending deletion.`);
    parsePolicy(input.Policy ?? '');
    this.checkPolicyPrincipals(input.Policy!);
    k.policy = input.Policy!;
    return {};
  }

  updateKeyDescription(input: { KeyId?: string; Description?: string }) {
    const k = this.key(input.KeyId);
    if (k.state === 'PendingDeletion') throw serviceError('KMSInvalidStateException', `${k.arn} is pending deletion.`);
    k.description = input.Description ?? '';
    return {};
  }

  scheduleKeyDeletion(input: { KeyId?: string; PendingWindowInDays?: number }) {
    const k = this.key(input.KeyId);
    const days = input.PendingWindowInDays ?? 30;
    if (days < 7 || days > 30) throw serviceError('ValidationException', 'PendingWindowInDays must be between 7 and 30.');
    if (k.state === 'PendingDeletion') throw serviceError('KMSInvalidStateException', `${k.arn} is pending deletion.`);
    k.state = 'PendingDeletion';
    k.deletionDate = new Date(this.now + days * DAY);
    this.schedule(days * DAY, () => {
      if (k.state !== 'PendingDeletion') return;
      this.keys.delete(k.keyId);
      for (const [alias, target] of this.aliases) if (target === k.keyId) this.aliases.delete(alias);
    });
    return { KeyId: k.arn, KeyState: k.state, DeletionDate: k.deletionDate, PendingWindowInDays: days };
  }

  // -------------------------------------------------------------- Scheduler

  /** When the schedule first fires, and how often after that (undefined: once). */
  private scheduleInput(input: Record<string, any>): { fireAt?: number; everyMs?: number } {
    if (!/^[0-9a-zA-Z-_.]{1,64}$/.test(input.Name ?? '')) throw serviceError('ValidationException', `Invalid schedule name ${input.Name}.`);
    if (!input.FlexibleTimeWindow?.Mode) throw serviceError('ValidationException', 'FlexibleTimeWindow is required.');
    if (!input.Target?.Arn || !input.Target?.RoleArn) throw serviceError('ValidationException', 'Target.Arn and Target.RoleArn are required.');
    if ((input.ScheduleExpressionTimezone ?? 'UTC') !== 'UTC') throw serviceError('ValidationException', 'This fake models UTC schedules only.');
    const at = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(input.ScheduleExpression ?? '');
    if (at) return { fireAt: Date.parse(`${at[1]}Z`) };
    const rate = /^rate\((\d+) (minute|minutes|hour|hours)\)$/.exec(input.ScheduleExpression ?? '');
    if (!rate) throw serviceError('ValidationException', `Invalid ScheduleExpression ${input.ScheduleExpression}.`);
    if (input.ActionAfterCompletion === 'DELETE') throw serviceError('ValidationException', 'ActionAfterCompletion DELETE is for one-time schedules.');
    const everyMs = Number(rate[1]) * (rate[2].startsWith('hour') ? HOUR : MINUTE);
    const start = input.StartDate ? new Date(input.StartDate).getTime() : this.now;
    return { fireAt: Math.max(start, this.now), everyMs };
  }

  private arm(schedule: FakeSchedule): void {
    if (schedule.fireAt === undefined) return;
    const version = schedule.version;
    this.schedule(Math.max(0, schedule.fireAt - this.now), () => {
      if (this.schedules.get(schedule.name) !== schedule || schedule.version !== version) return;
      // Timers run lazily, when the world is next looked at: the firing happened at its due time, not now.
      const firedAt = schedule.fireAt!;
      if (schedule.input.Target.Arn === 'arn:aws:scheduler:::aws-sdk:cloudformation:deleteStack') {
        this.deletedStacks.push({ stackName: JSON.parse(schedule.input.Target.Input).StackName, at: firedAt });
      }
      if (schedule.everyMs) {
        schedule.fireAt = firedAt + schedule.everyMs;
        this.arm(schedule);
      } else if (schedule.input.ActionAfterCompletion === 'DELETE') this.schedules.delete(schedule.name);
    });
  }

  createSchedule(input: Record<string, any>) {
    const { fireAt, everyMs } = this.scheduleInput(input);
    if (this.schedules.has(input.Name)) throw serviceError('ConflictException', `Schedule ${input.Name} already exists.`);
    const schedule: FakeSchedule = { name: input.Name, input: { ...input }, version: 1, fireAt, everyMs };
    this.schedules.set(input.Name, schedule);
    this.arm(schedule);
    return { ScheduleArn: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/${input.Name}` };
  }

  updateSchedule(input: Record<string, any>) {
    const { fireAt, everyMs } = this.scheduleInput(input);
    const schedule = this.schedules.get(input.Name);
    if (!schedule) throw serviceError('ResourceNotFoundException', `Schedule ${input.Name} does not exist.`);
    schedule.input = { ...input };
    schedule.version++;
    schedule.fireAt = fireAt;
    schedule.everyMs = everyMs;
    this.arm(schedule);
    return { ScheduleArn: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/${input.Name}` };
  }

  deleteSchedule(input: { Name?: string }) {
    if (!this.schedules.delete(input.Name ?? '')) throw serviceError('ResourceNotFoundException', `Schedule ${input.Name} does not exist.`);
    return {};
  }

  getSchedule(input: { Name?: string }) {
    const s = this.schedules.get(input.Name ?? '');
    if (!s) throw serviceError('ResourceNotFoundException', `Schedule ${input.Name} does not exist.`);
    return { ...s.input };
  }

  // -------------------------------------------------------------- wiring

  /**
   * Puts this world behind every client the handlers use, in place of any world installed before; call in
   * beforeEach. A command it does not model is refused, unless another fake answers it (test/helpers/sdk-mocks.ts).
   */
  install(): this {
    const m = mocks();
    const commands: { mock: any; command: unknown; answer: Answer }[] = [];
    const wire = (service: Service, mock: any, command: any, operation: string, fn: (input: any) => unknown) =>
      commands.push({
        mock,
        command,
        answer: async (input: any) => {
          this.journal.push({ service, operation, at: this.now });
          this.settle();
          this.injected(service, operation);
          return fn(input);
        },
      });
    const sm = (command: any, operation: string, fn: (input: any) => unknown) =>
      wire('secretsmanager', m.secrets, command, operation, (input) => {
        if (operation !== 'CreateSecret' && this.secrets.secrets.has(input.SecretId) && this.secretStillInvisible(input.SecretId)) {
          throw serviceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
        }
        const out = fn(input);
        if (operation === 'CreateSecret') this.secretCreated(input.Name);
        return out;
      });

    wire('cloudhsm', m.cloudhsm, CreateClusterCommand, 'CreateCluster', (i) => this.createCluster(i));
    wire('cloudhsm', m.cloudhsm, DeleteClusterCommand, 'DeleteCluster', (i) => this.deleteCluster(i));
    wire('cloudhsm', m.cloudhsm, DescribeClustersCommand, 'DescribeClusters', (i) => this.describeClusters(i));
    wire('cloudhsm', m.cloudhsm, CreateHsmCommand, 'CreateHsm', (i) => this.createHsm(i));
    wire('cloudhsm', m.cloudhsm, DeleteHsmCommand, 'DeleteHsm', (i) => this.deleteHsm(i));
    wire('cloudhsm', m.cloudhsm, InitializeClusterCommand, 'InitializeCluster', (i) => this.initializeCluster(i));

    wire('ec2', m.ec2, DescribeSubnetsCommand, 'DescribeSubnets', (i) => this.describeSubnets(i));

    wire('ssm', m.ssm, DescribeInstanceInformationCommand, 'DescribeInstanceInformation', (i) => this.describeInstanceInformation(i));
    wire('ssm', m.ssm, SendCommandCommand, 'SendCommand', (i) => this.sendCommand(i));
    wire('ssm', m.ssm, ListCommandsCommand, 'ListCommands', (i) => this.listCommands(i));
    wire('ssm', m.ssm, GetCommandInvocationCommand, 'GetCommandInvocation', (i) => this.getCommandInvocation(i));

    wire('kms', m.kms, CreateCustomKeyStoreCommand, 'CreateCustomKeyStore', (i) => this.createCustomKeyStore(i));
    wire('kms', m.kms, DescribeCustomKeyStoresCommand, 'DescribeCustomKeyStores', (i) => this.describeCustomKeyStores(i));
    wire('kms', m.kms, ConnectCustomKeyStoreCommand, 'ConnectCustomKeyStore', (i) => this.connectCustomKeyStore(i));
    wire('kms', m.kms, DisconnectCustomKeyStoreCommand, 'DisconnectCustomKeyStore', (i) => this.disconnectCustomKeyStore(i));
    wire('kms', m.kms, DeleteCustomKeyStoreCommand, 'DeleteCustomKeyStore', (i) => this.deleteCustomKeyStore(i));
    wire('kms', m.kms, UpdateCustomKeyStoreCommand, 'UpdateCustomKeyStore', (i) => this.updateCustomKeyStore(i));
    wire('kms', m.kms, CreateKeyCommand, 'CreateKey', (i) => this.createKey(i));
    wire('kms', m.kms, DescribeKeyCommand, 'DescribeKey', (i) => this.describeKey(i));
    wire('kms', m.kms, CreateAliasCommand, 'CreateAlias', (i) => this.createAlias(i));
    wire('kms', m.kms, UpdateAliasCommand, 'UpdateAlias', (i) => this.updateAlias(i));
    wire('kms', m.kms, DeleteAliasCommand, 'DeleteAlias', (i) => this.deleteAlias(i));
    wire('kms', m.kms, PutKeyPolicyCommand, 'PutKeyPolicy', (i) => this.putKeyPolicy(i));
    wire('kms', m.kms, UpdateKeyDescriptionCommand, 'UpdateKeyDescription', (i) => this.updateKeyDescription(i));
    wire('kms', m.kms, ScheduleKeyDeletionCommand, 'ScheduleKeyDeletion', (i) => this.scheduleKeyDeletion(i));

    sm(CreateSecretCommand, 'CreateSecret', (i) => this.secrets.createSecret(i));
    sm(DescribeSecretCommand, 'DescribeSecret', (i) => this.secrets.describeSecret(i));
    sm(GetSecretValueCommand, 'GetSecretValue', (i) => this.secrets.getSecretValue(i));
    sm(PutSecretValueCommand, 'PutSecretValue', (i) => this.secrets.putSecretValue(i));
    sm(PutResourcePolicyCommand, 'PutResourcePolicy', (i) => this.secrets.putResourcePolicy(i));
    sm(TagResourceCommand, 'TagResource', (i) => this.secrets.tagResource(i));
    sm(UntagResourceCommand, 'UntagResource', (i) => this.secrets.untagResource(i));
    sm(RestoreSecretCommand, 'RestoreSecret', (i) => this.secrets.restoreSecret(i));
    sm(DeleteSecretCommand, 'DeleteSecret', (i) => this.secrets.deleteSecret(i, new Date(this.now)));
    sm(GetRandomPasswordCommand, 'GetRandomPassword', (i) => this.secrets.getRandomPassword(i));

    wire('scheduler', m.scheduler, CreateScheduleCommand, 'CreateSchedule', (i) => this.createSchedule(i));
    wire('scheduler', m.scheduler, UpdateScheduleCommand, 'UpdateSchedule', (i) => this.updateSchedule(i));
    wire('scheduler', m.scheduler, DeleteScheduleCommand, 'DeleteSchedule', (i) => this.deleteSchedule(i));
    wire('scheduler', m.scheduler, GetScheduleCommand, 'GetSchedule', (i) => this.getSchedule(i));
    const notModelled: Answer = async () => {
      throw new Error('fake world: this command is not modelled');
    };
    own(WORLD, { commands, rest: Object.values(m).map((mock) => ({ mock, answer: notModelled })) });
    return this;
  }
}

/** The owner name of the world's commands (test/helpers/sdk-mocks.ts): installing another world replaces them. */
export const WORLD = 'cloudhsm-world';

// The test file's one stub per client class, shared with FakeAws (test/cli/fake-aws.ts).
function mocks() {
  return {
    // @aws-sdk/client-cloudhsm-v2 3.332's types predate aws-sdk-client-mock 4's: cast at the call.
    cloudhsm: sdkMock(CloudHSMV2Client as any),
    kms: sdkMock(KMSClient),
    secrets: sdkMock(SecretsManagerClient),
    ssm: sdkMock(SSMClient),
    ec2: sdkMock(EC2Client),
    scheduler: sdkMock(SchedulerClient),
  };
}

/**
 * Makes Date.now() and new Date() follow the world's clock (jest's fake Date;
 * timers and promises stay real). Undo with jest.useRealTimers() in afterEach.
 */
export function useWorldClock(world: World): void {
  if (typeof jest === 'undefined') return patchDate(world);
  fakeDateOnly(world.now);
  world.onClock((now) => jest.setSystemTime(now));
}

/** Outside jest (the benchmark): Date follows the world's clock; timers stay real. Returns nothing to undo: the process ends. */
function patchDate(world: World): void {
  const RealDate = Date;
  class WorldDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(world.now);
      else super(...(args as [string]));
    }
    static now(): number {
      return world.now;
    }
  }
  globalThis.Date = WorldDate as DateConstructor;
}

function injectedError(service: Service, operation: string, kind: InjectedKind): Error {
  const names: Record<InjectedKind, Record<Service, string>> = {
    throttle: { cloudhsm: 'ThrottlingException', kms: 'ThrottlingException', secretsmanager: 'ThrottlingException', ssm: 'ThrottlingException', ec2: 'RequestLimitExceeded', scheduler: 'ThrottlingException' },
    '5xx': { cloudhsm: 'CloudHsmInternalFailureException', kms: 'KMSInternalException', secretsmanager: 'InternalServiceError', ssm: 'InternalServerError', ec2: 'InternalError', scheduler: 'InternalServerException' },
    accessDenied: { cloudhsm: 'CloudHsmAccessDeniedException', kms: 'AccessDeniedException', secretsmanager: 'AccessDeniedException', ssm: 'AccessDeniedException', ec2: 'UnauthorizedOperation', scheduler: 'AccessDeniedException' },
    refused: { cloudhsm: 'CloudHsmInvalidRequestException', kms: 'KMSInvalidStateException', secretsmanager: 'InvalidRequestException', ssm: 'InvalidDocument', ec2: 'IncorrectState', scheduler: 'ValidationException' },
  };
  const status = kind === '5xx' ? 500 : kind === 'accessDenied' ? 403 : 400;
  const message =
    kind === 'accessDenied' ? `User is not authorized to perform: ${operation}` : kind === 'throttle' ? 'Rate exceeded' : kind === 'refused' ? 'The resource is busy.' : 'Internal failure';
  const e = serviceError(names[kind][service], message);
  return Object.assign(e, { $metadata: { httpStatusCode: status }, $fault: kind === '5xx' ? 'server' : 'client' });
}

function sameCertificate(a: string, b: string): boolean {
  try {
    return new X509Certificate(a).fingerprint256 === new X509Certificate(b).fingerprint256;
  } catch {
    return false;
  }
}

function parsePolicy(policy: string): void {
  try {
    const p = JSON.parse(policy);
    if (!Array.isArray(p.Statement)) throw new Error('no Statement');
  } catch {
    throw serviceError('MalformedPolicyDocumentException', 'The new key policy will not allow you to update the key policy in the future.');
  }
}
