import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { DeleteStackCommand } from '@aws-sdk/client-cloudformation';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import * as importKeyMaterial from '../../lambda/import-key-material/index';
import * as iamSettle from '../../lambda/iam-settle/index';
import * as keyGrant from '../../lambda/key-grant/index';
import * as replicaKey from '../../lambda/replica-key/index';
import { setSleepForTests } from '../../lambda/shared/transient';
import { ACCOUNT, FakeAws, FakeKey, fakeMocks, LAMBDA_ACCESS_KEY } from '../cli/fake-aws';
import { lifecycle } from '../cli/fake-lifecycle';
import { fakeDateOnly } from '../helpers/date-only-timers';
import { bootstrapParameter } from './bootstrap';
import { AssemblyStack, assemblyStacks } from './cloud-assembly';
import { PolicyDocument } from './iam-policy';
import { DeployResult, EngineWorld, LifecycleHandler, Modelled, ResourceRequest, StackEngine } from './stack-engine';
import '../cli/fake-replication';
import './fake-deploy-ops';

/**
 * `cdk deploy --all` of a synthesized cloud assembly into the CLI's FakeAws:
 * each stack in dependency order, in its Region, with the manifest's stack
 * tags, through the deploy engine (test/deploy/stack-engine.ts). Custom
 * resources run their real handlers as their Lambda function (its execution
 * role's credentials, its Region); native resources are modelled in FakeAws
 * as below. Each deployed stack is in FakeAws's CloudFormation with its
 * manifest tags and evaluated outputs, and DeleteStack deletes it through
 * the same engine.
 */

/** The lab's custom resource types and the handler (lambda/<name>/index.ts) their Lambda runs. */
export const LAB_HANDLERS: Record<string, LifecycleHandler> = {
  'Custom::ImportedKeyMaterial': importKeyMaterial,
  'Custom::KmsGrant': keyGrant,
  'Custom::LabReplicaKey': replicaKey,
  'Custom::IamRolesSettled': iamSettle,
};


const DAY_MS = 86_400_000;

/**
 * Resources the deploy records and nothing more: no fake service behind them reads them, so only their existence
 * (and whether it bills while it exists) is modelled, until their stack deletes them. Ref returns the name, or the
 * ARN for an SNS topic, as each type's CloudFormation reference says ("Return values"):
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-template-resource-type-ref.html
 * Billable while they exist: a bucket's storage, a trail (a second copy of management events), a topic, an alarm.
 * Custom::S3AutoDeleteObjects is aws-cdk-lib's own handler (empties the bucket on Delete), not one of the lab's.
 */
const RECORDED: Record<string, { arn: (region: string, name: string) => string; name?: (p: Record<string, any>) => string | undefined; refIsArn?: boolean; billable?: boolean }> = {
  'AWS::S3::Bucket': { arn: (_r, n) => `arn:aws:s3:::${n}`, name: (p) => p.BucketName, billable: true },
  'AWS::S3::BucketPolicy': { arn: (r, n) => `arn:aws:s3:${r}:${ACCOUNT}:bucket-policy/${n}` },
  'Custom::S3AutoDeleteObjects': { arn: (r, n) => `arn:aws:cloudformation:${r}:${ACCOUNT}:custom/${n}` },
  'AWS::CloudTrail::Trail': { arn: (r, n) => `arn:aws:cloudtrail:${r}:${ACCOUNT}:trail/${n}`, name: (p) => p.TrailName, billable: true },
  'AWS::Logs::MetricFilter': { arn: (r, n) => `arn:aws:logs:${r}:${ACCOUNT}:metric-filter:${n}`, name: (p) => p.FilterName },
  'AWS::SNS::Topic': { arn: (r, n) => `arn:aws:sns:${r}:${ACCOUNT}:${n}`, name: (p) => p.TopicName, refIsArn: true, billable: true },
  'AWS::SNS::TopicPolicy': { arn: (r, n) => `arn:aws:sns:${r}:${ACCOUNT}:topic-policy/${n}` },
  'AWS::SNS::Subscription': { arn: (r, n) => `arn:aws:sns:${r}:${ACCOUNT}:subscription/${n}`, refIsArn: true },
  'AWS::CloudWatch::Alarm': { arn: (r, n) => `arn:aws:cloudwatch:${r}:${ACCOUNT}:alarm:${n}`, name: (p) => p.AlarmName, billable: true },
  'AWS::Events::Rule': { arn: (r, n) => `arn:aws:events:${r}:${ACCOUNT}:rule/${n}`, name: (p) => p.Name },
  'AWS::Lambda::Permission': { arn: (r, n) => `arn:aws:lambda:${r}:${ACCOUNT}:permission/${n}` },
};
/** The types create() makes in FakeAws, besides RECORDED. */
const MODELLED = new Set(['AWS::KMS::Key', 'AWS::KMS::ReplicaKey', 'AWS::KMS::Alias', 'AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::Lambda::Function', 'AWS::StepFunctions::StateMachine', 'AWS::Logs::LogGroup']);
const tagMap = (tags: unknown): Record<string, string> =>
  Array.isArray(tags) ? Object.fromEntries((tags as { Key: string; Value: string }[]).map((t) => [t.Key, t.Value])) : {};

