import {
  AlreadyExistsException,
  DescribeKeyCommand,
  KMSInvalidStateException,
  PutKeyPolicyCommand,
  ReplicateKeyCommand,
  TagResourceCommand,
  UnsupportedOperationException,
  UntagResourceCommand,
  UpdateKeyDescriptionCommand,
} from '@aws-sdk/client-kms';
import { FakeAws, FakeKey, fakeMocks, FakeOn, fakePart } from './fake-aws';
import { keyMaterial } from './fake-key-material';
import { lifecycle } from './fake-lifecycle';

/**
 * KMS multi-Region replication for the fake of fake-aws.ts: ReplicateKey,
 * and the calls that manage a replica after it (PutKeyPolicy,
 * UpdateKeyDescription, TagResource, UntagResource), with DescribeKey showing
 * the transient Creating state. Tags live in fake-lifecycle.ts's keyTags
 * (its ListResourceTags reads them). Importing this module adds them to every
 * FakeAws that is installed. What it models, from the KMS API reference:
 *
 * - ReplicateKey is called in the primary's Region with the replica's Region
 *   (ReplicaRegion); the replica has the primary's key id, key material and
 *   origin ("the same key ID and key material"; "shared properties").
 * - "You cannot create more than one replica of a primary key in any Region.
 *   If the Region already includes a replica of the key you're trying to
 *   replicate, ReplicateKey returns an AlreadyExistsException error. If the
 *   key state of the existing replica is PendingDeletion, you can cancel the
 *   scheduled key deletion (CancelKeyDeletion) or wait for the key to be
 *   deleted." (ReplicateKey). A replica pending deletion blocks it too.
 * - "the new replica key has a transient key state of Creating. This key
 *   state changes to Enabled (or PendingImport) after a few seconds"; "If you
 *   replicate a multi-Region primary key with imported key material, the
 *   replica key is created with no key material" (ReplicateKey): here the
 *   first `creatingPolls` DescribeKey calls see Creating.
 * - A primary whose deletion is scheduled "cannot be replicated"
 *   (ScheduleKeyDeletion: PendingReplicaDeletion); KMSInvalidStateException.
 * - Only a multi-Region primary key can be replicated (ReplicateKey: "KeyId:
 *   Identifies the multi-Region primary key that is being replicated");
 *   UnsupportedOperationException otherwise (the docs do not name the error
 *   for this case).
 * - Policy, description and tags are not shared properties: each replica has
 *   its own, set by ReplicateKey's Policy, Description and Tags and changed by
 *   PutKeyPolicy, UpdateKeyDescription, TagResource and UntagResource.
 * - CancelKeyDeletion ("the key state of the KMS key is Disabled") and
 *   ScheduleKeyDeletion of a replica are fake-aws.ts's own.
 *
 * Access is decided as for every other key operation (FakeAws.authorize): by the
 * key's policy and the caller's IAM policies for a key a deploy made, and not at
 * all for the operator. ReplicateKey is authorized on the primary (kms:ReplicateKey);
 * its second half, kms:CreateKey in the replica's Region, is not modelled, nor is
 * the key policy lockout check.
 */

const kmsError = <E extends Error>(Ctor: new (o: { message: string; $metadata: object }) => E, message: string) => new Ctor({ message, $metadata: {} });

export class ReplicationFake {
  /** Key ARN → the key policy ReplicateKey or PutKeyPolicy gave it, as JSON. */
  readonly policies = new Map<string, string>();
  /** Key ARN → its description. */
  readonly descriptions = new Map<string, string>();
  /** Replica ARN → the DescribeKey calls that still see it Creating, and the state it settles in. */
  readonly creating = new Map<string, { polls: number; then: 'Enabled' | 'PendingImport' }>();
  /** How many DescribeKey calls see a new replica Creating ("a few seconds"). */
  creatingPolls = 1;

  constructor(private readonly aws: FakeAws) {}

  /** What tags a key carries, as ListResourceTags shows them. */
  tags(key: FakeKey): Record<string, string> {
    const world = lifecycle(this.aws);
    return world.keyTags.get(key.arn) ?? world.labTags();
  }

  /** The replica's waiting period ends: KMS deletes it. */
  deleteAfterWindow(key: FakeKey): void {
    if (key.state !== 'PendingDeletion') throw new Error(`${key.arn} is ${key.state}, not pending deletion`);
    this.aws.keys.delete(key.arn);
  }

  /** The policy a key is judged by (FakeAws.authorize) is the one KMS holds for it. */
  private setPolicy(key: FakeKey, policy: string): void {
    this.policies.set(key.arn, policy);
    key.policy = JSON.parse(policy);
  }

