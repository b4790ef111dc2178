/**
 * The names of the secrets scenario (d)'s handlers own. Each holds the cluster's
 * id: a redeploy (after a destroy, the lab's expiry or a rolled-back first
 * deploy) makes a new cluster, and so new secrets, instead of finding the old
 * ones still in their recovery window and locked to roles that are gone.
 */
export function cloudHsmSecretNames(prefix: string, clusterId: string) {
  const base = `${prefix}/cloudhsm/${clusterId}`;
  return {
    ca: `${base}/ca`,
    adminPassword: `${base}/admin-password`,
    kmsUserPassword: `${base}/kmsuser-password`,
  } as const;
}