export interface Deployed {
  readonly stack: AssemblyStack;
  readonly engine: StackEngine;
  readonly result: DeployResult;
}

export class FakeAwsDeployment implements EngineWorld {
  now: number;
  readonly stacks = new Map<string, Deployed>();
  /** Every Delete the engine ran, with its result. */
  readonly deletions: { stackName: string; region: string; result: DeployResult }[] = [];
  /** Resources recorded only (RECORDED below), by `<region>|<type>|<name>`, until their stack deletes them. */
  readonly records = new Map<string, { type: string; stackName: string; region: string; name: string; billable: boolean }>();
  /** Role name → ARN, for AWS::IAM::Policy's Roles (which Ref the role: its name). */
  private readonly roleArns = new Map<string, string>();

  constructor(readonly aws: FakeAws) {
    this.now = lifecycle(aws).clock.getTime();
    deployments.set(aws, this);
  }

  advance(ms: number): void {
    this.now += ms;
  }

  /** Whether create() models a resource type (else it throws). */
  static models(type: string): boolean {
    return MODELLED.has(type) || type in RECORDED;
  }

  callCount(_since: number, _until: number): number {
    return 0;
  }

  handler(type: string): LifecycleHandler | undefined {
    return LAB_HANDLERS[type];
  }

  ssmParameter(name: string): string | undefined {
    return bootstrapParameter(name);
  }

  /** Fn::GetStackOutput reads the output of the named stack in its Region, as it stands when the reading stack is created. */
  stackOutput(stackName: string, region: string, outputName: string): string | undefined {
    return this.aws.stacks.get(`${region}|${stackName}`)?.outputs[outputName];
  }

