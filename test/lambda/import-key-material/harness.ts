import {
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  KMSClient,
  ListKeyRotationsCommand,
  RotateKeyOnDemandCommand,
} from '@aws-sdk/client-kms';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RemoveRegionsFromReplicationCommand,
  ReplicateSecretToRegionsCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { onEvent, setSleepForTests } from '../../../lambda/import-key-material/index';
import { materialSpellings } from '../../../lambda/import-key-material/material';
import { cfnEvent, RESPONSE_URL } from '../../helpers/events';
import { FakeKms, FakeSecrets, PRIMARY_REGION, serviceError } from './fakes';

/**
 * Wires the stateful KMS and Secrets Manager fakes behind aws-sdk-client-mock,
 * records every call in order, and can make the first calls fail as a role
 * whose policy is still propagating does (AccessDenied). Calls go to the
 * fakes of `region`, the Region of the Lambda that runs the handler.
 */
export class ImportHarness {
  readonly kmsMock = mockClient(KMSClient);
  readonly smMock = mockClient(SecretsManagerClient);
  kms = new FakeKms();
  private primarySecrets = new FakeSecrets();
  /** Every AWS call in the order the handler made it. */
  journal: string[] = [];
  /** The same calls, each as `<Region> <call>`. */
  regionalJournal: string[] = [];
  /** The next N calls, to any service, answer AccessDenied. */
  accessDeniedCalls = 0;
  /** Every console line of the current test; emptied, never replaced, so a test may hold on to it. */
  readonly logged: string[] = [];
  /** The backoff waits of the current test, which return at once. */
  readonly sleeps: number[] = [];

  /** From beforeEach: the console is captured and no backoff waits. */
  capture(): void {
    this.logged.length = 0;
    this.sleeps.length = 0;
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void this.logged.push(args.map(String).join(' ')));
    }
    setSleepForTests(async (ms) => void this.sleeps.push(ms));
  }

  /** From afterEach. */
  release(): void {
    jest.restoreAllMocks();
    setSleepForTests(undefined);
  }

  /**
   * Runs one event and checks what leaves the handler: no log line, response
   * or error may hold any material the fakes have seen (`materials` adds what
   * else a test knows of), in any spelling.
   */
  async run(event: ReturnType<typeof cfnEvent>, materials: readonly Buffer[] = []) {
    let response: Awaited<ReturnType<typeof onEvent>> | undefined;
    let error: Error | undefined;
    try {
      response = await onEvent(event);
    } catch (e) {
      error = e as Error;
    }
    const surfaces = [...this.logged, JSON.stringify(response ?? {}), error?.message ?? '', error?.stack ?? ''].join('\n');
    for (const material of [...this.kms.unwrapped, ...materials]) {
      for (const spelling of materialSpellings(material)) expect(surfaces).not.toContain(spelling);
    }
    expect(surfaces).not.toContain(RESPONSE_URL);
    return { response, error };
  }

  /** The Region the handler runs in. */
  get region(): string {
    return this.kms.region;
  }

  set region(region: string) {
    this.kms.region = region;
  }

  /** Secrets Manager in the primary Region. */
  get sm(): FakeSecrets {
    return this.primarySecrets;
  }

  /** Secrets Manager in any Region of the same world. */
  smIn(region: string): FakeSecrets {
    return this.primarySecrets.inRegion(region);
  }

  reset(): void {
    this.kms = new FakeKms();
    this.primarySecrets = new FakeSecrets(PRIMARY_REGION);
    this.journal = [];
    this.regionalJournal = [];
    this.accessDeniedCalls = 0;
    this.kmsMock.reset();
    this.smMock.reset();
    const noted =
      <I, O>(name: string, fn: (input: I) => O) =>
      (input: I) => {
        this.journal.push(name);
        this.regionalJournal.push(`${this.region} ${name}`);
        if (this.accessDeniedCalls > 0) {
          this.accessDeniedCalls--;
          throw serviceError('AccessDeniedException', `User is not authorized to perform: ${name}`);
        }
        return fn(input);
      };
    const { kmsMock, smMock } = this;
    kmsMock.on(DescribeKeyCommand).callsFake(noted('DescribeKey', (i) => this.kms.describeKey(i)));
    kmsMock.on(GetParametersForImportCommand).callsFake(noted('GetParametersForImport', (i) => this.kms.getParametersForImport(i)));
    kmsMock.on(ImportKeyMaterialCommand).callsFake(noted('ImportKeyMaterial', (i) => this.kms.importKeyMaterial(i)));
    kmsMock.on(ListKeyRotationsCommand).callsFake(noted('ListKeyRotations', (i) => this.kms.listKeyRotations(i)));
    kmsMock.on(RotateKeyOnDemandCommand).callsFake(noted('RotateKeyOnDemand', (i) => this.kms.rotateKeyOnDemand(i)));
    kmsMock.on(DeleteImportedKeyMaterialCommand).callsFake(noted('DeleteImportedKeyMaterial', (i) => this.kms.deleteImportedKeyMaterial(i)));
    const here = () => this.smIn(this.region);
    smMock.on(CreateSecretCommand).callsFake(noted('CreateSecret', (i) => here().createSecret(i)));
    smMock.on(DescribeSecretCommand).callsFake(noted('DescribeSecret', (i) => here().describeSecret(i)));
    smMock.on(GetSecretValueCommand).callsFake(noted('GetSecretValue', (i) => here().getSecretValue(i)));
    smMock.on(PutSecretValueCommand).callsFake(noted('PutSecretValue', (i) => here().putSecretValue(i)));
    smMock.on(PutResourcePolicyCommand).callsFake(noted('PutResourcePolicy', (i) => here().putResourcePolicy(i)));
    smMock.on(TagResourceCommand).callsFake(noted('TagResource', (i) => here().tagResource(i)));
    smMock.on(UntagResourceCommand).callsFake(noted('UntagResource', (i) => here().untagResource(i)));
    smMock.on(RestoreSecretCommand).callsFake(noted('RestoreSecret', (i) => here().restoreSecret(i)));
    smMock.on(DeleteSecretCommand).callsFake(noted('DeleteSecret', (i) => here().deleteSecret(i)));
    smMock.on(ReplicateSecretToRegionsCommand).callsFake(noted('ReplicateSecretToRegions', (i) => here().replicateSecretToRegions(i)));
    smMock
      .on(RemoveRegionsFromReplicationCommand)
      .callsFake(noted('RemoveRegionsFromReplication', (i) => here().removeRegionsFromReplication(i)));
  }
}
