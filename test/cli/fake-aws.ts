import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { CloudFormationClient, CloudFormationServiceException, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudHSMV2Client, DescribeClustersCommand } from '@aws-sdk/client-cloudhsm-v2';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { EC2Client } from '@aws-sdk/client-ec2';
import { GetRoleCommand, IAMClient, IAMServiceException, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import {
  CancelKeyDeletionCommand,
  DecryptCommand,
  DescribeCustomKeyStoresCommand,
  DescribeKeyCommand,
  DisabledException,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  IncorrectKeyException,
  InvalidCiphertextException,
  KMSClient,
  KMSInvalidStateException,
  KMSServiceException,
  NotFoundException,
  ScheduleKeyDeletionCommand,
  UnsupportedOperationException,
} from '@aws-sdk/client-kms';
import { DescribeSecretCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import type { mockClient } from 'aws-sdk-client-mock';
import { labTags } from '../../lib/common/lab-tags';
import { evaluate, PolicyDocument } from '../deploy/iam-policy';
import { Answer, own, sdkMock } from '../helpers/sdk-mocks';

/**
 * A small stateful AWS for the CLI's tests: KMS with real AES-256-GCM under
 * 32-byte key materials, STS whose session credentials KMS recognises,
 * CloudFormation stacks with the lab's outputs, CloudTrail, CloudHSM and
 * Secrets Manager reads. Every fake call resolves the calling client's
 * credentials and Region as the SDK would to sign, so a missing credential
 * fails with the SDK's own CredentialsProviderError.
 */

export const ACCOUNT = '111122223333';
export const PRIMARY = 'ap-southeast-1';
export const SECONDARY = 'ap-southeast-2';
export const OPERATOR_ACCESS_KEY = 'AKIAOPERATOR00000001';
export const APP_ROLE = `arn:aws:iam::${ACCOUNT}:role/kms-key-lab-ApplicationRole`;
export const ADMIN_ROLE = `arn:aws:iam::${ACCOUNT}:role/KeyAdmin`;
export const USER_ROLE = `arn:aws:iam::${ACCOUNT}:role/KeyUser`;

/** Creating: a multi-Region replica's transient state after ReplicateKey (test/cli/fake-replication.ts). */
type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingImport' | 'Unavailable' | 'Creating';
/** `deployed`: a role a deploy made from a synthesized template, whose rights come from its policies. */
type RoleKind = 'grantee' | 'admin' | 'user' | 'deployed';

/**
 * The access key Lambda gives a function of its execution role (AWS_ACCESS_KEY_ID in the function's environment):
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
 * A handler's module-level clients keep the first credentials and Region they resolve, so a call signed with it is
 * the function being invoked (`FakeAws.invocation`), in that function's Region.
 */
export const LAMBDA_ACCESS_KEY = 'ASIALAMBDAEXECUTION1';

export interface FakeKey {
  keyId: string;
  arn: string;
  region: string;
  material: Buffer;
  state: KeyState;
  origin: 'AWS_KMS' | 'EXTERNAL' | 'AWS_CLOUDHSM';
  multiRegion?: 'PRIMARY' | 'REPLICA';
  deletionDate?: Date;
  rotation?: { enabled: boolean; periodDays: number; next: Date };
  customKeyStoreId?: string;
  /** DescribeKey's CurrentKeyMaterialId, ExpirationModel and ValidTo, kept by test/cli/fake-key-material.ts. */
  currentKeyMaterialId?: string;
  expirationModel?: string;
  validTo?: Date;
  /** The key policy, for a key a deploy made from a synthesized template (test/deploy/): then IAM's evaluation decides, not the role kinds. */
  policy?: PolicyDocument;
  /** Its tags, for a deployed key (the template's resource tags and the stack tags). */
  tags?: Record<string, string>;
}

// The test file's one stub per client (test/helpers/sdk-mocks.ts), shared with the CloudHSM world.
const mocks = {
  kms: sdkMock(KMSClient),
  sts: sdkMock(STSClient),
  cfn: sdkMock(CloudFormationClient),
  cloudTrail: sdkMock(CloudTrailClient),
  // This older client's types differ from the mock library's newer Smithy types; the runtime is the same.
  cloudHsm: sdkMock(CloudHSMV2Client as never),
  secrets: sdkMock(SecretsManagerClient),
  // Its operations are in test/cli/fake-lifecycle.ts (teardown's leftovers).
  ec2: sdkMock(EC2Client),
  iam: sdkMock(IAMClient),
};

/**
 * The part of a fake that a test/cli/fake-*.ts module adds (its own state and
 * operations), made once per FakeAws on first use.
 */
export function fakePart<T>(make: (aws: FakeAws) => T): (aws: FakeAws) => T {
  const parts = new WeakMap<FakeAws, T>();
  return (aws) => {
    let part = parts.get(aws);
    if (part === undefined) {
      part = make(aws);
      parts.set(aws, part);
    }
    return part;
  };
}

/** Registers one more fake operation, as install() does for its own: it logs the call, applies `failures`, and passes the caller. */
export type FakeOn = <I>(
  mock: ReturnType<typeof mockClient>,
  command: unknown,
  name: string,
  fn: (input: I, who: { readonly principal: string; readonly region: string }) => unknown,
) => void;

type AnyClient = { config: { credentials: () => Promise<{ accessKeyId: string }>; region: () => Promise<string> | string } };
type GetClient = () => unknown;

/** The owner name of FakeAws's commands (test/helpers/sdk-mocks.ts): installing another FakeAws replaces them. */
export const FAKE_AWS = 'fake-aws';

const kmsError = <E extends Error>(Ctor: new (o: { message: string; $metadata: object }) => E, message: string) => new Ctor({ message, $metadata: {} });

/** The default lab: what `cdk deploy --all` leaves with the default settings, (e) and the roles stack included; with (d) when cloudHsm is set. */
export interface LabOptions {
  prefix?: string;
  primaryRegion?: string;
  secondaryRegion?: string;
  cloudHsm?: boolean | { connectionState: string; connectionErrorCode?: string };
  deploySecondary?: boolean;
  /** Scenario (e): a multi-Region key with imported material, primary and replica, and its escrow (replicated to the secondary). Default true; false: deployed with -c multiRegionImportedKey=false. */
  multiRegionImported?: boolean;
  /** Whether every key policy names the lab's KeyAdmin and KeyUser roles (of the stack `<prefix>-roles`, always there). Default true; false: deployed with keyAdminArns and keyUserArns set (ADMIN_ROLE and USER_ROLE). */
  labRoles?: boolean;
  /**
   * The opt-in alarm on use of a key pending deletion (`-c deletionAlarm=true`): the stacks `<prefix>-alarm-primary`
   * and `<prefix>-alarm-secondary`, one per Region, with their PendingDeletion* outputs. Default false.
   */
  deletionAlarm?: boolean;
}

export const LAB_ADMIN_ROLE = `arn:aws:iam::${ACCOUNT}:role/kms-key-lab-KeyAdmin`;
export const LAB_USER_ROLE = `arn:aws:iam::${ACCOUNT}:role/kms-key-lab-KeyUser`;

export class FakeAws {
  readonly keys = new Map<string, FakeKey>();
  /** `<region>|alias/<name>` → key ARN. */
  readonly aliases = new Map<string, string>();
  /**
   * `<region>|<name>` → the stack; tags: its CloudFormation stack tags (none when unset, as for a stack created without
   * tags); roleArn: the execution role it was deployed with (DescribeStacks' RoleARN; unset: the caller's credentials).
   */
  readonly stacks = new Map<string, { status: string; outputs: Record<string, string>; tags?: Record<string, string>; roleArn?: string }>();
  readonly roles = new Map<string, RoleKind>();
  /** IAM roles that exist besides those in `roles` (which KMS and STS know), e.g. a CloudFormation execution role: what GetRole finds. */
  readonly otherRoles = new Set<string>();
  /** Role ARN → GetRole's CreateDate, for a role a deploy made (test/deploy): when its stack created it. */
  readonly roleCreateDates = new Map<string, Date>();
  readonly sessions = new Map<string, string>();
  readonly grants = new Map<string, Set<string>>();
  readonly events = new Map<string, { at: Date; name: string }[]>();
  readonly keyStores = new Map<string, { state: string; errorCode?: string }>();
  /** Cluster id → the cluster; tags unset: the lab's tag, which the CfnCluster gets from its stack. */
  readonly clusters = new Map<string, { created: Date; hsms: number; state: string; tags?: Record<string, string> }>();
  /** `policy`: the resource policy PutResourcePolicy set (a deployed secret); `region`: its primary Region (default the lab's primary). */
  readonly secrets = new Map<string, { deletedDate?: Date; replicaRegions?: string[]; policy?: PolicyDocument; tags?: Record<string, string> }>();
  /** Per operation name, an error to answer with instead (after the SDK's retries, as the CLI would see it). */
  readonly failures = new Map<string, () => Error>();
  /** Who called what, e.g. "operator Encrypt ap-southeast-1". */
  readonly log: string[] = [];
  /** The key policy's split; tests loosen it to see the CLI notice, or add an explicit Deny for the user. */
  readonly policy = { adminMayEncrypt: false, userMayScheduleDeletion: false, userDeniedScheduleDeletion: false };
  ciphertexts = 0;
  /** A role's identity policies (IAM::Policy and inline policies of a deployed role), by role ARN. */
  readonly identityPolicies = new Map<string, PolicyDocument[]>();
  /** The Lambda function being invoked by a deploy: its execution role and Region. */
  invocation?: { readonly principal: string; readonly region: string };

  /** Operations that test/cli/fake-*.ts modules add for their commands; install() registers them after its own. */
  static readonly extensions: ((aws: FakeAws, on: FakeOn) => void)[] = [];

  constructor(readonly options: LabOptions = {}) {}

  get prefix() {
    return this.options.prefix ?? 'kms-key-lab';
  }
  get primary() {
    return this.options.primaryRegion ?? PRIMARY;
  }
  get secondary() {
    return this.options.secondaryRegion ?? SECONDARY;
  }
  /** The administrator and user the key policies name: the lab's own roles when it made them. */
  get adminRole() {
    return this.options.labRoles ? LAB_ADMIN_ROLE : ADMIN_ROLE;
  }
  get userRole() {
    return this.options.labRoles ? LAB_USER_ROLE : USER_ROLE;
  }

  addKey(region: string, init: Partial<FakeKey> & { alias?: string } = {}): FakeKey {
    const keyId = init.keyId ?? randomUUID();
    const key: FakeKey = {
      keyId,
      arn: `arn:aws:kms:${region}:${ACCOUNT}:key/${keyId}`,
      region,
      material: init.material ?? randomBytes(32),
      state: init.state ?? 'Enabled',
      origin: init.origin ?? 'AWS_KMS',
      multiRegion: init.multiRegion,
      customKeyStoreId: init.customKeyStoreId,
      rotation: init.rotation ?? (init.origin && init.origin !== 'AWS_KMS' ? undefined : { enabled: true, periodDays: 365, next: new Date('2026-06-01T00:00:00Z') }),
    };
    this.keys.set(key.arn, key);
    if (init.alias) this.aliases.set(`${region}|${init.alias}`, key.arn);
    return key;
  }

  /** Builds the lab's keys, stacks and outputs as the CDK app defines them. */
  static lab(given: LabOptions = {}): FakeAws {
    const options: LabOptions = { ...given, multiRegionImported: given.multiRegionImported ?? true, labRoles: given.labRoles ?? true };
    const aws = new FakeAws(options);
    const p = aws.prefix;
    // The stack tags `cdk deploy` sets from the manifest with the default owner; test/deploy/fixture-check.test.ts
    // checks them (and these stacks' names and outputs) against the synthesized assembly.
    const tags = labTags(p, 'unassigned');
    const alias = (name: string) => `alias/${p}/${name}`;
    const outputs = (name: string, key: FakeKey, aliasName: string) => ({
      [`${name}KeyId`]: key.keyId,
      [`${name}KeyArn`]: key.arn,
      [`${name}KeyAlias`]: aliasName,
      [`${name}KeyRegion`]: key.region,
    });

    const aPrimary = aws.addKey(aws.primary, { alias: alias('single-region') });
    const bPrimary = aws.addKey(aws.primary, { keyId: `mrk-${randomUUID().replace(/-/g, '')}`, alias: alias('multi-region'), multiRegion: 'PRIMARY' });
    const cKey = aws.addKey(aws.primary, { alias: alias('imported-material'), origin: 'EXTERNAL' });
    const escrow = `${p}/imported-material/escrow-${cKey.keyId}`;
    aws.secrets.set(escrow, {});
    aws.roles.set(APP_ROLE, 'grantee');
    aws.roles.set(ADMIN_ROLE, 'admin');
    aws.roles.set(USER_ROLE, 'user');
    aws.grants.set(aPrimary.arn, new Set([APP_ROLE]));
    aws.stacks.set(`${aws.primary}|${p}-primary`, {
      status: 'CREATE_COMPLETE',
      tags,
      outputs: {
        ...outputs('SingleRegion', aPrimary, alias('single-region')),
        ...outputs('MultiRegion', bPrimary, alias('multi-region')),
        ...outputs('ImportedMaterial', cKey, alias('imported-material')),
        MultiRegionReplicaKeyArn: `arn:aws:kms:${aws.secondary}:${ACCOUNT}:key/${bPrimary.keyId}`,
        ImportedMaterialEscrowSecretName: escrow,
        ApplicationRoleArn: APP_ROLE,
      },
    });

    // The roles stack is there whatever the settings; with keyAdminArns and keyUserArns set no key policy names its roles.
    aws.roles.set(LAB_ADMIN_ROLE, options.labRoles ? 'admin' : 'deployed');
    aws.roles.set(LAB_USER_ROLE, options.labRoles ? 'user' : 'deployed');
    aws.stacks.set(`${aws.primary}|${p}-roles`, { status: 'CREATE_COMPLETE', tags, outputs: { KeyAdminRoleArn: LAB_ADMIN_ROLE, KeyUserRoleArn: LAB_USER_ROLE } });
    let ePrimary: FakeKey | undefined;
    if (options.multiRegionImported) {
      ePrimary = aws.addKey(aws.primary, { keyId: `mrk-${randomUUID().replace(/-/g, '')}`, alias: alias('multi-region-imported'), origin: 'EXTERNAL', multiRegion: 'PRIMARY' });
      const eEscrow = `${p}/multi-region-imported/escrow-${ePrimary.keyId}`;
      aws.secrets.set(eEscrow, { replicaRegions: [aws.secondary] });
      Object.assign(aws.stacks.get(`${aws.primary}|${p}-primary`)!.outputs, {
        ...outputs('MultiRegionImported', ePrimary, alias('multi-region-imported')),
        MultiRegionImportedReplicaKeyArn: `arn:aws:kms:${aws.secondary}:${ACCOUNT}:key/${ePrimary.keyId}`,
        MultiRegionImportedEscrowSecretName: eEscrow,
      });
    }

    if (options.deploySecondary !== false) {
      const aSecondary = aws.addKey(aws.secondary, { alias: alias('single-region') });
      const replica = aws.addKey(aws.secondary, { keyId: bPrimary.keyId, material: bPrimary.material, alias: alias('multi-region'), multiRegion: 'REPLICA' });
      aws.stacks.set(`${aws.secondary}|${p}-secondary`, {
        status: 'CREATE_COMPLETE',
      tags,
        outputs: { ...outputs('SingleRegion', aSecondary, alias('single-region')), ...outputs('MultiRegion', replica, alias('multi-region')) },
      });
      if (ePrimary) {
        const eReplica = aws.addKey(aws.secondary, { keyId: ePrimary.keyId, material: ePrimary.material, alias: alias('multi-region-imported'), origin: 'EXTERNAL', multiRegion: 'REPLICA' });
        Object.assign(aws.stacks.get(`${aws.secondary}|${p}-secondary`)!.outputs, {
          ...outputs('MultiRegionImported', eReplica, alias('multi-region-imported')),
          MultiRegionImportedEscrowSecretName: `${p}/multi-region-imported/escrow-${ePrimary.keyId}`,
        });
      }
    }

    if (options.deletionAlarm) {
      for (const [where, region] of [['primary', aws.primary], ['secondary', aws.secondary]] as const) {
        const name = `${p}-pending-deletion-use`;
        aws.stacks.set(`${region}|${p}-alarm-${where}`, {
          status: 'CREATE_COMPLETE',
      tags,
          outputs: {
            PendingDeletionAlarmName: name,
            PendingDeletionTopicArn: `arn:aws:sns:${region}:${ACCOUNT}:${name}`,
            PendingDeletionLogGroupName: `/${p}/cloudtrail/pending-deletion-use`,
            PendingDeletionTrailArn: `arn:aws:cloudtrail:${region}:${ACCOUNT}:trail/${name}`,
            PendingDeletionWatchedStacks: where === 'primary' ? `${p}-primary,${p}-cloudhsm` : `${p}-secondary`,
          },
        });
      }
    }

    if (options.cloudHsm) {
      const store = typeof options.cloudHsm === 'object' ? options.cloudHsm : { connectionState: 'CONNECTED' };
      const storeId = 'cks-1234567890abcdef0';
      aws.keyStores.set(storeId, { state: store.connectionState, errorCode: store.connectionErrorCode });
      aws.clusters.set('cluster-abcdefghijk', { created: new Date('2025-06-01T00:00:00Z'), hsms: 2, state: 'ACTIVE' });
      const dKey = aws.addKey(aws.primary, {
        alias: alias('cloudhsm'),
        origin: 'AWS_CLOUDHSM',
        customKeyStoreId: storeId,
        state: store.connectionState === 'CONNECTED' ? 'Enabled' : 'Unavailable',
      });
      aws.stacks.set(`${aws.primary}|${p}-cloudhsm`, {
        status: 'CREATE_COMPLETE',
      tags,
        outputs: {
          ...outputs('CloudHsm', dKey, alias('cloudhsm')),
          ClusterId: 'cluster-abcdefghijk',
          AdminPasswordSecretName: `${p}/cloudhsm/cluster-abcdefghijk/admin-password`,
          KmsUserPasswordSecretName: `${p}/cloudhsm/cluster-abcdefghijk/kmsuser-password`,
          CustomKeyStoreId: storeId,
          ClientHostInstanceId: 'i-0123456789abcdef0',
          BucketName: `${p}-cloudhsm-bucket`,
          LabExpiresAt: '2025-06-01T08:00:00Z',
          KmsUserSetup: 'automated',
        },
      });
    }
    return aws;
  }

  /** The key the lab's stack names for an output prefix, e.g. key('SingleRegion', 'secondary'). */
  key(outputName: string, where: 'primary' | 'secondary' | 'cloudhsm' = 'primary'): FakeKey {
    const region = where === 'secondary' ? this.secondary : this.primary;
    const stack = this.stacks.get(`${region}|${this.prefix}-${where}`);
    const arn = stack?.outputs[`${outputName}KeyArn`];
    if (!arn) throw new Error(`no ${outputName} key in the ${where} stack`);
    return this.keys.get(arn)!;
  }

  /**
   * Makes every command this fake models answer from it, in place of any FakeAws installed before; commands it does
   * not model keep whoever answers them (the CloudHSM world's, test/lambda/cloudhsm/world.ts).
   */
  install(): this {
    const commands: { mock: ReturnType<typeof mockClient>; command: unknown; answer: Answer }[] = [];
    const on = <I>(mock: ReturnType<typeof mockClient>, command: unknown, name: string, fn: (input: I, who: Caller) => unknown) =>
      commands.push({
        mock,
        command,
        answer: async (input: I, getClient: GetClient) => {
          const who = await this.caller(getClient);
          this.log.push(`${who.principal} ${name} ${who.region}`);
          const failure = this.failures.get(name);
          if (failure) throw failure();
          return fn(input, who);
        },
      });

    on(mocks.kms, EncryptCommand, 'Encrypt', (i: { KeyId: string; Plaintext: Uint8Array; EncryptionContext?: Record<string, string> }, who) => {
      const key = this.usableKey(i.KeyId, who, 'Encrypt');
      return { KeyId: key.arn, CiphertextBlob: this.seal(key, Buffer.from(i.Plaintext), i.EncryptionContext), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    });
    on(mocks.kms, GenerateDataKeyCommand, 'GenerateDataKey', (i: { KeyId: string; NumberOfBytes?: number; KeySpec?: string; EncryptionContext?: Record<string, string> }, who) => {
      const key = this.usableKey(i.KeyId, who, 'GenerateDataKey');
      const plaintext = randomBytes(i.NumberOfBytes ?? (i.KeySpec === 'AES_128' ? 16 : 32));
      return { KeyId: key.arn, Plaintext: new Uint8Array(plaintext), CiphertextBlob: this.seal(key, plaintext, i.EncryptionContext) };
    });
    on(mocks.kms, DecryptCommand, 'Decrypt', (i: { KeyId?: string; CiphertextBlob: Uint8Array; EncryptionContext?: Record<string, string> }, who) =>
      this.open(i, who),
    );
    on(mocks.kms, DescribeKeyCommand, 'DescribeKey', (i: { KeyId: string }, who) => ({ KeyMetadata: this.keyMetadata(this.resolve(i.KeyId, who.region)) }));
    on(mocks.kms, GetKeyRotationStatusCommand, 'GetKeyRotationStatus', (i: { KeyId: string }, who) => {
      const k = this.resolve(i.KeyId, who.region);
      if (!k.rotation) throw kmsError(UnsupportedOperationException, `${k.arn} origin is ${k.origin} which is not valid for this operation.`);
      return { KeyRotationEnabled: k.rotation.enabled, RotationPeriodInDays: k.rotation.periodDays, NextRotationDate: k.rotation.next };
    });
    on(mocks.kms, ScheduleKeyDeletionCommand, 'ScheduleKeyDeletion', (i: { KeyId: string; PendingWindowInDays?: number }, who) => {
      const k = this.resolve(i.KeyId, who.region);
      this.authorize(who, 'ScheduleKeyDeletion', k);
      k.state = 'PendingDeletion';
      k.deletionDate = new Date(Date.now() + (i.PendingWindowInDays ?? 30) * 86_400_000);
      return { KeyId: k.arn, KeyState: k.state, DeletionDate: k.deletionDate };
    });
    on(mocks.kms, CancelKeyDeletionCommand, 'CancelKeyDeletion', (i: { KeyId: string }, who) => {
      const k = this.resolve(i.KeyId, who.region);
      this.authorize(who, 'CancelKeyDeletion', k);
      k.state = 'Disabled';
      k.deletionDate = undefined;
      return { KeyId: k.arn };
    });
    on(mocks.kms, EnableKeyCommand, 'EnableKey', (i: { KeyId: string }, who) => {
      const k = this.resolve(i.KeyId, who.region);
      this.authorize(who, 'EnableKey', k);
      if (k.state === 'PendingDeletion') throw kmsError(KMSInvalidStateException, `${k.arn} is pending deletion.`);
      k.state = 'Enabled';
      return {};
    });
    on(mocks.kms, DescribeCustomKeyStoresCommand, 'DescribeCustomKeyStores', (i: { CustomKeyStoreId: string }) => {
      const s = this.keyStores.get(i.CustomKeyStoreId);
      if (!s) throw Object.assign(new Error(`Custom key store ${i.CustomKeyStoreId} not found`), { name: 'CustomKeyStoreNotFoundException' });
      return { CustomKeyStores: [{ CustomKeyStoreId: i.CustomKeyStoreId, ConnectionState: s.state, ConnectionErrorCode: s.errorCode }] };
    });

    on(mocks.kms, GetKeyPolicyCommand, 'GetKeyPolicy', (i: { KeyId: string; PolicyName?: string }, who) => {
      // An unknown key answers NotFoundException, as KMS does.
      const k = this.resolve(i.KeyId, who.region);
      // A deployed key answers with the policy its template gave it.
      return { PolicyName: 'default', Policy: JSON.stringify(k.policy ?? this.keyPolicy(k)) };
    });
    // The simulator over the role's IAM policies (none in this fake) and the statements it is given.
    on(mocks.iam, SimulatePrincipalPolicyCommand, 'SimulatePrincipalPolicy', (i: { PolicySourceArn: string; ActionNames: string[]; PolicyInputList?: string[] }) => {
      if (!this.roles.has(i.PolicySourceArn)) {
        throw new IAMServiceException({ name: 'NoSuchEntity', $fault: 'client', message: `The role with name ${i.PolicySourceArn.split('/').pop()} cannot be found.`, $metadata: {} });
      }
      // The simulation includes every policy attached to the principal (a deployed role's, test/deploy/) and the
      // PolicyInputList: https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
      const attached = (this.identityPolicies.get(i.PolicySourceArn) ?? []).flatMap((doc, n) =>
        (doc.Statement as unknown as { Effect: string; Action: string | string[] }[]).filter((st) => st.Action !== undefined).map((st) => ({ ...st, source: `attached.${n + 1}` })),
      );
      const statements = [
        ...attached,
        ...(i.PolicyInputList ?? []).flatMap((doc, n) =>
          (JSON.parse(doc) as { Statement: { Effect: string; Action: string | string[] }[] }).Statement.map((st) => ({ ...st, source: `PolicyInputList.${n + 1}` })),
        ),
      ];
      return {
        EvaluationResults: i.ActionNames.map((action) => {
          const matching = statements.filter((st) => [st.Action].flat().some((a) => new RegExp(`^${a.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(action)));
          const deny = matching.filter((st) => st.Effect === 'Deny');
          const allow = matching.filter((st) => st.Effect === 'Allow');
          const decided = deny.length > 0 ? deny : allow;
          return {
            EvalActionName: action,
            EvalDecision: deny.length > 0 ? 'explicitDeny' : allow.length > 0 ? 'allowed' : 'implicitDeny',
            MatchedStatements: decided.map((st) => ({ SourcePolicyId: st.source, SourcePolicyType: 'none' })),
          };
        }),
      };
    });

    on(mocks.sts, AssumeRoleCommand, 'AssumeRole', (i: { RoleArn: string }, who) => {
      if (who.principal !== 'operator' || !this.roles.has(i.RoleArn)) {
        throw new STSServiceException({ name: 'AccessDenied', $fault: 'client', message: `User is not authorized to perform: sts:AssumeRole on resource: ${i.RoleArn}`, $metadata: {} });
      }
      const accessKeyId = `ASIA${String(this.sessions.size + 1).padStart(16, '0')}`;
      this.sessions.set(accessKeyId, i.RoleArn);
      return { Credentials: { AccessKeyId: accessKeyId, SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(Date.now() + 900_000) } };
    });

    on(mocks.sts, GetCallerIdentityCommand, 'GetCallerIdentity', (_i: unknown, who) => ({
      Account: ACCOUNT,
      Arn: who.principal === 'operator' ? `arn:aws:iam::${ACCOUNT}:user/operator` : who.principal,
      UserId: 'AIDAOPERATOR',
    }));

    on(mocks.cfn, DescribeStacksCommand, 'DescribeStacks', (i: { StackName: string }, who) => {
      const stack = this.stacks.get(`${who.region}|${i.StackName}`);
      if (!stack) {
        throw new CloudFormationServiceException({ name: 'ValidationError', $fault: 'client', message: `Stack with id ${i.StackName} does not exist`, $metadata: {} });
      }
      return {
        Stacks: [
          {
            StackName: i.StackName,
            StackStatus: stack.status,
            CreationTime: new Date('2025-06-01T00:00:00Z'),
            Outputs: Object.entries(stack.outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
            Tags: this.stackTags(stack),
            ...(stack.roleArn ? { RoleARN: stack.roleArn } : {}),
          },
        ],
      };
    });
    // IAM GetRole by name: a role that does not exist answers NoSuchEntity, "The request was rejected because it
    // referenced a resource entity that does not exist" (IAM API reference, GetRole, Errors; HTTP 404).
    on(mocks.iam, GetRoleCommand, 'GetRole', (i: { RoleName: string }) => {
      const arn = [...this.roles.keys(), ...this.otherRoles].find((a) => a.slice(a.lastIndexOf('/') + 1) === i.RoleName);
      if (!arn) throw new IAMServiceException({ name: 'NoSuchEntity', $fault: 'client', message: `The role with name ${i.RoleName} cannot be found.`, $metadata: { httpStatusCode: 404 } });
      const path = arn.slice(arn.indexOf(':role') + ':role'.length, arn.lastIndexOf('/') + 1);
      return { Role: { RoleName: i.RoleName, Arn: arn, Path: path, RoleId: 'AROAFAKE', CreateDate: this.roleCreateDates.get(arn) ?? new Date('2025-06-01T00:00:00Z') } };
    });

    on(mocks.cloudTrail, LookupEventsCommand, 'LookupEvents', (i: { LookupAttributes: { AttributeValue: string }[]; MaxResults?: number }) => {
      const events = [...(this.events.get(i.LookupAttributes[0].AttributeValue) ?? [])].sort((a, b) => b.at.getTime() - a.at.getTime());
      return { Events: events.slice(0, i.MaxResults ?? 50).map((e) => ({ EventTime: e.at, EventName: e.name })) };
    });
    on(mocks.cloudHsm, DescribeClustersCommand, 'DescribeClusters', (i: { Filters: { clusterIds: string[] } }) => ({
      Clusters: i.Filters.clusterIds
        .filter((id) => this.clusters.has(id))
        .map((id) => {
          const c = this.clusters.get(id)!;
          return { ClusterId: id, State: c.state, CreateTimestamp: c.created, Hsms: Array.from({ length: c.hsms }, (_, n) => ({ HsmId: `hsm-${n}`, State: 'ACTIVE' })) };
        }),
    }));
    on(mocks.secrets, DescribeSecretCommand, 'DescribeSecret', (i: { SecretId: string }, who) => {
      const s = this.secrets.get(i.SecretId);
      if (s && who.region !== this.primary && !(s.replicaRegions ?? []).includes(who.region)) throw new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} });
      if (!s) throw new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} });
      return { Name: i.SecretId, DeletedDate: s.deletedDate };
    });
    for (const extend of FakeAws.extensions) extend(this, on);
    own(FAKE_AWS, { commands });
    return this;
  }

  /** The lab's key policy, as `policy` sets it: the account's root (so IAM policies count), the administrator, the user. */
  keyPolicy(key?: FakeKey): { Version: string; Statement: Record<string, unknown>[] } {
    const crypto = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'];
    const admin = [
      'kms:Create*', 'kms:Describe*', 'kms:Enable*', 'kms:List*', 'kms:Put*', 'kms:Update*', 'kms:Revoke*', 'kms:Disable*', 'kms:Get*', 'kms:Delete*',
      'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion', 'kms:RotateKeyOnDemand',
      // An administrator imports material into a key of origin EXTERNAL (test/deploy/fixture-check.test.ts holds this to the templates).
      ...(key?.origin === 'EXTERNAL' ? ['kms:ImportKeyMaterial'] : []),
    ];
    const statement = (Sid: string, Effect: string, principal: string, Action: string[]) => ({ Sid, Effect, Principal: { AWS: principal }, Action, Resource: '*' });
    return {
      Version: '2012-10-17',
      Statement: [
        statement('EnableIamPolicies', 'Allow', `arn:aws:iam::${ACCOUNT}:root`, ['kms:*']),
        statement('KeyAdministrators', 'Allow', this.adminRole, [...admin, ...(this.policy.adminMayEncrypt ? ['kms:Encrypt'] : [])]),
        statement('KeyUsers', 'Allow', this.userRole, [...crypto, ...(this.policy.userMayScheduleDeletion ? ['kms:ScheduleKeyDeletion'] : [])]),
        ...(this.policy.userDeniedScheduleDeletion ? [statement('NoDeletionByUsers', 'Deny', this.userRole, ['kms:Schedule*'])] : []),
      ],
    };
  }

  /** DescribeKey's KeyMetadata for a key. */
  keyMetadata(k: FakeKey) {
    return {
      KeyId: k.keyId,
      Arn: k.arn,
      KeyState: k.state,
      Enabled: k.state === 'Enabled',
      Origin: k.origin,
      DeletionDate: k.deletionDate,
      MultiRegion: !!k.multiRegion,
      ...(k.multiRegion ? { MultiRegionConfiguration: this.multiRegionConfiguration(k) } : {}),
      CustomKeyStoreId: k.customKeyStoreId,
      CurrentKeyMaterialId: k.currentKeyMaterialId,
      ExpirationModel: k.expirationModel,
      ValidTo: k.validTo,
    };
  }

  /** DescribeKey's MultiRegionConfiguration: the primary and its replicas, as every key of the set reports them. */
  multiRegionConfiguration(k: FakeKey) {
    const related = [...this.keys.values()].filter((x) => x.keyId === k.keyId && x.multiRegion);
    const primary = related.find((x) => x.multiRegion === 'PRIMARY');
    return {
      MultiRegionKeyType: k.multiRegion,
      ...(primary ? { PrimaryKey: { Arn: primary.arn, Region: primary.region } } : {}),
      ReplicaKeys: related.filter((x) => x.multiRegion === 'REPLICA').map((x) => ({ Arn: x.arn, Region: x.region })),
    };
  }

  /** DescribeStacks' Tags for a stack: the tags it was created with, none if none (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Stack.html). */
  stackTags(stack: { tags?: Record<string, string> }): { Key: string; Value: string }[] {
    return Object.entries(stack.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
  }

  private async caller(getClient: GetClient): Promise<Caller> {
    const client = getClient() as AnyClient;
    // As the SDK does before signing: this is where a missing credential surfaces.
    const credentials = await client.config.credentials();
    const region = await client.config.region();
    if (credentials.accessKeyId === OPERATOR_ACCESS_KEY) return { principal: 'operator', region };
    if (credentials.accessKeyId === LAMBDA_ACCESS_KEY && this.invocation) return { principal: this.invocation.principal, region: this.lambdaClientRegion(client, region) };
    const role = this.sessions.get(credentials.accessKeyId);
    if (role) return { principal: role, region };
    throw Object.assign(new Error('The security token included in the request is invalid.'), { name: 'UnrecognizedClientException' });
  }

  /** Per client a handler made, whether it named its own Region (true) or took the function's AWS_REGION (false). */
  private readonly explicitRegion = new WeakMap<object, boolean>();

  /**
   * The Region a handler's call goes to. In Lambda each function has its own
   * process, so a module-level client with the default configuration signs
   * for its function's AWS_REGION; here one module serves every function, and
   * the SDK keeps the Region such a client resolved first, so its calls go to
   * the Region of the function being invoked. A client made with a Region of
   * its own (ReplicateKey is called in the primary's Region from the
   * replica's) keeps it: one whose Region differed from its function's when
   * it was first seen.
   */
  private lambdaClientRegion(client: object, resolved: string): string {
    if (!this.explicitRegion.has(client)) this.explicitRegion.set(client, resolved !== this.invocation!.region);
    return this.explicitRegion.get(client) ? resolved : this.invocation!.region;
  }

  /** A key by id, ARN, alias name or alias ARN, in the caller's Region only. */
  resolve(ref: string, region: string): FakeKey {
    const aliasName = /^arn:[^:]+:kms:[^:]+:\d+:(alias\/.+)$/.exec(ref)?.[1] ?? (ref.startsWith('alias/') ? ref : undefined);
    const arn = aliasName ? this.aliases.get(`${region}|${aliasName}`) : ref.startsWith('arn:') ? ref : `arn:aws:kms:${region}:${ACCOUNT}:key/${ref}`;
    const key = arn ? this.keys.get(arn) : undefined;
    if (!key || key.region !== region) {
      throw kmsError(NotFoundException, aliasName ? `Alias arn:aws:kms:${region}:${ACCOUNT}:${aliasName} is not found.` : `Key '${ref}' does not exist`);
    }
    return key;
  }

  /** The lab's key policy, grant and the caller's role. */
  authorize(who: Caller, action: string, key: FakeKey, context: Record<string, string | string[]> = {}): void {
    if (who.principal === 'operator') return;
    if (key.policy) return this.authorizeByPolicy(who, action, key, context);
    const kind = this.roles.get(who.principal);
    const crypto = ['Encrypt', 'Decrypt', 'GenerateDataKey'].includes(action);
    const allowed =
      kind === 'grantee'
        ? ['Encrypt', 'Decrypt'].includes(action) && !!this.grants.get(key.arn)?.has(who.principal)
        : kind === 'admin'
          ? !crypto || (action === 'Encrypt' && this.policy.adminMayEncrypt)
          : kind === 'user'
            ? crypto || (action === 'ScheduleKeyDeletion' && this.policy.userMayScheduleDeletion)
            : false;
    if (!allowed) {
      throw new KMSServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: {}, message: `User: ${who.principal} is not authorized to perform: kms:${action} on resource: ${key.arn} because no resource-based policy allows the kms:${action} action` });
    }
  }

  /** A deployed key: its key policy, the caller's identity policies, and its grants. */
  private authorizeByPolicy(who: Caller, action: string, key: FakeKey, extra: Record<string, string | string[]>): void {
    const context = {
      ...extra,
      'kms:KeyOrigin': key.origin,
      ...Object.fromEntries(Object.entries(key.tags ?? {}).map(([k, v]) => [`aws:ResourceTag/${k}`, v])),
    };
    const request = { principal: who.principal, account: ACCOUNT, action: `kms:${action}`, resource: key.arn, context };
    const granted = [...(this.grantOperations.get(key.arn)?.get(who.principal) ?? [])].includes(action);
    if (granted || evaluate(request, key.policy, this.identityPolicies.get(who.principal) ?? [], 'kms')) return;
    throw new KMSServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: {}, message: `User: ${who.principal} is not authorized to perform: kms:${action} on resource: ${key.arn}` });
  }

  /** CreateGrant's operations per key ARN and grantee principal. */
  readonly grantOperations = new Map<string, Map<string, Set<string>>>();

  private usableKey(ref: string, who: Caller, action: string): FakeKey {
    const key = this.resolve(ref, who.region);
    this.authorize(who, action, key);
    if (key.state === 'Disabled') throw kmsError(DisabledException, `${key.arn} is disabled.`);
    if (key.state !== 'Enabled') throw kmsError(KMSInvalidStateException, `${key.arn} is ${key.state === 'PendingDeletion' ? 'pending deletion' : key.state}.`);
    return key;
  }

  /** "FK1" | key id length | key id | IV (12) | tag (16) | AES-256-GCM ciphertext; the encryption context is AAD. */
  private seal(key: FakeKey, plaintext: Buffer, context: Record<string, string> = {}): Uint8Array {
    const id = Buffer.from(key.keyId);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.material, iv);
    cipher.setAAD(aad(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    this.ciphertexts++;
    return new Uint8Array(Buffer.concat([Buffer.from('FK1'), Buffer.from([id.length]), id, iv, cipher.getAuthTag(), body]));
  }

  private open(i: { KeyId?: string; CiphertextBlob: Uint8Array; EncryptionContext?: Record<string, string> }, who: Caller) {
    const blob = Buffer.from(i.CiphertextBlob);
    if (blob.subarray(0, 3).toString() !== 'FK1') throw kmsError(InvalidCiphertextException, 'The ciphertext is invalid.');
    const idLength = blob[3];
    const keyId = blob.subarray(4, 4 + idLength).toString();
    const rest = blob.subarray(4 + idLength);
    // The ciphertext names a key id, not a Region: only a key with that id in this Region (a replica shares it) can open it.
    const key = i.KeyId ? this.resolve(i.KeyId, who.region) : this.resolve(keyId, who.region);
    if (key.keyId !== keyId) throw kmsError(IncorrectKeyException, 'The key ID in the request does not identify a KMS key that can perform this operation.');
    const usable = this.usableKey(key.arn, who, 'Decrypt');
    try {
      const decipher = createDecipheriv('aes-256-gcm', usable.material, rest.subarray(0, 12));
      decipher.setAuthTag(rest.subarray(12, 28));
      decipher.setAAD(aad(i.EncryptionContext ?? {}));
      const plaintext = Buffer.concat([decipher.update(rest.subarray(28)), decipher.final()]);
      return { KeyId: usable.arn, Plaintext: new Uint8Array(plaintext), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    } catch {
      throw kmsError(InvalidCiphertextException, 'The ciphertext is invalid.');
    }
  }
}

interface Caller {
  /** "operator", or the ARN of the role whose session credentials called. */
  readonly principal: string;
  readonly region: string;
}

function aad(context: Record<string, string>): Buffer {
  return Buffer.from(JSON.stringify(Object.keys(context).sort().map((k) => [k, context[k]])));
}

/** An error as the SDK raises it once its retries are spent. */
export function serviceError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400, attempts: 3 } });
}

export const fakeMocks = mocks;
