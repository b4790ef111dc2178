import type { Context } from 'aws-lambda';
import type { CustomResourceEvent, IsCompleteEvent, IsCompleteResponse, OnEventResponse } from '../../lambda/shared/custom-resource';

/**
 * A small CloudFormation for one synthesized stack, on a fake world: what a
 * CreateStack and a DeleteStack of the template do, resource by resource.
 *
 * - A resource starts once every resource it names (Ref, Fn::GetAtt, Fn::Sub)
 *   or lists in DependsOn is complete; a Delete goes in reverse: a resource
 *   is deleted once everything that depends on it is gone.
 *   https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html
 * - A custom resource runs its real handler: onEvent, then isComplete at the
 *   interval of the template's waiter state machine (the Provider
 *   framework's), until complete, a throw, or the waiter's total timeout.
 * - Native resources are the world's (`EngineWorld.create`/`delete`).
 * - A resource with DeletionPolicy Retain is left in place on Delete.
 *   https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
 * - Parameters take their Default; an SSM-typed parameter is read from the
 *   world's Parameter Store at create time, as CloudFormation does.
 *   https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html#aws-ssm-parameter-types
 * - Rules are evaluated first; a failing assertion fails the stack before
 *   any resource is created.
 *   https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/rules-section-structure.html
 * - Conditions, Fn::If, Fn::Join, Fn::Select, Fn::Split, Fn::Sub,
 *   Fn::GetStackOutput and the pseudo parameters as the intrinsic function
 *   reference describes them; outputs are evaluated once every resource is
 *   complete.
 *   https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
 */

export type Template = {
  Parameters?: Record<string, { Type: string; Default?: string }>;
  Rules?: Record<string, { RuleCondition?: unknown; Assertions: { Assert: unknown; AssertDescription?: string }[] }>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string | string[]; Condition?: string; DeletionPolicy?: string }>;
  Outputs?: Record<string, { Value: unknown; Condition?: string }>;
};

/** A handler as the Provider framework sees it: onEvent, and isComplete when it waits. */
export interface LifecycleHandler {
  onEvent(event: CustomResourceEvent, context?: Context): Promise<OnEventResponse>;
  isComplete?(event: IsCompleteEvent, context?: Context): Promise<IsCompleteResponse>;
}

export const SECOND = 1000;

/** Where a stack goes: its name, account and Region (from the cloud assembly), and its stack tags. */
export interface StackTarget {
  readonly stackName: string;
  readonly account: string;
  readonly region: string;
  /** Stack tags, which CloudFormation propagates to the resources that support tags. */
  readonly tags?: Record<string, string>;
}

/** One resource as the world creates or deletes it. */
export interface ResourceRequest {
  readonly logicalId: string;
  readonly type: string;
  /** Properties with every intrinsic function resolved. */
  readonly properties: Record<string, any>;
  readonly stack: StackTarget;
  /** On Delete: what the Create returned. */
  readonly physicalId?: string;
  readonly attributes?: Record<string, string>;
}

export interface Modelled {
  readonly physicalId: string;
  /** Fn::GetAtt attributes. */
  readonly attributes?: Record<string, string>;
  /** How long the resource takes to be ready, on the world's clock. */
  readonly readyInMs?: number;
  /** Any other attribute, for a resource the world models only roughly. */
  readonly otherAttribute?: (name: string) => string;
}

/** What the engine needs of a fake world. */
export interface EngineWorld {
  readonly now: number;
  advance(ms: number): void;
  /** API calls the world received in [since, until], for the timeline; 0 when the world does not count. */
  callCount(since: number, until: number): number;
  /** The real handler of a custom resource type; undefined: the world models it (a native type, or aws-cdk-lib's own custom resources). */
  handler(type: string): LifecycleHandler | undefined;
  /** Runs one handler invocation as its Lambda function would run: its execution role, its Region, its timeout. */
  invoke<T>(lambda: { region: string; roleArn?: string; timeoutMs: number }, call: (context: Context) => Promise<T>): Promise<T>;
  create(request: ResourceRequest): Modelled | Promise<Modelled>;
  /** Deletes what create made; returns how long that takes (ms). */
  delete(request: ResourceRequest): number | void | Promise<number | void>;
  /** Fn::GetStackOutput: an output of another stack, in its Region. */
  stackOutput?(stackName: string, region: string, outputName: string): string | undefined;
  /** The value of an SSM parameter, for AWS::SSM::Parameter::Value<> template parameters. */
  ssmParameter?(name: string, region: string): string | undefined;
}

