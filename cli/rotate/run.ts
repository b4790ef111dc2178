import { randomBytes } from 'node:crypto';
import { EscrowRecord } from '../../lambda/import-key-material/escrow-record';
import { KEY_MATERIAL_BYTES } from '../../lambda/import-key-material/wrap';
import { AwsClients } from '../aws/clients';
import { describeLab } from '../aws/describe-lab';
import { confirmOrStop } from '../confirm';
import { AwsCallError, CliError, sdkErrorName } from '../errors';
import { explainError, isCredentialsProblem, stacksNotDeployed } from '../error-messages';
import { CliIo } from '../io';
import { EscrowRef, isAccessDenied, readEscrow, writeEscrow } from '../key-material/escrow';
import { MaterialGuard } from '../key-material/guard';
import { describeKey, importMaterial, rotateOnDemand } from '../key-material/kms-calls';
import { ESCROW_OUTPUTS, EscrowScenario, findKey, KEY_SPECS, KEY_STACKS_AND_ROLES, KeyScenario, labStacks, missingOutputsMessage } from '../lab-stacks';
import { LabSettings } from '../settings';
import { rotationText } from '../status/report';
import { KeyMetadata } from '@aws-sdk/client-kms';
import { CollectedKey, collectKey } from './collect';
import {
  escrowDeniedMessage,
  escrowWithMaterialId,
  escrowWithNewMaterial,
  expirationOf,
  ImportedStep,
  importedRotationStep,
  importedStepDetail,
  KeyPlan,
  keyLabel,
  onDemandUsage,
  otherScenarios,
  planRotation,
  ROTATE_COMMAND,
} from './plan';
import { KeyRotation, renderRotateJson, RotateReport, rotateExitCode } from './report';
import { renderRotationResults, renderRotationStatus } from './render';

export interface RotateOptions {
  readonly scenarios: readonly KeyScenario[];
  readonly yes?: boolean;
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

/** A multi-Region replica that must take the new material before its primary can rotate to it. */
interface ReplicaTarget {
  readonly arn: string;
  readonly region: string;
  readonly meta: KeyMetadata;
}

/** A key with its plan, and for (c) and (e) what its escrow said and, for (e), its replicas. */
interface Planned {
  readonly collected: CollectedKey;
  readonly plan: KeyPlan;
  readonly imported?: {
    readonly scenario: EscrowScenario;
    readonly escrow: EscrowRef;
    readonly record: EscrowRecord;
    readonly step: Exclude<ImportedStep, { refuse: string }>;
    readonly replicas: readonly ReplicaTarget[];
  };
}

interface Outcome {
  readonly result: 'rotated' | 'failed';
  readonly detail: string;
  readonly newKeyMaterialId?: string;
}


/** A read whose failure ends the command before anything changed. */
async function read<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw error instanceof CliError ? error : new CliError(explainError(error));
  }
}

/** States in which a replica takes no import, or lacks the material that the new material joins. */
const REPLICA_BLOCKING_STATES = ['PendingImport', 'PendingDeletion', 'PendingReplicaDeletion', 'Unavailable', 'Creating'];

/**
 * Every replica of a multi-Region primary (DescribeKey's ReplicaKeys, and
 * the lab's own replica), as DescribeKey reports it now, or the paragraph
 * that refuses the rotation: the primary rotates only once every replica
 * holds the new material, so a replica that cannot take it would leave the
 * primary with material pending for good.
 */
