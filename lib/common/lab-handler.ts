import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

/** The repository root, found from this file so synth works from any working directory. */
const ROOT = path.join(__dirname, '..', '..');

export interface LabHandlerProps {
  /** Folder under `lambda/` that holds the handler's `index.ts`. */
  readonly handler: string;
  readonly description: string;
  /** @default Duration.minutes(2) */
  readonly timeout?: Duration;
  /** @default logs.RetentionDays.ONE_WEEK */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * One custom-resource handler: a bundled `NodejsFunction` (local esbuild,
 * Node.js 24, arm64) whose `onEvent` runs behind a `custom_resources.Provider`.
 * Log groups are created here, with a retention and DESTROY, so teardown leaves
 * no logs to pay for.
 */
export class LabHandler extends Construct {
  readonly function: NodejsFunction;
  readonly provider: cr.Provider;

  constructor(scope: Construct, id: string, props: LabHandlerProps) {
    super(scope, id);
    const retention = props.logRetention ?? logs.RetentionDays.ONE_WEEK;
    // Roles of our own instead of AWSLambdaBasicExecutionRole: each writes to its own log group only.
    const roleWithLogs = (name: string, description: string) => {
      const logGroup = new logs.LogGroup(this, `${name}Logs`, { retention, removalPolicy: RemovalPolicy.DESTROY });
      const role = new iam.Role(this, `${name}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description,
      });
      logGroup.grantWrite(role);
      return { logGroup, role };
    };
    const handler = roleWithLogs('Handler', `KMS Key Lab: ${props.handler} handler`);
    const framework = roleWithLogs('Provider', `KMS Key Lab: custom-resource framework for ${props.handler}`);

    this.function = new NodejsFunction(this, 'Handler', {
      entry: path.join(ROOT, 'lambda', props.handler, 'index.ts'),
      handler: 'onEvent',
      projectRoot: ROOT,
      depsLockFilePath: path.join(ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: props.timeout ?? Duration.minutes(2),
      description: props.description,
      role: handler.role,
      logGroup: handler.logGroup,
      bundling: {
        minify: true,
        sourceMap: false,
        target: 'node24',
        format: OutputFormat.CJS,
        // The Node.js 24 runtime ships SDK v3; bundling it again would add ~0.5 MB per function.
        externalModules: ['@aws-sdk/*', '@smithy/*'],
        forceDockerBundling: false,
      },
    });

    this.provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.function,
      logGroup: framework.logGroup,
      frameworkOnEventRole: framework.role,
    });
    Validations.of(framework.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.function.node.defaultChild as CfnFunction)}.Arn>:*]`,
      reason:
        'The Provider framework invokes the handler by qualified ARN (function:version); the wildcard covers versions of this one function only.',
    });
  }

  /** Adds one statement to the handler's role: exact actions on exact resources. */
  allow(actions: string[], resources: string[], conditions?: Record<string, Record<string, unknown>>): void {
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions, resources, conditions }));
  }
}
