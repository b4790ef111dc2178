import { X509Certificate } from 'node:crypto';
import * as certificates from '../../../lambda/cloudhsm-init/certificates';
import { decodeCaRecord, LabCa, signClusterCsr } from '../../../lambda/cloudhsm-init/certificates';
import * as handler from '../../../lambda/cloudhsm-init/index';
import { MANAGED_BY_TAG } from '../../../lambda/shared/secret-lifecycle';
import { cfnEvent, STACK_ID } from '../../helpers/events';
import { AZ_A, buildLab, CA_SECRET, IP_A, Lab, ownedSecret, SECRET_POLICY, SECRET_TAGS, testCa } from '../cloudhsm/lab';
import { LAB_WAITS, outcomeText, runEvent, useFakeWorld } from '../cloudhsm/provider';
import { MINUTE, World } from '../cloudhsm/world';

let world: World;
let logs: string[];
// The handler makes a new 2048-bit CA on every first Create; RSA key generation is slow, so the real one runs once per file.
const createLabCa = certificates.createLabCa;
const madeCas = new Map<string, Promise<LabCa>>();

useFakeWorld((w, l) => {
  world = w;
  logs = l;
});
beforeEach(() => {
  jest.spyOn(certificates, 'createLabCa').mockImplementation((options) => {
    if (!madeCas.has(options.commonName)) madeCas.set(options.commonName, createLabCa(options));
    return madeCas.get(options.commonName)!;
  });
});


const props = (lab: Lab) => ({ ClusterId: lab.clusterId, CaCommonName: 'KMS Key Lab CA (kms-key-lab)', ...ownedSecret('Ca', CA_SECRET) });
const create = (lab: Lab) => cfnEvent('Create', props(lab), { resourceType: 'Custom::CloudHsmInitialization', logicalId: 'Init' });
const remove = (lab: Lab) => cfnEvent('Delete', props(lab), { physicalId: lab.clusterId, resourceType: 'Custom::CloudHsmInitialization', logicalId: 'Init' });
const WAIT = LAB_WAITS['cloudhsm-init'];
const run = (event: ReturnType<typeof cfnEvent>) => runEvent(world, handler, event, WAIT);
const caRecord = () => decodeCaRecord(world.secrets.secrets.get(CA_SECRET)?.string);

