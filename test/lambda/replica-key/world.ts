import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { isComplete, onEvent, setSleepForTests } from '../../../lambda/replica-key/index';
import { onEvent as importOnEvent } from '../../../lambda/import-key-material/index';
import { ACCOUNT, FakeAws, FakeKey, PRIMARY, SECONDARY } from '../../cli/fake-aws';
import { keyMaterial } from '../../cli/fake-key-material';
import '../../cli/fake-lifecycle';
import '../../cli/fake-replication';
import { useOperatorCredentials } from '../../cli/harness';
import { resourcesOfType, synthLab } from '../../helpers/lab';

/**
 * The secondary stack's replica resources as `cdk synth` makes them (the
 * properties, logical ids and resource types come from the synthesized
 * template, intrinsics resolved as CloudFormation would for this account),
 * run through the replica and import handlers the way the Provider framework
 * runs them, against the stateful fakes of test/cli. The handlers run with the
 * operator's credentials: IAM is not modelled for them.
 */

export const SECONDARY_STACK_ID = `arn:aws:cloudformation:${SECONDARY}:${ACCOUNT}:stack/kms-key-lab-secondary/0000-kms-key-lab-secondary`;

type Props = Record<string, unknown>;

export interface TemplateResource {
  readonly logicalId: string;
  readonly type: string;
  readonly properties: Props;
}

/** The secondary stack's template, synthesized once per test file. */
let synthesized: ReturnType<typeof synthLab>['secondary'] | undefined;
function secondaryTemplate() {
  synthesized ??= synthLab().secondary;
  return synthesized;
}

/** One resource of the secondary template whose Description (or KeyArn's replica) names the scenario. */
function replicaResource(scenario: '(b)' | '(e)'): { logicalId: string; properties: Props } {
  const found = Object.entries(resourcesOfType(secondaryTemplate(), 'Custom::LabReplicaKey')).filter(([, r]) => String(r.Properties.Description).includes(`scenario ${scenario}`));
  if (found.length !== 1) throw new Error(`expected one Custom::LabReplicaKey for ${scenario}, found ${found.length}`);
  const [logicalId, r] = found[0];
  const { ServiceToken: _t, ...properties } = r.Properties;
  return { logicalId, properties };
}

/** Resolves the intrinsics the replica resources use, as CloudFormation would in this account. */
export function resolve(value: unknown, ctx: { primaryArns: Record<string, string>; attributes: Record<string, string> }): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, ctx));
  if (typeof value !== 'object' || value === null) return value;
  const o = value as Record<string, unknown>;
  if ('Ref' in o) {
    const refs: Record<string, string> = { 'AWS::AccountId': ACCOUNT, 'AWS::Partition': 'aws', 'AWS::Region': SECONDARY, 'AWS::URLSuffix': 'amazonaws.com', 'AWS::StackId': SECONDARY_STACK_ID };
    if (!(String(o.Ref) in refs)) throw new Error(`unresolved Ref ${String(o.Ref)}`);
    return refs[String(o.Ref)];
  }
  if ('Fn::Join' in o) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return (resolve(parts, ctx) as string[]).join(sep);
  }
  if ('Fn::GetStackOutput' in o) {
    const name = (o['Fn::GetStackOutput'] as { OutputName: string }).OutputName;
    const arn = Object.entries(ctx.primaryArns).find(([k]) => name.includes(k))?.[1];
    if (!arn) throw new Error(`no primary output for ${name}`);
    return arn;
  }
  if ('Fn::GetAtt' in o) {
    const [id, attr] = o['Fn::GetAtt'] as [string, string];
    const v = ctx.attributes[`${id}.${attr}`];
    if (v === undefined) throw new Error(`unresolved GetAtt ${id}.${attr}`);
    return v;
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v, ctx)]));
}

export function event(
  requestType: 'Create' | 'Update' | 'Delete',
  resource: TemplateResource,
  options: { physicalId?: string; oldProperties?: Props } = {},
): CloudFormationCustomResourceEvent {
  const common = {
    ServiceToken: `arn:aws:lambda:${SECONDARY}:${ACCOUNT}:function:provider`,
    ResponseURL: 'https://cloudformation-custom-resource-response.example/signed',
    StackId: SECONDARY_STACK_ID,
    RequestId: 'request-1',
    LogicalResourceId: resource.logicalId,
    ResourceType: resource.type,
    ResourceProperties: { ServiceToken: 'token', ...resource.properties },
  };
  if (requestType === 'Create') return { ...common, RequestType: 'Create' } as CloudFormationCustomResourceEvent;
  if (requestType === 'Update') {
    return { ...common, RequestType: 'Update', PhysicalResourceId: options.physicalId!, OldResourceProperties: { ServiceToken: 'token', ...(options.oldProperties ?? resource.properties) } } as CloudFormationCustomResourceEvent;
  }
  return { ...common, RequestType: 'Delete', PhysicalResourceId: options.physicalId! } as CloudFormationCustomResourceEvent;
}

