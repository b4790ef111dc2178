/** What CreateKey's failures in a CloudHSM key store mean, and what to do. */
export const CREATE_KEY_REMEDIES: Readonly<Record<string, { what: string; todo: string }>> = {
  CustomKeyStoreInvalidStateException: {
    what: 'the custom key store is not CONNECTED',
    todo: 'connect it (`aws kms connect-custom-key-store`) or deploy again, which connects it',
  },
  CloudHsmClusterInvalidConfigurationException: {
    what: 'the cluster does not have two ACTIVE HSMs in two Availability Zones, which KMS needs to create a key',
    todo: 'wait for the HSMs to be ACTIVE, or deploy again to add the missing one',
  },
  CloudHsmClusterNotActiveException: {
    what: 'the cluster is not ACTIVE',
    todo: 'look at the cluster in the CloudHSM console, then deploy again',
  },
  CustomKeyStoreNotFoundException: {
    what: 'the custom key store does not exist',
    todo: 'deploy again to create it',
  },
  MalformedPolicyDocumentException: {
    what: 'KMS refused the key policy, usually because it names a principal that does not exist (a role IAM made moments before is waited for, about a minute)',
    todo: 'create the principals in keyAdminArns and keyUserArns first, or remove them, then deploy again',
  },
};

/** The Explainer of this handler's calls: "<call> failed (<error>): <what>. What to do: <todo>." */
export function explainKeyCall(call: string, errorName: string | undefined, serviceMessage: string): string {
  const remedy = errorName ? CREATE_KEY_REMEDIES[errorName] : undefined;
  if (!remedy) return `${call} failed (${errorName ?? 'Error'}): ${serviceMessage}`;
  return `${call} failed (${errorName}): ${remedy.what}. What to do: ${remedy.todo}.`;
}
