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
import { Caller, ExplainedError, rootCause } from './aws-call';
import { log } from './log';
import { errorName, isNamed } from './retry';
import {
  MANAGED_BY_TAG,
  PREVIOUS_MANAGED_BY_TAG,
  PriorState,
  priorState,
  releaseDecision,
  replicationStep,
  scheduleAfterFailure,
  secretState,
  SecretState,
} from './secret-lifecycle';


export interface LabSecretSpec {
  readonly name: string;
  readonly description: string;
  /** The lab's tags; the owner tag is added from `managedBy`. */
  readonly tags: Readonly<Record<string, string>>;
  /** JSON resource policy, applied on every Create and Update so it converges. */
  readonly resourcePolicy?: string;
  /** The owning custom resource (see managedByValue). */
  readonly managedBy: string;
  /**
   * Regions where Secrets Manager keeps a read-only replica, encrypted there
   * with that Region's aws/secretsmanager key.
   * @default none
   */
  readonly replicaRegions?: readonly string[];
}

/**
 * Days Secrets Manager keeps a deleted secret (7 to 30), or `none`: deleted at
 * once, for a secret that is useless without what it belonged to (the
 * password of a cluster that is being deleted).
 */
export type RecoveryWindow = number | 'none';

/** Right after CreateSecret, Secrets Manager may not find the secret for a moment. */
const JUST_CREATED = { notFoundNames: ['ResourceNotFoundException'] } as const;

/**
 * The secrets a lab handler owns. Values are written and read only here and
 * never logged; everything this class logs is names, ARNs and states.
 */
