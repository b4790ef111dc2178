import {
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  KMSClient,
} from '@aws-sdk/client-kms';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { FakeKms, FakeSecrets, serviceError } from './fakes';

/**
 * Wires the stateful KMS and Secrets Manager fakes behind aws-sdk-client-mock,
 * records every call in order, and can make the first calls fail as a role
 * whose policy is still propagating does (AccessDenied).
 */
export class ImportHarness {
  readonly kmsMock = mockClient(KMSClient);
  readonly smMock = mockClient(SecretsManagerClient);
  kms = new FakeKms();
  sm = new FakeSecrets();
  /** Every AWS call in the order the handler made it. */
  journal: string[] = [];
  /** The next N calls, to any service, answer AccessDenied. */
  accessDeniedCalls = 0;

  reset(): void {
    this.kms = new FakeKms();
    this.sm = new FakeSecrets();
    this.journal = [];
    this.accessDeniedCalls = 0;
    this.kmsMock.reset();
    this.smMock.reset();
    const noted =
      <I, O>(name: string, fn: (input: I) => O) =>
      (input: I) => {
        this.journal.push(name);
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
    kmsMock.on(DeleteImportedKeyMaterialCommand).callsFake(noted('DeleteImportedKeyMaterial', (i) => this.kms.deleteImportedKeyMaterial(i)));
    smMock.on(CreateSecretCommand).callsFake(noted('CreateSecret', (i) => this.sm.createSecret(i)));
    smMock.on(DescribeSecretCommand).callsFake(noted('DescribeSecret', (i) => this.sm.describeSecret(i)));
    smMock.on(GetSecretValueCommand).callsFake(noted('GetSecretValue', (i) => this.sm.getSecretValue(i)));
    smMock.on(PutSecretValueCommand).callsFake(noted('PutSecretValue', (i) => this.sm.putSecretValue(i)));
    smMock.on(PutResourcePolicyCommand).callsFake(noted('PutResourcePolicy', (i) => this.sm.putResourcePolicy(i)));
    smMock.on(TagResourceCommand).callsFake(noted('TagResource', (i) => this.sm.tagResource(i)));
    smMock.on(UntagResourceCommand).callsFake(noted('UntagResource', (i) => this.sm.untagResource(i)));
    smMock.on(RestoreSecretCommand).callsFake(noted('RestoreSecret', (i) => this.sm.restoreSecret(i)));
    smMock.on(DeleteSecretCommand).callsFake(noted('DeleteSecret', (i) => this.sm.deleteSecret(i)));
  }
}