async function replicaTargets(clients: AwsClients, primary: CollectedKey, collected: readonly CollectedKey[]): Promise<ReplicaTarget[] | string> {
  const { key, meta } = primary;
  const known = new Map(collected.filter((c) => c.meta.MultiRegionConfiguration?.MultiRegionKeyType === 'REPLICA' && c.key.scenario === key.scenario).map((c) => [c.key.keyArn, c]));
  const listed = (meta.MultiRegionConfiguration?.ReplicaKeys ?? []).filter((r) => r.Arn && r.Region).map((r) => ({ arn: r.Arn!, region: r.Region! }));
  const all = new Map([...known.values()].map((c) => [c.key.keyArn, { arn: c.key.keyArn, region: c.key.region }]));
  for (const r of listed) all.set(r.arn, r);
  const targets: ReplicaTarget[] = [];
  for (const r of all.values()) targets.push({ ...r, meta: known.get(r.arn)?.meta ?? (await describeKey(clients.kms(r.region), r.region, r.arn, r.arn)) });
  const blocked = targets.find((t) => REPLICA_BLOCKING_STATES.includes(t.meta.KeyState ?? 'unknown'));
  if (!blocked) return targets;
  const state = blocked.meta.KeyState ?? 'unknown';
  const todo =
    state === 'PendingImport'
      ? `give it its material first: \`kms-lab import-material --key ${blocked.arn} --from-escrow\` as a key administrator (EXISTING_KEY_MATERIAL from the escrow), or deploy the secondary stack again; then run \`kms-lab rotate --scenario ${key.scenario}\``
      : `bring it back first (\`kms-lab key cancel-deletion ${blocked.arn} --enable\` for a key pending deletion), or leave (${key.scenario}) out with --scenario ${otherScenarios(key.scenario)}`;
  return (
    `Cannot rotate the imported material of (${key.scenario}) ${key.keyArn}: its replica ${blocked.arn} in ${blocked.region} is ${state}. ` +
    'A multi-Region primary rotates only once every replica has imported the new material, and this replica cannot take it now, so the new material would stay pending in the primary. ' +
    `Nothing was changed. What to do: ${todo}.`
  );
}

/** Reads the escrow of (c) or (e) and decides how to rotate; any failure is a refusal, before anything changes. */
async function planImported(
  clients: AwsClients,
  c: CollectedKey,
  plan: KeyPlan,
  escrowName: string | undefined,
  guard: MaterialGuard,
  replicas: readonly ReplicaTarget[] | string,
  escrowRegion: string,
): Promise<Planned> {
  const { key, meta } = c;
  const scenario: EscrowScenario = key.scenario === 'e' ? 'e' : 'c';
  const refused = (paragraph: string): Planned => ({ collected: c, plan: { kind: 'refused', detail: 'refused: see below', paragraph } });
  if (!escrowName) {
    if (scenario === 'e') {
      return refused(
        `Cannot rotate the imported material of (e) ${key.keyArn} in ${key.region}: the primary stack has no output ${ESCROW_OUTPUTS.e}, so kms-lab cannot find the escrow that must hold the new material before any Region imports it. Nothing was changed. ` +
          `What to do: deploy the lab again (\`npx cdk deploy --all\`) so the stack has every output, then run \`kms-lab rotate --scenario e\`; or leave (e) out with --scenario ${otherScenarios('e')}.`,
      );
    }
    return refused(
      `Cannot rotate the imported material of (c) ${key.keyArn} in ${key.region}: the primary stack has no output ImportedMaterialEscrowSecretName, so this lab takes its material from your materialSecretName secret (materialSource=secret) and keeps no escrow kms-lab could write new material to. Nothing was changed. ` +
        `What to do: rotate with your own material (\`kms-lab import-material --key ${key.keyArn} --file <path> --rotate\`), then put that material in the materialSecretName secret before the next deploy; or leave (c) out with --scenario ${otherScenarios('c')}.`,
    );
  }
  if (typeof replicas === 'string') return refused(replicas);
  // Always the primary Region's escrow: (e)'s copy in the secondary Region is a read-only replica that Secrets Manager keeps in step.
  const escrow: EscrowRef = { secretName: escrowName, region: escrowRegion };
  let record: EscrowRecord | undefined;
  try {
    record = await readEscrow(clients.secretsManager(escrow.region), escrow);
  } catch (error) {
    if (isCredentialsProblem(error)) throw new CliError(explainError(error));
    if (isAccessDenied(error)) {
      const message = error instanceof AwsCallError && error.cause instanceof Error ? error.cause.message : String(error);
      return refused(escrowDeniedMessage({ scenario, operation: 'GetSecretValue', keyArn: key.keyArn, region: escrow.region, secretName: escrowName, serviceMessage: message.replace(/\s+/g, ' ').trim().replace(/\.$/, '') }));
    }
    return refused(`Rotating the imported material of (${scenario}) ${key.keyArn} stopped before touching the key: ${explainError(error)}`);
  }
  if (record) {
    guard.hold(record.material);
    for (const p of record.previous ?? []) guard.hold(p.material);
  }
  const step = importedRotationStep({
    scenario,
    keyArn: key.keyArn,
    region: key.region,
    currentKeyMaterialId: meta.CurrentKeyMaterialId,
    materials: c.materials ?? [],
    escrowSecretName: escrowName,
    record,
  });
  if ('refuse' in step) return refused(step.refuse);
  const detail = importedStepDetail(step, meta.CurrentKeyMaterialId, replicas.map((r) => r.region));
  return { collected: c, plan: { ...plan, detail }, imported: { scenario, escrow, record: record!, step, replicas } };
}

