import { KeyMetadata } from '@aws-sdk/client-kms';
import { AwsClients } from '../aws/clients';
import { describeStack } from '../aws/describe-lab';
import { confirmOrStop } from '../confirm';
import { CliError, sdkErrorName } from '../errors';
import { explainError } from '../error-messages';
import { CliIo } from '../io';
import { keyNotFoundMessage, KeyRef } from '../key/actions';
import { MaterialGuard } from '../key-material/guard';
import { describeKey, importMaterial, listKeyRotations, rotateOnDemand, WRAPPING_ALGORITHM, WRAPPING_KEY_SPEC } from '../key-material/kms-calls';
import { labStacks } from '../lab-stacks';
import { LabSettings } from '../settings';
import { materialEntries, onDemandUsage } from '../rotate/plan';
import { IMPORT_MATERIAL_COMMAND, ImportTarget, importQuestion, importReport, LabEscrow, planImport, rotationLimitMessage } from './plan';

export interface ImportMaterialInput {
  readonly ref: KeyRef;
  readonly region: string;
  /** The path as the operator gave it, for messages. */
  readonly file: string;
  /** The material read from the file: it never leaves this process unwrapped. */
  readonly material: Buffer;
  readonly rotate?: boolean;
  readonly yes?: boolean;
}


function target(meta: KeyMetadata, region: string, asGiven: string): ImportTarget {
  return {
    arn: meta.Arn!,
    region,
    asGiven,
    state: meta.KeyState ?? 'unknown',
    origin: meta.Origin,
    keySpec: meta.KeySpec,
    multiRegion: meta.MultiRegionConfiguration?.MultiRegionKeyType,
    currentKeyMaterialId: meta.CurrentKeyMaterialId,
    deletionDate: meta.DeletionDate,
    pendingWindowDays: meta.PendingDeletionWindowInDays,
  };
}

async function describe(clients: AwsClients, settings: LabSettings, ref: KeyRef, region: string, asGiven: string): Promise<ImportTarget> {
  try {
    return target(await describeKey(clients.kms(region), region, ref.value), region, asGiven);
  } catch (error) {
    if (sdkErrorName(error) === 'NotFoundException') throw new CliError(keyNotFoundMessage(ref, region, settings));
    throw error instanceof CliError ? error : new CliError(explainError(error));
  }
}

/** The lab's key (c) and its escrow, when the primary stack is deployed: --rotate must not bypass that escrow. */
async function labEscrow(clients: AwsClients, settings: LabSettings): Promise<LabEscrow | undefined> {
  let primary;
  try {
    primary = await describeStack(clients, labStacks(settings).primary);
  } catch (error) {
    throw new CliError(explainError(error));
  }
  if (!primary) return undefined;
  return { keyArn: primary.outputs.ImportedMaterialKeyArn, secretName: primary.outputs.ImportedMaterialEscrowSecretName || undefined };
}

/**
 * DescribeKey, the decision, the question (unless --yes), then
 * GetParametersForImport, wrapping here and ImportKeyMaterial (and with
 * --rotate RotateKeyOnDemand), then DescribeKey again for the state KMS
 * reports. Only the wrapped material is sent. Returns what to print;
 * failures are CliErrors with their paragraph, never with the material.
 */
export async function runImportMaterial(settings: LabSettings, input: ImportMaterialInput, io: CliIo, clients = new AwsClients(settings.profile)): Promise<string> {
  const guard = new MaterialGuard();
  guard.hold(input.material);
  try {
    const before = await describe(clients, settings, input.ref, input.region, input.ref.value);
    const lab = input.rotate && before.currentKeyMaterialId ? await labEscrow(clients, settings) : undefined;
    const plan = planImport(before, !!input.rotate, lab);
    if (plan.kind === 'refuse') throw new CliError(plan.message);
    const kms = clients.kms(before.region);
    if (plan.rotate) {
      const usage = onDemandUsage(materialEntries(await listKeyRotations(kms, before.region, before.arn)));
      const limit = rotationLimitMessage(before, usage);
      if (limit) throw new CliError(limit);
    }
    if (plan.note) io.stderr(`${plan.note}\n`);
    await confirmOrStop(io, input.yes, importQuestion(before, input.file, plan), IMPORT_MATERIAL_COMMAND);

    const keyMaterialId = await importMaterial(kms, before.region, before.arn, input.material, {
      importType: plan.importType,
      expiration: { model: 'KEY_MATERIAL_DOES_NOT_EXPIRE' },
    });
    if (plan.rotate) {
      try {
        await rotateOnDemand(kms, before.region, before.arn);
      } catch (error) {
        throw new CliError(
          `${explainError(error)} The material ${keyMaterialId ?? ''} is imported but pending rotation, so the key still uses its earlier material: ` +
            `make it current with \`aws kms rotate-key-on-demand --key-id ${before.arn} --region ${before.region}\` once the cause is fixed, ` +
            `or remove it with \`aws kms delete-imported-key-material --key-id ${before.arn} --key-material-id ${keyMaterialId ?? '<id>'} --region ${before.region}\`.`,
        );
      }
    }
    const after = await describe(clients, settings, { kind: 'key-arn', value: before.arn, region: before.region }, before.region, before.arn);
    return guard.text(importReport({ before, after, file: input.file, plan, keyMaterialId, wrapping: `${WRAPPING_ALGORITHM} under an ${WRAPPING_KEY_SPEC} public key from GetParametersForImport` }));
  } catch (error) {
    throw guard.error(error);
  }
}
