import { DecryptCommand, EncryptCommand, KMSClient, ReplicateKeyCommand } from '@aws-sdk/client-kms';
import { lifecycle } from '../../cli/fake-lifecycle';
import { replication } from '../../cli/fake-replication';
import { crossRegion, event, PRIMARY, runReplica, SECONDARY, SECONDARY_STACK_ID, SecondaryWorld, useHandlerEnvironment } from './world';

const { logged } = useHandlerEnvironment();

describe('the secondary stack destroyed and deployed again', () => {
  test('a replica pending deletion blocks ReplicateKey (what AWS::KMS::ReplicaKey calls) until its window ends', async () => {
    const world = new SecondaryWorld();
    await world.deploy();
    await world.destroy();
    const replicate = new KMSClient({ region: PRIMARY }).send(new ReplicateKeyCommand({ KeyId: world.primary('b').arn, ReplicaRegion: SECONDARY }));
    await expect(replicate).rejects.toMatchObject({ name: 'AlreadyExistsException' });
  });

  test('adopts both replicas pending deletion: (b) and (e) decrypt across Regions again, with the same key ids and material', async () => {
    const world = new SecondaryWorld();
    await world.deploy();
    const b = world.replica('b')!;
    const e = world.replica('e')!;
    expect([b.state, e.state]).toEqual(['Enabled', 'Enabled']);
    expect(await crossRegion(b.keyId, PRIMARY, SECONDARY)).toBe('lab data');
    expect(await crossRegion(e.keyId, SECONDARY, PRIMARY)).toBe('lab data');

    const secondary = new KMSClient({ region: SECONDARY });
    const before = await Promise.all([b, e].map((k) => secondary.send(new EncryptCommand({ KeyId: k.arn, Plaintext: Buffer.from(`before ${k.keyId}`) }))));

    await world.destroy();
    expect([world.replica('b')!.state, world.replica('e')!.state]).toEqual(['PendingDeletion', 'PendingDeletion']);
    await expect(crossRegion(b.keyId, PRIMARY, SECONDARY)).rejects.toMatchObject({ name: 'KMSInvalidStateException' });

    const replicateCalls = () => world.aws.log.filter((l) => l.includes(' ReplicateKey ')).length;
    const calls = replicateCalls();
    await world.deploy();
    expect(replicateCalls()).toBe(calls);
    expect(world.replica('b')).toBe(b);
    expect(world.replica('e')).toBe(e);
    expect([b.state, e.state]).toEqual(['Enabled', 'Enabled']);
    expect([b.deletionDate, e.deletionDate]).toEqual([undefined, undefined]);
    for (const key of [b, e]) {
      expect(await crossRegion(key.keyId, PRIMARY, SECONDARY)).toBe('lab data');
      expect(await crossRegion(key.keyId, SECONDARY, PRIMARY)).toBe('lab data');
    }
    // Ciphertext made by the replicas before the destroy decrypts again.
    for (const [n, key] of [b, e].entries()) {
      const opened = await secondary.send(new DecryptCommand({ KeyId: key.arn, CiphertextBlob: before[n].CiphertextBlob }));
      expect(Buffer.from(opened.Plaintext!).toString()).toBe(`before ${key.keyId}`);
    }
    // The (e) replica was left PendingImport by the adoption and took its material again from the escrow's replica.
    expect(logged.join('\n')).toContain('the adopted replica waits for its material to be imported again (PendingImport)');
    expect(world.aws.log).toContain(`operator ImportKeyMaterial ${SECONDARY}`);
  });

  test('the adopted replicas carry this deploy’s policy, description and tags, the owner tag naming their resource', async () => {
    const world = new SecondaryWorld();
    await world.deploy();
    await world.destroy();
    const b = world.replica('b')!;
    // What an earlier version or a hand edit may have left on it.
    lifecycle(world.aws).keyTags.set(b.arn, { 'kms-key-lab:lab': 'kms-key-lab', stray: 'x' });
    replication(world.aws).policies.set(b.arn, '{"Statement":[]}');
    replication(world.aws).descriptions.set(b.arn, 'old');
    await world.deploy();
    expect(replication(world.aws).tags(b)).toMatchObject({
      ...(world.b.properties.Tags as Record<string, string>),
      'kms-key-lab:managed-by': `${SECONDARY_STACK_ID}/${world.b.logicalId}`,
    });
    expect(JSON.parse(replication(world.aws).policies.get(b.arn)!)).toEqual(world.b.properties.KeyPolicy);
    expect(replication(world.aws).descriptions.get(b.arn)).toBe(world.b.properties.Description);
  });

  test('a failed first deploy (the (e) import giving up) leaves the replica pending deletion, and the next deploy adopts it', async () => {
    const world = new SecondaryWorld();
    // The escrow's replica is not in the secondary Region yet: the import fails after its NotFound backoff.
    world.aws.secrets.get(world.aws.stacks.get(`${PRIMARY}|kms-key-lab-primary`)!.outputs.MultiRegionImportedEscrowSecretName)!.replicaRegions = [];
    await expect(world.deploy()).rejects.toThrow(/has no replica with a value in ap-southeast-2 yet/);
    // CloudFormation rolls the stack back: the replicas' Deletes (the import's own Create failed, so the framework answers its Delete).
    for (const r of [world.e, world.b]) {
      if (world.deployed.has(r.logicalId)) await runReplica(event('Delete', r, { physicalId: world.deployed.get(r.logicalId) }));
    }
    expect([world.replica('b')!.state, world.replica('e')!.state]).toEqual(['PendingDeletion', 'PendingDeletion']);

    world.aws.secrets.get(world.aws.stacks.get(`${PRIMARY}|kms-key-lab-primary`)!.outputs.MultiRegionImportedEscrowSecretName)!.replicaRegions = [SECONDARY];
    await world.deploy();
    expect(await crossRegion(world.primary('e').keyId, PRIMARY, SECONDARY)).toBe('lab data');
    expect(await crossRegion(world.primary('b').keyId, SECONDARY, PRIMARY)).toBe('lab data');
  });
});

