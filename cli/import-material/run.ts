import { KeyMetadata } from '@aws-sdk/client-kms';
import { AwsClients } from '../aws/clients';
import { describeStack } from '../aws/describe-lab';
import { confirmOrStop } from '../confirm';
import { CliError, sdkErrorName } from '../errors';
import { explainError } from '../error-messages';
import { CliIo } from '../io';
import { keyName, keyNotFoundMessage, KeyRef } from '../key/actions';
import { MaterialGuard } from '../key-material/guard';
import { describeKey, importMaterial, listKeyRotations, rotateOnDemand, WRAPPING_ALGORITHM, WRAPPING_KEY_SPEC } from '../key-material/kms-calls';
import { ESCROW_OUTPUTS, labStacks } from '../lab-stacks';
import { LabSettings } from '../settings';
import { materialEntries, onDemandUsage } from '../rotate/plan';
import { IMPORT_MATERIAL_COMMAND, ImportTarget, importQuestion, importReport, isLabEscrowKey, LabEscrow, planImport, rotationLimitMessage } from './plan';
import { isAccessDenied, readEscrow } from '../key-material/escrow';

export interface ImportMaterialInput {
  readonly ref: KeyRef;
  readonly region: string;
  /** The path as the operator gave it, for messages; unset with fromEscrow. */
  readonly file?: string;
  /** The material read from the file: it never leaves this process unwrapped. Unset with fromEscrow. */
  readonly material?: Buffer;
  /** Import the lab's escrowed material of (c) or (e) instead of a file's (EXISTING_KEY_MATERIAL for a key that has it). */
  readonly fromEscrow?: boolean;
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

/**
 * The lab's escrowed key (c) or (e) that the key is, with its escrow, when
 * the primary stack is deployed: --rotate must not bypass that escrow, and
 * --from-escrow reads it. Otherwise (c)'s, which names no other key.
 */
async function labEscrow(clients: AwsClients, settings: LabSettings, key: ImportTarget): Promise<LabEscrow | undefined> {
  let primary;
  try {
    primary = await describeStack(clients, labStacks(settings).primary);
  } catch (error) {
    throw new CliError(explainError(error));
  }
  if (!primary) return undefined;
  const escrows: LabEscrow[] = [
    { scenario: 'e', keyArn: primary.outputs.MultiRegionImportedKeyArn, secretName: primary.outputs[ESCROW_OUTPUTS.e] || undefined },
    { scenario: 'c', keyArn: primary.outputs.ImportedMaterialKeyArn, secretName: primary.outputs[ESCROW_OUTPUTS.c] || undefined },
  ];
  return escrows.find((e) => isLabEscrowKey(key, e)) ?? escrows[1];
}

/**
 * --from-escrow: the escrowed material the key holds (its current one, and
 * every earlier one it lists as not imported), read from the primary
 * Region's escrow, the one Secrets Manager replicates. Refuses with a
 * paragraph when the key is no escrowed lab key, or the escrow cannot say.
 */
async function escrowedMaterials(clients: AwsClients, settings: LabSettings, key: ImportTarget, lab: LabEscrow | undefined, guard: MaterialGuard): Promise<{ secretName: string; materials: Buffer[] }> {
  const refuse = (what: string, todo: string) => new CliError(`Cannot import escrowed material into ${keyName(key)} in ${key.region}: ${what}. Nothing was imported. What to do: ${todo}.`);
  if (!lab?.secretName || !isLabEscrowKey(key, lab)) {
    throw refuse(
      `it is not one of the lab's keys whose material the lab escrows ((c) alias/${settings.prefix}/imported-material, or (e) alias/${settings.prefix}/multi-region-imported in either Region), or the primary stack names no escrow for it`,
      'name one of those keys, or import your own material with --file <path>',
    );
  }
  const escrow = { secretName: lab.secretName, region: settings.primaryRegion };
  let record;
  try {
    record = await readEscrow(clients.secretsManager(escrow.region), escrow);
  } catch (error) {
    if (isAccessDenied(error)) {
      throw refuse(
        `AWS denied GetSecretValue on the escrow secret ${escrow.secretName} in ${escrow.region}; its resource policy lets only the import handler and the key administrators read the material`,
        "run it as a key administrator (--profile <an administrator's profile>), or deploy the key's stack again, whose import handler imports the escrowed material",
      );
    }
    throw new CliError(explainError(error));
  }
  if (!record) throw refuse(`the escrow secret ${escrow.secretName} holds no escrow record`, 'deploy the lab again: the import handler writes the record');
  guard.hold(record.material);
  for (const p of record.previous ?? []) guard.hold(p.material);
  if (!isLabEscrowKey({ arn: record.keyArn }, lab)) {
    throw refuse(`the escrow secret ${escrow.secretName} holds the material of another key (${record.keyArn})`, "check the primary stack's outputs, and deploy the lab again so they belong together");
  }
  const listed = await listKeyRotations(clients.kms(key.region), key.region, key.arn);
  const notImported = new Set(listed.filter((m) => m.ImportState === 'PENDING_IMPORT').map((m) => m.KeyMaterialId));
  if (record.keyMaterialId && listed.length > 0 && !listed.some((m) => m.KeyMaterialId === record.keyMaterialId)) {
    throw refuse(
      `the escrow's current material ${record.keyMaterialId} is not one the key lists (ListKeyRotations), so KMS would refuse it: a rotation may have stopped half-way`,
      `finish it with \`kms-lab rotate --scenario ${lab.scenario ?? 'c'}\`, then run this again`,
    );
  }
  const earlier = (record.previous ?? []).filter((p) => p.keyMaterialId && notImported.has(p.keyMaterialId)).map((p) => p.material);
  return { secretName: escrow.secretName, materials: [record.material, ...earlier] };
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
  if (input.material) guard.hold(input.material);
  try {
    const before = await describe(clients, settings, input.ref, input.region, input.ref.value);
    const lab = input.fromEscrow || (input.rotate && (before.currentKeyMaterialId || before.multiRegion)) ? await labEscrow(clients, settings, before) : undefined;
    const plan = planImport(before, !!input.rotate, lab);
    if (plan.kind === 'refuse') throw new CliError(plan.message);
    const kms = clients.kms(before.region);
    const escrowed = input.fromEscrow ? await escrowedMaterials(clients, settings, before, lab, guard) : undefined;
    const materials = escrowed ? escrowed.materials : [input.material!];
    const source = escrowed ? `the escrow secret ${escrowed.secretName} (${settings.primaryRegion})` : input.file!;
    if (plan.rotate) {
      const usage = onDemandUsage(materialEntries(await listKeyRotations(kms, before.region, before.arn)));
      const limit = rotationLimitMessage(before, usage);
      if (limit) throw new CliError(limit);
    }
    if (plan.note) io.stderr(`${plan.note}\n`);
    await confirmOrStop(io, input.yes, importQuestion(before, source, plan, materials.length), IMPORT_MATERIAL_COMMAND);

    let keyMaterialId: string | undefined;
    for (const [i, material] of materials.entries()) {
      // The first is the one the key uses (or the file's); earlier escrowed materials only restore what the key lists as not imported.
      const id = await importMaterial(kms, before.region, before.arn, material, {
        importType: i === 0 ? plan.importType : 'EXISTING_KEY_MATERIAL',
        expiration: { model: 'KEY_MATERIAL_DOES_NOT_EXPIRE' },
      });
      if (i === 0) keyMaterialId = id;
    }
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
    return guard.text(
      importReport({ before, after, file: source, plan, keyMaterialId, count: materials.length, wrapping: `${WRAPPING_ALGORITHM} under an ${WRAPPING_KEY_SPEC} public key from GetParametersForImport` }),
    );
  } catch (error) {
    throw guard.error(error);
  }
}