export interface TimelineRow {
  readonly logicalId: string;
  readonly type: string;
  readonly start: number;
  readonly end: number;
  readonly polls: number;
  /** API calls the world received while this resource was waiting (after onEvent). */
  readonly callsWhileWaiting: number;
}

export interface DeployResult {
  readonly ok: boolean;
  readonly failure?: string;
  /** Each resource that failed, with its reason. */
  readonly failures?: readonly { readonly logicalId: string; readonly type: string; readonly reason: string }[];
  readonly rows: TimelineRow[];
  readonly startedAt: number;
  readonly endedAt: number;
  readonly physicalIds: Record<string, string>;
}

interface Slot {
  readonly id: string;
  readonly type: string;
  readonly deps: Set<string>;
  state: 'waiting' | 'running' | 'done' | 'failed' | 'skipped';
  start?: number;
  end?: number;
  nextAt?: number;
  polls: number;
  waitStart?: number;
  event?: CustomResourceEvent;
  physicalId?: string;
  data: Record<string, string>;
  otherAttribute?: (name: string) => string;
  interval?: number;
  deadline?: number;
  created: boolean;
}

/** Lambda's maximum timeout: what the Provider framework gives its onEvent and isComplete functions when the template does not say. */
const LAMBDA_TIMEOUT_MS = 15 * 60 * SECOND;
const NO_VALUE = Symbol('AWS::NoValue');

export class StackEngine {
  private readonly slots = new Map<string, Slot>();
  private parameters: Record<string, string> = {};
  private conditions: Record<string, boolean> = {};
  outputs: Record<string, string> = {};

  constructor(
    private readonly world: EngineWorld,
    readonly template: Template,
    readonly target: StackTarget,
  ) {
    for (const [id, r] of Object.entries(template.Resources)) {
      const deps = new Set<string>([...[r.DependsOn ?? []].flat(), ...references(r.Properties ?? {})].filter((d) => d in template.Resources && d !== id));
      this.slots.set(id, { id, type: r.Type, deps, state: 'waiting', polls: 0, data: {}, created: false });
    }
  }

  get stackId(): string {
    return `arn:aws:cloudformation:${this.target.region}:${this.target.account}:stack/${this.target.stackName}/guid`;
  }

  /** The wait of every custom resource type that waits, as the template's waiter state machines give it. */
  waits(): Record<string, { intervalMs: number; totalMs: number }> {
    const out: Record<string, { intervalMs: number; totalMs: number }> = {};
    for (const [id, r] of Object.entries(this.template.Resources)) {
      const wait = r.Type.startsWith('Custom::') ? this.waitOf(id) : undefined;
      if (wait) out[r.Type] = wait;
    }
    return out;
  }

  /** Physical id and attributes of each created resource. */
  resources(): { logicalId: string; type: string; physicalId?: string; attributes: Record<string, string> }[] {
    return [...this.slots.values()].filter((s) => s.created).map((s) => ({ logicalId: s.id, type: s.type, physicalId: s.physicalId, attributes: s.data }));
  }

  /** Creates every resource, as CloudFormation's CreateStack would, then evaluates the outputs. */
  async deploy(): Promise<DeployResult> {
    const startedAt = this.world.now;
    try {
      this.parameters = this.resolveParameters();
      this.checkRules();
      this.conditions = Object.fromEntries(Object.keys(this.template.Conditions ?? {}).map((c) => [c, this.condition(c)]));
    } catch (error) {
      return { ok: false, failure: (error as Error).message, rows: [], startedAt, endedAt: this.world.now, physicalIds: {} };
    }
    // A resource whose Condition is false is not created; nothing may refer to it.
    for (const [id, r] of Object.entries(this.template.Resources)) if (r.Condition && !this.conditions[r.Condition]) this.slots.get(id)!.state = 'skipped';
    const result = await this.run('Create', (s) => [...s.deps]);
    if (!result.ok) return result;
    try {
      this.outputs = {};
      for (const [name, o] of Object.entries(this.template.Outputs ?? {})) {
        if (o.Condition && !this.conditions[o.Condition]) continue;
        this.outputs[name] = String(this.resolve(o.Value));
      }
    } catch (error) {
      return { ...result, ok: false, failure: `Outputs: ${(error as Error).message}` };
    }
    return result;
  }

