/** The names of the secrets scenario (d)'s handlers own: fixed per lab, so a repeated deploy finds them. */
export function cloudHsmSecretNames(prefix: string) {
  const base = `${prefix}/cloudhsm`;
  return {
    /** Every secret of the scenario is under this; IAM grants name it with a trailing `*`. */
    base,
    ca: `${base}/ca`,
    adminPassword: `${base}/admin-password`,
    kmsUserPassword: `${base}/kmsuser-password`,
  } as const;
}