describe('Create', () => {
  test('creates the lab CA in a secret it owns, locked by its policy before the value is written', async () => {
    const lab = await buildLab(world, 'first-hsm');
    await handler.onEvent(create(lab));
    expect(world.calls({ service: 'secretsmanager' }).map((c) => c.operation)).toEqual(['DescribeSecret', 'CreateSecret', 'PutResourcePolicy', 'PutSecretValue']);
    const secret = world.secrets.secrets.get(CA_SECRET)!;
    expect(JSON.parse(secret.policy!)).toEqual(SECRET_POLICY);
    expect(secret.tags).toEqual({ ...SECRET_TAGS, [MANAGED_BY_TAG]: `${STACK_ID}/Init` });
    expect(new X509Certificate(caRecord()!.certificatePem).subject).toBe('CN=KMS Key Lab CA (kms-key-lab)');
  });

  test("signs the cluster's own CSR, and the cluster certificate verifies with the trust anchor", async () => {
    const lab = await buildLab(world, 'first-hsm');
    const outcome = await run(create(lab));
    expect(outcome.status).toBe('SUCCESS');
    expect(outcome.data).toEqual({ TrustAnchor: caRecord()!.certificatePem, ClusterState: 'INITIALIZED' });
    const anchor = new X509Certificate(outcome.data.TrustAnchor);
    const clusterCertificate = new X509Certificate(lab.cluster.clusterCertificate!);
    expect(clusterCertificate.verify(anchor.publicKey)).toBe(true);
    expect(clusterCertificate.checkIssued(anchor)).toBe(true);
    // It certifies the key of the CSR the fake cluster generated, with the CSR's subject.
    expect(clusterCertificate.publicKey.export({ type: 'spki', format: 'der' }).equals(lab.cluster.csrPublicKeySpki!)).toBe(true);
    expect(clusterCertificate.subject).toContain(`CN=HSM:${lab.clusterId}:PARTN:1\\, for FIPS mode`);
    expect(lab.cluster.trustAnchor).toBe(outcome.data.TrustAnchor);
    expect(world.calls({ operation: 'InitializeCluster' })).toHaveLength(1);
  });

  test('waits for the CSR, which appears once the first HSM is ACTIVE, then initialises', async () => {
    const lab = await buildLab(world, 'cluster');
    world.createHsm({ ClusterId: lab.clusterId, AvailabilityZone: AZ_A, IpAddress: IP_A });
    const outcome = await run(create(lab));
    expect(outcome.status).toBe('SUCCESS');
    // 10 minutes for the HSM, then 5 for the initialisation.
    expect(outcome.endedAt - outcome.startedAt).toBeGreaterThanOrEqual(15 * MINUTE);
    expect(lab.cluster.state).toBe('INITIALIZED');
  });

  test('a repeated Create reuses the CA and completes without initialising again', async () => {
    const lab = await buildLab(world, 'first-hsm');
    const first = await run(create(lab));
    const again = await run(create(lab));
    expect(again.status).toBe('SUCCESS');
    expect(again.data.TrustAnchor).toBe(first.data.TrustAnchor);
    expect(certificates.createLabCa).toHaveBeenCalledTimes(1);
    expect(world.calls({ operation: 'CreateSecret' })).toHaveLength(1);
    expect(world.calls({ operation: 'InitializeCluster' })).toHaveLength(1);
  });

  test('completes at once for a cluster that the lab CA initialised and that is ACTIVE since', async () => {
    const lab = await buildLab(world, 'first-hsm');
    await run(create(lab));
    world.cliActivate(lab.clusterId, 'AdminPassword123');
    world.advance(MINUTE);
    const again = await run(create(lab));
    expect(again.data.ClusterState).toBe('ACTIVE');
    expect(again.polls).toBe(1);
  });

  test('a cluster initialised with another CA fails, naming the cause and what to do', async () => {
    const lab = await buildLab(world, 'first-hsm');
    const other = await testCa('other');
    const signed = await signClusterCsr((await world.clusterCsr(lab.clusterId))!, other);
    world.initializeCluster({ ClusterId: lab.clusterId, SignedCert: signed, TrustAnchor: other.certificatePem });
    world.advance(world.latency.initialize);
    const outcome = await run(create(lab));
    expect(outcome.stage).toBe('isComplete');
    expect(outcome.error!.message).toBe(
      `Cluster ${lab.clusterId} is INITIALIZED, but its certificate was not signed by the lab CA in ${CA_SECRET}: it was initialised by hand or by ` +
        'another lab. What to do: give the lab a cluster of its own (destroy and redeploy the CloudHSM stack).',
    );
  });

  test('a CA secret that holds no CA record fails, says how to restore it, and is left as it was', async () => {
    const lab = await buildLab(world, 'first-hsm');
    world.secrets.add(CA_SECRET, { string: 'placeholder', tags: { [MANAGED_BY_TAG]: `${STACK_ID}/Init` } });
    const outcome = await run(create(lab));
    expect(outcome.stage).toBe('onEvent');
    expect(outcome.error!.message).toContain(`CA secret ${CA_SECRET} holds no lab CA record. Restore the secret`);
    expect(world.secrets.billable()).toEqual([CA_SECRET]);
    expect(world.calls({ operation: 'InitializeCluster' })).toHaveLength(0);
  });

  test('a Create that fails after making the CA secret deletes it', async () => {
    const lab = await buildLab(world, 'first-hsm');
    world.failNext('PutSecretValue', 1, '5xx');
    const outcome = await run(create(lab));
    expect(outcome.stage).toBe('onEvent');
    expect(world.secrets.secrets.has(CA_SECRET)).toBe(false);
    expect(world.secrets.billable()).toEqual([]);
  });

  test('a cluster that is deleted while the deploy waits fails it with the cluster state', async () => {
    const lab = await buildLab(world, 'cluster');
    const outcome = await runEvent(world, handler, create(lab), { ...WAIT, afterOnEvent: () => world.schedule(2 * MINUTE, () => (lab.cluster.state = 'DELETED')) });
    expect(outcome.stage).toBe('isComplete');
    expect(outcome.error!.message).toContain(`Cluster ${lab.clusterId} is DELETED, so it cannot be initialised.`);
  });

  test('throttling and 5xx errors while waiting are ridden out', async () => {
    const lab = await buildLab(world, 'first-hsm');
    const outcome = await runEvent(world, handler, create(lab), {
      ...WAIT,
      afterOnEvent: () => {
        world.failNext('DescribeClusters', 2, 'throttle');
        world.failNext('DescribeClusters', 2, '5xx');
      },
    });
    expect(outcome.status).toBe('SUCCESS');
  });

  test('a secret not yet visible right after CreateSecret, and a role still propagating, are waited out', async () => {
    const lab = await buildLab(world, 'first-hsm');
    world.eventualConsistency.secret = 2;
    world.failNext('*', 2, 'accessDenied');
    const outcome = await run(create(lab));
    expect(outcome.status).toBe('SUCCESS');
    expect(world.calls({ operation: 'CreateSecret' })).toHaveLength(1);
  });

  test("the CA's private key never shows in a log line, a response or an error", async () => {
    const lab = await buildLab(world, 'first-hsm');
    const outcome = await run(create(lab));
    const failed = await run(create({ ...lab, clusterId: 'cluster-gone' }));
    const privateKey = caRecord()!.privateKeyPem.replace(/-----[^-]+-----|\s/g, '');
    const surfaces = [...logs, outcomeText(outcome, failed)].join('\n').replace(/\s|\\n/g, '');
    for (let i = 0; i + 64 <= privateKey.length; i += 64) expect(surfaces).not.toContain(privateKey.slice(i, i + 64));
  });
});

describe('Delete', () => {
  test('deletes the CA secret at once (it belongs to this cluster alone) and leaves the cluster alone', async () => {
    const lab = await buildLab(world, 'first-hsm');
    await run(create(lab));
    const mark = world.journal.length;
    const outcome = await run(remove(lab));
    expect(outcome.status).toBe('SUCCESS');
    expect(world.secrets.secrets.has(CA_SECRET)).toBe(false);
    expect(world.journal.slice(mark).filter((c) => c.service === 'cloudhsm')).toEqual([]);
    expect(lab.cluster.state).toBe('INITIALIZED');
  });

  test('succeeds when the CA secret is already gone', async () => {
    const lab = await buildLab(world, 'first-hsm');
    const outcome = await run(remove(lab));
    expect(outcome.status).toBe('SUCCESS');
    expect(world.calls({ operation: 'DeleteSecret' })).toHaveLength(0);
  });
});
