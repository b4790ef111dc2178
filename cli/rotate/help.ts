/**
 * How the lab's keys rotate, alias swap included: `kms-lab rotate --help`
 * prints it after the options, and the README can quote it as it stands.
 * Plain text, no imports, so --help loads nothing else.
 */
export const rotateHelp = `
How the lab's keys rotate:

  Automatic    The KMS-generated keys, (a) in both Regions and the (b) primary, rotate every rotationPeriodDays
               (90 to 2560, default 365). KMS keeps every earlier material in the key, so older ciphertext still
               decrypts, and the key id, ARN, alias and policies stay the same.

  On demand    kms-lab rotate calls RotateKeyOnDemand on those keys. The (b) replica follows its primary: it shares
               the primary's material and is never rotated itself. KMS allows 25 on-demand rotations per key, for
               the key's whole life (not adjustable); kms-lab counts the ON_DEMAND entries of ListKeyRotations and
               refuses a key that has none left.

  Imported     Key (c) has EXTERNAL material, which never rotates automatically. kms-lab rotate generates 32 random
  material     bytes and writes them to the escrow secret first (keeping the current material in the record too),
               then imports them as NEW_KEY_MATERIAL and calls RotateKeyOnDemand, then records the new material's
               id in the escrow. The old material stays in the key, for decrypting. Only the import handler and the
               key administrators may read the escrow, so run it as an administrator (--profile). To bring your
               own material instead: kms-lab import-material --key <key> --file <path> --rotate.

  Multi-Region Key (e) is a multi-Region key with imported material: the replica takes no material from its
  imported      primary. kms-lab rotate escrows 32 new bytes in the primary Region's escrow (Secrets Manager
  material      copies it to the replica secret, which is read-only), imports them into the primary as
               NEW_KEY_MATERIAL, then into the replica as EXISTING_KEY_MATERIAL (each Region with its own
               wrapping key from GetParametersForImport), and only then calls RotateKeyOnDemand on the primary,
               which KMS allows once every replica holds the new material. A replica left PendingImport gets its
               material back with kms-lab import-material --key <replica ARN> --from-escrow.

  Alias swap   For a key that cannot rotate (d, in a CloudHSM key store) or has used its 25 on-demand rotations:
               create a new key, point the alias at it, and keep the old key for decrypting.
                 aws kms create-key --region <region> --policy file://policy.json
                     (same policy as the old key: aws kms get-key-policy --key-id <old key> --policy-name default;
                      for (d) add --origin AWS_CLOUDHSM --custom-key-store-id <CustomKeyStoreId output>)
                 aws kms update-alias --alias-name alias/<prefix>/<name> --target-key-id <new key id> --region <region>
               Whatever encrypts by alias uses the new key at once. Ciphertext names the key that made it, so
               Decrypt still finds the old key: keep it (enabled) while such ciphertext exists. Only key
               administrators may repoint the lab's aliases (alias/<prefix>/*). An alias that a stack manages
               shows as drift, and its next deploy points it back.
`;
