import { activationScript } from '../../../lambda/cloudhsm-activate/script';
import { CLI, USERS_BEGIN, USERS_END } from '../../../lambda/shared/cloudhsm-users';

const INPUT = {
  region: 'ap-southeast-1',
  hsmIp: '10.0.1.10',
  trustAnchorPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  adminSecretName: 'kms-key-lab/cloudhsm/admin-password',
  kmsUserSecretName: 'kms-key-lab/cloudhsm/kmsuser-password',
  activate: true,
};

describe('activationScript', () => {
  test('reads both passwords from Secrets Manager on the host, by secret name only', () => {
    const script = activationScript(INPUT).join('\n');
    expect(script).toContain(
      `ADMIN_PW="$(aws secretsmanager get-secret-value --region ap-southeast-1 --secret-id '${INPUT.adminSecretName}' --query SecretString --output text)"`,
    );
    expect(script).toContain(`KMSUSER_PW="$(aws secretsmanager get-secret-value --region ap-southeast-1 --secret-id '${INPUT.kmsUserSecretName}'`);
  });

  test('passes passwords only as shell variables, and never traces the commands', () => {
    const lines = activationScript(INPUT);
    expect(lines.slice(0, 2)).toEqual(['set -euo pipefail', 'set +x']);
    for (const line of lines.filter((l) => l.includes('--password'))) expect(line).toMatch(/--password "\$(ADMIN_PW|KMSUSER_PW)"/);
  });

  test('activates the cluster only when asked to, since a second `cluster activate` fails', () => {
    expect(activationScript(INPUT).join('\n')).toContain(`${CLI} cluster activate --password "$ADMIN_PW" >/dev/null`);
    const again = activationScript({ ...INPUT, activate: false }).join('\n');
    expect(again).not.toContain('cluster activate');
    expect(again).toContain('KMSLAB step=activate result=already-active');
  });

  test('creates kmsuser as a crypto user unless the user list already has it', () => {
    const line = activationScript(INPUT).find((l) => l.startsWith('if '))!;
    expect(line).toContain('u.get("username")=="kmsuser"');
    expect(line).toContain(`${CLI} user create --username kmsuser --role crypto-user --password "$KMSUSER_PW"`);
  });

  test('points the CLI at the HSM with the trust anchor, and ends with the user list between the markers', () => {
    const lines = activationScript(INPUT);
    expect(lines).toContain(`/opt/cloudhsm/bin/configure-cli -a ${INPUT.hsmIp}`);
    expect(lines.find((l) => l.startsWith('cat > /opt/cloudhsm/etc/customerCA.crt'))).toContain('MIIB');
    expect(lines.slice(-3)[0]).toBe(`echo ${USERS_BEGIN}`);
    expect(lines.slice(-1)[0]).toBe(`echo ${USERS_END}`);
  });
});
