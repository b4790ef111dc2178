import type { ChangingCommand } from '../confirm';
import { keyName, stateText } from '../key/actions';
import { ALIAS_SWAP_POINTER, ON_DEMAND_ROTATION_LIMIT, OnDemandUsage } from '../rotate/plan';
import { keyIdOf } from '../verify/outcomes';

export const IMPORT_MATERIAL_COMMAND: ChangingCommand = {
  name: 'kms-lab import-material',
  does: 'imports key material into a KMS key',
};

/** What DescribeKey says of the key the material is for. */
export interface ImportTarget {
  readonly arn: string;
  readonly region: string;
  /** What the operator typed, to name the key as they know it. */
  readonly asGiven: string;
  readonly state: string;
  readonly origin?: string;
  readonly keySpec?: string;
  readonly multiRegion?: string;
  readonly currentKeyMaterialId?: string;
  readonly deletionDate?: Date;
  readonly pendingWindowDays?: number;
}

/** Where the lab escrows the material of key (c) or (e), from the primary stack's outputs, when it is deployed. */
export interface LabEscrow {
  readonly scenario?: 'c' | 'e';
  /** The key's ARN; for (e), its primary's (the replica shares its key id). */
  readonly keyArn?: string;
  readonly secretName?: string;
}

/**
 * True when the key is the lab's escrowed key: (c) by ARN; (e) by its
 * multi-Region key id, since its escrow names the primary's ARN and the
 * replica's ARN differs from it only in the Region.
 */
export function isLabEscrowKey(key: Pick<ImportTarget, 'arn'>, lab: LabEscrow | undefined): boolean {
  if (!lab?.keyArn) return false;
  return lab.scenario === 'e' ? keyIdOf(lab.keyArn) === keyIdOf(key.arn) : lab.keyArn === key.arn;
}

export type ImportPlan =
  | { readonly kind: 'refuse'; readonly message: string }
  | {
      readonly kind: 'import';
      /** Unset for a key's first material: KMS then takes it as new. */
      readonly importType?: 'NEW_KEY_MATERIAL' | 'EXISTING_KEY_MATERIAL';
      /** RotateKeyOnDemand after the import, to make the new material current. */
      readonly rotate: boolean;
      /** For the question and the result: what kind of import this is. */
      readonly describe: string;
      /** Said before the question, e.g. that --rotate does not apply. */
      readonly note?: string;
    };

function refuse(key: ImportTarget, what: string, todo: string): ImportPlan {
  return { kind: 'refuse', message: `The KMS key ${keyName(key)} in ${key.region} ${what}. Nothing was imported. What to do: ${todo}.` };
}

/**
 * Whether material can be imported into the key, and how: a key's first
 * material; with --rotate into a key that holds material, new material that
 * is then rotated to; otherwise the material the key already holds, again
 * (KMS refuses any other with IncorrectKeyMaterialException).
 */