function reportKey(p: Planned, outcome?: Outcome | 'not-run'): KeyRotation {
  const { key, meta, automatic, materials } = p.collected;
  const state = meta.KeyState ?? 'unknown';
  return {
    scenario: key.scenario,
    where: key.where,
    region: key.region,
    keyArn: key.keyArn,
    alias: key.alias,
    state,
    origin: meta.Origin,
    multiRegion: meta.MultiRegionConfiguration?.MultiRegionKeyType,
    automaticRotation: rotationText({ origin: meta.Origin, state, ...automatic }),
    ...(materials ? { onDemand: onDemandUsage(materials) } : {}),
    materials: materials ?? [],
    plan: p.plan.kind,
    planDetail: p.plan.detail,
    ...(outcome === 'not-run'
      ? { result: 'not-run', resultDetail: 'not run: an earlier rotation failed' }
      : outcome
        ? { result: outcome.result, resultDetail: outcome.detail, ...(outcome.newKeyMaterialId ? { newKeyMaterialId: outcome.newKeyMaterialId } : {}) }
        : {}),
  };
}

/**
 * (c) and (e): new material to the escrow first, then GetParametersForImport,
 * wrap, ImportKeyMaterial (NEW_KEY_MATERIAL); for (e) the same material into
 * every replica (EXISTING_KEY_MATERIAL, each with its own wrapping key);
 * RotateKeyOnDemand, and the new id to the escrow. An earlier run that
 * stopped half-way is finished from where it stopped (see
 * importedRotationStep). Failures are CliErrors whose paragraph says what
 * state the keys and the escrow were left in.
 */
async function rotateImported(clients: AwsClients, p: Planned, guard: MaterialGuard): Promise<{ outcome: Outcome; warning?: string }> {
  const { key, meta } = p.collected;
  const { scenario, escrow, record, step, replicas } = p.imported!;
  const sm = clients.secretsManager(escrow.region);
  const kms = clients.kms(key.region);
  const again = `kms-lab rotate --scenario ${scenario}`;
  const stopped = `Rotating the imported material of (${scenario}) ${key.keyArn} stopped before touching the key:`;

  let escrowed = record;
  if (step.step === 'generate') {
    escrowed = escrowWithNewMaterial(record, guard.hold(randomBytes(KEY_MATERIAL_BYTES)));
    try {
      await writeEscrow(sm, escrow, escrowed);
    } catch (error) {
      if (isAccessDenied(error)) {
        const message = error instanceof AwsCallError && error.cause instanceof Error ? error.cause.message : String(error);
        throw new CliError(escrowDeniedMessage({ scenario, operation: 'PutSecretValue', keyArn: key.keyArn, region: escrow.region, secretName: escrow.secretName, serviceMessage: message.replace(/\s+/g, ' ').trim().replace(/\.$/, '') }));
      }
      throw new CliError(`${stopped} ${explainError(error)}`);
    }
  }

  let newId = step.step === 'rotate-pending' ? step.keyMaterialId : undefined;
  if (step.step !== 'rotate-pending') {
    try {
      newId = await importMaterial(kms, key.region, key.keyArn, escrowed.material, { importType: 'NEW_KEY_MATERIAL', expiration: expirationOf(meta) });
    } catch (error) {
      throw new CliError(`${explainError(error)} ${await undoEscrow(sm, escrow, step, record, again)}`);
    }
  }
  // Kept so that the next run finishes this rotation instead of starting another.
  const keepId = () => (step.step !== 'rotate-pending' ? writeEscrow(sm, escrow, escrowWithMaterialId(escrowed, newId)).catch(() => undefined) : Promise.resolve());

  for (const replica of replicas) {
    try {
      // Each Region unwraps with its own wrapping key; the replica refuses NEW_KEY_MATERIAL, and takes only bytes its primary holds.
      await importMaterial(clients.kms(replica.region), replica.region, replica.arn, escrowed.material, {
        importType: 'EXISTING_KEY_MATERIAL',
        expiration: expirationOf(replica.meta),
      });
    } catch (error) {
      await keepId();
      throw new CliError(
        `${explainError(error)} The new material${newId ? ` ${newId}` : ''} is escrowed in ${escrow.secretName} and imported into the primary ${key.keyArn}, pending rotation, ` +
          `but not into the replica ${replica.arn} in ${replica.region}, so no key uses it yet: run \`${again}\` again once the cause is fixed, which imports it into the replica and finishes the rotation, before the next deploy of the lab.`,
      );
    }
  }

  try {
    await rotateOnDemand(kms, key.region, key.keyArn);
  } catch (error) {
    await keepId();
    const where = replicas.length > 0 ? ` into the primary and ${replicas.length === 1 ? 'its replica' : `its ${replicas.length} replicas`}` : '';
    throw new CliError(
      `${explainError(error)} The new material${newId ? ` ${newId}` : ''} is escrowed and imported${where}, but not yet current: run \`${again}\` again to finish the rotation, before the next deploy of the lab.`,
    );
  }

  const previousId = escrowed.previous?.[0]?.keyMaterialId;
  const alsoIn = replicas.length > 0 ? ` (imported into the replica${replicas.length > 1 ? 's' : ''} in ${replicas.map((r) => r.region).join(', ')} too)` : '';
  const outcome: Outcome = {
    result: 'rotated',
    detail: `new material ${newId ?? '(no id returned)'} is current${alsoIn}; the previous material ${previousId ?? ''} stays in the key${replicas.length > 0 ? 's' : ''} and in the escrow ${escrow.secretName} for decrypting`,
    newKeyMaterialId: newId,
  };
  if (step.step === 'rotate-pending') return { outcome };
  try {
    await writeEscrow(sm, escrow, escrowWithMaterialId(escrowed, newId));
    return { outcome };
  } catch (error) {
    return {
      outcome,
      warning: `(${scenario}) ${key.keyArn} was rotated, and its escrow ${escrow.secretName} holds the new material, but recording its id there failed: ${explainError(error)} Then deploy the lab again: the import handler records the id of the material the key holds.`,
    };
  }
}

