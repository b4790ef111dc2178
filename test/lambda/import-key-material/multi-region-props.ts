import { PRIMARY_REGION, SECONDARY_REGION } from './fakes';

/** Scenario (e)'s key set and escrow as the import handler tests use them. */
export const MRK_ID = 'mrk-1234abcd12ab34cd56ef1234567890ab';
export const PRIMARY_ARN = `arn:aws:kms:${PRIMARY_REGION}:111111111111:key/${MRK_ID}`;
export const REPLICA_ARN = `arn:aws:kms:${SECONDARY_REGION}:111111111111:key/${MRK_ID}`;
export const MRK_ESCROW = `kms-key-lab/multi-region-imported/escrow-${MRK_ID}`;

/** The primary's import resource properties, as the (e) construct gives them, with the escrow policy and tags a test sets. */
export function mrkPrimaryProps(policy: unknown, secretTags: Record<string, string>, overrides: Record<string, unknown> = {}) {
  return {
    KeyArn: PRIMARY_ARN,
    WrappingAlgorithm: 'RSAES_OAEP_SHA_256',
    WrappingKeySpec: 'RSA_4096',
    ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    MultiRegion: 'primary',
    MaterialSource: 'generate',
    EscrowSecretName: MRK_ESCROW,
    EscrowSecretPolicy: policy,
    EscrowReplicaRegions: [SECONDARY_REGION],
    SecretTags: secretTags,
    PendingWindowDays: '7',
    DeleteMaterialOnDelete: 'false',
    ...overrides,
  };
}

/** The replica's import resource properties: it reads the escrow's replica in its own Region. */
export function mrkReplicaProps(overrides: Record<string, unknown> = {}) {
  return {
    KeyArn: REPLICA_ARN,
    WrappingAlgorithm: 'RSAES_OAEP_SHA_256',
    WrappingKeySpec: 'RSA_4096',
    ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    MultiRegion: 'replica',
    MaterialSource: 'escrow-replica',
    EscrowSecretName: MRK_ESCROW,
    PendingWindowDays: '7',
    DeleteMaterialOnDelete: 'false',
    ...overrides,
  };
}
