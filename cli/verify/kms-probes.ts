import {
  CancelKeyDeletionCommand,
  DecryptCommand,
  DescribeCustomKeyStoresCommand,
  EnableKeyCommand,
  EncryptCommand,
  KMS,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { AwsClients, RoleCredentials } from '../aws/clients';
import { awsCall } from '../errors';

/** The README's sample plaintext, so a reader can repeat a check with the AWS CLI. */
export const SAMPLE_PLAINTEXT = Buffer.from('Hey, you must secure this file');

/** Bound to every ciphertext the checks make, so none of it decrypts outside them by accident. */
export const VERIFY_CONTEXT = { purpose: 'kms-lab verify' } as const;

/** Encrypts under keyRef (an alias or ARN); keyArn, when keyRef is an alias, lets a failure name the key for its remedy. */
export async function encrypt(kms: KMS, region: string, keyRef: string, plaintext: Uint8Array, keyArn?: string) {
  const answer = await awsCall({ operation: 'Encrypt', region, resource: keyRef, keyArn }, () =>
    kms.send(new EncryptCommand({ KeyId: keyRef, Plaintext: plaintext, EncryptionContext: { ...VERIFY_CONTEXT } })),
  );
  return { ciphertext: answer.CiphertextBlob ?? new Uint8Array(), keyId: answer.KeyId };
}

export async function decrypt(kms: KMS, region: string, keyRef: string, ciphertext: Uint8Array) {
  // KeyId pins the key: without it KMS would pick whichever key the ciphertext names.
  const answer = await awsCall({ operation: 'Decrypt', region, resource: keyRef }, () =>
    kms.send(new DecryptCommand({ KeyId: keyRef, CiphertextBlob: ciphertext, EncryptionContext: { ...VERIFY_CONTEXT } })),
  );
  return { plaintext: answer.Plaintext, keyId: answer.KeyId };
}

/** Temporary credentials of a role, from STS in the given Region. */
export async function assumeRole(clients: AwsClients, region: string, roleArn: string): Promise<RoleCredentials> {
  const answer = await awsCall({ operation: 'AssumeRole', region, resource: roleArn }, () =>
    clients.sts(region).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'kms-lab-verify', DurationSeconds: 900 })),
  );
  const c = answer.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`AssumeRole of ${roleArn} returned no credentials`);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
}

export async function describeKeyStore(kms: KMS, region: string, id: string) {
  const answer = await awsCall({ operation: 'DescribeCustomKeyStores', region, resource: id }, () =>
    kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id })),
  );
  const store = answer.CustomKeyStores?.[0];
  return { id, connectionState: store?.ConnectionState, connectionErrorCode: store?.ConnectionErrorCode };
}

/**
 * Asks, as a key user, to schedule the key's deletion, which the key policy
 * must refuse. The longest window (30 days) leaves the most room should it
 * not: then the deletion is cancelled at once, with the operator's own
 * credentials, and the key (which cancelling leaves Disabled) enabled again.
 * Returns the error KMS answered, or undefined plus what the undo did.
 */
export async function attemptScheduleDeletion(
  userKms: KMS,
  operatorKms: KMS,
  region: string,
  keyArn: string,
): Promise<{ error?: unknown; undo?: string }> {
  try {
    await userKms.send(new ScheduleKeyDeletionCommand({ KeyId: keyArn, PendingWindowInDays: 30 }));
  } catch (error) {
    return { error };
  }
  try {
    await operatorKms.send(new CancelKeyDeletionCommand({ KeyId: keyArn }));
    await operatorKms.send(new EnableKeyCommand({ KeyId: keyArn }));
    return { undo: 'the deletion was cancelled at once and the key enabled again' };
  } catch (undoError) {
    const name = undoError instanceof Error ? undoError.name : 'Error';
    return {
      undo: `UNDO FAILED (${name}): the key is scheduled for deletion in 30 days; run \`aws kms cancel-key-deletion --key-id ${keyArn} --region ${region}\` and \`aws kms enable-key --key-id ${keyArn} --region ${region}\` now`,
    };
  }
}