  /**
   * A Lambda invocation: the function's environment holds its execution
   * role's credentials and AWS_REGION (the Lambda runtime's variables), its
   * console goes to its log group, and backoffs take no real time.
   */
  async invoke<T>(lambda: { region: string; roleArn?: string; timeoutMs: number }, call: (context: Context) => Promise<T>): Promise<T> {
    const saved = { ...process.env };
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => jest.spyOn(console, m).mockImplementation(() => undefined));
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: LAMBDA_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: 'lambda-secret', AWS_SESSION_TOKEN: 'lambda-token', AWS_REGION: lambda.region });
    this.aws.invocation = { principal: lambda.roleArn ?? 'unknown-lambda-role', region: lambda.region };
    setSleepForTests(async () => undefined);
    // The function's clock is the deploy's (new Date() in a handler: how long a role has existed, an expiry).
    fakeDateOnly(this.now);
    const end = this.now + lambda.timeoutMs;
    try {
      return await call({ getRemainingTimeInMillis: () => Math.max(0, end - this.now) } as Context);
    } finally {
      jest.useRealTimers();
      this.aws.invocation = undefined;
      setSleepForTests(undefined);
      for (const s of spies) s.mockRestore();
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  }

  create(r: ResourceRequest): Modelled {
    const { aws } = this;
    const p = r.properties;
    const region = r.stack.region;
    // Stack tags propagate to every resource that supports tags:
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-resource-tags.html
    const tags = { ...(r.stack.tags ?? {}), ...tagMap(p.Tags) };
    switch (r.type) {
      case 'AWS::KMS::Key': {
        // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-kms-key.html (Ref: the key id;
        // Enabled false: Disabled). Origin EXTERNAL: created without material, PendingImport; a multi-Region key id starts
        // with mrk-: https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html
        // Automatic rotation's first date is RotationPeriodInDays after it is enabled:
        // https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKeyRotation.html
        const external = p.Origin === 'EXTERNAL';
        this.checkPrincipals(p.KeyPolicy);
        const key = aws.addKey(region, {
          keyId: p.MultiRegion ? `mrk-${randomUUID().replace(/-/g, '')}` : undefined,
          origin: p.Origin ?? 'AWS_KMS',
          multiRegion: p.MultiRegion ? 'PRIMARY' : undefined,
          state: external ? 'PendingImport' : p.Enabled === false ? 'Disabled' : 'Enabled',
          rotation: external ? undefined : { enabled: !!p.EnableKeyRotation, periodDays: Number(p.RotationPeriodInDays ?? 365), next: new Date(this.now + Number(p.RotationPeriodInDays ?? 365) * DAY_MS) },
        });
        if (external) key.material = Buffer.alloc(0);
        this.keyOf(key, p.KeyPolicy, tags);
        return { physicalId: key.keyId, attributes: { Arn: key.arn, KeyId: key.keyId } };
      }
      case 'AWS::KMS::ReplicaKey': {
        // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-kms-replicakey.html
        // A replica shares its primary's key id, and its material, which an EXTERNAL replica must import (PendingImport);
        // one replica per Region (AlreadyExistsException): https://docs.aws.amazon.com/kms/latest/APIReference/API_ReplicateKey.html
        const primary = aws.keys.get(String(p.PrimaryKeyArn));
        if (!primary || primary.multiRegion !== 'PRIMARY') throw new Error(`PrimaryKeyArn ${p.PrimaryKeyArn} is not a multi-Region primary key`);
        if ([...aws.keys.values()].some((k) => k.keyId === primary.keyId && k.region === region)) throw new Error(`${primary.keyId} already has a key in ${region}`);
        const external = primary.origin === 'EXTERNAL';
        this.checkPrincipals(p.KeyPolicy);
        const key = aws.addKey(region, {
          keyId: primary.keyId,
          material: primary.material,
          origin: primary.origin,
          multiRegion: 'REPLICA',
          state: external ? 'PendingImport' : p.Enabled === false ? 'Disabled' : 'Enabled',
          rotation: primary.rotation,
        });
        this.keyOf(key, p.KeyPolicy, tags);
        return { physicalId: key.keyId, attributes: { Arn: key.arn, KeyId: key.keyId } };
      }
      case 'AWS::KMS::Alias': {
        // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-kms-alias.html (Ref: the alias name);
        // an alias name is unique in its account and Region: https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html
        const target = aws.resolve(String(p.TargetKeyId), region);
        const name = String(p.AliasName);
        if (aws.aliases.has(`${region}|${name}`)) throw new Error(`Alias ${name} already exists in ${region}`);
        aws.aliases.set(`${region}|${name}`, target.arn);
        return { physicalId: name };
      }
      case 'AWS::IAM::Role': {
        // Without RoleName, CloudFormation names it <stack>-<logical id>-<random>:
        // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-role.html
        const name = p.RoleName ?? `${r.stack.stackName}-${r.logicalId}-${randomBytes(6).toString('hex').toUpperCase()}`.slice(0, 64);
        const arn = `arn:aws:iam::${ACCOUNT}:role${p.Path ?? '/'}${name}`;
        aws.roles.set(arn, 'deployed');
        aws.roleCreateDates.set(arn, new Date(this.now));
        aws.identityPolicies.set(arn, ((p.Policies ?? []) as { PolicyDocument: PolicyDocument }[]).map((x) => x.PolicyDocument));
        this.roleArns.set(name, arn);
        return { physicalId: name, attributes: { Arn: arn, RoleId: `AROA${randomBytes(8).toString('hex').toUpperCase()}` } };
      }
      case 'AWS::IAM::Policy': {
        for (const role of (p.Roles ?? []) as string[]) {
          const arn = this.roleArns.get(role);
          if (!arn) throw new Error(`The role with name ${role} cannot be found.`);
          aws.identityPolicies.get(arn)!.push(p.PolicyDocument as PolicyDocument);
        }
        return { physicalId: `${r.logicalId}-${randomBytes(4).toString('hex')}` };
      }
      // Taken as ready: what they do (run code, keep logs) is what the engine's invoke() and nothing else stands for.
      case 'AWS::Lambda::Function':
        return { physicalId: `${r.stack.stackName}-${r.logicalId}`, attributes: { Arn: `arn:aws:lambda:${region}:${ACCOUNT}:function:${r.stack.stackName}-${r.logicalId}` } };
      // The Provider framework's waiter: the engine itself polls isComplete at the interval its definition gives.
      case 'AWS::StepFunctions::StateMachine': {
        const arn = `arn:aws:states:${region}:${ACCOUNT}:stateMachine:${r.stack.stackName}-${r.logicalId}`;
        return { physicalId: arn, attributes: { Arn: arn, Name: `${r.stack.stackName}-${r.logicalId}` } };
      }
      case 'AWS::Logs::LogGroup':
        return { physicalId: String(p.LogGroupName ?? `${r.stack.stackName}-${r.logicalId}`), attributes: { Arn: `arn:aws:logs:${region}:${ACCOUNT}:log-group:${p.LogGroupName ?? r.logicalId}:*` } };
      default: {
        const recorded = RECORDED[r.type];
        if (!recorded) throw new Error(`${r.type} is not modelled by test/deploy/fake-aws-deploy.ts`);
        const name = recorded.name?.(p) ?? `${r.stack.stackName}-${r.logicalId}`.toLowerCase().slice(0, 63);
        const arn = recorded.arn(region, name);
        this.records.set(`${region}|${r.type}|${name}`, { type: r.type, stackName: r.stack.stackName, region, name, billable: !!recorded.billable });
        return {
          physicalId: recorded.refIsArn ? arn : name,
          attributes: { Arn: arn },
          otherAttribute: (attribute) => `${arn}/${attribute}`,
        };
      }
    }
  }

  delete(r: ResourceRequest): void {
    const { aws } = this;
    const region = r.stack.region;
    if (r.type === 'AWS::KMS::Key' || r.type === 'AWS::KMS::ReplicaKey') {
      // CloudFormation schedules the key's deletion with PendingWindowInDays (default 30). A multi-Region primary whose
      // replicas still exist (a replica pending deletion exists until its window ends) waits PendingReplicaDeletion,
      // and its own window begins only once they are deleted:
      // https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-delete.html
      const key = aws.keys.get(r.attributes!.Arn);
      if (!key || key.state === 'PendingDeletion' || (key.state as string) === 'PendingReplicaDeletion') return;
      const window = Number(r.properties.PendingWindowInDays ?? 30);
      const replicas = key.multiRegion === 'PRIMARY' ? [...aws.keys.values()].filter((k) => k !== key && k.keyId === key.keyId) : [];
      key.state = (replicas.length > 0 ? 'PendingReplicaDeletion' : 'PendingDeletion') as FakeKey['state'];
      key.deletionDate = replicas.length > 0 ? undefined : new Date(lifecycle(aws).clock.getTime() + window * DAY_MS);
    } else if (r.type === 'AWS::KMS::Alias') {
      aws.aliases.delete(`${region}|${r.physicalId}`);
    } else if (RECORDED[r.type]) {
      for (const [k, v] of this.records) if (v.type === r.type && v.region === region && (v.name === r.physicalId || RECORDED[r.type].arn(region, v.name) === r.physicalId)) this.records.delete(k);
    } else if (r.type === 'AWS::IAM::Role') {
      aws.roles.delete(r.attributes!.Arn);
      aws.identityPolicies.delete(r.attributes!.Arn);
    }
  }

  /**
   * "The principals that you specify in the key policy must exist and be visible to AWS KMS", else CreateKey (and
   * ReplicateKey) fail with MalformedPolicyDocumentException:
   * https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html#KMS-CreateKey-request-Policy
   * Roles of this account are checked against the roles deployed so far; the account root always exists.
   */
  private checkPrincipals(policy: unknown): void {
    const principals = ((policy as { Statement?: { Principal?: { AWS?: string | string[] } }[] })?.Statement ?? []).flatMap((st) => [st.Principal?.AWS ?? []].flat());
    const missing = principals.filter((p) => p.startsWith(`arn:aws:iam::${ACCOUNT}:role/`) && !this.aws.roles.has(p));
    if (missing.length > 0) throw new Error(`MalformedPolicyDocumentException: Policy contains a statement with one or more invalid principals (${missing.join(', ')})`);
  }

  private keyOf(key: FakeKey, policy: unknown, tags: Record<string, string>): void {
    key.policy = policy as PolicyDocument;
    key.tags = tags;
    lifecycle(this.aws).keyTags.set(key.arn, tags);
  }

  /** Deploys one stack of the assembly: in FakeAws's CloudFormation with its tags and outputs when it completes. */
  async deployStack(stack: AssemblyStack): Promise<Deployed> {
    const engine = new StackEngine(this, stack.template, { stackName: stack.stackName, account: stack.account ?? ACCOUNT, region: stack.region, tags: stack.tags });
    const result = await engine.deploy();
    const deployed = { stack, engine, result };
    this.stacks.set(`${stack.region}|${stack.stackName}`, deployed);
    this.aws.stacks.set(`${stack.region}|${stack.stackName}`, {
      status: result.ok ? 'CREATE_COMPLETE' : 'ROLLBACK_COMPLETE',
      outputs: result.ok ? engine.outputs : {},
      tags: stack.tags,
    });
    return deployed;
  }

  /** `cdk deploy --all`: every stack in dependency order; stops at the first that fails, as cdk deploy does. */
  async deployAll(assembly: CloudAssembly): Promise<Deployed[]> {
    const out: Deployed[] = [];
    for (const stack of assemblyStacks(assembly)) {
      const d = await this.deployStack(stack);
      out.push(d);
      if (!d.result.ok) break;
    }
    return out;
  }

  /** DeleteStack of a deployed stack: every resource through the engine, in reverse order. */
  async deleteStack(region: string, stackName: string): Promise<DeployResult | undefined> {
    const d = this.stacks.get(`${region}|${stackName}`);
    if (!d) return undefined;
    const result = await d.engine.destroy();
    this.deletions.push({ stackName, region, result });
    if (result.ok) this.stacks.delete(`${region}|${stackName}`);
    return result;
  }
}

