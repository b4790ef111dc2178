import { ownedSecretProperties } from '../shared/owned-secret-props';
import type { WrappingAlgorithm, WrappingKeySpec } from './wrap';

/** KMS accepts ValidTo at most 365 days after the request. */
export const MAX_VALIDITY_MS = 365 * 24 * 60 * 60 * 1000;

export type ImportProperties = {
  readonly keyArn: string;
  readonly wrappingAlgorithm: WrappingAlgorithm;
  readonly wrappingKeySpec: WrappingKeySpec;
  /** Undefined: KEY_MATERIAL_DOES_NOT_EXPIRE. */
  readonly validTo?: Date;
  readonly pendingWindowDays: number;
  readonly deleteMaterialOnDelete: boolean;
  /** Which part of a multi-Region key this is (scenario e); undefined for a single-Region key (scenario c). */
  readonly multiRegion?: MultiRegionRole;
} & (
  | { readonly materialSource: 'generate'; readonly escrow: EscrowProperties }
  | { readonly materialSource: 'secret'; readonly materialSecretName: string }
  /** A multi-Region replica: the material is read from the Region's replica of the primary's escrow, never written. */
  | { readonly materialSource: 'escrow-replica'; readonly escrowSecretName: string }
);

export type MultiRegionRole = 'primary' | 'replica';

/** The escrow secret the handler creates and owns for generated material. */
export interface EscrowProperties {
  readonly secretName: string;
  /** JSON resource policy: who may read and write the material. */
  readonly resourcePolicy: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Regions where Secrets Manager keeps a replica of the escrow (a multi-Region primary's). */
  readonly replicaRegions: readonly string[];
}

export class PropertyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PropertyError';
  }
}

function required(props: Record<string, unknown>, name: string): string {
  const v = props[name];
  if (typeof v !== 'string' || v === '') throw new PropertyError(`Resource property ${name} is missing.`);
  return v;
}

function oneOf<T extends string>(props: Record<string, unknown>, name: string, allowed: readonly T[]): T {
  const v = required(props, name);
  if (!(allowed as readonly string[]).includes(v)) {
    throw new PropertyError(`Resource property ${name} is ${JSON.stringify(v)}; accepted: ${allowed.join(', ')}.`);
  }
  return v as T;
}

/** Why KMS would refuse this ValidTo now, or undefined when it would take it. */
export function expiryProblem(validTo: Date | undefined, now: Date): string | undefined {
  if (!validTo) return undefined;
  const raw = validTo.toISOString();
  if (validTo.getTime() <= now.getTime()) {
    return `ValidTo ${raw} has passed. Set materialExpiresOn to a later date (at most 365 days ahead) or to "never", then deploy again.`;
  }
  if (validTo.getTime() - now.getTime() > MAX_VALIDITY_MS) {
    return `ValidTo ${raw} is more than 365 days ahead, which KMS refuses. Set an earlier materialExpiresOn.`;
  }
  return undefined;
}

/**
 * Reads and checks the properties CloudFormation sent (all strings). The
 * expiry is checked again here because a template can be deployed long after
 * it was synthesized.
 */
export function parseImportProperties(
  props: Record<string, unknown>,
  now: Date,
  options: { checkExpiry: boolean } = { checkExpiry: true },
): ImportProperties {
  const keyArn = required(props, 'KeyArn');
  const wrappingAlgorithm = oneOf(props, 'WrappingAlgorithm', ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] as const);
  const wrappingKeySpec = oneOf(props, 'WrappingKeySpec', ['RSA_2048', 'RSA_3072', 'RSA_4096'] as const);
  const model = oneOf(props, 'ExpirationModel', ['KEY_MATERIAL_DOES_NOT_EXPIRE', 'KEY_MATERIAL_EXPIRES'] as const);
  let validTo: Date | undefined;
  if (model === 'KEY_MATERIAL_EXPIRES') {
    const raw = required(props, 'ValidTo');
    validTo = new Date(raw);
    if (Number.isNaN(validTo.getTime())) throw new PropertyError(`ValidTo ${JSON.stringify(raw)} is not a date.`);
    const problem = options.checkExpiry ? expiryProblem(validTo, now) : undefined;
    if (problem) throw new PropertyError(problem);
  }
  const pendingWindowDays = Number(required(props, 'PendingWindowDays'));
  if (!Number.isInteger(pendingWindowDays) || pendingWindowDays < 7 || pendingWindowDays > 30) {
    throw new PropertyError(`PendingWindowDays must be a whole number from 7 to 30.`);
  }
  const deleteMaterialOnDelete = (props.DeleteMaterialOnDelete ?? 'false') === 'true';
  const multiRegion = props.MultiRegion === undefined ? undefined : oneOf(props, 'MultiRegion', ['primary', 'replica'] as const);
  const common = { keyArn, wrappingAlgorithm, wrappingKeySpec, validTo, pendingWindowDays, deleteMaterialOnDelete, multiRegion };
  // Each role takes material from one place only: a replica never generates material or owns an escrow.
  const sources = { primary: ['generate'], replica: ['escrow-replica'], single: ['generate', 'secret'] } as const;
  const source = oneOf(props, 'MaterialSource', sources[multiRegion ?? 'single']);
  switch (source) {
    case 'generate':
      return { ...common, materialSource: 'generate', escrow: escrowProperties(props, multiRegion === 'primary') };
    case 'secret':
      return { ...common, materialSource: 'secret', materialSecretName: required(props, 'MaterialSecretName') };
    case 'escrow-replica':
      return { ...common, materialSource: 'escrow-replica', escrowSecretName: required(props, 'EscrowSecretName') };
  }
}

function escrowProperties(props: Record<string, unknown>, replicated: boolean): EscrowProperties {
  const owned = ownedSecretProperties(props, 'Escrow', 'Custom::ImportedKeyMaterial');
  const regions = props.EscrowReplicaRegions;
  if (replicated && (!Array.isArray(regions) || regions.length === 0 || regions.some((r) => typeof r !== 'string' || !/^[a-z]+(-[a-z]+)+-\d+$/.test(r)))) {
    throw new PropertyError('Resource property EscrowReplicaRegions must list the Region codes of the replica keys.');
  }
  return { secretName: owned.name, resourcePolicy: owned.resourcePolicy, tags: owned.tags, replicaRegions: replicated ? (regions as string[]) : [] };
}
