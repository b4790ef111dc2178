import { DescribeSecretCommand, ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { awsCall, sdkErrorName } from '../errors';
import { escrowScenarioOf, isEscrowName, PendingEscrow } from '../escrow-recovery';
import { EscrowScenario } from '../lab-stacks';
import { LabSettings } from '../settings';
import { AwsClients } from './clients';

/** The tag on every lab resource (lib/common/lab-tags.ts), with the prefix as its value. */
const LAB_TAG = 'kms-key-lab:lab';

/**
 * The lab's escrow secrets that are scheduled for deletion and not yet
 * deleted, in the primary Region (the replica of (e)'s escrow in the
 * secondary is deleted at once with its primary, and has no window). `known`
 * are those the primary stack's outputs name; once that stack is gone they
 * are found by ListSecrets (IncludePlannedDeletion: "Specifies whether to
 * include secrets scheduled for deletion", Secrets Manager API reference),
 * by the lab's tag and the escrow's name. A failed call is thrown: the caller
 * cannot tell then whether an escrow is recoverable.
 */
export async function escrowsPendingDeletion(
  clients: AwsClients,
  settings: LabSettings,
  known: readonly { readonly scenario: EscrowScenario; readonly name: string }[],
): Promise<PendingEscrow[]> {
  const region = settings.primaryRegion;
  const sm = clients.secretsManager(region);
  const found = new Map<string, PendingEscrow>();
  let token: string | undefined;
  do {
    const page = await awsCall({ operation: 'ListSecrets', region }, () =>
      sm.send(
        new ListSecretsCommand({
          IncludePlannedDeletion: true,
          Filters: [
            { Key: 'tag-key', Values: [LAB_TAG] },
            { Key: 'tag-value', Values: [settings.prefix] },
          ],
          NextToken: token,
        }),
      ),
    );
    for (const s of page.SecretList ?? []) {
      const labs = (s.Tags ?? []).some((t) => t.Key === LAB_TAG && t.Value === settings.prefix);
      if (s.Name && s.DeletedDate && labs && isEscrowName(s.Name, settings.prefix)) {
        found.set(s.Name, { name: s.Name, region, scenario: known.find((k) => k.name === s.Name)?.scenario ?? escrowScenarioOf(s.Name), deletedDate: s.DeletedDate });
      }
    }
    token = page.NextToken;
  } while (token);
  // The outputs name them for sure, whatever their tags: asked one by one.
  for (const escrow of known.filter((k) => !found.has(k.name))) {
    try {
      const s = await awsCall({ operation: 'DescribeSecret', region, resource: escrow.name }, () => sm.send(new DescribeSecretCommand({ SecretId: escrow.name })));
      if (s.DeletedDate) found.set(escrow.name, { name: escrow.name, region, scenario: escrow.scenario, deletedDate: s.DeletedDate });
    } catch (error) {
      // Deleted already: nothing left to recover.
      if (sdkErrorName(error) !== 'ResourceNotFoundException') throw error;
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}
