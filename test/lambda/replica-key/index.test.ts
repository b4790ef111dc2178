import { KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { isComplete, onEvent } from '../../../lambda/replica-key/index';
import { TRANSIENT_BACKOFF } from '../../../lambda/shared/transient';
import { serviceError } from '../../cli/fake-aws';
import { lifecycle } from '../../cli/fake-lifecycle';
import { replication } from '../../cli/fake-replication';
import { event, PRIMARY, runReplica, SECONDARY, SECONDARY_STACK_ID, SecondaryWorld, useHandlerEnvironment } from './world';

useHandlerEnvironment();

const owner = (logicalId: string) => `${SECONDARY_STACK_ID}/${logicalId}`;

describe('Custom::LabReplicaKey create', () => {
  test('replicates the primary from its own Region into this one, with the policy, description, lab tags and owner tag', async () => {
    const world = new SecondaryWorld();
    const out = await runReplica(event('Create', world.b));
    const replica = world.replica('b')!;
    expect(world.aws.log).toContain(`operator ReplicateKey ${PRIMARY}`);
    expect(out).toMatchObject({ physicalId: replica.arn, data: { KeyId: world.primary('b').keyId, Arn: replica.arn } });
    expect(replica.arn).toBe(world.primary('b').arn.replace(PRIMARY, SECONDARY));
    expect(replication(world.aws).tags(replica)).toEqual({ ...(world.b.properties.Tags as object), 'kms-key-lab:managed-by': owner(world.b.logicalId) });
    expect(JSON.parse(replication(world.aws).policies.get(replica.arn)!)).toEqual(world.b.properties.KeyPolicy);
  });

  test('is complete only once the replica has left Creating: Enabled for (b), PendingImport for the imported (e)', async () => {
    const world = new SecondaryWorld();
    replication(world.aws).creatingPolls = 2;
    const b = await runReplica(event('Create', world.b));
    const e = await runReplica(event('Create', world.e));
    expect([b.polls, e.polls]).toEqual([3, 3]);
    expect([world.replica('b')!.state, world.replica('e')!.state]).toEqual(['Enabled', 'PendingImport']);
  });

  test("waits out a key policy KMS cannot check yet (a principal IAM made moments ago, the handler's own role included)", async () => {
    const world = new SecondaryWorld();
    let refusals = 2;
    world.aws.failures.set('ReplicateKey', () => {
      if (--refusals === 0) world.aws.failures.delete('ReplicateKey');
      return serviceError('MalformedPolicyDocumentException', 'The new key policy will not allow you to update the key policy in the future.');
    });
    const out = await runReplica(event('Create', world.b));
    expect(out.physicalId).toBe(world.replica('b')!.arn);
    expect(world.aws.log.filter((l) => l.includes(' ReplicateKey '))).toHaveLength(3);
  });

  test("waits out MalformedPolicyDocumentException for a new principal's whole budget, longer than NotFound's", async () => {
    const world = new SecondaryWorld();
    // One refusal short of the new-principal budget: more than NotFound's attempts allow.
    let refusals = TRANSIENT_BACKOFF.newPrincipal.attempts - 1;
    expect(refusals).toBeGreaterThanOrEqual(TRANSIENT_BACKOFF.notFound.attempts);
    world.aws.failures.set('ReplicateKey', () => {
      if (--refusals === 0) world.aws.failures.delete('ReplicateKey');
      return serviceError('MalformedPolicyDocumentException', 'Policy contains a statement with one or more invalid principals.');
    });
    const out = await runReplica(event('Create', world.b));
    expect(out.physicalId).toBe(world.replica('b')!.arn);
    expect(world.aws.log.filter((l) => l.includes(' ReplicateKey '))).toHaveLength(TRANSIENT_BACKOFF.newPrincipal.attempts);
  });

  test('a repeated Create converges on the replica it made, without replicating again', async () => {
    const world = new SecondaryWorld();
    const first = await runReplica(event('Create', world.b));
    const again = await runReplica(event('Create', world.b));
    expect(again.physicalId).toBe(first.physicalId);
    expect(world.aws.log.filter((l) => l.includes(' ReplicateKey '))).toHaveLength(1);
  });

  test('a replica adopted but then not configured is scheduled for deletion again, and the error says what failed', async () => {
    const world = new SecondaryWorld();
    await runReplica(event('Create', world.b));
    await onEvent(event('Delete', world.b, { physicalId: world.replica('b')!.arn }));
    world.aws.failures.set('PutKeyPolicy', () => serviceError('MalformedPolicyDocumentException', 'The new key policy will not allow you to update the key policy in the future.'));
    await expect(onEvent(event('Create', world.b))).rejects.toThrow('PutKeyPolicy failed (MalformedPolicyDocumentException)');
    expect(world.replica('b')!.state).toBe('PendingDeletion');
    expect(world.aws.log.filter((l) => l.includes(' ScheduleKeyDeletion '))).toHaveLength(2);
  });
});

describe('Custom::LabReplicaKey isComplete', () => {
  test('fails with what to do when the replica was scheduled for deletion while the deploy waited', async () => {
    const world = new SecondaryWorld();
    const e = event('Create', world.b);
    const started = await onEvent(e);
    world.replica('b')!.state = 'PendingDeletion';
    const failure = isComplete({ ...e, PhysicalResourceId: started.PhysicalResourceId } as never);
    await expect(failure).rejects.toThrow('was scheduled for deletion while this deploy waited for it. What to do: once this deploy has rolled back, deploy again');
    await expect(failure).rejects.toThrow(`aws kms cancel-key-deletion --key-id ${started.PhysicalResourceId} --region ${SECONDARY}`);
  });

  test('for a replica of imported material, the remedy brings its material back instead of only enabling it', async () => {
    const world = new SecondaryWorld();
    const e = event('Create', world.e);
    const started = await onEvent(e);
    world.replica('e')!.state = 'PendingDeletion';
    const failure = isComplete({ ...e, PhysicalResourceId: started.PhysicalResourceId } as never);
    await expect(failure).rejects.toThrow(`kms-lab import-material --key ${started.PhysicalResourceId} --from-escrow\` if it comes back PendingImport`);
  });

  test('what the message promises holds: the rollback Update adopts the replica, and it is complete and Enabled', async () => {
    const world = new SecondaryWorld();
    const created = await runReplica(event('Create', world.b));
    const changed = { ...world.b, properties: { ...world.b.properties, Description: 'changed' } };
    const e = event('Update', changed, { physicalId: created.physicalId, oldProperties: world.b.properties });
    await onEvent(e);
    // Scheduled outside CloudFormation while the Update waited: isComplete fails, and CloudFormation rolls back.
    world.replica('b')!.state = 'PendingDeletion';
    await expect(isComplete({ ...e, PhysicalResourceId: created.physicalId } as never)).rejects.toThrow('was scheduled for deletion');
    const rollback = await runReplica(event('Update', world.b, { physicalId: created.physicalId, oldProperties: changed.properties }));
    expect(rollback.physicalId).toBe(created.physicalId);
    expect(world.replica('b')!.state).toBe('Enabled');
  });

  test('a replica not visible yet right after ReplicateKey is not complete, not a failure', async () => {
    const world = new SecondaryWorld();
    const e = event('Create', world.b);
    const started = await onEvent(e);
    world.aws.failures.set('DescribeKey', () => serviceError('NotFoundException', `Key '${started.PhysicalResourceId}' does not exist`));
    expect(await isComplete({ ...e, PhysicalResourceId: started.PhysicalResourceId } as never)).toEqual({ IsComplete: false });
  });
});

describe('Custom::LabReplicaKey update', () => {
  test('applies a new policy, description and tags, and removes tags no longer given', async () => {
    const world = new SecondaryWorld();
    const old = { ...world.b.properties, Tags: { ...(world.b.properties.Tags as object), extra: 'x' } };
    const created = await runReplica(event('Create', { ...world.b, properties: old }));
    const replica = world.replica('b')!;
    expect(replication(world.aws).tags(replica).extra).toBe('x');
    const policy = { Version: '2012-10-17', Statement: [{ Sid: 'EnableIamPolicies', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'kms:*', Resource: '*' }] };
    const next = { ...world.b, properties: { ...world.b.properties, KeyPolicy: policy, Description: 'changed' } };
    const out = await runReplica(event('Update', next, { physicalId: created.physicalId, oldProperties: old }));
    expect(out.physicalId).toBe(created.physicalId);
    expect(JSON.parse(replication(world.aws).policies.get(replica.arn)!)).toEqual(policy);
    expect(replication(world.aws).descriptions.get(replica.arn)).toBe('changed');
    expect(replication(world.aws).tags(replica).extra).toBeUndefined();
    expect(replication(world.aws).tags(replica)['kms-key-lab:managed-by']).toBe(owner(world.b.logicalId));
  });

  test('an Update that finds its replica scheduled for deletion outside CloudFormation adopts it, with the new properties', async () => {
    const world = new SecondaryWorld();
    const old = { ...world.b.properties, Tags: { ...(world.b.properties.Tags as object), extra: 'x' } };
    const created = await runReplica(event('Create', { ...world.b, properties: old }));
    const replica = world.replica('b')!;
    await new KMSClient({ region: SECONDARY }).send(new ScheduleKeyDeletionCommand({ KeyId: replica.arn, PendingWindowInDays: 7 }));
    const next = { ...world.b, properties: { ...world.b.properties, Description: 'changed' } };
    const out = await runReplica(event('Update', next, { physicalId: created.physicalId, oldProperties: old }));
    expect(out.physicalId).toBe(created.physicalId);
    expect(world.aws.log.filter((l) => / (CancelKeyDeletion|EnableKey|ReplicateKey) /.test(l)).map((l) => l.split(' ')[1])).toEqual(['ReplicateKey', 'CancelKeyDeletion', 'EnableKey']);
    expect(world.replica('b')!.state).toBe('Enabled');
    expect(replication(world.aws).descriptions.get(replica.arn)).toBe('changed');
    expect(replication(world.aws).tags(replica).extra).toBeUndefined();
    expect(replication(world.aws).tags(replica)['kms-key-lab:managed-by']).toBe(owner(world.b.logicalId));
  });

  test('an Update that finds its replica gone (deleted after its window) replicates again, under the same physical id', async () => {
    const world = new SecondaryWorld();
    const created = await runReplica(event('Create', world.b));
    const first = world.replica('b')!;
    await new KMSClient({ region: SECONDARY }).send(new ScheduleKeyDeletionCommand({ KeyId: first.arn, PendingWindowInDays: 7 }));
    replication(world.aws).deleteAfterWindow(first);
    const next = { ...world.b, properties: { ...world.b.properties, Description: 'changed' } };
    const out = await runReplica(event('Update', next, { physicalId: created.physicalId, oldProperties: world.b.properties }));
    expect(out.physicalId).toBe(created.physicalId);
    expect(world.aws.log.filter((l) => l.includes(' ReplicateKey '))).toHaveLength(2);
    expect(world.replica('b')!.state).toBe('Enabled');
    expect(replication(world.aws).descriptions.get(world.replica('b')!.arn)).toBe('changed');
  });

  test('a new PrimaryKeyArn is a replacement: a new replica and a new physical id', async () => {
    const world = new SecondaryWorld();
    const created = await runReplica(event('Create', world.b));
    const otherPrimary = world.primary('e').arn;
    const out = await runReplica(event('Update', { ...world.b, properties: { ...world.b.properties, PrimaryKeyArn: otherPrimary } }, { physicalId: created.physicalId, oldProperties: world.b.properties }));
    expect(out.physicalId).toBe(otherPrimary.replace(PRIMARY, SECONDARY));
    expect(out.physicalId).not.toBe(created.physicalId);
  });
});

describe('Custom::LabReplicaKey delete', () => {
  test('schedules the replica it owns with the pending window', async () => {
    const world = new SecondaryWorld();
    const created = await runReplica(event('Create', world.b));
    await onEvent(event('Delete', world.b, { physicalId: created.physicalId }));
    const replica = world.replica('b')!;
    expect(replica.state).toBe('PendingDeletion');
    expect(Math.round((replica.deletionDate!.getTime() - Date.now()) / 86_400_000)).toBe(Number(world.b.properties.PendingWindowDays));
  });

  test('succeeds for a replica already gone or already pending deletion, without scheduling it again', async () => {
    const world = new SecondaryWorld();
    const created = await runReplica(event('Create', world.b));
    await onEvent(event('Delete', world.b, { physicalId: created.physicalId }));
    await onEvent(event('Delete', world.b, { physicalId: created.physicalId }));
    replication(world.aws).deleteAfterWindow(world.replica('b')!);
    await onEvent(event('Delete', world.b, { physicalId: created.physicalId }));
    expect(world.aws.log.filter((l) => l.includes(' ScheduleKeyDeletion '))).toHaveLength(1);
  });

  test('never schedules a replica another resource owns (the old resource of a logical-id change)', async () => {
    const world = new SecondaryWorld();
    const created = await runReplica(event('Create', world.b));
    lifecycle(world.aws).keyTags.set(created.physicalId, { 'kms-key-lab:managed-by': owner('NewReplica') });
    await onEvent(event('Delete', world.b, { physicalId: created.physicalId }));
    expect(world.replica('b')!.state).toBe('Enabled');
    expect(world.aws.log.filter((l) => l.includes(' ScheduleKeyDeletion '))).toEqual([]);
  });

  test('needs no decrypt and calls nothing but DescribeKey, ListResourceTags and ScheduleKeyDeletion', async () => {
    const world = new SecondaryWorld();
    const created = await runReplica(event('Create', world.b));
    const from = world.aws.log.length;
    await onEvent(event('Delete', world.b, { physicalId: created.physicalId }));
    expect(world.aws.log.slice(from)).toEqual([`operator DescribeKey ${SECONDARY}`, `operator ListResourceTags ${SECONDARY}`, `operator ScheduleKeyDeletion ${SECONDARY}`]);
  });
});
