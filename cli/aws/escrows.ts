import { escrowScenarioOf, isEscrowName, PendingEscrow } from '../escrow-recovery';
import { EscrowScenario } from '../lab-stacks';
import { LabSettings } from '../settings';
import { AwsClients } from './clients';
import { describeLabSecret, listLabSecrets } from './lab-secrets';

/**
 * The lab's escrow secrets that are scheduled for deletion and not yet
 * deleted, in the primary Region (the replica of (e)'s escrow in the
 * secondary is deleted at once with its primary, and has no window). `known`
 * are those the primary stack's outputs name; once that stack is gone they
 * are found among the lab's tagged secrets by the escrow's name. A failed call is thrown: the caller
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
  const scenarioOf = (name: string) => known.find((k) => k.name === name)?.scenario ?? escrowScenarioOf(name);
  for (const s of await listLabSecrets(sm, region, settings.prefix)) {
    if (s.deletedDate && isEscrowName(s.name, settings.prefix)) found.set(s.name, { name: s.name, region, scenario: scenarioOf(s.name), deletedDate: s.deletedDate });
  }
  // The outputs name them for sure, whatever their tags: asked one by one. A deleted one has nothing left to recover.
  for (const escrow of known.filter((k) => !found.has(k.name))) {
    const s = await describeLabSecret(sm, region, escrow.name);
    if (s?.deletedDate) found.set(escrow.name, { name: escrow.name, region, scenario: escrow.scenario, deletedDate: s.deletedDate });
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}