/** After a failed import: the escrow back as it was, if this run changed it. Returns the sentence that says how it was left. */
async function undoEscrow(sm: ReturnType<AwsClients['secretsManager']>, escrow: EscrowRef, step: ImportedStep, record: EscrowRecord, again: string): Promise<string> {
  if ('refuse' in step || step.step !== 'generate') {
    return `The escrow still holds the new material from an earlier run: run \`${again}\` again to import it and finish the rotation.`;
  }
  try {
    await writeEscrow(sm, escrow, record);
    return `The escrow secret ${escrow.secretName} was put back to its previous record, so the key and the escrow are as they were.`;
  } catch (error) {
    return (
      `Putting the escrow secret ${escrow.secretName} back failed too (${sdkErrorName(error)}): it holds new material that the key does not have yet. ` +
      `Run \`${again}\` again, which imports that escrowed material and finishes the rotation, before the next deploy of the lab.`
    );
  }
}

function confirmationQuestion(actions: readonly Planned[]): string {
  const names = actions.map((p) => {
    const k = p.collected.key;
    if (p.plan.kind !== 'rotate-imported-material') return `${keyLabel(k)} in ${k.region} on demand`;
    const replicas = p.imported?.replicas.length ? ` and its replica${p.imported.replicas.length > 1 ? 's' : ''}` : '';
    return `${keyLabel(k)} imported material (new material escrowed first, then imported into the key${replicas})`;
  });
  return `Rotate ${actions.length} key${actions.length === 1 ? '' : 's'}: ${names.join(', ')}? Each rotation uses one of the 25 on-demand rotations its key is allowed.`;
}

/**
 * Reads every deployed key of the selected scenarios, plans, shows the plan,
 * asks (unless --yes), then rotates: (c) first, since its escrow write is the
 * step the caller's permissions may refuse, then the KMS-generated keys. A
 * refusal anywhere rotates nothing; the first failure stops the rest.
 * Writes the report through io and returns the exit code.
 */
