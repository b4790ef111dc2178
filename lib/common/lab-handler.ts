import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
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
    const logGroup = (name: string) =>
      new logs.LogGroup(this, name, { retention, removalPolicy: RemovalPolicy.DESTROY });

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
      logGroup: logGroup('HandlerLogs'),
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
      logGroup: logGroup('ProviderLogs'),
    });
  }

  get role(): iam.IRole {
    return this.function.role!;
  }

  /** Adds one statement to the handler's role: exact actions on exact resources. */
  allow(actions: string[], resources: string[], conditions?: Record<string, Record<string, unknown>>): void {
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions, resources, conditions }));
  }
}
