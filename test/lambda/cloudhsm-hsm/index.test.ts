import * as handler from '../../../lambda/cloudhsm-hsm/index';
import { cfnEvent } from '../../helpers/events';
import { AZ_A, AZ_B, buildLab, IP_A, IP_B, Lab } from '../cloudhsm/lab';
import { createWithRollback, LAB_WAITS, runEvent, runTogether, useFakeWorld } from '../cloudhsm/provider';
import { MINUTE, World } from '../cloudhsm/world';

let world: World;
let logs: string[];

useFakeWorld((w, l) => {
  world = w;
  logs = l;
});


const props = (lab: Lab, ip = IP_A, az = AZ_A) => ({ ClusterId: lab.clusterId, AvailabilityZone: az, IpAddress: ip });
const create = (lab: Lab, ip = IP_A, az = AZ_A) => cfnEvent('Create', props(lab, ip, az), { resourceType: 'Custom::CloudHsmHsm' });
const remove = (lab: Lab, physicalId: string, ip = IP_A, az = AZ_A) =>
  cfnEvent('Delete', props(lab, ip, az), { physicalId, resourceType: 'Custom::CloudHsmHsm' });
const WAIT = LAB_WAITS['cloudhsm-hsm'];
const run = (event: ReturnType<typeof cfnEvent>) => runEvent(world, handler, event, WAIT);

