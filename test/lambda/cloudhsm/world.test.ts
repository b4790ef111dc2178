import { signClusterCsr } from '../../../lambda/cloudhsm-init/certificates';
import { AZ_A, AZ_B, buildLab, IP_B, KMSUSER_SECRET, testCa } from './lab';
import { MINUTE, World } from './world';

/** The fake's own rules, where a handler test could pass against a fake that is too lenient. */
let world: World;
beforeEach(() => {
  world = new World();
});

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as Error).name;
  }
  return 'no error';
};

describe('CloudHSM', () => {
  test('an UNINITIALIZED cluster offers its CSR only once its first HSM is ACTIVE', async () => {
    const lab = await buildLab(world, 'cluster');
    expect(lab.cluster.state).toBe('UNINITIALIZED');
    expect(await world.clusterCsr(lab.clusterId)).toBeUndefined();
    world.createHsm({ ClusterId: lab.clusterId, AvailabilityZone: AZ_A });
    world.advance(10 * MINUTE - 1);
    expect(await world.clusterCsr(lab.clusterId)).toBeUndefined();
    world.advance(1);
    expect(await world.clusterCsr(lab.clusterId)).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
  });

  test('InitializeCluster refuses a certificate that does not chain to the trust anchor, or certifies another key', async () => {
    const lab = await buildLab(world, 'first-hsm');
    const [ca, other] = [await testCa(), await testCa('other')];
    const signed = await signClusterCsr((await world.clusterCsr(lab.clusterId))!, ca);
    expect(() => world.initializeCluster({ ClusterId: lab.clusterId, SignedCert: signed, TrustAnchor: other.certificatePem })).toThrow(
      'does not chain to the trust anchor',
    );
    // The CA's own certificate chains to itself, but certifies the CA's key, not the cluster's.
    expect(() => world.initializeCluster({ ClusterId: lab.clusterId, SignedCert: ca.certificatePem, TrustAnchor: ca.certificatePem })).toThrow(
      "does not certify the cluster CSR's key",
    );
    expect(code(() => world.initializeCluster({ ClusterId: lab.clusterId, SignedCert: signed, TrustAnchor: ca.certificatePem }))).toBe('no error');
    expect(lab.cluster.state).toBe('INITIALIZE_IN_PROGRESS');
  });

  test('HSMs added after activation are clones that carry the users; a DELETED HSM leaves the list after a while', async () => {
    const lab = await buildLab(world, 'two-hsms');
    expect(world.user(lab.clusterId, 'kmsuser')).toHaveLength(2);
    const [a] = world.activeHsms(lab.clusterId);
    world.deleteHsm({ ClusterId: lab.clusterId, HsmId: a.hsmId });
    world.advance(3 * MINUTE);
    const listed = async () => (await world.describeClusters({ Filters: { clusterIds: [lab.clusterId] } })).Clusters[0].Hsms.map((h) => h.State);
    expect(await listed()).toEqual(['DELETED', 'ACTIVE']);
    world.advance(5 * MINUTE);
    expect(await listed()).toEqual(['ACTIVE']);
  });

  test('five failed admin logins lock the admin out', async () => {
    const lab = await buildLab(world, 'activated');
    for (let i = 0; i < 5; i++) expect(world.cliLogin(lab.clusterId, 'admin', 'wrong-password')).toBe('invalid credentials');
    expect(world.cliLogin(lab.clusterId, 'admin', 'wrong-password')).toBe('user admin is locked');
  });
});

describe('KMS', () => {
  test('CreateCustomKeyStore makes the checks KMS makes', async () => {
    const lab = await buildLab(world, 'kmsuser');
    const input = { CustomKeyStoreName: 's', CloudHsmClusterId: lab.clusterId, TrustAnchorCertificate: lab.ca!.certificatePem, KeyStorePassword: 'Passw0rdPassw0rd' };
    expect(code(() => world.createCustomKeyStore(input))).toBe('CloudHsmClusterInvalidConfigurationException');
    world.createHsm({ ClusterId: lab.clusterId, AvailabilityZone: AZ_B, IpAddress: IP_B });
    world.advance(10 * MINUTE);
    expect(code(() => world.createCustomKeyStore({ ...input, TrustAnchorCertificate: '' }))).toBe('IncorrectTrustAnchorException');
    expect(code(() => world.createCustomKeyStore({ ...input, CloudHsmClusterId: 'cluster-none' }))).toBe('CloudHsmClusterNotFoundException');
    expect(code(() => world.createCustomKeyStore({ ...input, KeyStorePassword: 'short' }))).toBe('ValidationException');
    expect(code(() => world.createCustomKeyStore(input))).toBe('no error');
    expect(code(() => world.createCustomKeyStore(input))).toBe('CustomKeyStoreNameInUseException');
    expect(code(() => world.createCustomKeyStore({ ...input, CustomKeyStoreName: 't' }))).toBe('CloudHsmClusterInUseException');
  });

  test('a connect rotates the kmsuser password, which the store remembers for its next connect', async () => {
    const lab = await buildLab(world, 'two-hsms');
    const password = world.secrets.getSecretValue({ SecretId: KMSUSER_SECRET }).SecretString!;
    const base = { CloudHsmClusterId: lab.clusterId, TrustAnchorCertificate: lab.ca!.certificatePem };
    const good = world.createCustomKeyStore({ ...base, CustomKeyStoreName: 'good', KeyStorePassword: password }).CustomKeyStoreId;
    world.connectCustomKeyStore({ CustomKeyStoreId: good });
    world.advance(20 * MINUTE);
    expect(world.stores.get(good)!.state).toBe('CONNECTED');
    expect(world.user(lab.clusterId, 'kmsuser')[0].user.password).not.toBe(password);
    expect(code(() => world.deleteCustomKeyStore({ CustomKeyStoreId: good }))).toBe('CustomKeyStoreInvalidStateException');
    world.disconnectCustomKeyStore({ CustomKeyStoreId: good });
    world.advance(5 * MINUTE);
    // The store remembers the rotated password, so it connects again.
    world.connectCustomKeyStore({ CustomKeyStoreId: good });
    world.advance(20 * MINUTE);
    expect(world.stores.get(good)!.state).toBe('CONNECTED');
  });
});

describe('the client host', () => {
  test('a script line the fake does not model fails the command, so a script change is noticed', async () => {
    const lab = await buildLab(world, 'cluster');
    world.advance(3 * MINUTE);
    world.sendCommand({ InstanceIds: [lab.host.instanceId], DocumentName: 'AWS-RunShellScript', Comment: 'x', Parameters: { commands: ['rm -rf /opt/cloudhsm'] } });
    world.advance(20_000);
    expect(world.commands[0]).toMatchObject({ status: 'Failed', stderr: 'fake host: unmodelled script line: rm -rf /opt/cloudhsm\n' });
  });

  test('an instance is not a target for SendCommand until its SSM agent is online', async () => {
    const fresh = world.launchInstance();
    const send = () => world.sendCommand({ InstanceIds: [fresh.instanceId], DocumentName: 'AWS-RunShellScript', Parameters: { commands: ['echo hi'] } });
    expect(code(send)).toBe('InvalidInstanceId');
    world.advance(3 * MINUTE);
    expect(code(send)).toBe('no error');
  });
});
