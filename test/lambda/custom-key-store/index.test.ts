import { CONNECTION_ERROR_REMEDIES, explainConnectionError } from '../../../lambda/custom-key-store/connection-errors';
import * as handler from '../../../lambda/custom-key-store/index';
import { cfnEvent } from '../../helpers/events';
import { buildLab, expectNoSecretValueIn, KMSUSER_SECRET, Lab } from '../cloudhsm/lab';
import { createWithRollback, LAB_WAITS, outcomeText, runEvent, useFakeWorld } from '../cloudhsm/provider';
import { CONNECTION_ERROR_CODES, ConnectionErrorCode, DAY, MINUTE, SECOND, World } from '../cloudhsm/world';

let world: World;
let logs: string[];

useFakeWorld((w, l) => {
  world = w;
  logs = l;
});


const NAME = 'kms-key-lab-store';
const props = (lab: Lab, overrides: Record<string, unknown> = {}) => ({
  Name: NAME,
  ClusterId: lab.clusterId,
  TrustAnchor: lab.ca!.certificatePem,
  KmsUserSecretName: KMSUSER_SECRET,
  KeyPendingWindowDays: '7',
  ...overrides,
});
const create = (lab: Lab, overrides: Record<string, unknown> = {}) => cfnEvent('Create', props(lab, overrides), { resourceType: 'Custom::KmsCustomKeyStore' });
const remove = (lab: Lab, id: string) => cfnEvent('Delete', props(lab), { physicalId: id, resourceType: 'Custom::KmsCustomKeyStore' });
// lib/'s wait for the store (30 s, 1 h) is also runEvent's default, which the other calls here use.
const run = (event: ReturnType<typeof cfnEvent>) => runEvent(world, handler, event, LAB_WAITS['custom-key-store']);
const readyLab = () => buildLab(world, 'two-hsms');
const onlyStore = () => {
  expect(world.stores.size).toBe(1);
  return [...world.stores.values()][0];
};

describe('Create', () => {
  test('creates the store with the kmsuser password from its secret and completes once CONNECTED, about 20 minutes later', async () => {
    const lab = await readyLab();
    const password = world.secrets.getSecretValue({ SecretId: KMSUSER_SECRET }).SecretString;
    const outcome = await run(create(lab));
    expect(outcome.status).toBe('SUCCESS');
    const store = onlyStore();
    expect(outcome.physicalId).toBe(store.id);
    expect(outcome.data).toEqual({ CustomKeyStoreId: store.id });
    expect(store).toMatchObject({ name: NAME, clusterId: lab.clusterId, state: 'CONNECTED' });
    expect(outcome.endedAt - outcome.startedAt).toBeGreaterThanOrEqual(20 * MINUTE);
    expect(outcome.endedAt - outcome.startedAt).toBeLessThanOrEqual(20 * MINUTE + 30 * SECOND);
    // KMS rotated kmsuser's password on connect: the secret's copy is stale now, as the secret's description says.
    expect(world.user(lab.clusterId, 'kmsuser').every(({ user }) => user.password === store.password && user.password !== password)).toBe(true);
  });

  test('spends at most one API call per 30-second poll while CONNECTING', async () => {
    const lab = await readyLab();
    let mark = 0;
    const outcome = await runEvent(world, handler, create(lab), { afterOnEvent: () => (mark = world.journal.length) });
    const waiting = world.journal.slice(mark);
    expect(outcome.polls).toBe(41);
    expect(waiting).toHaveLength(outcome.polls);
    expect(new Set(waiting.map((c) => c.operation))).toEqual(new Set(['DescribeCustomKeyStores']));
    const perPoll = new Map<number, number>();
    for (const c of waiting) perPoll.set(c.at, (perPoll.get(c.at) ?? 0) + 1);
    expect(Math.max(...perPoll.values())).toBe(1);
  });

  test('a repeated Create finds the store by its name and makes no second one', async () => {
    const lab = await readyLab();
    const first = await run(create(lab));
    const again = await run(create(lab));
    expect(again).toMatchObject({ status: 'SUCCESS', physicalId: first.physicalId, polls: 1 });
    onlyStore();
    expect(world.calls({ operation: 'CreateCustomKeyStore' })).toHaveLength(1);
    expect(world.calls({ operation: 'ConnectCustomKeyStore' })).toHaveLength(1);
  });

  test('a repeated Create while the first connect is still running waits for it without a second store or connect', async () => {
    const lab = await readyLab();
    await handler.onEvent(create(lab));
    world.advance(5 * MINUTE);
    const again = await run(create(lab));
    expect(again.status).toBe('SUCCESS');
    expect(world.calls({ operation: 'CreateCustomKeyStore' })).toHaveLength(1);
    expect(world.calls({ operation: 'ConnectCustomKeyStore' })).toHaveLength(1);
  });

  test('a store that KMS does not know yet right after CreateCustomKeyStore is waited for', async () => {
    const lab = await readyLab();
    world.eventualConsistency.keyStore = 2;
    const outcome = await run(create(lab));
    expect(outcome.status).toBe('SUCCESS');
    expect(onlyStore().state).toBe('CONNECTED');
  });

  test('throttling and 5xx errors while CONNECTING are ridden out', async () => {
    const lab = await readyLab();
    const outcome = await runEvent(world, handler, create(lab), {
      afterOnEvent: () => {
        world.failNext('DescribeCustomKeyStores', 3, 'throttle', 5);
        world.failNext('DescribeCustomKeyStores', 3, '5xx', 10);
      },
    });
    expect(outcome.status).toBe('SUCCESS');
  });

  test('AccessDenied while the role propagates is waited out by onEvent', async () => {
    const lab = await readyLab();
    world.failNext('*', 3, 'accessDenied');
    const outcome = await run(create(lab));
    expect(outcome.status).toBe('SUCCESS');
    onlyStore();
  });

  test('a cluster KMS cannot use yet fails at once with what KMS said, and leaves no store', async () => {
    const lab = await buildLab(world, 'kmsuser');
    const outcome = await run(create(lab));
    expect(outcome.stage).toBe('onEvent');
    expect(outcome.error!.message).toBe(
      'CreateCustomKeyStore failed (CloudHsmClusterInvalidConfigurationException): The cluster needs at least two active HSMs in different Availability Zones; it has 1.',
    );
    expect(world.stores.size).toBe(0);
  });

  test('a store of the same name on another cluster is refused with what to do', async () => {
    const lab = await readyLab();
    const other = { id: 'cks-other', name: NAME, clusterId: 'cluster-other', trustAnchor: '', password: '', createdAt: 0, enis: [], generation: 0 };
    world.stores.set(other.id, { ...other, state: 'DISCONNECTED' });
    const outcome = await run(create(lab));
    expect(outcome.error!.message).toBe(
      `A custom key store named ${NAME} already exists for another cluster (cluster-other). What to do: delete it, or give this lab another prefix.`,
    );
  });

  test('the kmsuser password never shows in a log line, a response or an error', async () => {
    const lab = await readyLab();
    const ok = await run(create(lab));
    world.faults.forcedConnectionError = 'INVALID_CREDENTIALS';
    const failed = await run(create(await buildLab(world, 'two-hsms'), { Name: 'other-store' }));
    expect(failed.status).toBe('FAILED');
    expectNoSecretValueIn(world, [...logs, outcomeText(ok, failed)]);
  });
});