describe('Create', () => {
  test('creates the HSM at its fixed IP and completes once it is ACTIVE, about 10 minutes later', async () => {
    const lab = await buildLab(world, 'cluster');
    const outcome = await run(create(lab));
    expect(outcome.status).toBe('SUCCESS');
    expect(outcome.physicalId).toBe(`${lab.clusterId}/${IP_A}`);
    const [hsm] = world.activeHsms(lab.clusterId);
    expect(outcome.data).toEqual({ HsmId: hsm.hsmId, EniIp: IP_A, AvailabilityZone: AZ_A });
    expect(outcome.endedAt - outcome.startedAt).toBeGreaterThanOrEqual(10 * MINUTE);
    expect(outcome.endedAt - outcome.startedAt).toBeLessThanOrEqual(11 * MINUTE);
    expect(world.calls({ operation: 'CreateHsm' })).toHaveLength(1);
  });

  test('a repeated Create finds the HSM at its IP and creates no second one', async () => {
    const lab = await buildLab(world, 'cluster');
    await run(create(lab));
    const again = await run(create(lab));
    expect(again.status).toBe('SUCCESS');
    expect(world.remainingHsms(lab.clusterId)).toHaveLength(1);
    expect(world.calls({ operation: 'CreateHsm' })).toHaveLength(1);
  });

  test('a repeated Create while the first HSM is still being created waits for it instead of adding another', async () => {
    const lab = await buildLab(world, 'cluster');
    await handler.onEvent(create(lab));
    world.advance(2 * MINUTE);
    const outcome = await run(create(lab));
    expect(outcome.status).toBe('SUCCESS');
    expect(world.remainingHsms(lab.clusterId)).toHaveLength(1);
  });

  test('an HSM just created and still missing from DescribeClusters is not created twice', async () => {
    const lab = await buildLab(world, 'cluster');
    world.eventualConsistency.hsm = 3;
    const outcome = await run(create(lab));
    expect(outcome.status).toBe('SUCCESS');
    expect(world.remainingHsms(lab.clusterId)).toHaveLength(1);
    // The repeated CreateHsm calls were refused by the IP already in use, and the polls went on.
    expect(world.calls({ operation: 'CreateHsm' }).length).toBeGreaterThan(1);
  });

  test('a second HSM is refused until the cluster is activated, so without activation its wait times out', async () => {
    const lab = await buildLab(world, 'first-hsm');
    const outcome = await run(create(lab, IP_B, AZ_B));
    expect(outcome.stage).toBe('timeout');
    expect(world.remainingHsms(lab.clusterId)).toHaveLength(1);
    expect(logs.join('\n')).toContain('already contains an HSM but has not yet been fully activated');
  });

  test('the second HSM is created once the cluster is ACTIVE', async () => {
    const lab = await buildLab(world, 'kmsuser');
    const outcome = await run(create(lab, IP_B, AZ_B));
    expect(outcome.status).toBe('SUCCESS');
    expect(world.activeHsms(lab.clusterId).map((h) => h.availabilityZone)).toEqual([AZ_A, AZ_B]);
    // The new HSM is a clone: it holds the cluster's users.
    expect(world.user(lab.clusterId, 'kmsuser')).toHaveLength(2);
  });

  test('two HSMs created at once when CloudHSM takes one at a time both end ACTIVE', async () => {
    const lab = await buildLab(world, 'activated');
    world.faults.serializeHsmCreation = true;
    const outcomes = await runTogether(world, [
      { handler, event: create(lab, IP_B, AZ_B), wait: WAIT },
      { handler, event: create(lab, '10.0.1.20', AZ_A), wait: WAIT },
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['SUCCESS', 'SUCCESS']);
    expect(outcomes[1].endedAt).toBeGreaterThanOrEqual(outcomes[0].endedAt + 10 * MINUTE);
    expect(world.activeHsms(lab.clusterId)).toHaveLength(3);
  });

  test('throttling and 5xx errors of DescribeClusters while waiting are ridden out', async () => {
    const lab = await buildLab(world, 'cluster');
    const outcome = await runEvent(world, handler, create(lab), {
      ...WAIT,
      afterOnEvent: () => {
        world.failNext('DescribeClusters', 3, 'throttle');
        world.failNext('DescribeClusters', 3, '5xx');
      },
    });
    expect(outcome.status).toBe('SUCCESS');
  });

  test('AccessDenied while the new role propagates is waited out by onEvent', async () => {
    const lab = await buildLab(world, 'cluster');
    world.failNext('*', 3, 'accessDenied');
    const outcome = await run(create(lab));
    expect(outcome.status).toBe('SUCCESS');
    expect(world.remainingHsms(lab.clusterId)).toHaveLength(1);
  });
});

describe('a refused CreateHsm', () => {
  test('in onEvent, on a cluster that is not busy, fails at once with what to do', async () => {
    const lab = await buildLab(world, 'cluster');
    world.failNext('CreateHsm', 1, 'refused');
    const outcome = await run(create(lab));
    expect(outcome.stage).toBe('onEvent');
    expect(outcome.error!.message).toContain(`CreateHsm at ${IP_A} in ${AZ_A} was refused`);
    expect(outcome.error!.message).toContain('destroy the CloudHSM stack, then deploy');
    expect(world.remainingHsms(lab.clusterId)).toEqual([]);
  });
});

describe('failures leave no HSM behind', () => {
  test('an HSM that never becomes ACTIVE fails the deploy, naming its state, and is deleted at once', async () => {
    const lab = await buildLab(world, 'cluster');
    world.faults.hsmNeverActive = true;
    const { create: outcome, rollback } = await createWithRollback(world, handler, create(lab), (id) => remove(lab, id), WAIT);
    expect(outcome.stage).toBe('isComplete');
    expect(outcome.error!.message).toMatch(/did not become ACTIVE: HSM hsm-\w+ is DEGRADED \(HSM creation failed\. Please delete this HSM and try again\.\)\. It has been deleted\./);
    expect(rollback!.status).toBe('SUCCESS');
    expect(world.remainingHsms(lab.clusterId)).toEqual([]);
  });

  test('a deploy that times out while the HSM is still being created deletes it on rollback', async () => {
    const lab = await buildLab(world, 'cluster');
    world.latency.hsmCreate = 2 * 60 * MINUTE;
    const { create: outcome, rollback } = await createWithRollback(world, handler, create(lab), (id) => remove(lab, id), WAIT);
    expect(outcome.stage).toBe('timeout');
    expect(rollback!.status).toBe('SUCCESS');
    expect(world.remainingHsms(lab.clusterId)).toEqual([]);
  });

  test('an error while waiting that is not transient fails the deploy, and the rollback deletes the HSM', async () => {
    const lab = await buildLab(world, 'cluster');
    const { create: outcome, rollback } = await createWithRollback(world, handler, create(lab), (id) => remove(lab, id), {
      ...WAIT,
      afterOnEvent: () => world.failNext('DescribeClusters', 1, 'accessDenied'),
    });
    expect(outcome.stage).toBe('isComplete');
    expect(outcome.error!.message).toContain('CloudHsmAccessDeniedException');
    expect(rollback!.status).toBe('SUCCESS');
    expect(world.remainingHsms(lab.clusterId)).toEqual([]);
  });

  test('a cluster deleted while the HSM is being created fails the deploy with the cluster state, and the rollback succeeds', async () => {
    const lab = await buildLab(world, 'cluster');
    const { create: outcome, rollback } = await createWithRollback(world, handler, create(lab), (id) => remove(lab, id), {
      ...WAIT,
      afterOnEvent: () =>
        world.schedule(5 * MINUTE, () => {
          for (const h of lab.cluster.hsms) h.state = 'DELETED';
          lab.cluster.state = 'DELETED';
        }),
    });
    expect(outcome.stage).toBe('isComplete');
    expect(outcome.error!.message).toContain('the cluster is DELETED, so no HSM can be added to it.');
    expect(outcome.error!.message).not.toContain('It has been deleted');
    expect(rollback!.status).toBe('SUCCESS');
    expect(world.remainingHsms(lab.clusterId)).toEqual([]);
  });

  test('a Create on a cluster that is gone fails in onEvent and creates nothing', async () => {
    const lab = await buildLab(world, 'cluster');
    lab.cluster.state = 'DELETED';
    const outcome = await run(create(lab));
    expect(outcome.stage).toBe('onEvent');
    expect(outcome.error!.message).toBe(`Cannot add an HSM at ${IP_A} to ${lab.clusterId}: the cluster is DELETED, so no HSM can be added to it.`);
    expect(world.calls({ operation: 'CreateHsm' })).toHaveLength(0);
  });
});

describe('Delete', () => {
  test('deletes the HSM and completes once it is DELETED', async () => {
    const lab = await buildLab(world, 'cluster');
    const created = await run(create(lab));
    const outcome = await run(remove(lab, created.physicalId!));
    expect(outcome.status).toBe('SUCCESS');
    expect(outcome.endedAt - outcome.startedAt).toBeGreaterThanOrEqual(3 * MINUTE);
    expect(world.remainingHsms(lab.clusterId)).toEqual([]);
  });

  test('throttling and 5xx errors of DescribeClusters and DeleteHsm during the Delete are ridden out', async () => {
    const lab = await buildLab(world, 'cluster');
    const created = await run(create(lab));
    world.failNext('DescribeClusters', 1, 'throttle');
    world.failNext('DeleteHsm', 1, '5xx');
    world.failNext('DescribeClusters', 1, '5xx', 1);
    const outcome = await run(remove(lab, created.physicalId!));
    expect(outcome.status).toBe('SUCCESS');
    expect(world.remainingHsms(lab.clusterId)).toEqual([]);
  });

  test('a DeleteHsm refused while the HSM is busy is asked again on each poll until the HSM is gone', async () => {
    const lab = await buildLab(world, 'cluster');
    const created = await run(create(lab));
    world.failNext('DeleteHsm', 2, 'refused');
    const outcome = await run(remove(lab, created.physicalId!));
    expect(outcome.status).toBe('SUCCESS');
    expect(world.calls({ operation: 'DeleteHsm' })).toHaveLength(3);
    expect(world.remainingHsms(lab.clusterId)).toEqual([]);
  });

  test('succeeds at once when the HSM is already gone', async () => {
    const lab = await buildLab(world, 'cluster');
    const outcome = await run(remove(lab, `${lab.clusterId}/${IP_A}`));
    expect(outcome.status).toBe('SUCCESS');
    expect(outcome.polls).toBe(1);
    expect(world.calls({ operation: 'DeleteHsm' })).toHaveLength(0);
  });

  test('succeeds when the whole cluster is already gone', async () => {
    const lab = await buildLab(world, 'cluster');
    lab.cluster.state = 'DELETED';
    const outcome = await run(remove(lab, `${lab.clusterId}/${IP_A}`));
    expect(outcome.status).toBe('SUCCESS');
  });

  test('a Delete while the HSM is being deleted already waits for it without a second DeleteHsm', async () => {
    const lab = await buildLab(world, 'cluster');
    const created = await run(create(lab));
    world.deleteHsm({ ClusterId: lab.clusterId, HsmId: world.activeHsms(lab.clusterId)[0].hsmId });
    const outcome = await run(remove(lab, created.physicalId!));
    expect(outcome.status).toBe('SUCCESS');
    expect(world.calls({ operation: 'DeleteHsm' })).toHaveLength(0);
  });

  test('an Update that moves the HSM creates the new one, and the Delete of the old id removes the old one', async () => {
    const lab = await buildLab(world, 'activated');
    const first = await run(create(lab));
    const moved = await run(
      cfnEvent('Update', props(lab, '10.0.1.30'), { physicalId: first.physicalId, oldProperties: props(lab), resourceType: 'Custom::CloudHsmHsm' }),
    );
    expect(moved.physicalId).toBe(`${lab.clusterId}/10.0.1.30`);
    await run(remove(lab, first.physicalId!));
    expect(world.remainingHsms(lab.clusterId).map((h) => h.eniIp)).toEqual(['10.0.1.30']);
  });
});
