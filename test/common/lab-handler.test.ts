import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { LabHandler } from '../../lib/common/lab-handler';

const stackWithBundlingOff = () =>
  new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Test', { env: { region: 'ap-southeast-1' } });

describe('LabHandler', () => {
  test('a handler that waits gets an isComplete function from the same bundle, role and log group, and a waiter', () => {
    const stack = stackWithBundlingOff();
    const h = new LabHandler(stack, 'H', {
      handler: 'cloudhsm-hsm',
      description: 'test',
      wait: { queryInterval: Duration.minutes(1), totalTimeout: Duration.hours(1) },
    });
    const t = Template.fromStack(stack);
    const handlers = Object.values(t.findResources('AWS::Lambda::Function')).filter((f: any) => /^index\.(onEvent|isComplete)$/.test(f.Properties.Handler));
    expect(handlers.map((f: any) => f.Properties.Handler).sort()).toEqual(['index.isComplete', 'index.onEvent']);
    expect(new Set(handlers.map((f: any) => JSON.stringify(f.Properties.Role))).size).toBe(1);
    expect(new Set(handlers.map((f: any) => JSON.stringify(f.Properties.LoggingConfig))).size).toBe(1);
    expect(h.isCompleteFunction).toBeDefined();
    t.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    t.hasResourceProperties('AWS::StepFunctions::StateMachine', { LoggingConfiguration: { Level: 'ALL' } });
  });

  test('a handler that does not wait has no isComplete and no waiter', () => {
    const stack = stackWithBundlingOff();
    const h = new LabHandler(stack, 'H', { handler: 'key-grant', description: 'test' });
    expect(h.isCompleteFunction).toBeUndefined();
    Template.fromStack(stack).resourceCountIs('AWS::StepFunctions::StateMachine', 0);
  });

  test("a wait longer than CloudFormation's hour for one custom resource is refused", () => {
    expect(
      () =>
        new LabHandler(stackWithBundlingOff(), 'H', {
          handler: 'cloudhsm-hsm',
          description: 'test',
          wait: { queryInterval: Duration.minutes(1), totalTimeout: Duration.minutes(61) },
        }),
    ).toThrow("cloudhsm-hsm: totalTimeout 3660 s is over CloudFormation's 3600 s limit for one custom resource.");
  });

  test('a total timeout that is not a whole number of intervals is refused', () => {
    expect(
      () =>
        new LabHandler(stackWithBundlingOff(), 'H', {
          handler: 'cloudhsm-hsm',
          description: 'test',
          wait: { queryInterval: Duration.seconds(45), totalTimeout: Duration.minutes(10) },
        }),
    ).toThrow('cloudhsm-hsm: totalTimeout 600 s must be a whole multiple of queryInterval 45 s.');
  });
});
