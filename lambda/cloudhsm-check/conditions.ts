import { issuedBy } from '../shared/certificate-chain';
import { CLI, HsmUser, KMS_USER } from '../shared/cloudhsm-users';

/** What the check reads from CloudHSM, EC2 and the client host. */
export interface SetupFacts {
  readonly clusterId: string;
  readonly cluster?: {
    readonly State?: string;
    readonly Hsms?: readonly { readonly HsmId?: string; readonly AvailabilityZone?: string; readonly State?: string; readonly EniIp?: string }[];
    readonly SubnetMapping?: Record<string, string>;
    readonly Certificates?: { readonly ClusterCertificate?: string };
  };
  readonly subnets: readonly { readonly SubnetId?: string; readonly AvailabilityZone?: string; readonly AvailableIpAddressCount?: number }[];
  /** Undefined when `user list` could not be read (see userListProblem). */
  readonly users?: readonly HsmUser[];
  readonly userListProblem?: string;
  readonly trustAnchorPem: string;
  /** For messages that name the commands to run. */
  readonly instanceId: string;
  readonly adminSecretName: string;
  readonly kmsUserSecretName: string;
}

export interface Finding {
  readonly condition: 'cluster-active' | 'two-hsms-in-two-azs' | 'free-addresses' | 'kmsuser-everywhere' | 'trust-anchor';
  readonly holds: boolean;
  /** What does not hold and what to do; empty when it holds. */
  readonly problem: string;
}

const pin = (secret: string) => `"admin:$(aws secretsmanager get-secret-value --secret-id '${secret}' --query SecretString --output text)"`;

/**
 * The five things KMS needs before a custom key store can connect, each
 * checked from facts that take seconds to gather, so a setup mistake shows
 * now instead of as a ConnectionErrorCode twenty minutes into a connect.
 */
export function checkKmsUserSetup(f: SetupFacts): Finding[] {
  const findings: Finding[] = [];
  const add = (condition: Finding['condition'], problem: string | undefined) => findings.push({ condition, holds: !problem, problem: problem ?? '' });
  const onHost = `On the client host (\`aws ssm start-session --target ${f.instanceId}\`)`;
  const asAdmin = `sudo CLOUDHSM_ROLE=admin CLOUDHSM_PIN=${pin(f.adminSecretName)} ${CLI}`;

  const state = f.cluster?.State;
  add(
    'cluster-active',
    state === 'ACTIVE'
      ? undefined
      : state === 'INITIALIZED'
        ? `cluster ${f.clusterId} is INITIALIZED, not ACTIVE: it has not been activated. ${onHost} run ` +
          `\`sudo ${CLI} cluster activate --password "$(aws secretsmanager get-secret-value --secret-id '${f.adminSecretName}' --query SecretString --output text)"\``
        : `cluster ${f.clusterId} is ${state ?? 'gone'}, not ACTIVE. Look at it in the CloudHSM console`,
  );

  const active = (f.cluster?.Hsms ?? []).filter((h) => h.State === 'ACTIVE');
  const zones = new Set(active.map((h) => h.AvailabilityZone));
  add(
    'two-hsms-in-two-azs',
    active.length >= 2 && zones.size >= 2
      ? undefined
      : `the cluster has ${active.length} ACTIVE HSM(s) in ${zones.size} Availability Zone(s)${zones.size ? ` (${[...zones].join(', ')})` : ''}; ` +
          'a key store needs at least 2 in 2 AZs. Wait for the HSMs being created, or deploy again to add the missing one',
  );

  const clusterSubnets = new Set(Object.values(f.cluster?.SubnetMapping ?? {}));
  const full = f.subnets.filter((s) => clusterSubnets.has(s.SubnetId ?? '') && (s.AvailableIpAddressCount ?? 0) < 1);
  add(
    'free-addresses',
    full.length === 0
      ? undefined
      : `cluster subnet(s) ${full.map((s) => `${s.SubnetId} (${s.AvailabilityZone})`).join(', ')} have no free IP address; KMS needs one in ` +
          'each cluster subnet for its network interface. Free addresses there (delete unused network interfaces)',
  );

  add('kmsuser-everywhere', kmsUserProblem(f, onHost, asAdmin));

  const clusterCertificate = f.cluster?.Certificates?.ClusterCertificate;
  add(
    'trust-anchor',
    clusterCertificate && issuedBy(clusterCertificate, f.trustAnchorPem)
      ? undefined
      : `the trust anchor did not sign cluster ${f.clusterId}'s certificate${clusterCertificate ? '' : ' (the cluster has none yet)'}, so KMS would ` +
          'not trust the cluster. Give the key store the CA certificate that initialised the cluster',
  );
  return findings;
}

function kmsUserProblem(f: SetupFacts, onHost: string, asAdmin: string): string | undefined {
  if (!f.users) {
    return `${KMS_USER} could not be checked: ${f.userListProblem ?? 'the user list could not be read'}. ${onHost}, check that the admin ` +
      `password is the one in secret ${f.adminSecretName} (\`${asAdmin} user list\`)`;
  }
  const create = `\`${asAdmin} user create --username ${KMS_USER} --role crypto-user --password "$(aws secretsmanager get-secret-value --secret-id '${f.kmsUserSecretName}' --query SecretString --output text)"\``;
  const user = f.users.find((u) => u.username === KMS_USER);
  if (!user) return `${KMS_USER} does not exist: KMS would fail to connect with USER_NOT_FOUND. ${onHost} run ${create}`;
  if (user.role !== 'crypto-user') {
    return `${KMS_USER} is a ${user.role}, not a crypto-user. ${onHost} delete it (\`${asAdmin} user delete --username ${KMS_USER} --role ${user.role}\`) and run ${create}`;
  }
  if (user.clusterCoverage !== 'full') {
    return (
      `${KMS_USER} exists on only some HSMs (cluster-coverage: ${user.clusterCoverage}): KMS would fail to connect with USER_NOT_FOUND after ` +
      `about 20 minutes. ${onHost} delete it (\`${asAdmin} user delete --username ${KMS_USER} --role crypto-user\`) and run ${create}, so it reaches every HSM`
    );
  }
  if (user.locked) {
    return (
      `${KMS_USER} is locked out after too many failed logins: KMS would fail with USER_LOCKED_OUT. ${onHost} run ` +
      `\`${asAdmin} user change-password --username ${KMS_USER} --role crypto-user --password <new>\`, put the new password into secret ${f.kmsUserSecretName}, and deploy again`
    );
  }
  return undefined;
}

/** One paragraph for CloudFormation's events: every condition that does not hold. */
export function describeFailures(clusterId: string, findings: readonly Finding[]): string {
  const failing = findings.filter((x) => !x.holds);
  return (
    `The kmsuser setup check of cluster ${clusterId} found ${failing.length} problem(s) before creating the key store: ` +
    failing.map((x, i) => `(${i + 1}) [${x.condition}] ${x.problem}.`).join(' ')
  );
}