const deployments = new WeakMap<FakeAws, FakeAwsDeployment>();

// DeleteStack of a stack the engine deployed runs the engine's Delete, then goes through fake-lifecycle.ts's
// DELETE_IN_PROGRESS → DELETE_COMPLETE (or DELETE_FAILED with the resource that failed), events and all.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeleteStack.html
FakeAws.extensions.push((aws, on) => {
  const world = lifecycle(aws);
  on(fakeMocks.cfn, DeleteStackCommand, 'DeleteStack', async (i: { StackName: string }, who) => {
    world.deleteRequests.push(i.StackName);
    const deployment = deployments.get(aws);
    const key = `${who.region}|${i.StackName}`;
    const stack = aws.stacks.get(key);
    if (!deployment?.stacks.has(key) || !stack || world.deleting.has(key) || stack.status === 'DELETE_IN_PROGRESS') {
      world.startDeletion(who.region, i.StackName);
      return {};
    }
    const result = (await deployment.deleteStack(who.region, i.StackName))!;
    const failure = result.ok ? [] : [...(result.failures ?? [])];
    // The stack's events show each resource the engine deleted, in the order it did.
    const resources = result.rows.map((r) => ({ logicalId: r.logicalId, type: r.type }));
    world.plans.set(i.StackName, { polls: resources.length + 1, resources, failures: failure });
    world.engineDeleted.add(key);
    world.startDeletion(who.region, i.StackName);
    return {};
  });
});
