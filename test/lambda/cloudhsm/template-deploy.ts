import * as activate from '../../../lambda/cloudhsm-activate/index';
import * as check from '../../../lambda/cloudhsm-check/index';
import * as hsm from '../../../lambda/cloudhsm-hsm/index';
import * as init from '../../../lambda/cloudhsm-init/index';
import * as store from '../../../lambda/custom-key-store/index';
import * as key from '../../../lambda/hsm-key/index';
import * as expiry from '../../../lambda/lab-expiry/index';
import type { CustomResourceEvent, IsCompleteEvent } from '../../../lambda/shared/custom-resource';
import { ACCOUNT, MINUTE, REGION, SECOND, World } from './world';
import { LifecycleHandler, lambdaContext } from './provider';

/**
 * A small CloudFormation for the synthesized CloudHSM stack, on the fake
 * world: resources start as soon as everything they reference or depend on
 * is complete, custom resources run their real handler (onEvent, then
 * isComplete at the interval the template's waiter state machine gives), and
 * AWS::CloudHSM::Cluster, the subnets and the instance are made in the
 * world. The rest (roles, functions, the network around the subnets) is
 * taken as ready after a typical few seconds. Destroy runs the reverse.
 */

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string | string[] }> };

const HANDLERS: Record<string, LifecycleHandler> = {
  'Custom::CloudHsmHsm': hsm,
  'Custom::CloudHsmInitialization': init,
  'Custom::CloudHsmActivation': activate,
  'Custom::KmsUserSetupCheck': check,
  'Custom::KmsCustomKeyStore': store,
  'Custom::CloudHsmKey': key,
  'Custom::LabExpiry': expiry,
};

/** Typical creation times of what the world does not model; not measured, only so the timeline has them. */
const TYPICAL_MS: Record<string, number> = {
  'AWS::EC2::NatGateway': 2 * MINUTE,
  'AWS::EC2::Instance': 1 * MINUTE,
  'AWS::Lambda::Function': 10 * SECOND,
  'AWS::IAM::Role': 5 * SECOND,
  'AWS::StepFunctions::StateMachine': 5 * SECOND,
};
const OTHER_MS = 2 * SECOND;

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
  readonly rows: TimelineRow[];
  readonly startedAt: number;
  readonly endedAt: number;
  readonly physicalIds: Record<string, string>;
}

interface Slot {
  readonly id: string;
  readonly type: string;
  readonly deps: Set<string>;
  state: 'waiting' | 'running' | 'done' | 'failed';
  start?: number;
  end?: number;
  nextAt?: number;
  polls: number;
  waitStart?: number;
  event?: CustomResourceEvent;
  physicalId?: string;
  data: Record<string, string>;
  interval?: number;
  deadline?: number;
}

export class TemplateDeployer {
  private readonly slots = new Map<string, Slot>();
  private readonly stackName: string;