describe('a lab deployed by an earlier version (AWS::KMS::ReplicaKey)', () => {
  test('its live replica is refused with what was found and what to do; after `cdk destroy` the deploy adopts it', async () => {
    const world = new SecondaryWorld();
    const p = world.primary('b');
    // What the earlier version's AWS::KMS::ReplicaKey left: a live replica with the stack's tags, no owner tag.
    const old = world.aws.addKey(SECONDARY, { keyId: p.keyId, material: p.material, multiRegion: 'REPLICA' });
    lifecycle(world.aws).keyTags.set(old.arn, { 'kms-key-lab:lab': 'kms-key-lab', 'kms-key-lab:owner': 'unassigned' });

    const refused = runReplica(event('Create', world.b));
    await expect(refused).rejects.toThrow(
      `Cannot create the replica of ${p.arn} in ${SECONDARY}: the primary already has a replica in this Region, ${old.arn} (Enabled), ` +
        'and it carries no kms-key-lab:managed-by tag, so an earlier version of the lab (AWS::KMS::ReplicaKey) or someone else made it.',
    );
    await expect(refused).rejects.toThrow('What to do: `npx cdk destroy kms-key-lab-secondary`, which schedules that replica for deletion, then deploy this stack again, which adopts it');
    expect(old.state).toBe('Enabled');
    expect(lifecycle(world.aws).keyTags.get(old.arn)).toEqual({ 'kms-key-lab:lab': 'kms-key-lab', 'kms-key-lab:owner': 'unassigned' });

    // `cdk destroy` of the earlier version: CloudFormation schedules the replica.
    old.state = 'PendingDeletion';
    old.deletionDate = new Date(Date.now() + 7 * 86_400_000);
    const out = await runReplica(event('Create', world.b));
    expect(out.physicalId).toBe(old.arn);
    expect(old.state).toBe('Enabled');
    expect(await crossRegion(p.keyId, PRIMARY, SECONDARY)).toBe('lab data');
  });

  test('a live replica another resource owns (a logical-id change) is refused, named by its owner', async () => {
    const world = new SecondaryWorld();
    await runReplica(event('Create', { ...world.b, logicalId: 'SomeOtherReplica' }));
    await expect(runReplica(event('Create', world.b))).rejects.toThrow(
      `it belongs to ${SECONDARY_STACK_ID}/SomeOtherReplica (tag kms-key-lab:managed-by)`,
    );
    expect(world.replica('b')!.state).toBe('Enabled');
  });
});
