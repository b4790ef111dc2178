/**
 * What each ConnectionErrorCode of a CloudHSM key store means, and what to
 * do. The README's table is generated from this, and a FAILED connect is
 * reported with it. KMS requires a disconnect before any retry; the handler
 * has already disconnected when it reports one of these.
 */
export interface ConnectionRemedy {
  readonly what: string;
  readonly todo: string;
}

export const CONNECTION_ERROR_REMEDIES: Readonly<Record<string, ConnectionRemedy>> = {
  USER_NOT_FOUND: {
    what: 'KMS found no crypto user named kmsuser in the cluster, or not on every HSM',
    todo: 'create kmsuser as a crypto-user so it reaches every HSM (the kmsuser check gives the command), then deploy again',
  },
  USER_LOCKED_OUT: {
    what: 'kmsuser is locked out after too many failed logins',
    todo: 'as admin, change the kmsuser password on the client host, store it in the kmsuser secret, then deploy again (KMS takes the new password through UpdateCustomKeyStore)',
  },
  USER_LOGGED_IN: {
    what: 'kmsuser is logged in to an HSM, so KMS cannot log in as it and rotate its password',
    todo: 'log kmsuser out of every CloudHSM CLI session (or stop the sessions on the client host), then deploy again',
  },
  INVALID_CREDENTIALS: {
    what: "the key store's kmsuser password does not match kmsuser's password in the cluster",
    todo: "as admin, set kmsuser's password to the one in the kmsuser secret (`user change-password`), then deploy again",
  },
  INSUFFICIENT_CLOUDHSM_HSMS: {
    what: 'the cluster has no ACTIVE HSM that KMS can use',
    todo: 'wait until the HSMs are ACTIVE (two in two Availability Zones for a key store), then deploy again',
  },
  INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET: {
    what: 'a cluster subnet has no free IP address for the network interface KMS creates there',
    todo: 'free an address in every cluster subnet (delete unused network interfaces), then deploy again',
  },
  NETWORK_ERRORS: {
    what: "network errors kept KMS from reaching the cluster (for example the cluster's security group no longer allows TCP 2223-2225 within itself)",
    todo: "restore the cluster security group's rules and the subnets' routes, then deploy again",
  },
  CLUSTER_NOT_FOUND: {
    what: 'KMS cannot find the CloudHSM cluster of the key store',
    todo: 'the cluster was deleted: destroy the CloudHSM stack and deploy it again',
  },
  SUBNET_NOT_FOUND: {
    what: 'a subnet of the cluster was deleted',
    todo: 'create a new cluster from a backup of this one in existing subnets, or destroy the CloudHSM stack and deploy it again',
  },
  INTERNAL_ERROR: {
    what: 'KMS could not complete the request because of an internal error',
    todo: 'deploy again (the handler has already disconnected the key store, which a retry needs)',
  },
};

/** "<code>: <what>. What to do: <todo>." for a known code; the code alone otherwise. */
export function explainConnectionError(code: string | undefined): string {
  const remedy = code ? CONNECTION_ERROR_REMEDIES[code] : undefined;
  if (!remedy) return `${code ?? 'no ConnectionErrorCode'}: KMS did not say why. What to do: look at the key store in the KMS console, then deploy again.`;
  return `${code}: ${remedy.what}. What to do: ${remedy.todo}.`;
}