export async function runRotate(settings: LabSettings, options: RotateOptions, io: CliIo, clients = new AwsClients(settings.profile)): Promise<number> {
  const guard = new MaterialGuard();
  const print = (text: string) => io.stdout(guard.text(text));
  try {
    // The alarm stacks hold no key: rotate never reads them.
    const deployment = await describeLab(clients, settings, KEY_STACKS_AND_ROLES);
    if (!deployment.primary) throw new CliError(stacksNotDeployed([labStacks(settings).primary]));

    const problems: string[] = [];
    const keys = KEY_SPECS.filter((s) => options.scenarios.includes(s.scenario)).flatMap((spec) => {
      const found = findKey(deployment, spec);
      if (found && 'missing' in found) problems.push(missingOutputsMessage(found.stack, found.missing));
      return found && 'key' in found ? [found.key] : [];
    });
    const collected = await read(() => Promise.all(keys.map((k) => collectKey(clients, k))));

    const planned: Planned[] = [];
    for (const c of collected) {
      const { key, meta } = c;
      const plan = planRotation({
        scenario: key.scenario,
        where: key.where,
        region: key.region,
        keyArn: key.keyArn,
        state: meta.KeyState ?? 'unknown',
        origin: meta.Origin,
        multiRegion: meta.MultiRegionConfiguration?.MultiRegionKeyType,
        customKeyStoreId: meta.CustomKeyStoreId,
        periodDays: c.automatic?.enabled ? c.automatic.periodDays : undefined,
        onDemand: c.materials ? onDemandUsage(c.materials) : undefined,
      });
      if (plan.kind !== 'rotate-imported-material') {
        planned.push({ collected: c, plan });
        continue;
      }
      const escrowName = deployment.primary.outputs[ESCROW_OUTPUTS[key.scenario === 'e' ? 'e' : 'c']] || undefined;
      const replicas = meta.MultiRegionConfiguration?.MultiRegionKeyType === 'PRIMARY' ? await read(() => replicaTargets(clients, c, collected)) : [];
      planned.push(await planImported(clients, c, plan, escrowName, guard, replicas, deployment.primary.region));
    }
    problems.push(...planned.flatMap((p) => (p.plan.paragraph ? [p.plan.paragraph] : [])));

    const report = (outcomes = new Map<Planned, Outcome | 'not-run'>(), more: readonly string[] = []): RotateReport => ({
      schemaVersion: 1,
      prefix: settings.prefix,
      regions: { primary: settings.primaryRegion, secondary: settings.secondaryRegion },
      dryRun: !!options.dryRun,
      keys: planned.map((p) => reportKey(p, outcomes.get(p))),
      problems: [...problems, ...more],
      apiCalls: clients.counter.total,
    });
    const finish = (r: RotateReport): number => {
      print(options.json ? renderRotateJson(r) : renderRotationResults(r));
      for (const paragraph of r.problems) io.stderr(`${guard.text(paragraph)}\n`);
      return rotateExitCode(r);
    };

    if (!options.json) print(renderRotationStatus(report()));
    const actions = planned.filter((p) => p.plan.kind === 'rotate-on-demand' || p.plan.kind === 'rotate-imported-material');
    if (options.dryRun || problems.length > 0 || actions.length === 0) return finish(report());

    await confirmOrStop(io, options.yes, confirmationQuestion(actions), ROTATE_COMMAND);
    const outcomes = new Map<Planned, Outcome | 'not-run'>();
    const more: string[] = [];
    let failed = false;
    // (c) and (e) first: their escrow write is what the caller's permissions may refuse, and it must refuse before anything changed.
    const order = [...actions.filter((p) => p.imported), ...actions.filter((p) => !p.imported)];
    for (const p of order) {
      if (failed) {
        outcomes.set(p, 'not-run');
        continue;
      }
      try {
        if (p.imported) {
          const { outcome, warning } = await rotateImported(clients, p, guard);
          outcomes.set(p, outcome);
          if (warning) more.push(warning);
        } else {
          const { key } = p.collected;
          await rotateOnDemand(clients.kms(key.region), key.region, key.keyArn);
          const used = onDemandUsage(p.collected.materials ?? []).used + 1;
          outcomes.set(p, { result: 'rotated', detail: `rotated on demand (${used} of 25 on-demand rotations now used); earlier material stays in the key for decrypting` });
        }
      } catch (error) {
        const paragraph = error instanceof CliError ? error.message : explainError(error);
        outcomes.set(p, { result: 'failed', detail: paragraph.split(' What to do:')[0] });
        more.push(paragraph);
        failed = true;
      }
    }
    return finish(report(outcomes, more));
  } catch (error) {
    throw guard.error(error);
  }
}