  /** Deletes every created resource in reverse dependency order (each waits for what depends on it); Retain keeps it. */
  async destroy(): Promise<DeployResult> {
    const dependents = new Map<string, string[]>();
    for (const s of this.slots.values()) for (const d of s.deps) dependents.set(d, [...(dependents.get(d) ?? []), s.id]);
    for (const s of this.slots.values()) {
      s.state = s.created ? 'waiting' : 'skipped';
      s.polls = 0;
      s.start = s.end = s.nextAt = s.waitStart = undefined;
    }
    const result = await this.run('Delete', (s) => (dependents.get(s.id) ?? []).filter((d) => this.slots.get(d)!.state !== 'skipped'));
    // What was deleted stays deleted: a DeleteStack again (after DELETE_FAILED) deletes only what is left.
    for (const s of this.slots.values()) if (s.state === 'done') s.created = false;
    return result;
  }

  private async run(requestType: 'Create' | 'Delete', prerequisites: (s: Slot) => string[]): Promise<DeployResult> {
    const startedAt = this.world.now;
    const rows: TimelineRow[] = [];
    for (;;) {
      // Again until nothing more starts: a resource done within begin() frees others at once.
      for (let started = true; started; ) {
        started = false;
        for (const s of this.slots.values()) {
          if (s.state === 'waiting' && prerequisites(s).every((d) => ['done', 'skipped'].includes(this.slots.get(d)!.state))) {
            await this.begin(s, requestType);
            started = true;
          }
        }
      }
      // A Create stops at its first failure (and CloudFormation rolls back); a Delete goes on with every resource that
      // does not wait for the failed one, which stays, with what it depends on, and the stack ends DELETE_FAILED:
      // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html#troubleshooting-errors-delete-stack-fails
      const failed = [...this.slots.values()].filter((s) => s.state === 'failed');
      const running = [...this.slots.values()].filter((s) => s.state === 'running');
      const failure = () => ({
        ok: false,
        failure: failed.map((f) => `${f.id}: ${f.data.error}`).join('\n'),
        failures: failed.map((f) => ({ logicalId: f.id, type: f.type, reason: f.data.error })),
        rows,
        startedAt,
        endedAt: this.world.now,
        physicalIds: this.physicalIds(),
      });
      if (failed.length > 0 && (requestType === 'Create' || running.length === 0)) return failure();
      if (running.length === 0) {
        // Nothing runs, yet something never started: it waits for something that will never be done.
        const stuck = [...this.slots.values()].filter((s) => s.state === 'waiting').map((s) => s.id);
        if (stuck.length) return { ok: false, failure: `never started: ${stuck.join(', ')}`, rows, startedAt, endedAt: this.world.now, physicalIds: this.physicalIds() };
        break;
      }
      const nextAt = Math.min(...running.map((s) => s.nextAt!));
      if (nextAt > this.world.now) this.world.advance(nextAt - this.world.now);
      for (const s of running.filter((x) => x.nextAt! <= this.world.now)) {
        await this.step(s, requestType);
        if (s.state === 'done') {
          const callsWhileWaiting = s.waitStart === undefined ? 0 : this.world.callCount(s.waitStart + 1, this.world.now);
          rows.push({ logicalId: s.id, type: s.type, start: s.start!, end: s.end!, polls: s.polls, callsWhileWaiting });
        }
      }
    }
    return { ok: true, rows, startedAt, endedAt: this.world.now, physicalIds: this.physicalIds() };
  }

  private physicalIds(): Record<string, string> {
    return Object.fromEntries([...this.slots.values()].filter((s) => s.physicalId).map((s) => [s.id, s.physicalId!]));
  }

