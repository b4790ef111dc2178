import { createLabCa, LabCa, signClusterCsr } from '../../../lambda/cloudhsm-init/certificates';
// Types only: pure tests that need just a test CA do not load the fake and its SDK clients.
import type { FakeCluster, FakeInstance, FakeSubnet, World } from './world';

const MINUTE = 60_000;

/**
 * The lab's CloudHSM setup built directly on the world (as if the earlier
 * handlers, or a person, had done it), so each handler's tests start from the
 * stage they need.
 */

export const AZ_A = 'ap-southeast-1a';
export const AZ_B = 'ap-southeast-1b';
export const IP_A = '10.0.1.10';
export const IP_B = '10.0.2.10';
export const ADMIN_SECRET = 'kms-key-lab/cloudhsm/admin-password';
export const KMSUSER_SECRET = 'kms-key-lab/cloudhsm/kmsuser-password';
export const CA_SECRET = 'kms-key-lab/cloudhsm/ca';

export const SECRET_POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'OnlyTheLabHandlersRead',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'secretsmanager:GetSecretValue',
      Resource: '*',
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': ['arn:aws:iam::111111111111:role/LabHandlerRole'] } },
    },
  ],
};
export const SECRET_TAGS = { 'kms-key-lab:lab': 'kms-key-lab' };

// RSA key generation is slow: one lab CA (and one foreign CA) per test file.
const cas = new Map<string, Promise<LabCa>>();
export function testCa(name = 'lab'): Promise<LabCa> {
  if (!cas.has(name)) cas.set(name, createLabCa({ commonName: `KMS Key Lab test CA (${name})` }));
  return cas.get(name)!;
}

export interface Lab {
  readonly world: World;
  readonly subnetA: FakeSubnet;
  readonly subnetB: FakeSubnet;
  readonly host: FakeInstance;
  readonly cluster: FakeCluster;
  readonly clusterId: string;
  ca?: LabCa;
}

export type LabStage = 'cluster' | 'first-hsm' | 'initialized' | 'activated' | 'kmsuser' | 'two-hsms';

/** Builds the lab up to `stage`; every step goes through the world's own model and clock. */
export async function buildLab(world: World, stage: LabStage, options: { kmsUser?: boolean } = {}): Promise<Lab> {
  const subnetA = world.addSubnet(AZ_A);
  const subnetB = world.addSubnet(AZ_B);
  const host = world.launchInstance();
  const { Cluster } = world.createCluster({ SubnetIds: [subnetA.subnetId, subnetB.subnetId] });
  const clusterId = Cluster.ClusterId;
  const lab: Lab = { world, subnetA, subnetB, host, cluster: world.clusters.get(clusterId)!, clusterId };
  const order: LabStage[] = ['cluster', 'first-hsm', 'initialized', 'activated', 'kmsuser', 'two-hsms'];
  const upTo = (s: LabStage) => order.indexOf(stage) >= order.indexOf(s);
  world.advance(world.latency.clusterCreate);
  if (!upTo('first-hsm')) return lab;

  world.createHsm({ ClusterId: clusterId, AvailabilityZone: AZ_A, IpAddress: IP_A });
  world.advance(world.latency.hsmCreate);
  if (!upTo('initialized')) return lab;

  lab.ca = await testCa();
  const signed = await signClusterCsr((await world.clusterCsr(clusterId))!, lab.ca, { now: new Date(world.now) });
  world.initializeCluster({ ClusterId: clusterId, SignedCert: signed, TrustAnchor: lab.ca.certificatePem });
  world.advance(world.latency.initialize);
  if (!upTo('activated')) return lab;

  const adminPassword = world.secrets.getRandomPassword({ PasswordLength: 32, ExcludePunctuation: true }).RandomPassword;
  world.secrets.add(ADMIN_SECRET, { string: adminPassword });
  expectNoProblem(world.cliActivate(clusterId, adminPassword));
  world.advance(world.latency.activate + MINUTE);
  if (upTo('kmsuser') && options.kmsUser !== false) createKmsUser(lab);
  if (!upTo('two-hsms')) return lab;

  world.createHsm({ ClusterId: clusterId, AvailabilityZone: AZ_B, IpAddress: IP_B });
  world.advance(world.latency.hsmCreate);
  return lab;
}

/** What the activation does for kmsuser, done by hand: the password goes to its secret, then to the HSMs. */
export function createKmsUser(lab: Lab, role = 'crypto-user'): void {
  const { world, clusterId } = lab;
  const password = world.secrets.getRandomPassword({ PasswordLength: 32, ExcludePunctuation: true }).RandomPassword;
  if (world.secrets.secrets.has(KMSUSER_SECRET)) world.secrets.putSecretValue({ SecretId: KMSUSER_SECRET, SecretString: password });
  else world.secrets.add(KMSUSER_SECRET, { string: password });
  expectNoProblem(world.cliLogin(clusterId, 'admin', world.secrets.getSecretValue({ SecretId: ADMIN_SECRET }).SecretString!));
  expectNoProblem(world.cliCreateUser(clusterId, 'kmsuser', role, password));
}

function expectNoProblem(problem: string | undefined): void {
  if (problem) throw new Error(`lab setup: ${problem}`);
}

/** The properties of a handler-owned secret, as the lib side passes them. */
export function ownedSecret(prefix: string, name: string): Record<string, unknown> {
  return { [`${prefix}SecretName`]: name, [`${prefix}SecretPolicy`]: SECRET_POLICY, SecretTags: SECRET_TAGS };
}

/** Every place a value could leak to, searched for every value the fake Secrets Manager holds. */
export function expectNoSecretValueIn(world: World, surfaces: string[]): void {
  const text = surfaces.join('\n');
  const values = world.secrets.values();
  expect(values.length).toBeGreaterThan(0);
  for (const value of values) {
    expect(text.includes(value)).toBe(false);
  }
}