export function planImport(key: ImportTarget, rotate: boolean, lab?: LabEscrow): ImportPlan {
  if (key.origin !== 'EXTERNAL') {
    const made = key.origin === 'AWS_CLOUDHSM' ? 'in its CloudHSM cluster' : key.origin === 'AWS_KMS' ? 'by KMS' : 'outside KMS';
    return refuse(
      key,
      `has Origin ${key.origin ?? 'unknown'}: its material was made ${made}, so it takes no imported material`,
      "name a key created with Origin EXTERNAL, such as the lab's imported-material key (alias/<prefix>/imported-material, scenario c)",
    );
  }
  if (key.state === 'PendingDeletion' || key.state === 'PendingReplicaDeletion') {
    return refuse(
      key,
      `is ${stateText(key)}, and KMS imports into no key on its way out`,
      `if you still need it, cancel the deletion with \`aws kms cancel-key-deletion --key-id ${key.arn} --region ${key.region}\` (or \`kms-lab key cancel-deletion ${key.arn} --enable\`), then run import-material again`,
    );
  }
  if (key.keySpec && key.keySpec !== 'SYMMETRIC_DEFAULT') {
    return refuse(key, `is a ${key.keySpec} key, and import-material brings 32-byte material for symmetric encryption keys (SYMMETRIC_DEFAULT) only`, 'import asymmetric or HMAC material with the AWS CLI (aws kms import-key-material)');
  }
  if (key.multiRegion === 'REPLICA') {
    if (rotate) {
      return refuse(
        key,
        'is a multi-Region replica: KMS takes new material only into the primary, and a replica only the material its primary already holds',
        isLabEscrowKey(key, lab)
          ? 'rotate the lab\'s key with `kms-lab rotate --scenario e`, which imports the new material into the primary and then into this replica; or import the material the key holds, without --rotate'
          : 'import the new material into the primary (--rotate there imports into one key only, so use the AWS CLI: NEW_KEY_MATERIAL into the primary, EXISTING_KEY_MATERIAL into each replica, then `aws kms rotate-key-on-demand` on the primary); or import the material the key holds, without --rotate',
      );
    }
    // A replica refuses NEW_KEY_MATERIAL, which KMS would assume for its first import.
    return { kind: 'import', importType: 'EXISTING_KEY_MATERIAL', rotate: false, describe: "material its primary holds, imported into the replica (EXISTING_KEY_MATERIAL)" };
  }
  const holds = !!key.currentKeyMaterialId;
  if (!holds) {
    return {
      kind: 'import',
      rotate: false,
      describe: "the key's first material",
      ...(rotate ? { note: 'The key holds no material yet, so this is its first import and there is nothing to rotate: --rotate does not apply.' } : {}),
    };
  }
  if (!rotate) {
    return { kind: 'import', importType: 'EXISTING_KEY_MATERIAL', rotate: false, describe: 'material the key already holds, imported again (EXISTING_KEY_MATERIAL)' };
  }
  if (key.multiRegion && lab?.scenario === 'e' && isLabEscrowKey(key, lab)) {
    return refuse(
      key,
      `is the lab's multi-Region imported key (e), whose material the lab escrows in the secret ${lab.secretName}: new material from a file would be in the keys but not in the escrow, and the lab's deploys import the escrowed material into both Regions`,
      'rotate it with `kms-lab rotate --scenario e`, which escrows new material first and imports it into the primary and its replica; or import material the key already holds, without --rotate',
    );
  }
  if (key.multiRegion) {
    return refuse(
      key,
      'is a multi-Region key: new material goes into the primary, then the same material into every replica, before the primary can rotate, and import-material imports into one key only',
      'import into the primary and each replica with the AWS CLI (ImportType NEW_KEY_MATERIAL, then EXISTING_KEY_MATERIAL), then `aws kms rotate-key-on-demand` on the primary',
    );
  }
  if (lab?.secretName && isLabEscrowKey(key, lab)) {
    return refuse(
      key,
      `is the lab's imported-material key (c), whose material the lab escrows in the secret ${lab.secretName}: new material from a file would be in the key but not in the escrow, and the lab's deploys re-import the escrowed material`,
      'rotate it with `kms-lab rotate --scenario c`, which escrows new material first; or import material the key already holds, without --rotate',
    );
  }
  return { kind: 'import', importType: 'NEW_KEY_MATERIAL', rotate: true, describe: 'new material (NEW_KEY_MATERIAL), then RotateKeyOnDemand to make it current' };
}

/** --rotate uses one of the key's on-demand rotations: the refusal when none is left. */
export function rotationLimitMessage(key: ImportTarget, usage: OnDemandUsage): string | undefined {
  if (usage.left > 0) return undefined;
  const plan = refuse(
    key,
    `has used all ${ON_DEMAND_ROTATION_LIMIT} on-demand rotations KMS allows a key (ListKeyRotations lists ${usage.used}; the quota is not adjustable), so new material could never become current`,
    `${ALIAS_SWAP_POINTER}; or import material the key already holds, without --rotate`,
  );
  return plan.kind === 'refuse' ? plan.message : undefined;
}

/** The question asked before the import. */
export function importQuestion(key: ImportTarget, file: string, plan: Extract<ImportPlan, { kind: 'import' }>, count = 1): string {
  const what = count > 1 ? `${count} escrowed 32-byte materials (the current one, and earlier ones the key lists as not imported)` : 'the 32-byte material';
  return `Import ${what} from ${file} into ${keyName(key)} in ${key.region}, now ${stateText(key)}, as ${plan.describe}?`;
}

/** What the command prints once KMS has the material: the key, the material's id and the state before and after. */
export function importReport(input: {
  before: ImportTarget;
  after: Pick<ImportTarget, 'state' | 'currentKeyMaterialId'>;
  file: string;
  plan: Extract<ImportPlan, { kind: 'import' }>;
  keyMaterialId?: string;
  /** Materials imported: more than one only from the escrow. */
  count?: number;
  wrapping: string;
}): string {
  const { before, after, plan } = input;
  const lines = [
    `Imported key material into ${keyName(before)} in ${before.region}`,
    `  from          ${input.file}: ${(input.count ?? 1) > 1 ? `${input.count} materials of 32 bytes each` : '32 bytes'}, of which only the RSA-wrapped form left this process (${input.wrapping})`,
    `  import        ${plan.describe}`,
    `  material id   ${input.keyMaterialId ?? 'not returned'}`,
    '  expires       never (KEY_MATERIAL_DOES_NOT_EXPIRE)',
    `  state         ${stateText(before)} → ${stateText({ ...before, ...after })}`,
    `  current       ${after.currentKeyMaterialId ?? 'none reported'}${plan.rotate && before.currentKeyMaterialId ? ` (was ${before.currentKeyMaterialId}, which stays in the key for decrypting)` : ''}`,
  ];
  return `${lines.join('\n')}\n`;
}