  /** Tags as ListResourceTags shows them, and as aws:ResourceTag conditions see them. */
  private setTags(key: FakeKey, tags: Record<string, string>): void {
    lifecycle(this.aws).keyTags.set(key.arn, tags);
    key.tags = tags;
  }

  install(on: FakeOn): void {
    const { aws } = this;
    const { kms } = fakeMocks;

    on(kms, DescribeKeyCommand, 'DescribeKey', (i: { KeyId: string }, who) => {
      const k = aws.resolve(i.KeyId, who.region);
      const creating = this.creating.get(k.arn);
      if (creating && k.state === 'Creating') {
        if (creating.polls > 0) creating.polls--;
        else {
          k.state = creating.then;
          this.creating.delete(k.arn);
        }
      }
      return { KeyMetadata: { ...aws.keyMetadata(k), Description: this.descriptions.get(k.arn) ?? '' } };
    });

    on(
      kms,
      ReplicateKeyCommand,
      'ReplicateKey',
      (i: { KeyId: string; ReplicaRegion: string; Policy?: string; Description?: string; Tags?: { TagKey: string; TagValue: string }[] }, who) => {
        const primary = aws.resolve(i.KeyId, who.region);
        aws.authorize(who, 'ReplicateKey', primary, { 'kms:ReplicaRegion': i.ReplicaRegion });
        if (primary.multiRegion !== 'PRIMARY') throw kmsError(UnsupportedOperationException, `${primary.arn} is not a multi-Region primary key.`);
        if (primary.state === 'PendingDeletion') throw kmsError(KMSInvalidStateException, `${primary.arn} is pending deletion.`);
        const existing = [...aws.keys.values()].find((k) => k.keyId === primary.keyId && k.region === i.ReplicaRegion);
        if (existing) throw kmsError(AlreadyExistsException, `Replica key already exists in the ${i.ReplicaRegion} region: ${existing.arn}`);
        const others = [...aws.keys.values()].filter((k) => k.keyId === primary.keyId).map((k) => k.region);
        if (primary.origin === 'EXTERNAL') {
          // No material in the new Region yet: every material the set holds is marked as imported where it was.
          for (const m of keyMaterial(aws).of(primary)) m.importedIn ??= new Set(others);
        }
        const replica = aws.addKey(i.ReplicaRegion, { keyId: primary.keyId, material: primary.material, origin: primary.origin, multiRegion: 'REPLICA', state: 'Creating' });
        replica.currentKeyMaterialId = primary.origin === 'EXTERNAL' ? undefined : primary.currentKeyMaterialId;
        this.creating.set(replica.arn, { polls: this.creatingPolls, then: primary.origin === 'EXTERNAL' ? 'PendingImport' : 'Enabled' });
        this.setTags(replica, Object.fromEntries((i.Tags ?? []).map((t) => [t.TagKey, t.TagValue])));
        if (i.Policy) this.setPolicy(replica, i.Policy);
        this.descriptions.set(replica.arn, i.Description ?? '');
        return { ReplicaKeyMetadata: aws.keyMetadata(replica), ReplicaPolicy: i.Policy, ReplicaTags: i.Tags ?? [] };
      },
    );

    on(kms, PutKeyPolicyCommand, 'PutKeyPolicy', (i: { KeyId: string; Policy: string }, who) => {
      const k = aws.resolve(i.KeyId, who.region);
      aws.authorize(who, 'PutKeyPolicy', k);
      this.setPolicy(k, i.Policy);
      return {};
    });
    on(kms, UpdateKeyDescriptionCommand, 'UpdateKeyDescription', (i: { KeyId: string; Description: string }, who) => {
      const k = aws.resolve(i.KeyId, who.region);
      aws.authorize(who, 'UpdateKeyDescription', k);
      this.descriptions.set(k.arn, i.Description);
      return {};
    });
    on(kms, TagResourceCommand, 'TagResource', (i: { KeyId: string; Tags: { TagKey: string; TagValue: string }[] }, who) => {
      const k = aws.resolve(i.KeyId, who.region);
      aws.authorize(who, 'TagResource', k);
      this.setTags(k, { ...this.tags(k), ...Object.fromEntries(i.Tags.map((t) => [t.TagKey, t.TagValue])) });
      return {};
    });
    on(kms, UntagResourceCommand, 'UntagResource', (i: { KeyId: string; TagKeys: string[] }, who) => {
      const k = aws.resolve(i.KeyId, who.region);
      aws.authorize(who, 'UntagResource', k);
      const tags = { ...this.tags(k) };
      for (const key of i.TagKeys) delete tags[key];
      this.setTags(k, tags);
      return {};
    });
  }
}

/** The replication half of a fake, made when it is first installed. */
export const replication = fakePart((aws) => new ReplicationFake(aws));

FakeAws.extensions.push((aws, on) => replication(aws).install(on));
