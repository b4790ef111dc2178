import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { decodeEscrowRecord, encodeEscrowRecord, EscrowRecord } from '../../lambda/import-key-material/escrow-record';
import { AwsCallError, awsCall } from '../errors';

/** The escrow secret of the lab's imported-material key (c): stack output ImportedMaterialEscrowSecretName. */
export interface EscrowRef {
  readonly secretName: string;
  readonly region: string;
}

/** The record the escrow holds; undefined when its value is no record (the import handler's placeholder, say). */
export async function readEscrow(client: SecretsManagerClient, escrow: EscrowRef): Promise<EscrowRecord | undefined> {
  const answer = await awsCall({ operation: 'GetSecretValue', region: escrow.region, resource: escrow.secretName }, () =>
    client.send(new GetSecretValueCommand({ SecretId: escrow.secretName })),
  );
  return decodeEscrowRecord(answer.SecretString);
}

/** A new version of the escrow, in the import handler's format, so a later deploy reads it as its own. */
export async function writeEscrow(client: SecretsManagerClient, escrow: EscrowRef, record: EscrowRecord): Promise<void> {
  await awsCall({ operation: 'PutSecretValue', region: escrow.region, resource: escrow.secretName }, () =>
    client.send(new PutSecretValueCommand({ SecretId: escrow.secretName, SecretString: encodeEscrowRecord(record) })),
  );
}

/** True when the escrow's resource policy (or IAM) refused the caller. */
export function isAccessDenied(error: unknown): boolean {
  const cause = error instanceof AwsCallError ? error.cause : error;
  return cause instanceof Error && (cause.name === 'AccessDeniedException' || cause.name === 'AccessDenied');
}
