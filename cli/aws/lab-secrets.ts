import { DescribeSecretCommand, ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsCall, sdkErrorName } from '../errors';

/** The tag on every lab resource (lib/common/lab-tags.ts), with the prefix as its value. */
const LAB_TAG = 'kms-key-lab:lab';

/** A secret of the lab, and when its deletion was requested (unset: not scheduled). */
export interface LabSecret {
  readonly name: string;
  readonly deletedDate?: Date;
}

/**
 * Every secret of a Region tagged as the lab's, those scheduled for deletion
 * included (ListSecrets IncludePlannedDeletion: "Specifies whether to include
 * secrets scheduled for deletion", Secrets Manager API reference), all pages.
 * The tag-key and tag-value filters match independently, so the lab tag's
 * value is checked on each secret. A failed call is thrown.
 */
export async function listLabSecrets(sm: SecretsManagerClient, region: string, prefix: string): Promise<LabSecret[]> {
  const found: LabSecret[] = [];
  let token: string | undefined;
  do {
    const page = await awsCall({ operation: 'ListSecrets', region }, () =>
      sm.send(
        new ListSecretsCommand({
          IncludePlannedDeletion: true,
          Filters: [
            { Key: 'tag-key', Values: [LAB_TAG] },
            { Key: 'tag-value', Values: [prefix] },
          ],
          NextToken: token,
        }),
      ),
    );
    for (const s of page.SecretList ?? []) {
      if (s.Name && (s.Tags ?? []).some((t) => t.Key === LAB_TAG && t.Value === prefix)) found.push({ name: s.Name, deletedDate: s.DeletedDate });
    }
    token = page.NextToken;
  } while (token);
  return found;
}

/** One secret by name, whatever its tags; undefined when Secrets Manager has deleted it (ResourceNotFoundException). A failed call is thrown. */
export async function describeLabSecret(sm: SecretsManagerClient, region: string, name: string): Promise<LabSecret | undefined> {
  try {
    const s = await awsCall({ operation: 'DescribeSecret', region, resource: name }, () => sm.send(new DescribeSecretCommand({ SecretId: name })));
    return { name, deletedDate: s.DeletedDate };
  } catch (error) {
    if (sdkErrorName(error) === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}
