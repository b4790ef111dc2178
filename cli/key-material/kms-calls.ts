import {
  DescribeKeyCommand,
  GetKeyRotationStatusCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  ImportType,
  KeyMetadata,
  KMS,
  ListKeyRotationsCommand,
  RotateKeyOnDemandCommand,
  RotationsListEntry,
} from '@aws-sdk/client-kms';
import { WrappingAlgorithm, WrappingKeySpec, wrapKeyMaterial } from '../../lambda/import-key-material/wrap';
import { awsCall, CliError } from '../errors';

/** The lab's default wrapping (settings wrappingAlgorithm, wrappingKeySpec): it works for every symmetric key. */
export const WRAPPING_ALGORITHM: WrappingAlgorithm = 'RSAES_OAEP_SHA_256';
export const WRAPPING_KEY_SPEC: WrappingKeySpec = 'RSA_4096';

export interface Expiration {
  readonly model: 'KEY_MATERIAL_DOES_NOT_EXPIRE' | 'KEY_MATERIAL_EXPIRES';
  readonly validTo?: Date;
}

/** keyRef is what the operator gave (an alias, say); keyArn, once known, lets a failure name the key for its remedy. */
export async function describeKey(kms: KMS, region: string, keyRef: string, keyArn?: string): Promise<KeyMetadata> {
  const answer = await awsCall({ operation: 'DescribeKey', region, resource: keyRef, keyArn }, () => kms.send(new DescribeKeyCommand({ KeyId: keyRef })));
  if (!answer.KeyMetadata?.Arn) {
    throw new CliError(`DescribeKey in ${region} answered without the metadata of ${keyRef}. What to do: run the command again; if it happens again, report this message.`);
  }
  return answer.KeyMetadata;
}

export async function rotationStatus(kms: KMS, region: string, keyArn: string) {
  return awsCall({ operation: 'GetKeyRotationStatus', region, resource: keyArn }, () => kms.send(new GetKeyRotationStatusCommand({ KeyId: keyArn })));
}

/** Every material of the key, first and pending ones included (ALL_KEY_MATERIAL), page by page. */
export async function listKeyRotations(kms: KMS, region: string, keyArn: string): Promise<RotationsListEntry[]> {
  const entries: RotationsListEntry[] = [];
  let marker: string | undefined;
  do {
    const page = await awsCall({ operation: 'ListKeyRotations', region, resource: keyArn }, () =>
      kms.send(new ListKeyRotationsCommand({ KeyId: keyArn, IncludeKeyMaterial: 'ALL_KEY_MATERIAL', Marker: marker })),
    );
    entries.push(...(page.Rotations ?? []));
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return entries;
}

export async function rotateOnDemand(kms: KMS, region: string, keyArn: string): Promise<void> {
  await awsCall({ operation: 'RotateKeyOnDemand', region, resource: keyArn }, () => kms.send(new RotateKeyOnDemandCommand({ KeyId: keyArn })));
}

/**
 * GetParametersForImport, then RSA-OAEP wrapping here, then ImportKeyMaterial:
 * only the wrapped material leaves the process. importType unset lets KMS
 * choose (NEW for a key's first material). Returns KMS's id for the material.
 */
export async function importMaterial(
  kms: KMS,
  region: string,
  keyArn: string,
  material: Buffer,
  options: { importType?: ImportType; expiration: Expiration },
): Promise<string | undefined> {
  const params = await awsCall({ operation: 'GetParametersForImport', region, resource: keyArn }, () =>
    kms.send(new GetParametersForImportCommand({ KeyId: keyArn, WrappingAlgorithm: WRAPPING_ALGORITHM, WrappingKeySpec: WRAPPING_KEY_SPEC })),
  );
  if (!params.PublicKey || !params.ImportToken) {
    throw new CliError(`GetParametersForImport in ${region} returned no public key or import token for ${keyArn}. What to do: run the command again.`);
  }
  const wrapped = wrapKeyMaterial(material, params.PublicKey, WRAPPING_ALGORITHM, WRAPPING_KEY_SPEC);
  const answer = await awsCall({ operation: 'ImportKeyMaterial', region, resource: keyArn }, () =>
    kms.send(
      new ImportKeyMaterialCommand({
        KeyId: keyArn,
        ImportToken: params.ImportToken,
        EncryptedKeyMaterial: wrapped,
        ExpirationModel: options.expiration.model,
        ...(options.expiration.model === 'KEY_MATERIAL_EXPIRES' ? { ValidTo: options.expiration.validTo } : {}),
        ...(options.importType ? { ImportType: options.importType } : {}),
      }),
    ),
  );
  return answer.KeyMaterialId;
}