  private async begin(s: Slot, requestType: 'Create' | 'Delete'): Promise<void> {
    s.state = 'running';
    s.start = this.world.now;
    const resource = this.template.Resources[s.id];
    if (requestType === 'Delete' && resource.DeletionPolicy === 'Retain') return this.finish(s);
    const handler = s.type.startsWith('Custom::') || s.type === 'AWS::CloudFormation::CustomResource' ? this.world.handler(s.type) : undefined;
    let props: Record<string, any>;
    try {
      props = this.resolve(resource.Properties ?? {}) as Record<string, any>;
    } catch (error) {
      return this.fail(s, error);
    }
    if (!handler) return this.beginModelled(s, requestType, props);
    const common = {
      ServiceToken: props.ServiceToken,
      ResponseURL: 'https://cloudformation-custom-resource-response.example/',
      StackId: this.stackId,
      RequestId: `${requestType}-${s.id}`,
      LogicalResourceId: s.id,
      ResourceType: s.type,
      ResourceProperties: props,
    };
    s.event = (requestType === 'Create' ? { ...common, RequestType: 'Create' } : { ...common, RequestType: 'Delete', PhysicalResourceId: s.physicalId }) as CustomResourceEvent;
    try {
      const out = await this.world.invoke(this.lambdaOf(s.id, 'onEvent'), (context) => handler.onEvent(s.event!, context));
      s.physicalId = out.PhysicalResourceId ?? s.physicalId ?? `${s.id}-${requestType}`;
      // A Delete returns no data; what it had stays, for the resources deleted after it that refer to it.
      if (requestType === 'Create') s.data = { ...(out.Data ?? {}) };
      if (requestType === 'Create') s.created = true;
    } catch (error) {
      return this.fail(s, error);
    }
    const wait = handler.isComplete ? this.waitOf(s.id) : undefined;
    if (!wait) return this.finish(s);
    s.interval = wait.intervalMs;
    s.deadline = this.world.now + wait.totalMs;
    s.waitStart = this.world.now;
    s.nextAt = this.world.now;
  }

  private async step(s: Slot, requestType: 'Create' | 'Delete'): Promise<void> {
    const handler = this.world.handler(s.type);
    if (!s.type.startsWith('Custom::') || !handler?.isComplete) return this.finish(s);
    s.polls++;
    try {
      const event = { ...s.event!, PhysicalResourceId: s.physicalId!, Data: s.data } as IsCompleteEvent;
      const result = await this.world.invoke(this.lambdaOf(s.id, 'isComplete'), (context) => handler.isComplete!(event, context));
      if (result.IsComplete) {
        s.data = { ...s.data, ...(result.Data ?? {}) };
        return this.finish(s);
      }
    } catch (error) {
      return this.fail(s, error);
    }
    s.nextAt = this.world.now + s.interval!;
    if (s.nextAt > s.deadline!) this.fail(s, new Error(`${requestType} timed out after the waiter's total timeout`));
  }

  private finish(s: Slot): void {
    s.state = 'done';
    s.end = this.world.now;
  }

  private fail(s: Slot, error: unknown): void {
    s.state = 'failed';
    s.end = this.world.now;
    s.data = { ...s.data, error: (error as Error).message };
  }

  private async beginModelled(s: Slot, requestType: 'Create' | 'Delete', properties: Record<string, any>): Promise<void> {
    const request: ResourceRequest = { logicalId: s.id, type: s.type, properties, stack: this.target, physicalId: s.physicalId, attributes: s.data };
    try {
      if (requestType === 'Create') {
        const made = await this.world.create(request);
        s.physicalId = made.physicalId;
        s.data = { ...(made.attributes ?? {}) };
        s.otherAttribute = made.otherAttribute;
        s.created = true;
        s.nextAt = this.world.now + (made.readyInMs ?? 0);
      } else {
        s.nextAt = this.world.now + ((await this.world.delete(request)) ?? 0);
      }
    } catch (error) {
      this.fail(s, error);
    }
  }

