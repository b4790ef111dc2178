import { EXIT } from '../errors';
import { KeyScenario } from '../lab-stacks';
import { MaterialEntry, OnDemandUsage, PlanKind } from './plan';

export type RotationResult = 'rotated' | 'failed' | 'not-run';

/** One key of `kms-lab rotate`: what KMS says of its rotation, what the command planned, and what came of it. */
export interface KeyRotation {
  readonly scenario: KeyScenario;
  /** For (b), secondary is the replica. */
  readonly where: 'primary' | 'secondary';
  readonly region: string;
  readonly keyArn: string;
  readonly alias: string;
  readonly state: string;
  /** AWS_KMS, EXTERNAL or AWS_CLOUDHSM. */
  readonly origin?: string;
  /** PRIMARY or REPLICA for multi-Region keys. */
  readonly multiRegion?: string;
  /** GetKeyRotationStatus, for KMS-generated keys: "on, every 365 days, next ...", "off", or why not applicable. */
  readonly automaticRotation: string;
  /** ON_DEMAND rotations in ListKeyRotations against the limit; absent where ListKeyRotations does not apply. */
  readonly onDemand?: OnDemandUsage;
  /** ListKeyRotations with ALL_KEY_MATERIAL: the first material, every rotation, and material pending rotation. */
  readonly materials: readonly MaterialEntry[];
  readonly plan: PlanKind;
  readonly planDetail: string;
  /** For the keys the command rotates, once it ran (absent in a dry run, or when it was refused). */
  readonly result?: RotationResult;
  readonly resultDetail?: string;
  /** The new material's id, for imported material. */
  readonly newKeyMaterialId?: string;
}

/**
 * What `kms-lab rotate --json` prints. Stable like the other reports: fields
 * are only ever added.
 */
export interface RotateReport {
  readonly schemaVersion: 1;
  readonly prefix: string;
  readonly regions: { readonly primary: string; readonly secondary: string };
  /** --dry-run: nothing was asked or changed. */
  readonly dryRun: boolean;
  readonly keys: readonly KeyRotation[];
  /** One paragraph per refusal or failure; then nothing (more) was rotated and the command exits 1. */
  readonly problems: readonly string[];
  readonly apiCalls: number;
}

export function rotateExitCode(report: RotateReport): number {
  return report.problems.length === 0 && report.keys.every((k) => k.plan !== 'refused' && k.result !== 'failed') ? EXIT.ok : EXIT.failed;
}

export function renderRotateJson(report: RotateReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
