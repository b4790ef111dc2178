import { randomBytes } from 'node:crypto';
import { CloudHSMV2Client, DescribeClustersCommand } from '@aws-sdk/client-cloudhsm-v2';
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
import { FakeAws, serviceError } from '../cli/fake-aws';
import { keyMaterial } from '../cli/fake-key-material';
import { lifecycle } from '../cli/fake-lifecycle';
import { Answer, answerOf, own, sdkMock } from '../helpers/sdk-mocks';
import { CLOUDHSM_HANDLERS, createModelled, TYPICAL_MS } from '../lambda/cloudhsm/template-deploy';
import { World } from '../lambda/cloudhsm/world';
import { FakeAwsDeployment } from './fake-aws-deploy';
import { LifecycleHandler, Modelled, ResourceRequest } from './stack-engine';

/**
 * The offline deploy of the lab with scenario (d): one engine, one clock,
 * two fakes, each owning its services. FakeAws (test/cli/fake-aws.ts) keeps
 * the KMS keys and aliases (the CloudHSM key's too: KMS answers for it as for
 * any key) and the lab's other secrets; the CloudHSM world
 * (test/lambda/cloudhsm/world.ts) keeps the clusters, HSMs, subnets, the
 * client host and its Run Command, the schedules, the custom key stores and
 * the secrets the CloudHSM handlers and the host's scripts write. Where a
 * service spans both (CreateKey in a key store, DeleteCustomKeyStore while
 * keys remain), the owner asks the other.
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
    own('cloudhsm-lab', { commands: [worldClusters, ...worldStores, ...this.keyCommands(kms)] });
    return this;
  }

  /** CreateKey in a key store (the world checks the store and its cluster), and aliases: FakeAws's keys. */
  private keyCommands(kms: ReturnType<typeof sdkMock>) {
    const { world, aws } = this;
    const regionOf = async (getClient: () => unknown) => (getClient() as { config: { region: () => Promise<string> } }).config.region();
    const createKey: Answer = async (input, getClient) => {
      world.storeForNewKey(input);
      const region = await regionOf(getClient);
      // A key in a CloudHSM key store: origin AWS_CLOUDHSM, no automatic rotation; its material stays in the cluster
      // (here: random bytes the fake encrypts with). https://docs.aws.amazon.com/kms/latest/developerguide/create-cmk-keystore.html
      const key = aws.addKey(region, { origin: 'AWS_CLOUDHSM', customKeyStoreId: input.CustomKeyStoreId, material: randomBytes(32) });
      key.policy = input.Policy ? JSON.parse(input.Policy) : undefined;
      key.tags = Object.fromEntries(((input.Tags ?? []) as { TagKey: string; TagValue: string }[]).map((t) => [t.TagKey, t.TagValue]));
      lifecycle(aws).keyTags.set(key.arn, key.tags);
      return { KeyMetadata: aws.keyMetadata(key) };
    };
    // An alias name is unique in its account and Region (AlreadyExistsException); it may not point at a key pending
    // deletion (KMSInvalidStateException): https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html
    const setAlias = (create: boolean): Answer => async (input: { AliasName: string; TargetKeyId: string }, getClient) => {
      const region = await regionOf(getClient);
      const at = `${region}|${input.AliasName}`;
      if (create && aws.aliases.has(at)) throw serviceError('AlreadyExistsException', `An alias with the name ${input.AliasName} already exists`);
      if (!create && !aws.aliases.has(at)) throw serviceError('NotFoundException', `Alias ${input.AliasName} is not found.`);
      const key = aws.resolve(input.TargetKeyId, region);
      if (key.state === 'PendingDeletion') throw serviceError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
      aws.aliases.set(at, key.arn);
      return {};
    };
    const deleteAlias: Answer = async (input: { AliasName: string }, getClient) => {
      if (!aws.aliases.delete(`${await regionOf(getClient)}|${input.AliasName}`)) throw serviceError('NotFoundException', `Alias ${input.AliasName} is not found.`);
      return {};
    };
    return [
      { mock: kms, command: CreateKeyCommand, answer: createKey },
      { mock: kms, command: CreateAliasCommand, answer: setAlias(true) },
      { mock: kms, command: UpdateAliasCommand, answer: setAlias(false) },
      { mock: kms, command: DeleteAliasCommand, answer: deleteAlias },
    ];
  }
}
