/**
 * The CloudHSM CLI (Client SDK 5) as the lab's client host runs it, and how
 * its `user list` output is read. Pure: scripts are text, output is parsed.
 */

export const CLI = '/opt/cloudhsm/bin/cloudhsm-cli';
export const KMS_USER = 'kmsuser';
/** Markers around the JSON of `user list` in a command's output, so it can be found among other lines. */
export const USERS_BEGIN = 'KMSLAB-USERS-BEGIN';
export const USERS_END = 'KMSLAB-USERS-END';

export interface HsmUser {
  readonly username: string;
  readonly role: string;
  readonly locked: boolean;
  /** `full` when the user exists on every HSM of the cluster. */
  readonly clusterCoverage: string;
}

/**
 * Shell lines that read a secret into a variable at run time on the host.
 * The command text that SSM records holds only the secret's name.
 */
export function readSecretInto(variable: string, secretName: string, region: string): string {
  return `${variable}="$(aws secretsmanager get-secret-value --region ${region} --secret-id '${secretName}' --query SecretString --output text)"`;
}

/**
 * Lines that make sure the CLI is there and point it at the cluster's HSM.
 * The host's user data installs it once at boot; if that failed (the NAT
 * route not up yet, a download error), this installs it again, so deploying
 * again repairs it instead of failing the same way.
 */
export function prepareCli(hsmIp: string, trustAnchorPem: string, cliPackageUrl?: string): string[] {
  return [
    'set -euo pipefail',
    'set +x',
    `for i in $(seq 1 60); do [ -x ${CLI} ] && break; sleep 5; done`,
    ...(cliPackageUrl
      ? [`[ -x ${CLI} ] || for i in 1 2 3; do dnf install -y '${cliPackageUrl}' >/dev/null && break; sleep 15; done`]
      : []),
    `[ -x ${CLI} ] || { echo "KMSLAB error: the CloudHSM CLI is not installed on this host (see /var/log/cloud-init-output.log)" >&2; exit 3; }`,
    // The trust anchor is public: the CLI checks the HSMs' certificates against it.
    `cat > /opt/cloudhsm/etc/customerCA.crt <<'KMSLAB_CA'\n${trustAnchorPem.trim()}\nKMSLAB_CA`,
    `/opt/cloudhsm/bin/configure-cli -a ${hsmIp}`,
  ];
}

/** Lines that print `user list`, logged in as admin with the password in $ADMIN_PW, between the markers. */
export function printUserList(): string[] {
  return [
    `echo ${USERS_BEGIN}`,
    // A failed login leaves no JSON between the markers; the reader reports it as such instead of the script failing.
    `CLOUDHSM_ROLE=admin CLOUDHSM_PIN="admin:$ADMIN_PW" ${CLI} user list || echo "${USERS_LOGIN_FAILED}"`,
    `echo ${USERS_END}`,
  ];
}

export const USERS_LOGIN_FAILED = 'KMSLAB-USERS-LOGIN-FAILED';

/**
 * The users in a command's output, or undefined when the output holds no
 * readable `user list` (the CLI failed, or the markers are missing).
 */
export function parseUserList(output: string): HsmUser[] | undefined {
  const start = output.indexOf(USERS_BEGIN);
  const end = output.indexOf(USERS_END, start + 1);
  if (start < 0 || end < 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(output.slice(start + USERS_BEGIN.length, end).trim());
  } catch {
    return undefined;
  }
  const users = (parsed as { data?: { users?: unknown } })?.data?.users;
  if (!Array.isArray(users)) return undefined;
  return users.map((u: Record<string, unknown>) => ({
    username: String(u.username ?? ''),
    role: String(u.role ?? ''),
    locked: String(u.locked ?? 'false') === 'true',
    clusterCoverage: String(u['cluster-coverage'] ?? 'full'),
  }));
}
