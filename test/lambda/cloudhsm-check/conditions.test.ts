import { checkKmsUserSetup, describeFailures, Finding, SetupFacts } from '../../../lambda/cloudhsm-check/conditions';
import { HsmUser } from '../../../lambda/shared/cloudhsm-users';
import { testCa } from '../cloudhsm/lab';

const KMSUSER: HsmUser = { username: 'kmsuser', role: 'crypto-user', locked: false, clusterCoverage: 'full' };
const ADMIN: HsmUser = { username: 'admin', role: 'admin', locked: false, clusterCoverage: 'full' };
let anchor: string;
let foreign: string;

beforeAll(async () => {
  // A self-signed CA certificate is signed by its own key: it stands in for a cluster certificate the anchor issued.
  anchor = (await testCa()).certificatePem;
  foreign = (await testCa('other')).certificatePem;
});

function facts(overrides: Partial<SetupFacts> = {}): SetupFacts {
  return {
    clusterId: 'cluster-abc',
    cluster: {
      State: 'ACTIVE',
      Hsms: [
        { HsmId: 'hsm-a', AvailabilityZone: 'ap-southeast-1a', State: 'ACTIVE' },
        { HsmId: 'hsm-b', AvailabilityZone: 'ap-southeast-1b', State: 'ACTIVE' },
      ],
      SubnetMapping: { 'ap-southeast-1a': 'subnet-a', 'ap-southeast-1b': 'subnet-b' },
      Certificates: { ClusterCertificate: anchor },
    },
    subnets: [
      { SubnetId: 'subnet-a', AvailabilityZone: 'ap-southeast-1a', AvailableIpAddressCount: 10 },
      { SubnetId: 'subnet-b', AvailabilityZone: 'ap-southeast-1b', AvailableIpAddressCount: 10 },
    ],
    users: [ADMIN, KMSUSER],
    trustAnchorPem: anchor,
    instanceId: 'i-0123',
    adminSecretName: 'lab/admin',
    kmsUserSecretName: 'lab/kmsuser',
    ...overrides,
  };
}

const failing = (f: SetupFacts) => checkKmsUserSetup(f).filter((x) => !x.holds);
const only = (f: SetupFacts): Finding => {
  const found = failing(f);
  expect(found).toHaveLength(1);
  return found[0];
};