  /**
   * The Lambda function that runs a custom resource's handler, from its
   * ServiceToken: the Provider framework's onEvent function names the user
   * function in USER_ON_EVENT_FUNCTION_ARN (USER_IS_COMPLETE_FUNCTION_ARN
   * for isComplete); that function's role and timeout, and its stack's Region.
   */
  private lambdaOf(logicalId: string, which: 'onEvent' | 'isComplete'): { region: string; roleArn?: string; timeoutMs: number } {
    const resources = this.template.Resources;
    const token = resources[logicalId].Properties?.ServiceToken as { 'Fn::GetAtt'?: [string, string] } | undefined;
    let fn = token?.['Fn::GetAtt']?.[0];
    const env = fn ? ((resources[fn]?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) : {};
    const user = env[which === 'onEvent' ? 'USER_ON_EVENT_FUNCTION_ARN' : 'USER_IS_COMPLETE_FUNCTION_ARN'] as { 'Fn::GetAtt'?: [string, string] } | undefined;
    if (user?.['Fn::GetAtt']) fn = user['Fn::GetAtt'][0];
    const props = fn ? resources[fn]?.Properties : undefined;
    const roleRef = props?.Role as { 'Fn::GetAtt'?: [string, string] } | undefined;
    const roleArn = roleRef?.['Fn::GetAtt'] ? this.slots.get(roleRef['Fn::GetAtt'][0])?.data.Arn : undefined;
    const timeoutMs = props?.Timeout ? Number(props.Timeout) * SECOND : LAMBDA_TIMEOUT_MS;
    return { region: this.target.region, roleArn, timeoutMs };
  }

  /** Interval and total from the template's waiter state machine of this resource's provider. */
  private waitOf(logicalId: string): { intervalMs: number; totalMs: number } | undefined {
    const token = JSON.stringify(this.template.Resources[logicalId].Properties?.ServiceToken ?? '');
    const provider = /"([A-Za-z0-9]+)Providerframework/.exec(token)?.[1];
    const machine = Object.entries(this.template.Resources).find(([id, r]) => r.Type === 'AWS::StepFunctions::StateMachine' && id.startsWith(`${provider}Providerwaiterstatemachine`));
    if (!machine) return undefined;
    const definition = ((machine[1].Properties!.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1] as unknown[]).filter((x) => typeof x === 'string').join('');
    const interval = Number(/"IntervalSeconds":(\d+)/.exec(definition)![1]);
    const attempts = Number(/"MaxAttempts":(\d+)/.exec(definition)![1]);
    return { intervalMs: interval * SECOND, totalMs: interval * attempts * SECOND };
  }

  /** Each parameter's Default; an SSM parameter type resolves the named parameter in the stack's Region. */
  private resolveParameters(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, p] of Object.entries(this.template.Parameters ?? {})) {
      if (p.Default === undefined) throw new Error(`Parameters: [${name}] must have values`);
      if (p.Type.startsWith('AWS::SSM::Parameter::Value<')) {
        const value = this.world.ssmParameter?.(p.Default, this.target.region);
        if (value === undefined) throw new Error(`Unable to fetch parameters [${p.Default}] from parameter store for this account.`);
        out[name] = value;
      } else out[name] = p.Default;
    }
    return out;
  }

  private checkRules(): void {
    for (const [name, rule] of Object.entries(this.template.Rules ?? {})) {
      if (rule.RuleCondition !== undefined && !this.resolve(rule.RuleCondition)) continue;
      for (const a of rule.Assertions) if (!this.resolve(a.Assert)) throw new Error(`Rule ${name}: ${a.AssertDescription ?? 'assertion failed'}`);
    }
  }

  private condition(name: string): boolean {
    if (name in this.conditions) return this.conditions[name];
    const c = this.template.Conditions?.[name];
    if (c === undefined) throw new Error(`Condition ${name} is not defined`);
    return (this.conditions[name] = Boolean(this.resolve(c)));
  }

  private resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v)).filter((v) => v !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const o = value as Record<string, unknown>;
    const [fn] = Object.keys(o);
    const arg = o[fn];
    if (Object.keys(o).length === 1) {
      switch (fn) {
        case 'Ref':
          return this.ref(String(arg));
        case 'Fn::GetAtt': {
          const [id, attr] = (typeof arg === 'string' ? arg.split('.') : arg) as [string, string];
          const slot = this.slots.get(id);
          if (!slot || !slot.created) throw new Error(`Fn::GetAtt ${id}.${attr}: ${id} is not created`);
          if (!(attr in slot.data) && slot.otherAttribute) return slot.otherAttribute(attr);
          if (!(attr in slot.data)) throw new Error(`Fn::GetAtt ${id}.${attr}: no such attribute of ${slot.type}`);
          return slot.data[attr];
        }
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, unknown[]];
          return (this.resolve(parts) as unknown[]).map(String).join(sep);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [unknown, unknown];
          const items = this.resolve(list) as unknown[];
          const i = Number(this.resolve(index));
          if (!(i in items)) throw new Error(`Fn::Select: index ${i} out of range`);
          return items[i];
        }
        case 'Fn::Split': {
          const [sep, source] = arg as [string, unknown];
          return String(this.resolve(source)).split(sep);
        }
        case 'Fn::Sub':
          return this.sub(arg as string | [string, Record<string, unknown>]);
        case 'Fn::If': {
          const [c, yes, no] = arg as [string, unknown, unknown];
          return this.resolve(this.condition(c) ? yes : no);
        }
        case 'Fn::Equals': {
          const [a, b] = arg as [unknown, unknown];
          return JSON.stringify(this.resolve(a)) === JSON.stringify(this.resolve(b));
        }
        case 'Fn::Not':
          return !(this.resolve((arg as unknown[])[0]) as boolean);
        case 'Fn::And':
          return (arg as unknown[]).every((c) => this.resolve(c));
        case 'Fn::Or':
          return (arg as unknown[]).some((c) => this.resolve(c));
        case 'Condition':
          return this.condition(String(arg));
        case 'Fn::Contains': {
          // Rules only: whether the list holds the string.
          const [list, item] = arg as [unknown, unknown];
          return (this.resolve(list) as unknown[]).map(String).includes(String(this.resolve(item)));
        }
        case 'Fn::GetStackOutput': {
          const { StackName, Region, OutputName } = this.resolve(arg) as { StackName: string; Region: string; OutputName: string };
          const got = this.world.stackOutput?.(StackName, Region ?? this.target.region, OutputName);
          if (got === undefined) throw new Error(`Fn::GetStackOutput: stack ${StackName} in ${Region} has no output ${OutputName}`);
          return got;
        }
        case 'Fn::GetAZs':
          return ['a', 'b', 'c'].map((z) => `${this.target.region}${z}`);
        case 'Fn::Base64':
          return Buffer.from(String(this.resolve(arg))).toString('base64');
        default:
          if (fn.startsWith('Fn::')) throw new Error(`${fn} is not modelled by the deploy engine`);
      }
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, this.resolve(v)]).filter(([, v]) => v !== NO_VALUE));
  }

  private sub(arg: string | [string, Record<string, unknown>]): string {
    const [text, vars] = typeof arg === 'string' ? [arg, {}] : arg;
    return text.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
      if (name in vars) return String(this.resolve(vars[name]));
      if (name.includes('.')) return String(this.resolve({ 'Fn::GetAtt': name.split('.') }));
      return String(this.ref(name));
    });
  }

  private ref(name: string): unknown {
    const { region, account, stackName } = this.target;
    const pseudo: Record<string, unknown> = {
      'AWS::AccountId': account,
      'AWS::Region': region,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': stackName,
      'AWS::StackId': this.stackId,
      'AWS::NoValue': NO_VALUE,
    };
    if (name in pseudo) return pseudo[name];
    if (name in this.parameters) return this.parameters[name];
    const slot = this.slots.get(name);
    if (!slot || !slot.created) throw new Error(`Ref ${name}: not a parameter or a created resource`);
    return slot.physicalId;
  }
}

/** Logical ids a value refers to (Ref, Fn::GetAtt, Fn::Sub), which CloudFormation waits for. */
export function references(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(references);
  if (value === null || typeof value !== 'object') return [];
  const o = value as Record<string, unknown>;
  if (typeof o.Ref === 'string') return [o.Ref];
  if (Array.isArray(o['Fn::GetAtt'])) return [String((o['Fn::GetAtt'] as unknown[])[0])];
  if (typeof o['Fn::GetAtt'] === 'string') return [(o['Fn::GetAtt'] as string).split('.')[0]];
  if (o['Fn::Sub'] !== undefined) {
    const [text, vars] = typeof o['Fn::Sub'] === 'string' ? [o['Fn::Sub'], {}] : (o['Fn::Sub'] as [string, Record<string, unknown>]);
    return [...[...text.matchAll(/\$\{([^}!][^}.]*)/g)].map((m) => m[1]).filter((n) => !(n in vars)), ...references(vars)];
  }
  return Object.values(o).flatMap(references);
}