describe('a FAILED connect is disconnected and explained', () => {
  /** Arranges the world so that KMS's connect ends with `code`, the way it happens in an account where possible. */
  const arrange: Record<ConnectionErrorCode, (lab: Lab) => (() => void) | void> = {
    USER_NOT_FOUND: (lab) => {
      for (const h of world.activeHsms(lab.clusterId)) h.users.delete('kmsuser');
    },
    USER_LOCKED_OUT: (lab) => {
      for (const { user } of world.user(lab.clusterId, 'kmsuser')) user.locked = true;
    },
    USER_LOGGED_IN: (lab) => {
      world.user(lab.clusterId, 'kmsuser')[0].user.loggedIn = true;
    },
    INVALID_CREDENTIALS: () => {
      world.secrets.putSecretValue({ SecretId: KMSUSER_SECRET, SecretString: 'NotKmsusersPassword1' });
    },
    INSUFFICIENT_CLOUDHSM_HSMS: (lab) => () => {
      for (const h of world.activeHsms(lab.clusterId)) world.deleteHsm({ ClusterId: lab.clusterId, HsmId: h.hsmId });
    },
    INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET: (lab) => {
      lab.subnetB.freeAddresses = 0;
    },
    NETWORK_ERRORS: () => {
      world.faults.forcedConnectionError = 'NETWORK_ERRORS';
    },
    CLUSTER_NOT_FOUND: (lab) => () => {
      for (const h of lab.cluster.hsms) h.state = 'DELETED';
      lab.cluster.state = 'DELETED';
    },
    SUBNET_NOT_FOUND: (lab) => {
      lab.subnetB.deleted = true;
    },
    INTERNAL_ERROR: () => {
      world.faults.forcedConnectionError = 'INTERNAL_ERROR';
    },
  };

  test.each(CONNECTION_ERROR_CODES)('%s ends in a disconnect and an error naming the code and its remedy; the rollback removes the store', async (code) => {
    const lab = await readyLab();
    const during = arrange[code](lab);
    const { create: outcome, rollback } = await createWithRollback(world, handler, create(lab), (id) => remove(lab, id), { afterOnEvent: during ?? undefined });
    expect(outcome.stage).toBe('isComplete');
    const id = outcome.physicalId!;
    expect(outcome.error!.message).toBe(`Custom key store ${id} failed to connect to its cluster. ${explainConnectionError(code)}`);
    expect(outcome.error!.message).toContain(code);
    expect(outcome.error!.message).toContain(CONNECTION_ERROR_REMEDIES[code].todo);
    const disconnects = world.calls({ operation: 'DisconnectCustomKeyStore' });
    expect(disconnects[0].at).toBeLessThanOrEqual(outcome.endedAt);
    expect(rollback!.status).toBe('SUCCESS');
    expect(world.stores.size).toBe(0);
  });

  test('the store is DISCONNECTING when the error is reported, so a retry can connect it again', async () => {
    const lab = await readyLab();
    arrange.INVALID_CREDENTIALS(lab);
    const outcome = await run(create(lab));
    expect(outcome.stage).toBe('isComplete');
    expect(onlyStore().state).toBe('DISCONNECTING');
  });
});