  constructor(
    private readonly world: World,
    private readonly template: Template,
    stackName: string,
  ) {
    this.stackName = stackName;
    for (const [id, r] of Object.entries(template.Resources)) {
      const deps = new Set<string>([...[r.DependsOn ?? []].flat(), ...references(r.Properties ?? {})].filter((d) => d in template.Resources));
      this.slots.set(id, { id, type: r.Type, deps, state: 'waiting', polls: 0, data: {} });
    }
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

  /** Deploys every resource, as CloudFormation would, and returns the timeline. */
  async deploy(): Promise<DeployResult> {
    return this.run('Create', (s) => [...s.deps]);
  }

  /** Deletes every resource in reverse dependency order (each waits for what depends on it). */
  async destroy(): Promise<DeployResult> {
    const dependents = new Map<string, string[]>();
    for (const s of this.slots.values()) for (const d of s.deps) dependents.set(d, [...(dependents.get(d) ?? []), s.id]);
    for (const s of this.slots.values()) {
      s.state = 'waiting';
      s.polls = 0;
      s.start = s.end = s.nextAt = s.waitStart = undefined;
    }
    return this.run('Delete', (s) => dependents.get(s.id) ?? []);
  }

  private async run(requestType: 'Create' | 'Delete', prerequisites: (s: Slot) => string[]): Promise<DeployResult> {
    const startedAt = this.world.now;
    const rows: TimelineRow[] = [];
    for (;;) {
      // Again until nothing more starts: a resource done within begin() frees others at once.
      for (let started = true; started; ) {
        started = false;
        for (const s of this.slots.values()) {
          if (s.state === 'waiting' && prerequisites(s).every((d) => this.slots.get(d)!.state === 'done')) {
            await this.begin(s, requestType);
            started = true;
          }
        }
      }
      const failed = [...this.slots.values()].find((s) => s.state === 'failed');
      if (failed) return { ok: false, failure: `${failed.id}: ${failed.data.error}`, rows, startedAt, endedAt: this.world.now, physicalIds: this.physicalIds() };
      const running = [...this.slots.values()].filter((s) => s.state === 'running');
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
          const callsWhileWaiting = s.waitStart === undefined ? 0 : this.world.calls({ since: s.waitStart + 1, until: this.world.now }).length;
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
    const handler = HANDLERS[s.type];
    if (!handler) return this.beginModelled(s, requestType);
    const props = this.resolve(this.template.Resources[s.id].Properties ?? {}) as Record<string, unknown>;
    const common = {
      ServiceToken: 'arn:aws:lambda:ap-southeast-1:111111111111:function:provider',
      ResponseURL: 'https://cloudformation-custom-resource-response.example/',
      StackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${this.stackName}/guid`,
      RequestId: `${requestType}-${s.id}`,
      LogicalResourceId: s.id,
      ResourceType: s.type,
      ResourceProperties: props,
    };
    s.event = (requestType === 'Create' ? { ...common, RequestType: 'Create' } : { ...common, RequestType: 'Delete', PhysicalResourceId: s.physicalId }) as CustomResourceEvent;
    try {
      const out = await handler.onEvent(s.event, lambdaContext(this.world, 5 * MINUTE));
      s.physicalId = out.PhysicalResourceId;
      // A Delete returns no data; what it had stays, for the resources deleted after it that refer to it.
      if (requestType === 'Create') s.data = { ...(out.Data ?? {}) };
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
    const handler = HANDLERS[s.type];
    if (!handler?.isComplete) return this.finish(s);
    s.polls++;
    try {
      const event = { ...s.event!, PhysicalResourceId: s.physicalId!, Data: s.data } as IsCompleteEvent;
      const result = await handler.isComplete(event, lambdaContext(this.world, 15 * MINUTE));
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

  /** The cluster, subnets and instance are the world's; other resources just take their typical time. */
  private beginModelled(s: Slot, requestType: 'Create' | 'Delete'): void {
    const props = this.resolve(this.template.Resources[s.id].Properties ?? {}) as Record<string, any>;
    let readyIn = TYPICAL_MS[s.type] ?? OTHER_MS;
    if (requestType === 'Create') {
      if (s.type === 'AWS::EC2::Subnet') {
        s.physicalId = this.world.addSubnet(props.AvailabilityZone).subnetId;
      } else if (s.type === 'AWS::CloudHSM::Cluster') {
        const { Cluster } = this.world.createCluster({ SubnetIds: props.SubnetIds, HsmType: props.HsmType });
        s.physicalId = Cluster.ClusterId;
        s.data = { ClusterId: Cluster.ClusterId!, SecurityGroup: `sg-${Cluster.ClusterId}`, Arn: `arn:aws:cloudhsm:${REGION}:${ACCOUNT}:cluster/${Cluster.ClusterId}` };
        readyIn = this.world.latency.clusterCreate;
      } else if (s.type === 'AWS::EC2::Instance') {
        s.physicalId = this.world.launchInstance().instanceId;
      } else {
        s.physicalId = `${s.id}-physical`;
        s.data = { Arn: `arn:aws:fake:${REGION}:${ACCOUNT}:${s.id}` };
      }
    } else if (s.type === 'AWS::CloudHSM::Cluster' && s.physicalId) {
      this.world.deleteCluster({ ClusterId: s.physicalId });
    }
    s.nextAt = this.world.now + readyIn;
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

  private resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const o = value as Record<string, unknown>;
    if ('Ref' in o) return this.ref(String(o.Ref));
    if ('Fn::GetAtt' in o) {
      const [id, attr] = o['Fn::GetAtt'] as [string, string];
      const slot = this.slots.get(id);
      return slot?.data[attr] ?? `arn:aws:fake:${REGION}:${ACCOUNT}:${id}/${attr}`;
    }
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => String(this.resolve(p))).join(sep);
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, this.resolve(v)]));
  }

  private ref(name: string): string {
    const pseudo: Record<string, string> = {
      'AWS::AccountId': ACCOUNT,
      'AWS::Region': REGION,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': this.stackName,
      'AWS::StackId': `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${this.stackName}/guid`,
    };
    return pseudo[name] ?? this.slots.get(name)?.physicalId ?? `${name}-physical`;
  }
}

/** Logical ids a value refers to (Ref and Fn::GetAtt), which CloudFormation waits for. */
function references(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(references);
  if (value === null || typeof value !== 'object') return [];
  const o = value as Record<string, unknown>;
  if (typeof o.Ref === 'string') return [o.Ref];
  if (Array.isArray(o['Fn::GetAtt'])) return [String((o['Fn::GetAtt'] as unknown[])[0])];
  return Object.values(o).flatMap(references);
}
