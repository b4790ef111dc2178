import {
  DescribeKeyCommand,
  DescribeKeyCommandInput,
  KeyState,
  ListKeysCommand,
  ListKeysCommandInput,
  ListResourceTagsCommand,
  ListResourceTagsCommandInput,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { named } from './fake-cloudformation';

export const LAB_TAG = { key: 'kms-key-lab:lab', value: 'kms-key-lab' } as const;

export interface FakeKey {
  readonly keyId: string;
  tags: Record<string, string>;
  state: KeyState | string;
  deletionDate?: Date;
  /** ListResourceTags and DescribeKey refused: a key whose key policy does not let the account's IAM policies in. */
  denied?: boolean;
}

/** The three KMS calls the function makes, over the keys of one Region, which keep their state between calls. */
export class FakeKms {
  /**
   * Pages of two keys and two tags by default (ListKeys answers up to 1000 a page, ListResourceTags 50), so that
   * tests read several.
   */
  constructor(
    readonly region = 'eu-west-1',
    readonly pageSize = 2,
    readonly tagPageSize = 2,
  ) {}

  readonly keys: FakeKey[] = [];
  private failures: { command: string; error: () => Error; times: number }[] = [];

  /** A key tagged as the lab's, after two other tags so that its lab tag is on the second page of its tags. */
  lab(keyId: string, state: KeyState | string, deletionDate?: Date): this {
    return this.add({ keyId, state, deletionDate, tags: { 'kms-key-lab:owner': 'alice', scenario: 'a', [LAB_TAG.key]: LAB_TAG.value } });
  }

  /** A key of someone else: no lab tag, or the lab tag of another lab prefix. */
  foreign(keyId: string, state: KeyState | string, options: { deletionDate?: Date; denied?: boolean; tags?: Record<string, string> } = {}): this {
    return this.add({ keyId, state, deletionDate: options.deletionDate, denied: options.denied, tags: options.tags ?? { app: 'billing' } });
  }

  add(key: FakeKey): this {
    this.keys.push(key);
    return this;
  }

  key(keyId: string): FakeKey {
    const k = this.keys.find((x) => x.keyId === keyId);
    if (!k) throw new Error(`no fake key ${keyId}`);
    return k;
  }

  /** KMS deleted the key: it leaves ListKeys, and calls on it answer NotFound. */
  remove(keyId: string): this {
    this.keys.splice(this.keys.indexOf(this.key(keyId)), 1);
    return this;
  }

  /** The next `times` calls of a command fail with the error. */
  fail(command: string, error: () => Error, times = Number.POSITIVE_INFINITY): this {
    this.failures.push({ command, error, times });
    return this;
  }

  install(mock: ReturnType<typeof mockClient>): void {
    mock.on(ListKeysCommand).callsFake((input: ListKeysCommandInput) => {
      this.maybeFail('ListKeys');
      const from = input.Marker ? Number(input.Marker.replace('keys-', '')) : 0;
      const next = from + Math.min(this.pageSize, input.Limit ?? 100);
      const truncated = next < this.keys.length;
      return {
        Keys: this.keys.slice(from, next).map((k) => ({ KeyId: k.keyId, KeyArn: this.arn(k.keyId) })),
        Truncated: truncated,
        NextMarker: truncated ? `keys-${next}` : undefined,
      };
    });
    mock.on(ListResourceTagsCommand).callsFake((input: ListResourceTagsCommandInput) => {
      this.maybeFail('ListResourceTags');
      const k = this.readable('ListResourceTags', input.KeyId!);
      const tags = Object.entries(k.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
      const from = input.Marker ? Number(input.Marker.replace('tags-', '')) : 0;
      const next = from + this.tagPageSize;
      const truncated = next < tags.length;
      return { Tags: tags.slice(from, next), Truncated: truncated, NextMarker: truncated ? `tags-${next}` : undefined };
    });
    mock.on(DescribeKeyCommand).callsFake((input: DescribeKeyCommandInput) => {
      this.maybeFail('DescribeKey');
      const k = this.readable('DescribeKey', input.KeyId!);
      return {
        KeyMetadata: {
          KeyId: k.keyId,
          Arn: this.arn(k.keyId),
          KeyState: k.state,
          Enabled: k.state === 'Enabled',
          DeletionDate: k.deletionDate,
          MultiRegion: k.keyId.startsWith('mrk-'),
        },
      };
    });
  }

  private arn(keyId: string): string {
    return `arn:aws:kms:${this.region}:111111111111:key/${keyId}`;
  }

  private readable(command: string, keyId: string): FakeKey {
    const k = this.keys.find((x) => x.keyId === keyId || this.arn(x.keyId) === keyId);
    if (!k) throw named('NotFoundException', `Key '${this.arn(keyId)}' does not exist`);
    if (k.denied) {
      throw named(
        'AccessDeniedException',
        `User: arn:aws:sts::111111111111:assumed-role/watch/fn is not authorized to perform: kms:${command} on resource: ${this.arn(keyId)} because no resource-based policy allows the kms:${command} action`,
      );
    }
    return k;
  }

  private maybeFail(command: string): void {
    const f = this.failures.find((x) => x.command === command && x.times > 0);
    if (!f) return;
    f.times--;
    throw f.error();
  }
}
