import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The repository root, found from this file so synth works from any working directory. */
const ROOT = path.join(__dirname, '..', '..');

/**
 * A role that Lambda assumes and that writes to one log group of its own,
 * with a retention and DESTROY, so teardown leaves no logs to pay for: roles
 * of our own instead of AWSLambdaBasicExecutionRole. `<name>Logs` and
 * `<name>Role` are created in `scope`.
 */
export function roleWithLogs(
  scope: Construct,
  name: string,
  props: { readonly description: string; readonly retention: logs.RetentionDays; readonly roleName?: string; readonly rolePath?: string },
): { readonly logGroup: logs.LogGroup; readonly role: iam.Role } {
  const logGroup = new logs.LogGroup(scope, `${name}Logs`, { retention: props.retention, removalPolicy: RemovalPolicy.DESTROY });
  const role = new iam.Role(scope, `${name}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: props.description,
    roleName: props.roleName,
    path: props.rolePath,
  });
  logGroup.grantWrite(role);
  return { logGroup, role };
}

export interface LabFunctionProps {
  /** Folder under `lambda/` that holds the function's `index.ts`. */
  readonly handler: string;
  /** The export of `index.ts` that Lambda calls. */
  readonly exportName: string;
  readonly description: string;
  /** @default Duration.minutes(2) */
  readonly timeout?: Duration;
  readonly role: iam.IRole;
  readonly logGroup: logs.ILogGroup;
}

/** One export of `lambda/<handler>/index.ts`, bundled by the local esbuild for Node.js 24 on arm64. */
export function labFunction(scope: Construct, id: string, props: LabFunctionProps): NodejsFunction {
  return new NodejsFunction(scope, id, {
    entry: path.join(ROOT, 'lambda', props.handler, 'index.ts'),
    handler: props.exportName,
    projectRoot: ROOT,
    depsLockFilePath: path.join(ROOT, 'package-lock.json'),
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 256,
    timeout: props.timeout ?? Duration.minutes(2),
    description: props.description,
    role: props.role,
    logGroup: props.logGroup,
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
}
