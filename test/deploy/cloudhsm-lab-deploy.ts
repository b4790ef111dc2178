import { randomBytes } from 'node:crypto';
import { CloudHSMV2Client, DescribeClustersCommand } from '@aws-sdk/client-cloudhsm-v2';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RemoveRegionsFromReplicationCommand,
  ReplicateSecretToRegionsCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import {
  ConnectCustomKeyStoreCommand,
  CreateAliasCommand,
  CreateCustomKeyStoreCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DeleteCustomKeyStoreCommand,
  DescribeCustomKeyStoresCommand,
  DisconnectCustomKeyStoreCommand,
  KMSClient,
  UpdateAliasCommand,
  UpdateCustomKeyStoreCommand,
} from '@aws-sdk/client-kms';
import { ACCOUNT, FakeAws, serviceError } from '../cli/fake-aws';
import { keyMaterial } from '../cli/fake-key-material';
import { lifecycle } from '../cli/fake-lifecycle';
import { Answer, answerOf, own, sdkMock } from '../helpers/sdk-mocks';
import { CLOUDHSM_HANDLERS, createModelled, TYPICAL_MS } from '../lambda/cloudhsm/template-deploy';
import { World } from '../lambda/cloudhsm/world';
import { FakeAwsDeployment } from './fake-aws-deploy';
import { evaluate } from './iam-policy';
import { LifecycleHandler, Modelled, ResourceRequest } from './stack-engine';

/**
 * The offline deploy of the lab with scenario (d): one engine, one clock (the
 * world's), two fakes behind the SDK's clients (test/helpers/sdk-mocks.ts),
 * each owning its services. FakeAws (test/cli/fake-aws.ts) keeps the KMS keys
 * and aliases (the CloudHSM key's too: KMS answers for it as for any key) and
 * every Secrets Manager secret (the CloudHSM handlers' too). The CloudHSM
 * world (test/lambda/cloudhsm/world.ts) keeps the clusters and HSMs, the
 * subnets, the client host and its Run Command, the schedules, and the custom
 * key stores, whose connection is worked out from the cluster's HSMs, their
 * kmsuser and the subnets it holds. Where one operation needs both, the owner
 * asks the other: CreateKey in a key store (the world checks the store and its
 * cluster), DeleteCustomKeyStore while keys remain (FakeAws's keys), the host
 * reading a secret (FakeAws's secrets), a new secret's eventual consistency
 * (the world's setting).
 */

/** Resources of the CloudHSM stack the world makes (its createModelled); the network and the host bill while they exist. */
const WORLD_TYPES = new Set(['AWS::EC2::Subnet', 'AWS::CloudHSM::Cluster', 'AWS::EC2::Instance']);
/** What teardown's leftover check looks for by the lab's tag (DescribeNatGateways, DescribeInstances, DescribeAddresses). */
const EC2_BILLABLE: Record<string, 'nat-gateway' | 'instance' | 'elastic-ip'> = {
  'AWS::EC2::NatGateway': 'nat-gateway',
  'AWS::EC2::Instance': 'instance',
  'AWS::EC2::EIP': 'elastic-ip',
};

