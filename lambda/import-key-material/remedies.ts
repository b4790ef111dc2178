/**
 * What each KMS or Secrets Manager failure means for an import, and what to
 * do about it. A failed custom resource shows this text in the CloudFormation
 * events, so it is written for the person reading the console.
 */
export interface Remedy {
  readonly what: string;
  readonly todo: string;
}

export const IMPORT_REMEDIES: Readonly<Record<string, Remedy>> = {
  ExpiredImportTokenException: {
    what: 'the import token and wrapping public key expired before ImportKeyMaterial (they are valid for 24 hours)',
    todo: 'deploy again: every run fetches fresh import parameters with GetParametersForImport',
  },
  IncorrectKeyMaterialException: {
    what: 'KMS refused the material because the key already holds different material; a key only ever accepts the material first imported into it',
    todo: 'put the original material back into the escrow secret (or the materialSecretName secret), or give the lab a new imported key',
  },
  InvalidImportTokenException: {
    what: 'the import token does not belong to this key or to the wrapping public key used',
    todo: 'deploy again so the token and public key come from one GetParametersForImport call for this key',
  },
  InvalidCiphertextException: {
    what: 'KMS could not unwrap the material with the wrapping private key',
    todo: 'check that wrappingAlgorithm matches the algorithm passed to GetParametersForImport, then deploy again',
  },
  KMSInvalidStateException: {
    what: 'the key is not in a state that accepts imports (for example PendingDeletion, or its Origin is not EXTERNAL)',
    todo: 'look at the key with `aws kms describe-key`; cancel a scheduled deletion with `aws kms cancel-key-deletion`, or destroy and redeploy the lab',
  },
  NotFoundException: {
    what: 'KMS does not know the key (it kept answering NotFound after the retries allowed for eventual consistency)',
    todo: 'check that the key exists in this Region and account; deploy again if it was only just created',
  },
  AccessDeniedException: {
    what: "the handler's role or the key policy does not allow the call",
    todo: 'check the key policy and the handler role; the role is generated with exactly the calls this handler makes',
  },
  UnsupportedOperationException: {
    what: 'KMS does not support this wrapping algorithm or key spec for this key',
    todo: 'choose a wrappingAlgorithm and wrappingKeySpec the key accepts (RSAES_OAEP_SHA_256 with RSA_4096 always works for symmetric keys)',
  },
  ResourceNotFoundException: {
    what: 'Secrets Manager has no such secret',
    todo: 'check that the secret exists in the primary Region: for bring-your-own material the materialSecretName secret, otherwise the escrow secret of the stack (deploy again to recreate it)',
  },
  DecryptionFailure: {
    what: 'Secrets Manager could not decrypt the secret with its KMS key',
    todo: 'set materialSecretKeyArn to the key that encrypts the secret, or allow the handler role to use it',
  },
};

/** "<call> failed: <what>. What to do: <todo>." for known errors, the service's own words otherwise. */
export function explain(call: string, errorName: string | undefined, serviceMessage: string): string {
  const remedy = errorName ? IMPORT_REMEDIES[errorName] : undefined;
  if (!remedy) return `${call} failed (${errorName ?? 'Error'}): ${serviceMessage}`;
  return `${call} failed (${errorName}): ${remedy.what}. What to do: ${remedy.todo}.`;
}

