import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { Caller, rootCause } from './aws-call';
import { log } from './log';
import { isNamed } from './retry';
import { MANAGED_BY_TAG, releaseDecision, secretState, SecretState } from './secret-lifecycle';


export interface LabSecretSpec {
  readonly name: string;
  readonly description: string;
  /** The lab's tags; the owner tag is added from `managedBy`. */
  readonly tags: Readonly<Record<string, string>>;
  /** JSON resource policy, applied on every Create and Update so it converges. */
  readonly resourcePolicy?: string;
  /** The owning custom resource (see managedByValue). */
  readonly managedBy: string;
}

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
          Tags: [...Object.entries(spec.tags), [MANAGED_BY_TAG, spec.managedBy]].map(([Key, Value]) => ({ Key, Value })),
        }),
      ),
    );
    const arn = created.ARN ?? spec.name;
    log('created lab secret', { name: spec.name, arn });
    await this.applyPolicy(spec);
    await this.put(spec.name, value);
    return arn;
  }

  async restore(name: string): Promise<void> {
    await this.call('RestoreSecret', () => this.client.send(new RestoreSecretCommand({ SecretId: name })));
    log('restored lab secret scheduled for deletion', { name });
  }

  async applyPolicy(spec: LabSecretSpec): Promise<void> {
    if (!spec.resourcePolicy) return;
    await this.call('PutResourcePolicy', () =>
      this.client.send(new PutResourcePolicyCommand({ SecretId: spec.name, ResourcePolicy: spec.resourcePolicy, BlockPublicPolicy: true })),
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
    await this.call('PutSecretValue', () => this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value })));
  }

  /** Marks the secret as owned by this resource; done last, once the resource stands. */
  async claim(spec: LabSecretSpec): Promise<void> {
    await this.call('TagResource', () =>
      this.client.send(new TagResourceCommand({ SecretId: spec.name, Tags: [{ Key: MANAGED_BY_TAG, Value: spec.managedBy }] })),
    );
    log('lab secret now owned by this resource', { name: spec.name, managedBy: spec.managedBy });
  }

  /** DeleteSecret with a recovery window; a secret already gone or already scheduled needs nothing more. */
  async scheduleDeletion(name: string, recoveryWindowDays: number): Promise<void> {
    try {
      await this.call('DeleteSecret', () => this.client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: recoveryWindowDays })));
      log('scheduled lab secret deletion', { name, recoveryWindowDays });
    } catch (error) {
      if (!isNamed('ResourceNotFoundException', 'InvalidRequestException')(rootCause(error))) throw error;
      log('lab secret already gone or scheduled for deletion', { name });
    }
  }

  /**
   * The Delete of the owning resource: schedules the secret's deletion unless
   * another resource has taken it over. Reads no value, so it works whatever
   * state the encryption key is in.
   */
  async release(name: string, managedBy: string, recoveryWindowDays: () => Promise<number>): Promise<void> {
    const decision = releaseDecision(await this.state(name), managedBy);
    if (decision.action === 'keep') {
      log('lab secret left as it is', { name, reason: decision.reason });
      return;
    }
    await this.scheduleDeletion(name, await recoveryWindowDays());
  }
}
