import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudHSMV2Client } from '@aws-sdk/client-cloudhsm-v2';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { IAMClient } from '@aws-sdk/client-iam';
import { KMS } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { ApiCallCounter, countCalls } from './api-call-counter';

/**
 * Packages the CLI uses when they are installed: @aws-sdk/client-iam comes
 * only through another package, so verify must do without it. An object, so
 * tests can take a package away.
 */
export const optionalPackages = {
  iam(): typeof import('@aws-sdk/client-iam') | undefined {
    try {
      return require('@aws-sdk/client-iam') as typeof import('@aws-sdk/client-iam');
    } catch {
      return undefined;
    }
  },
};

/** Temporary credentials from AssumeRole, to act as another principal. */
export interface RoleCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/**
 * Every SDK client the CLI uses, one per service, Region and identity, each
 * counted. Each is given the Region of the lab stack it reads (so AWS_REGION
 * does not move the lab) and --profile; everything else is the SDK's default
 * configuration, so AWS_ENDPOINT_URL*, AWS_MAX_ATTEMPTS and the credential
 * chain behave as they do for any SDK program.
 */
export class AwsClients {
  readonly counter = new ApiCallCounter();
  private readonly cache = new Map<string, unknown>();

  constructor(private readonly profile?: string) {}

  /**
   * The KMS aggregate client (a KMSClient with one method per operation):
   * the Encryption SDK keyrings call `generateDataKey`/`decrypt` on it.
   */
  kms(region: string, credentials?: RoleCredentials): KMS {
    return this.client(`kms|${region}|${credentials?.accessKeyId ?? ''}`, () => new KMS(this.config(region, credentials)));
  }

  cloudFormation(region: string): CloudFormationClient {
    return this.client(`cfn|${region}`, () => new CloudFormationClient(this.config(region)));
  }

  sts(region: string): STSClient {
    return this.client(`sts|${region}`, () => new STSClient(this.config(region)));
  }

  cloudTrail(region: string): CloudTrailClient {
    return this.client(`cloudtrail|${region}`, () => new CloudTrailClient(this.config(region)));
  }

  secretsManager(region: string): SecretsManagerClient {
    return this.client(`secrets|${region}`, () => new SecretsManagerClient(this.config(region)));
  }

  cloudHsm(region: string): CloudHSMV2Client {
    // This older client's config type has no `profile`, but its default credential chain reads it from the config it is given.
    return this.client(`cloudhsm|${region}`, () => new CloudHSMV2Client(this.config(region) as ConstructorParameters<typeof CloudHSMV2Client>[0]));
  }

  /** IAM (a global service, signed in the Region given), or undefined when @aws-sdk/client-iam is not installed. */
  iam(region: string): IAMClient | undefined {
    const iam = optionalPackages.iam();
    return iam ? this.client(`iam|${region}`, () => new iam.IAMClient(this.config(region))) : undefined;
  }

  /** EC2, loaded on first use: only teardown and preflight read it, and the client is large. */
  ec2(region: string): EC2Client {
    return this.client(`ec2|${region}`, () => {
      const { EC2Client: Client } = require('@aws-sdk/client-ec2') as typeof import('@aws-sdk/client-ec2');
      return new Client(this.config(region));
    });
  }

  /** SSM, loaded on first use: only preflight reads it (the CDK bootstrap version parameter). */
  ssm(region: string): SSMClient {
    return this.client(`ssm|${region}`, () => {
      const { SSMClient: Client } = require('@aws-sdk/client-ssm') as typeof import('@aws-sdk/client-ssm');
      return new Client(this.config(region));
    });
  }

  private config(region: string, credentials?: RoleCredentials) {
    if (credentials) return { region, credentials };
    return this.profile ? { region, profile: this.profile } : { region };
  }

  private client<C extends { send(command: unknown, ...rest: unknown[]): unknown }>(key: string, create: () => C): C {
    let client = this.cache.get(key) as C | undefined;
    if (!client) {
      client = countCalls(create(), this.counter);
      this.cache.set(key, client);
    }
    return client;
  }
}
