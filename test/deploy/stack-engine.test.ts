import type { Context } from 'aws-lambda';
import { EngineWorld, LifecycleHandler, ResourceRequest, StackEngine, Template } from './stack-engine';

/** The engine on a world that only records: what CloudFormation would resolve, create and delete, in which order. */
function recordingWorld(handlers: Record<string, LifecycleHandler> = {}, outputs: Record<string, string> = {}) {
  const created: ResourceRequest[] = [];
  const deleted: string[] = [];
  const world: EngineWorld & { now: number } = {
    now: 0,
    advance(ms) {
      this.now += ms;
    },
    callCount: () => 0,
    handler: (type) => handlers[type],
    invoke: <T>(_l: unknown, call: (c: Context) => Promise<T>) => call({ getRemainingTimeInMillis: () => 60_000 } as Context),
    create: (r) => {
      created.push(r);
      return { physicalId: `${r.logicalId}-id`, attributes: { Arn: `arn:${r.logicalId}` } };
    },
    delete: (r) => void deleted.push(r.logicalId),
    stackOutput: (stack, region, name) => outputs[`${region}|${stack}|${name}`],
    ssmParameter: (name) => (name === '/cdk-bootstrap/hnb659fds/version' ? '33' : undefined),
  };
  return { world, created, deleted };
}
const target = { stackName: 'st', account: '111122223333', region: 'ap-southeast-2', tags: { team: 'x' } };

test('intrinsic functions, pseudo parameters, SSM parameters and conditions resolve as CloudFormation does', async () => {
  const template: Template = {
    Parameters: { Version: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/cdk-bootstrap/hnb659fds/version' }, Size: { Type: 'String', Default: 'big' } },
    Conditions: { IsBig: { 'Fn::Equals': [{ Ref: 'Size' }, 'big'] }, IsSmall: { 'Fn::Not': [{ Condition: 'IsBig' }] } },
    Resources: {
      A: { Type: 'T::A', Properties: { Name: { 'Fn::Sub': '${AWS::StackName}-${AWS::Region}-${Version}' } } },
      B: {
        Type: 'T::B',
        Properties: {
          Of: { 'Fn::GetAtt': ['A', 'Arn'] },
          Second: { 'Fn::Select': [1, { 'Fn::Split': [',', 'x,y,z'] }] },
          Pick: { 'Fn::If': ['IsBig', { Ref: 'A' }, 'no'] },
          Gone: { 'Fn::If': ['IsSmall', 'kept', { Ref: 'AWS::NoValue' }] },
          Sub: { 'Fn::Sub': ['${Who}:${A.Arn}', { Who: { Ref: 'AWS::AccountId' } }] },
          Other: { 'Fn::GetStackOutput': { StackName: 'p', Region: 'ap-southeast-1', OutputName: 'Out' } },
        },
      },
      OnlySmall: { Type: 'T::C', Condition: 'IsSmall' },
    },
    Outputs: { BArn: { Value: { 'Fn::GetAtt': ['B', 'Arn'] } }, Small: { Value: 'x', Condition: 'IsSmall' } },
  };
  const { world, created } = recordingWorld({}, { 'ap-southeast-1|p|Out': 'from-p' });
  const engine = new StackEngine(world, template, target);
  const result = await engine.deploy();
  expect(result.failure).toBeUndefined();
  expect(created.map((r) => r.logicalId)).toEqual(['A', 'B']);
  expect(created[0].properties).toEqual({ Name: 'st-ap-southeast-2-33' });
  expect(created[1].properties).toEqual({ Of: 'arn:A', Second: 'y', Pick: 'A-id', Sub: '111122223333:arn:A', Other: 'from-p' });
  expect(created[1].stack.tags).toEqual({ team: 'x' });
  expect(engine.outputs).toEqual({ BArn: 'arn:B' });
});

test('a failing rule stops the stack before any resource; a missing output of another stack fails the resource', async () => {
  const rule: Template = {
    Parameters: { V: { Type: 'String', Default: '3' } },
    Rules: { Check: { Assertions: [{ Assert: { 'Fn::Not': [{ 'Fn::Contains': [['1', '2', '3'], { Ref: 'V' }] }] }, AssertDescription: 'too old' }] } },
    Resources: { A: { Type: 'T::A' } },
  };
  const one = recordingWorld();
  expect((await new StackEngine(one.world, rule, target).deploy()).failure).toBe('Rule Check: too old');
  expect(one.created).toEqual([]);

  const missing: Template = { Resources: { A: { Type: 'T::A', Properties: { X: { 'Fn::GetStackOutput': { StackName: 'p', Region: 'r', OutputName: 'O' } } } } } };
  const two = recordingWorld();
  expect((await new StackEngine(two.world, missing, target).deploy()).failure).toContain('Fn::GetStackOutput: stack p in r has no output O');
});

test('Delete goes in reverse dependency order, keeps Retain, and sends the custom resource its Delete with its physical id', async () => {
  const events: string[] = [];
  const handler: LifecycleHandler = {
    onEvent: async (e) => {
      events.push(`${e.RequestType} ${e.RequestType === 'Delete' ? e.PhysicalResourceId : ''} ${JSON.stringify(e.ResourceProperties)}`);
      return { PhysicalResourceId: 'custom-1', Data: { Out: 'v' } };
    },
  };
  const template: Template = {
    Resources: {
      Role: { Type: 'T::Role' },
      Kept: { Type: 'T::Log', DeletionPolicy: 'Retain' },
      Fn: { Type: 'T::Fn', Properties: { Role: { 'Fn::GetAtt': ['Role', 'Arn'] } } },
      Custom: { Type: 'Custom::Thing', Properties: { ServiceToken: { 'Fn::GetAtt': ['Fn', 'Arn'] }, Key: 'k' }, DependsOn: 'Kept' },
      After: { Type: 'T::After', Properties: { V: { 'Fn::GetAtt': ['Custom', 'Out'] } } },
    },
  };
  const { world, created, deleted } = recordingWorld({ 'Custom::Thing': handler });
  const engine = new StackEngine(world, template, target);
  expect((await engine.deploy()).failure).toBeUndefined();
  expect(created.find((r) => r.logicalId === 'After')!.properties).toEqual({ V: 'v' });
  expect((await engine.destroy()).failure).toBeUndefined();
  expect(deleted).toEqual(['After', 'Fn', 'Role']);
  expect(events).toEqual(['Create  {"ServiceToken":"arn:Fn","Key":"k"}', 'Delete custom-1 {"ServiceToken":"arn:Fn","Key":"k"}']);
});