/** The replica resource as the Provider framework runs it: onEvent, then isComplete until it reports complete. */
export async function runReplica(e: CloudFormationCustomResourceEvent, maxPolls = 10): Promise<{ physicalId: string; data: Record<string, string>; polls: number }> {
  const started = await onEvent(e);
  let polls = 0;
  for (;;) {
    polls++;
    const done = await isComplete({ ...e, PhysicalResourceId: started.PhysicalResourceId, Data: started.Data } as never);
    if (done.IsComplete) return { physicalId: started.PhysicalResourceId, data: { ...started.Data, ...done.Data }, polls };
    if (polls >= maxPolls) throw new Error(`isComplete still false after ${polls} polls`);
  }
}

/**
 * The lab's primary stack deployed (its (b) and (e) primaries, the escrow
 * replicated to the secondary Region), the secondary stack not yet: the
 * replicas and the (e) import are this world's to deploy and destroy.
 */
export class SecondaryWorld {
  readonly aws = FakeAws.lab({ deploySecondary: false });
  readonly b: TemplateResource;
  readonly e: TemplateResource;
  /** Physical ids of what is deployed, by logical id. */
  readonly deployed = new Map<string, string>();
  readonly attributes: Record<string, string> = {};

  constructor() {
    this.aws.install();
    // The escrow's resource policy names the replica's import role; the handlers run as the operator here.
    keyMaterial(this.aws).escrowPolicy.readers.push('operator');
    const ctx = { primaryArns: { MultiRegionImportedKey: this.primary('e').arn, MultiRegionKey: this.primary('b').arn }, attributes: {} };
    const b = replicaResource('(b)');
    const e = replicaResource('(e)');
    this.b = { logicalId: b.logicalId, type: 'Custom::LabReplicaKey', properties: resolve(b.properties, ctx) as Props };
    this.e = { logicalId: e.logicalId, type: 'Custom::LabReplicaKey', properties: resolve(e.properties, ctx) as Props };
  }

  primary(scenario: 'b' | 'e'): FakeKey {
    return this.aws.key(scenario === 'b' ? 'MultiRegion' : 'MultiRegionImported');
  }

  /** The replica of a scenario's primary in the secondary Region, if any. */
  replica(scenario: 'b' | 'e'): FakeKey | undefined {
    const p = this.primary(scenario);
    return [...this.aws.keys.values()].find((k) => k.keyId === p.keyId && k.region === SECONDARY);
  }

  /** The (e) import resource, with the replica's attributes resolved from what the replica resource answered. */
  importResource(): TemplateResource {
    const found = Object.entries(resourcesOfType(secondaryTemplate(), 'Custom::ImportedKeyMaterial'));
    if (found.length !== 1) throw new Error(`expected one Custom::ImportedKeyMaterial, found ${found.length}`);
    const [logicalId, r] = found[0];
    const { ServiceToken: _t, ...properties } = r.Properties;
    const ctx = { primaryArns: {}, attributes: this.attributes };
    return { logicalId, type: 'Custom::ImportedKeyMaterial', properties: resolve(properties, ctx) as Props };
  }

  /** `cdk deploy` of the secondary stack's replicas and (e)'s import, in dependency order. */
  async deploy(): Promise<void> {
    for (const r of [this.b, this.e]) {
      const out = await runReplica(event('Create', r));
      this.deployed.set(r.logicalId, out.physicalId);
      for (const [k, v] of Object.entries(out.data)) this.attributes[`${r.logicalId}.${k}`] = v;
    }
    const imp = this.importResource();
    const out = await importOnEvent(event('Create', imp));
    this.deployed.set(imp.logicalId, out.PhysicalResourceId);
  }

  /** `cdk destroy` of the secondary stack: the import first (it depends on the replica), then the replicas. */
  async destroy(): Promise<void> {
    const imp = this.importResource();
    await importOnEvent(event('Delete', imp, { physicalId: this.deployed.get(imp.logicalId) }));
    for (const r of [this.e, this.b]) {
      await onEvent(event('Delete', r, { physicalId: this.deployed.get(r.logicalId) }));
      this.deployed.delete(r.logicalId);
    }
  }
}

/** Encrypts in one Region and decrypts in the other, with the key id both keys share; returns the plaintext read back. */
export async function crossRegion(keyId: string, from: string, to: string, plaintext = 'lab data'): Promise<string> {
  const sealed = await new KMSClient({ region: from }).send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(plaintext) }));
  const opened = await new KMSClient({ region: to }).send(new DecryptCommand({ KeyId: keyId, CiphertextBlob: sealed.CiphertextBlob }));
  return Buffer.from(opened.Plaintext!).toString();
}

export { PRIMARY, SECONDARY };

/** Operator credentials, the secondary Region for the handlers, no backoff waits, a quiet console. */
export function useHandlerEnvironment(): { logged: string[] } {
  useOperatorCredentials();
  const logged: string[] = [];
  beforeEach(() => {
    logged.length = 0;
    process.env.AWS_REGION = SECONDARY;
    jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
    setSleepForTests(async () => undefined);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    setSleepForTests(undefined);
  });
  return { logged };
}
