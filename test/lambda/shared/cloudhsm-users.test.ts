import { parseUserList, prepareCli, printUserList, readSecretInto, USERS_BEGIN, USERS_END, USERS_LOGIN_FAILED } from '../../../lambda/shared/cloudhsm-users';

const listing = (users: object[]) => `${USERS_BEGIN}\n${JSON.stringify({ error_code: 0, data: { users } })}\n${USERS_END}\n`;
const user = (overrides: Record<string, unknown> = {}) => ({
  username: 'kmsuser',
  role: 'crypto-user',
  locked: 'false',
  mfa: [],
  quorum: [],
  'cluster-coverage': 'full',
  ...overrides,
});

describe('parseUserList', () => {
  test('reads each user: name, role, locked and cluster coverage, among other output lines', () => {
    const output = `KMSLAB step=activate result=done\n${listing([user({ username: 'admin', role: 'admin' }), user({ locked: 'true', 'cluster-coverage': 'inconsistent' })])}`;
    expect(parseUserList(output)).toEqual([
      { username: 'admin', role: 'admin', locked: false, clusterCoverage: 'full' },
      { username: 'kmsuser', role: 'crypto-user', locked: true, clusterCoverage: 'inconsistent' },
    ]);
  });

  test('a user without a locked or coverage field counts as unlocked with full coverage', () => {
    expect(parseUserList(listing([{ username: 'kmsuser', role: 'crypto-user' }]))).toEqual([
      { username: 'kmsuser', role: 'crypto-user', locked: false, clusterCoverage: 'full' },
    ]);
  });

  test('a failed login leaves no list to read', () => {
    expect(parseUserList(`${USERS_BEGIN}\n{"error_code":1,"data":"Login failed"}\n${USERS_LOGIN_FAILED}\n${USERS_END}`)).toBeUndefined();
  });

  test('output without the markers, or with something else between them, has no list', () => {
    expect(parseUserList('nothing here')).toBeUndefined();
    expect(parseUserList(`${USERS_BEGIN}\n${USERS_END}`)).toBeUndefined();
    expect(parseUserList(`${USERS_BEGIN}\n{"data":{}}\n${USERS_END}`)).toBeUndefined();
    expect(parseUserList(`${USERS_END}\n${USERS_BEGIN}`)).toBeUndefined();
  });
});

describe('script lines', () => {
  test('a secret is read into a variable on the host: the line names the secret, never a value', () => {
    expect(readSecretInto('PW', 'lab/pw', 'ap-southeast-2')).toBe(
      `PW="$(aws secretsmanager get-secret-value --region ap-southeast-2 --secret-id 'lab/pw' --query SecretString --output text)"`,
    );
  });

  test('the CLI is waited for, fails clearly when missing, and is pointed at the HSM', () => {
    const lines = prepareCli('10.0.2.10', '-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n\n');
    expect(lines[3]).toContain('the CloudHSM CLI is not installed on this host');
    expect(lines[4]).toBe("cat > /opt/cloudhsm/etc/customerCA.crt <<'KMSLAB_CA'\n-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\nKMSLAB_CA");
    expect(lines[5]).toBe('/opt/cloudhsm/bin/configure-cli -a 10.0.2.10');
  });

  test('the user list is printed as admin between the markers, with the login-failed marker when the CLI fails', () => {
    const lines = printUserList();
    expect(lines[0]).toBe(`echo ${USERS_BEGIN}`);
    expect(lines[1]).toBe(`CLOUDHSM_ROLE=admin CLOUDHSM_PIN="admin:$ADMIN_PW" /opt/cloudhsm/bin/cloudhsm-cli user list || echo "${USERS_LOGIN_FAILED}"`);
    expect(lines[2]).toBe(`echo ${USERS_END}`);
  });
});