export class CloudHsmLabDeployment extends FakeAwsDeployment {
  constructor(
    aws: FakeAws,
    readonly world: World,
  ) {
    super(aws);
    // One clock: the world's, from the instant FakeAws's lifecycle starts at.
    world.now = this.now;
    // KMS refuses to delete a key store that holds keys, pending deletion ones too; the keys are FakeAws's.
    world.storeHasKeys = (storeId) => [...aws.keys.values()].some((k) => k.customKeyStoreId === storeId);
    // The host's scripts read the secrets the handlers wrote, which are FakeAws's. A secret scheduled for deletion
    // cannot be read (InvalidRequestException): https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
    world.secretString = (secretId) => {
      const secret = aws.secrets.get(secretId);
      const versions = keyMaterial(aws).secretValues.get(secretId) ?? [];
      if (!secret || versions.length === 0) throw serviceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      if (secret.deletedDate) throw serviceError('InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion.");
      return versions[versions.length - 1];
    };
  }

  override advance(ms: number): void {
    this.world.advance(ms);
    this.now = this.world.now;
    lifecycle(this.aws).clock = new Date(this.now);
    // "At the end of the waiting period, AWS KMS deletes the KMS key":
    // https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html
    for (const [arn, k] of this.aws.keys) if (k.state === 'PendingDeletion' && k.deletionDate && k.deletionDate.getTime() <= this.now) this.aws.keys.delete(arn);
  }

  override callCount(since: number, until: number): number {
    return this.world.calls({ since, until }).length;
  }

  override handler(type: string): LifecycleHandler | undefined {
    return CLOUDHSM_HANDLERS[type] ?? super.handler(type);
  }

  override create(r: ResourceRequest): Modelled {
    // The network around the subnets, the host's profile: only ready, as on the world.
    if (WORLD_TYPES.has(r.type) || !FakeAwsDeployment.models(r.type)) return this.ec2Billable(r, createModelled(this.world, r));
    return super.create(r);
  }

  override delete(r: ResourceRequest): number | void {
    const ec2 = lifecycle(this.aws).ec2;
    if (EC2_BILLABLE[r.type]) ec2.splice(0, ec2.length, ...ec2.filter((e) => e.id !== r.physicalId));
    if (r.type === 'AWS::CloudHSM::Cluster' && r.physicalId) this.world.deleteCluster({ ClusterId: r.physicalId });
    if (WORLD_TYPES.has(r.type) || !FakeAwsDeployment.models(r.type)) return TYPICAL_MS[r.type];
    return super.delete(r);
  }

  /** A NAT gateway, instance or Elastic IP, tagged as its stack tags it, as EC2 lists it. */
  private ec2Billable(r: ResourceRequest, made: Modelled): Modelled {
    const kind = EC2_BILLABLE[r.type];
    if (kind) lifecycle(this.aws).ec2.push({ kind, id: made.physicalId, state: kind === 'instance' ? 'running' : 'available', tags: { ...(r.stack.tags ?? {}) }, region: r.stack.region });
    return made;
  }

  /**
   * Both fakes behind the SDK's clients: the world's commands, then FakeAws's on top, then, on top of both, each
   * command that spans them sent to its owner.
   */
  install(): this {
    const { world, aws } = this;
    world.install();
    const kms = sdkMock(KMSClient);
    // Clusters and HSMs are the world's: FakeAws's DescribeClusters (for the CLI's own tests) yields to it.
    const cloudHsm = sdkMock(CloudHSMV2Client as never);
    const worldClusters = { mock: cloudHsm, command: DescribeClustersCommand, answer: answerOf(cloudHsm, DescribeClustersCommand)! };
    const worldStores = [CreateCustomKeyStoreCommand, ConnectCustomKeyStoreCommand, DescribeCustomKeyStoresCommand, DisconnectCustomKeyStoreCommand, DeleteCustomKeyStoreCommand, UpdateCustomKeyStoreCommand].map(
      (command) => ({ mock: kms, command, answer: answerOf(kms, command)! }),
    );
    aws.install();
    own('cloudhsm-lab', { commands: [worldClusters, ...worldStores, ...this.keyCommands(kms), ...this.secretVisibility()] });
    return this;
  }

  /** Secret names answered "not found" because they were created moments ago (eventual consistency). */
  readonly notVisibleYet: string[] = [];

  /**
   * FakeAws's Secrets Manager, with the world's eventual consistency of a new secret (World.secretCreated: the number
   * of calls is the world's `eventualConsistency.secret`).
   */
  private secretVisibility() {
    const { world, aws } = this;
    const secrets = sdkMock(SecretsManagerClient);
    const commands = [
      DescribeSecretCommand,
      GetSecretValueCommand,
      PutSecretValueCommand,
      PutResourcePolicyCommand,
      TagResourceCommand,
      UntagResourceCommand,
      ReplicateSecretToRegionsCommand,
      RemoveRegionsFromReplicationCommand,
      RestoreSecretCommand,
      DeleteSecretCommand,
    ];
    const fakeAwsCreate = answerOf(secrets, CreateSecretCommand)!;
    const create: Answer = async (input: { Name: string }, getClient) => {
      const out = await fakeAwsCreate(input, getClient);
      world.secretCreated(input.Name);
      return out;
    };
    return [
      { mock: secrets, command: CreateSecretCommand, answer: create },
      ...commands.map((command) => {
        const fakeAws = answerOf(secrets, command)!;
        const answer: Answer = async (input: { SecretId: string }, getClient) => {
          if (aws.secrets.has(input.SecretId) && world.secretStillInvisible(input.SecretId)) {
            this.notVisibleYet.push(input.SecretId);
            throw serviceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
          }
          return fakeAws(input, getClient);
        };
        return { mock: secrets, command, answer };
      }),
    ];
  }

  /** CreateKey in a key store (the world checks the store and its cluster), and aliases: FakeAws's keys. */
  private keyCommands(kms: ReturnType<typeof sdkMock>) {
    const { world, aws } = this;
    /** The caller: the function being invoked (its execution role), else the operator; in the client's Region. */
    const caller = async (getClient: () => unknown) => ({
      principal: aws.invocation?.principal ?? 'operator',
      region: await (getClient() as { config: { region: () => Promise<string> } }).config.region(),
    });
    /** What the caller's IAM policies must allow (the "IAM policy" part of each operation's required permissions). */
    const iamAllows = (who: { principal: string }, action: string, resource: string, context: Record<string, string | string[]> = {}) => {
      if (who.principal === 'operator') return;
      if (evaluate({ principal: who.principal, account: ACCOUNT, action: `kms:${action}`, resource, context }, undefined, aws.identityPolicies.get(who.principal) ?? [], 'other')) return;
      throw serviceError('AccessDeniedException', `User: ${who.principal} is not authorized to perform: kms:${action} on resource: ${resource} because no identity-based policy allows the kms:${action} action`);
    };
    const aliasArn = (region: string, name: string) => `arn:aws:kms:${region}:${ACCOUNT}:${name}`;
    // CreateKey: kms:CreateKey in an IAM policy, on no particular resource, with the condition keys kms:KeyOrigin,
    // aws:RequestTag and aws:TagKeys (https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html); with Tags,
    // kms:TagResource in an IAM policy that covers, at a minimum, all KMS keys in the account and Region
    // (https://docs.aws.amazon.com/kms/latest/developerguide/manage-tags-api.html): asked here on key/*.
    const createKey: Answer = async (input, getClient) => {
      const who = await caller(getClient);
      const tags = Object.fromEntries(((input.Tags ?? []) as { TagKey: string; TagValue: string }[]).map((t) => [t.TagKey, t.TagValue]));
      const context = { 'kms:KeyOrigin': String(input.Origin ?? 'AWS_KMS'), 'aws:TagKeys': Object.keys(tags), ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])) };
      iamAllows(who, 'CreateKey', '*', context);
      if (Object.keys(tags).length > 0) iamAllows(who, 'TagResource', `arn:aws:kms:${who.region}:${ACCOUNT}:key/*`, context);
      world.storeForNewKey(input);
      // A key in a CloudHSM key store: origin AWS_CLOUDHSM, no automatic rotation; its material stays in the cluster
      // (here: random bytes the fake encrypts with). https://docs.aws.amazon.com/kms/latest/developerguide/create-cmk-keystore.html
      const key = aws.addKey(who.region, { origin: 'AWS_CLOUDHSM', customKeyStoreId: input.CustomKeyStoreId, material: randomBytes(32) });
      key.policy = input.Policy ? JSON.parse(input.Policy) : undefined;
      key.tags = tags;
      lifecycle(aws).keyTags.set(key.arn, tags);
      return { KeyMetadata: aws.keyMetadata(key) };
    };
    // An alias name is unique in its account and Region (AlreadyExistsException); it may not point at a key pending
    // deletion (KMSInvalidStateException). Each needs its action on the alias (IAM policy) and on each key it names
    // (key policy): https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html,
    // https://docs.aws.amazon.com/kms/latest/APIReference/API_UpdateAlias.html, https://docs.aws.amazon.com/kms/latest/APIReference/API_DeleteAlias.html
    const setAlias = (action: 'CreateAlias' | 'UpdateAlias'): Answer => async (input: { AliasName: string; TargetKeyId: string }, getClient) => {
      const who = await caller(getClient);
      const at = `${who.region}|${input.AliasName}`;
      iamAllows(who, action, aliasArn(who.region, input.AliasName));
      if (action === 'CreateAlias' && aws.aliases.has(at)) throw serviceError('AlreadyExistsException', `An alias with the name ${input.AliasName} already exists`);
      if (action === 'UpdateAlias' && !aws.aliases.has(at)) throw serviceError('NotFoundException', `Alias ${input.AliasName} is not found.`);
      if (action === 'UpdateAlias') aws.authorize(who, action, aws.resolve(aws.aliases.get(at)!, who.region));
      const key = aws.resolve(input.TargetKeyId, who.region);
      aws.authorize(who, action, key);
      if (key.state === 'PendingDeletion') throw serviceError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
      aws.aliases.set(at, key.arn);
      return {};
    };
    const deleteAlias: Answer = async (input: { AliasName: string }, getClient) => {
      const who = await caller(getClient);
      const at = `${who.region}|${input.AliasName}`;
      iamAllows(who, 'DeleteAlias', aliasArn(who.region, input.AliasName));
      const target = aws.aliases.get(at);
      if (!target) throw serviceError('NotFoundException', `Alias ${input.AliasName} is not found.`);
      const key = aws.keys.get(target);
      if (key) aws.authorize(who, 'DeleteAlias', key);
      aws.aliases.delete(at);
      return {};
    };
    return [
      { mock: kms, command: CreateKeyCommand, answer: createKey },
      { mock: kms, command: CreateAliasCommand, answer: setAlias('CreateAlias') },
      { mock: kms, command: UpdateAliasCommand, answer: setAlias('UpdateAlias') },
      { mock: kms, command: DeleteAliasCommand, answer: deleteAlias },
    ];
  }
}