export class LabSecrets {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly call: Caller,
  ) {}

  /** DescribeSecret by name: no value is read, so no KMS key is needed. */
  async state(name: string): Promise<SecretState> {
    try {
      return secretState(await this.call('DescribeSecret', () => this.client.send(new DescribeSecretCommand({ SecretId: name }))));
    } catch (error) {
      if (isNamed('ResourceNotFoundException')(rootCause(error))) return { exists: false };
      throw error;
    }
  }

  /**
   * Creates the secret with no value, locks it down with its resource policy,
   * and only then writes the value, so the value is never readable by more
   * than the policy allows.
   */
  async create(spec: LabSecretSpec, value: string): Promise<string> {
    const created = await this.call('CreateSecret', () =>
      this.client.send(
        new CreateSecretCommand({
          Name: spec.name,
          Description: spec.description,
          Tags: toTags({ ...spec.tags, [MANAGED_BY_TAG]: spec.managedBy }),
        }),
      ),
    );
    const arn = created.ARN ?? spec.name;
    log('created lab secret', { name: spec.name, arn });
    await this.applyPolicy(spec);
    await this.put(spec.name, value);
    // Replicated only now: each replica starts as a copy of a secret that already has its policy and its value,
    // so no replica is ever readable under IAM alone.
    if (spec.replicaRegions?.length) await this.replicate(spec.name, spec.replicaRegions);
    return arn;
  }

  async restore(name: string): Promise<void> {
    await this.call('RestoreSecret', () => this.client.send(new RestoreSecretCommand({ SecretId: name })));
    log('restored lab secret scheduled for deletion', { name });
  }

  /** Brings policy and lab tags in line with the template; run on every Create and Update. */
  async converge(spec: LabSecretSpec): Promise<void> {
    await this.applyPolicy(spec);
    await this.call('TagResource', () => this.client.send(new TagResourceCommand({ SecretId: spec.name, Tags: toTags(spec.tags) })), JUST_CREATED);
  }

  /**
   * Replicates the secret to the spec's Regions that have no replica (after a
   * restore, say: a secret is scheduled only once its replicas are removed).
   * `state` is what DescribeSecret said before this invocation changed it.
   */
  async ensureReplicas(spec: LabSecretSpec, state: SecretState): Promise<void> {
    if (!spec.replicaRegions?.length) return;
    const step = replicationStep(state, spec.replicaRegions);
    if (step.action === 'failed') {
      throw new ExplainedError(
        `Secrets Manager could not replicate ${spec.name} to ${step.region}: ${step.reason}. ` +
          `Remove the failed replica with \`aws secretsmanager remove-regions-from-replication --secret-id ${spec.name} ` +
          `--remove-replica-regions ${step.region}\` (and a secret of that name in ${step.region} that is not a replica), then deploy again.`,
      );
    }
    if (step.action === 'none') return;
    await this.replicate(spec.name, step.regions);
  }

  private async replicate(name: string, regions: readonly string[]): Promise<void> {
    await this.call(
      'ReplicateSecretToRegions',
      () => this.client.send(new ReplicateSecretToRegionsCommand({ SecretId: name, AddReplicaRegions: regions.map((Region) => ({ Region })) })),
      JUST_CREATED,
    );
    log('replicated lab secret', { name, regions });
  }

  private async applyPolicy(spec: LabSecretSpec): Promise<void> {
    if (!spec.resourcePolicy) return;
    await this.call(
      'PutResourcePolicy',
      () => this.client.send(new PutResourcePolicyCommand({ SecretId: spec.name, ResourcePolicy: spec.resourcePolicy, BlockPublicPolicy: true })),
      JUST_CREATED,
    );
  }

  /** The current value, or undefined when the secret has none yet. */
  async read(name: string): Promise<string | undefined> {
    try {
      const out = await this.call('GetSecretValue', () => this.client.send(new GetSecretValueCommand({ SecretId: name })));
      return out.SecretString;
    } catch (error) {
      if (isNamed('ResourceNotFoundException')(rootCause(error))) return undefined;
      throw error;
    }
  }

  async put(name: string, value: string): Promise<void> {
    await this.call('PutSecretValue', () => this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value })), JUST_CREATED);
  }

  /**
   * Marks the secret as owned by this resource; done last, once the resource
   * stands. A takeover remembers the previous owner, so that a rollback of the
   * takeover can hand the secret back.
   */
  async claim(spec: LabSecretSpec, previousOwner: string | undefined): Promise<void> {
    const tags: Record<string, string> = { [MANAGED_BY_TAG]: spec.managedBy };
    if (previousOwner && previousOwner !== spec.managedBy) tags[PREVIOUS_MANAGED_BY_TAG] = previousOwner;
    await this.call('TagResource', () => this.client.send(new TagResourceCommand({ SecretId: spec.name, Tags: toTags(tags) })));
    log('lab secret now owned by this resource', { name: spec.name, managedBy: spec.managedBy, previousOwner });
  }

  /**
   * Makes sure the secret stands, as the template describes it, with a value:
   * created with `initialValue()` when absent, restored when scheduled for
   * deletion, its policy and tags converged, and owned by this resource.
   * Returns what it was before, so that a failure can be undone with `undo`.
   */
  async ensure(spec: LabSecretSpec, initialValue: () => Promise<string>, recoveryWindowDays: RecoveryWindow): Promise<PriorState> {
    const state = await this.state(spec.name);
    const prior = priorState(state);
    try {
      if (prior === 'absent') {
        await this.create(spec, await initialValue());
        return prior;
      }
      if (prior === 'scheduled') await this.restore(spec.name);
      await this.converge(spec);
      if (state.exists && state.managedBy !== spec.managedBy) await this.claim(spec, state.managedBy);
      return prior;
    } catch (error) {
      await this.undo(spec.name, prior, recoveryWindowDays);
      throw error;
    }
  }

  /** After a failed Create or Update: schedules a secret that this invocation created or restored. Never throws. */
  async undo(name: string, prior: PriorState | undefined, recoveryWindowDays: RecoveryWindow): Promise<void> {
    if (!prior || !scheduleAfterFailure(prior)) return;
    try {
      await this.scheduleDeletion(name, recoveryWindowDays);
    } catch (error) {
      log('could not schedule a secret of a failed deploy for deletion', { name, error: errorName(rootCause(error)) });
    }
  }

  /**
   * DeleteSecret with a recovery window; a secret already gone or already
   * scheduled needs nothing more. Secrets Manager refuses to delete a secret
   * that has replicas, so the replicas in `replicaRegions` are removed first
   * (a replica goes at once, with no recovery window: the primary keeps the
   * value for the whole of its own).
   */
  async scheduleDeletion(name: string, recoveryWindowDays: RecoveryWindow, replicaRegions: readonly string[] = []): Promise<void> {
    if (replicaRegions.length > 0) await this.removeReplicas(name, replicaRegions);
    const window = recoveryWindowDays === 'none' ? { ForceDeleteWithoutRecovery: true } : { RecoveryWindowInDays: recoveryWindowDays };
    try {
      await this.call('DeleteSecret', () => this.client.send(new DeleteSecretCommand({ SecretId: name, ...window })));
      log(recoveryWindowDays === 'none' ? 'deleted lab secret' : 'scheduled lab secret deletion', { name, recoveryWindowDays });
    } catch (error) {
      const cause = rootCause(error);
      if (isNamed('ResourceNotFoundException')(cause)) return log('lab secret already gone', { name });
      // InvalidRequestException also covers other refusals: only a secret that really is scheduled is let go.
      if (isNamed('InvalidRequestException')(cause)) {
        const state = await this.state(name);
        if (!state.exists || state.scheduledForDeletion) return log('lab secret already scheduled for deletion', { name });
      }
      throw error;
    }
  }

  /**
   * The Delete of the owning resource: schedules the secret's deletion unless
   * another resource owns it (see releaseDecision). Reads no value, so it
   * works whatever state the encryption key is in.
   */
  async release(name: string, managedBy: string, recoveryWindowDays: () => Promise<RecoveryWindow>): Promise<void> {
    const state = await this.state(name);
    const decision = releaseDecision(state, managedBy);
    switch (decision.action) {
      case 'schedule':
        return this.scheduleDeletion(name, await recoveryWindowDays(), state.exists ? (state.replicas ?? []).map((r) => r.region) : []);
      case 'hand-back':
        await this.call('TagResource', () =>
          this.client.send(new TagResourceCommand({ SecretId: name, Tags: toTags({ [MANAGED_BY_TAG]: decision.to }) })),
        );
        await this.untagPrevious(name);
        return log('takeover rolled back: lab secret handed back to its previous owner', { name, owner: decision.to });
      case 'settle-takeover':
        await this.untagPrevious(name);
        return log('lab secret stays with the resource that replaced this one', { name, owner: decision.owner });
      case 'keep':
        return log('lab secret left as it is', { name, reason: decision.reason });
    }
  }

  private async removeReplicas(name: string, regions: readonly string[]): Promise<void> {
    try {
      await this.call('RemoveRegionsFromReplication', () =>
        this.client.send(new RemoveRegionsFromReplicationCommand({ SecretId: name, RemoveReplicaRegions: [...regions] })),
      );
      log('removed the replicas of a lab secret', { name, regions });
    } catch (error) {
      if (isNamed('ResourceNotFoundException')(rootCause(error))) return log('lab secret already gone', { name });
      throw error;
    }
  }

  private async untagPrevious(name: string): Promise<void> {
    await this.call('UntagResource', () => this.client.send(new UntagResourceCommand({ SecretId: name, TagKeys: [PREVIOUS_MANAGED_BY_TAG] })));
  }
}

function toTags(tags: Readonly<Record<string, string>>): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}
