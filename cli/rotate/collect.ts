import { KeyMetadata } from '@aws-sdk/client-kms';
import { AwsClients } from '../aws/clients';
import { describeKey, listKeyRotations, rotationStatus } from '../key-material/kms-calls';
import { LabKey } from '../lab-stacks';
import { MaterialEntry, materialEntries, NO_ROTATION_STATES } from './plan';

/** What AWS says of one key's rotation. */
export interface CollectedKey {
  readonly key: LabKey;
  readonly meta: KeyMetadata;
  /** GetKeyRotationStatus, for KMS-generated keys. */
  readonly automatic?: { readonly enabled?: boolean; readonly periodDays?: number; readonly next?: Date };
  /** ListKeyRotations (ALL_KEY_MATERIAL); undefined where it does not apply (CloudHSM keys, keys on their way out). */
  readonly materials?: MaterialEntry[];
}

/**
 * DescribeKey, then GetKeyRotationStatus (KMS-generated material only: KMS
 * refuses it for imported and CloudHSM keys) and ListKeyRotations (every key
 * that can rotate). Read-only.
 */
export async function collectKey(clients: AwsClients, key: LabKey): Promise<CollectedKey> {
  const kms = clients.kms(key.region);
  const meta = await describeKey(kms, key.region, key.keyArn, key.keyArn);
  const state = meta.KeyState ?? 'unknown';
  const inKeyStore = meta.Origin === 'AWS_CLOUDHSM' || !!meta.CustomKeyStoreId;
  if (inKeyStore || NO_ROTATION_STATES.includes(state)) return { key, meta };
  const [status, rotations] = await Promise.all([
    meta.Origin === 'AWS_KMS' ? rotationStatus(kms, key.region, key.keyArn) : undefined,
    listKeyRotations(kms, key.region, key.keyArn),
  ]);
  return {
    key,
    meta,
    ...(status ? { automatic: { enabled: status.KeyRotationEnabled, periodDays: status.RotationPeriodInDays, next: status.NextRotationDate } } : {}),
    materials: materialEntries(rotations),
  };
}