describe('checkKmsUserSetup', () => {
  test('a cluster ready for a key store passes all five conditions, in a fixed order', () => {
    expect(checkKmsUserSetup(facts()).map((x) => [x.condition, x.holds])).toEqual([
      ['cluster-active', true],
      ['two-hsms-in-two-azs', true],
      ['free-addresses', true],
      ['kmsuser-everywhere', true],
      ['trust-anchor', true],
    ]);
  });

  test('an INITIALIZED cluster is reported as not activated, with the activate command', () => {
    const f = only(facts({ cluster: { ...facts().cluster, State: 'INITIALIZED' } }));
    expect(f.condition).toBe('cluster-active');
    expect(f.problem).toContain('it has not been activated');
    expect(f.problem).toContain("cluster activate --password \"$(aws secretsmanager get-secret-value --secret-id 'lab/admin'");
  });

  test('a cluster in another state, or gone, is reported with its state', () => {
    expect(only(facts({ cluster: { ...facts().cluster, State: 'DEGRADED' } })).problem).toBe(
      'cluster cluster-abc is DEGRADED, not ACTIVE. Look at it in the CloudHSM console',
    );
    expect(failing(facts({ cluster: undefined }))[0].problem).toBe('cluster cluster-abc is gone, not ACTIVE. Look at it in the CloudHSM console');
  });

  test('two ACTIVE HSMs in one AZ are not enough, and HSMs not ACTIVE do not count', () => {
    const hsms = [
      { AvailabilityZone: 'ap-southeast-1a', State: 'ACTIVE' },
      { AvailabilityZone: 'ap-southeast-1a', State: 'ACTIVE' },
      { AvailabilityZone: 'ap-southeast-1b', State: 'CREATE_IN_PROGRESS' },
    ];
    expect(only(facts({ cluster: { ...facts().cluster, Hsms: hsms } })).problem).toContain(
      'the cluster has 2 ACTIVE HSM(s) in 1 Availability Zone(s) (ap-southeast-1a); a key store needs at least 2 in 2 AZs',
    );
  });

  test('only the cluster subnets need a free address', () => {
    const subnets = [...facts().subnets, { SubnetId: 'subnet-other', AvailabilityZone: 'ap-southeast-1c', AvailableIpAddressCount: 0 }];
    expect(failing(facts({ subnets }))).toEqual([]);
    const full = [{ ...facts().subnets[0], AvailableIpAddressCount: 0 }, facts().subnets[1]];
    expect(only(facts({ subnets: full })).problem).toContain('cluster subnet(s) subnet-a (ap-southeast-1a) have no free IP address');
  });

  test('kmsuser is checked for existence, role, coverage and lockout, in that order', () => {
    expect(only(facts({ users: [ADMIN] })).problem).toMatch(/^kmsuser does not exist: KMS would fail to connect with USER_NOT_FOUND\./);
    expect(only(facts({ users: [{ ...KMSUSER, role: 'admin', locked: true }] })).problem).toMatch(/^kmsuser is a admin, not a crypto-user\./);
    expect(only(facts({ users: [{ ...KMSUSER, clusterCoverage: 'inconsistent', locked: true }] })).problem).toMatch(
      /^kmsuser exists on only some HSMs \(cluster-coverage: inconsistent\)/,
    );
    expect(only(facts({ users: [{ ...KMSUSER, locked: true }] })).problem).toMatch(/^kmsuser is locked out after too many failed logins/);
  });

  test('a user list that could not be read names why, and how to test the admin password', () => {
    const f = only(facts({ users: undefined, userListProblem: 'logging in as admin failed' }));
    expect(f.problem).toMatch(/^kmsuser could not be checked: logging in as admin failed\. On the client host \(`aws ssm start-session --target i-0123`\)/);
    expect(only(facts({ users: undefined })).problem).toContain('kmsuser could not be checked: the user list could not be read.');
  });

  test('a trust anchor that did not sign the cluster certificate fails, as does a cluster without one', () => {
    expect(only(facts({ trustAnchorPem: foreign })).problem).toBe(
      "the trust anchor did not sign cluster cluster-abc's certificate, so KMS would not trust the cluster. Give the key store the CA certificate that initialised the cluster",
    );
    expect(only(facts({ cluster: { ...facts().cluster, Certificates: {} } })).problem).toContain("certificate (the cluster has none yet), so KMS");
  });

  test('no command names a password value: only the secrets, read on the host', () => {
    const text = failing(facts({ users: [ADMIN], cluster: { ...facts().cluster, State: 'INITIALIZED' } }))
      .map((x) => x.problem)
      .join(' ');
    expect(text).toContain("--secret-id 'lab/admin'");
    expect(text).toContain("--secret-id 'lab/kmsuser'");
    expect(text).not.toMatch(/--password (?!"\$\()/);
  });
});

describe('describeFailures', () => {
  test('numbers only the conditions that do not hold, each with its name and problem', () => {
    const findings: Finding[] = [
      { condition: 'cluster-active', holds: true, problem: '' },
      { condition: 'free-addresses', holds: false, problem: 'subnet full' },
      { condition: 'trust-anchor', holds: false, problem: 'wrong anchor' },
    ];
    expect(describeFailures('cluster-abc', findings)).toBe(
      'The kmsuser setup check of cluster cluster-abc found 2 problem(s) before creating the key store: (1) [free-addresses] subnet full. (2) [trust-anchor] wrong anchor.',
    );
  });
});