describe('failures leave no store behind', () => {
  test('a deploy that times out while CONNECTING disconnects and deletes the store on rollback', async () => {
    const lab = await readyLab();
    world.latency.connect = 2 * 60 * MINUTE;
    const { create: outcome, rollback } = await createWithRollback(world, handler, create(lab), (id) => remove(lab, id));
    expect(outcome.stage).toBe('timeout');
    expect(rollback!.status).toBe('SUCCESS');
    expect(world.stores.size).toBe(0);
  });
});

describe('Update', () => {
  test('a new name is applied to the connected store in place', async () => {
    const lab = await readyLab();
    const created = await run(create(lab));
    const outcome = await run(
      cfnEvent('Update', props(lab, { Name: 'renamed-store' }), { physicalId: created.physicalId, oldProperties: props(lab), resourceType: 'Custom::KmsCustomKeyStore' }),
    );
    expect(outcome).toMatchObject({ status: 'SUCCESS', physicalId: created.physicalId });
    expect(onlyStore()).toMatchObject({ name: 'renamed-store', state: 'CONNECTED' });
  });
});

describe('Delete', () => {
  test('disconnects, waits for DISCONNECTED so KMS removes its network interfaces, then deletes the store', async () => {
    const lab = await readyLab();
    const freeBefore = [lab.subnetA.freeAddresses, lab.subnetB.freeAddresses];
    const created = await run(create(lab));
    expect([lab.subnetA.freeAddresses, lab.subnetB.freeAddresses]).toEqual(freeBefore.map((n) => n - 1));
    const outcome = await run(remove(lab, created.physicalId!));
    expect(outcome.status).toBe('SUCCESS');
    expect(outcome.endedAt - outcome.startedAt).toBeGreaterThanOrEqual(5 * MINUTE);
    expect(world.stores.size).toBe(0);
    expect([lab.subnetA.freeAddresses, lab.subnetB.freeAddresses]).toEqual(freeBefore);
  });

  test('a store whose key is pending deletion is renamed to say when it can go, and the Delete succeeds', async () => {
    const lab = await readyLab();
    const created = await run(create(lab));
    const { KeyMetadata } = world.createKey({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: created.physicalId });
    world.scheduleKeyDeletion({ KeyId: KeyMetadata.KeyId, PendingWindowInDays: 7 });
    const outcome = await run(remove(lab, created.physicalId!));
    expect(outcome.status).toBe('SUCCESS');
    const day = new Date(world.now + 8 * DAY).toISOString().slice(0, 10);
    expect(onlyStore()).toMatchObject({ name: `${NAME}-delete-after-${day}`, state: 'DISCONNECTED' });
    expect(world.calls({ operation: 'DeleteCustomKeyStore' })).toHaveLength(1);
  });

  test('a second Delete of the renamed store keeps one suffix, and once the key is gone the store can be deleted', async () => {
    const lab = await readyLab();
    const created = await run(create(lab));
    const { KeyMetadata } = world.createKey({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: created.physicalId });
    world.scheduleKeyDeletion({ KeyId: KeyMetadata.KeyId, PendingWindowInDays: 7 });
    await run(remove(lab, created.physicalId!));
    await run(remove(lab, created.physicalId!));
    expect(onlyStore().name).toMatch(new RegExp(`^${NAME}-delete-after-\\d{4}-\\d{2}-\\d{2}$`));
    world.advance(8 * DAY);
    const last = await run(remove(lab, created.physicalId!));
    expect(last.status).toBe('SUCCESS');
    expect(world.stores.size).toBe(0);
  });

  test('succeeds at once when the store is already gone', async () => {
    const lab = await readyLab();
    const outcome = await run(remove(lab, 'cks-0123456789abcdef0'));
    expect(outcome).toMatchObject({ status: 'SUCCESS', polls: 1 });
  });

  test('throttling and 5xx errors when the Delete starts are ridden out', async () => {
    const lab = await readyLab();
    const created = await run(create(lab));
    world.failNext('DescribeCustomKeyStores', 1, 'throttle');
    world.failNext('DisconnectCustomKeyStore', 1, '5xx');
    const outcome = await run(remove(lab, created.physicalId!));
    expect(outcome.status).toBe('SUCCESS');
    expect(world.stores.size).toBe(0);
  });

  test('throttling and 5xx errors while DISCONNECTING are ridden out', async () => {
    const lab = await readyLab();
    const created = await run(create(lab));
    const outcome = await runEvent(world, handler, remove(lab, created.physicalId!), {
      afterOnEvent: () => {
        world.failNext('DescribeCustomKeyStores', 2, 'throttle');
        world.failNext('DescribeCustomKeyStores', 2, '5xx', 4);
      },
    });
    expect(outcome.status).toBe('SUCCESS');
    expect(world.stores.size).toBe(0);
  });
});
