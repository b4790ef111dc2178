import { randomUUID } from 'node:crypto';
import { CreateGrantCommand, RevokeGrantCommand } from '@aws-sdk/client-kms';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  PutResourcePolicyCommand,
  DeleteResourcePolicyCommand,
  GetResourcePolicyCommand,
  RemoveRegionsFromReplicationCommand,
  ReplicateSecretToRegionsCommand,
  RestoreSecretCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { ACCOUNT, FakeAws, fakeMocks, serviceError } from '../cli/fake-aws';
import { lifecycle } from '../cli/fake-lifecycle';
import { evaluate, PolicyDocument } from './iam-policy';

/**
 * What the lab's custom resource handlers call when a deploy runs them on the
 * CLI's FakeAws (test/deploy/): KMS CreateGrant and RevokeGrant, and Secrets
 * Manager's secret lifecycle. Importing this module adds them to every
 * FakeAws.install() of the test file, after the operations it overrides.
 */

const DAY_MS = 86_400_000;

FakeAws.extensions.push((aws, on) => {
  const world = lifecycle(aws);
  const { kms, secrets } = fakeMocks;
  const secretArn = (name: string, region = aws.primary) => `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:${name}-AbCdEf`;
  const notFound = () => serviceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
  /** IAM's evaluation of a secret call: its resource policy and the caller's identity policies. */
  const authorize = (who: { principal: string; region: string }, action: string, name: string, context: Record<string, string | string[]> = {}) => {
    if (who.principal === 'operator') return;
    const policy = aws.secrets.get(name)?.policy;
    if (evaluate({ principal: who.principal, account: ACCOUNT, action: `secretsmanager:${action}`, resource: secretArn(name, who.region), context }, policy, aws.identityPolicies.get(who.principal) ?? [], 'other')) return;
    throw serviceError('AccessDeniedException', `User: ${who.principal} is not authorized to perform: secretsmanager:${action} on resource: ${name}`);
  };
  /** A secret is seen in its primary Region and in each Region that holds a replica. */
  const find = (name: string, region: string) => {
    const s = aws.secrets.get(name);
    if (!s || (region !== (world.secretInfo.get(name)?.region ?? aws.primary) && !(s.replicaRegions ?? []).includes(region))) throw notFound();
    return s;
  };
  const tagsOf = (name: string) => world.secretInfo.get(name)?.tags ?? {};
  const setTags = (name: string, tags: Record<string, string>) => world.secretInfo.set(name, { ...(world.secretInfo.get(name) ?? {}), tags });

  // --- KMS grants: https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateGrant.html
  on(kms, CreateGrantCommand, 'CreateGrant', (i: { KeyId: string; GranteePrincipal: string; Operations: string[]; Name?: string }, who) => {
    const key = aws.resolve(i.KeyId, who.region);
    aws.authorize(who, 'CreateGrant', key, { 'kms:GranteePrincipal': i.GranteePrincipal, 'kms:GrantOperations': i.Operations });
    const byGrantee = aws.grantOperations.get(key.arn) ?? new Map<string, Set<string>>();
    byGrantee.set(i.GranteePrincipal, new Set([...(byGrantee.get(i.GranteePrincipal) ?? []), ...i.Operations]));
    aws.grantOperations.set(key.arn, byGrantee);
    const grants = aws.grants.get(key.arn) ?? new Set<string>();
    grants.add(i.GranteePrincipal);
    aws.grants.set(key.arn, grants);
    return { GrantId: randomUUID().replace(/-/g, ''), GrantToken: 'token' };
  });
  on(kms, RevokeGrantCommand, 'RevokeGrant', (i: { KeyId: string }, who) => {
    const key = aws.resolve(i.KeyId, who.region);
    aws.authorize(who, 'RevokeGrant', key);
    aws.grantOperations.delete(key.arn);
    aws.grants.delete(key.arn);
    return {};
  });

  // --- Secrets Manager: https://docs.aws.amazon.com/secretsmanager/latest/apireference/
  on(secrets, CreateSecretCommand, 'CreateSecret', (i: { Name: string; Tags?: { Key: string; Value: string }[] }, who) => {
    authorize(who, 'CreateSecret', i.Name);
    if (aws.secrets.has(i.Name)) {
      const s = aws.secrets.get(i.Name)!;
      throw s.deletedDate
        ? serviceError('InvalidRequestException', "You can't create this secret because a secret with this name is already scheduled for deletion.")
        : serviceError('ResourceExistsException', `The operation failed because the secret ${i.Name} already exists.`);
    }
    aws.secrets.set(i.Name, {});
    world.secretInfo.set(i.Name, { region: who.region, tags: Object.fromEntries((i.Tags ?? []).map((t) => [t.Key, t.Value])) });
    return { ARN: secretArn(i.Name), Name: i.Name };
  });
  on(secrets, DescribeSecretCommand, 'DescribeSecret', (i: { SecretId: string }, who) => {
    const s = find(i.SecretId, who.region);
    authorize(who, 'DescribeSecret', i.SecretId);
    return {
      ARN: secretArn(i.SecretId),
      Name: i.SecretId,
      DeletedDate: s.deletedDate,
      Tags: Object.entries(tagsOf(i.SecretId)).map(([Key, Value]) => ({ Key, Value })),
      ReplicationStatus: (s.replicaRegions ?? []).map((Region) => ({ Region, Status: 'InSync' })),
    };
  });
  on(secrets, PutResourcePolicyCommand, 'PutResourcePolicy', (i: { SecretId: string; ResourcePolicy: string }, who) => {
    const s = find(i.SecretId, who.region);
    authorize(who, 'PutResourcePolicy', i.SecretId);
    s.policy = JSON.parse(i.ResourcePolicy) as PolicyDocument;
    return { ARN: secretArn(i.SecretId), Name: i.SecretId };
  });
  // https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetResourcePolicy.html: "If the secret has no
  // resource-based policy, ResourcePolicy is omitted" (the response lists it as optional).
  on(secrets, GetResourcePolicyCommand, 'GetResourcePolicy', (i: { SecretId: string }, who) => {
    const s = find(i.SecretId, who.region);
    authorize(who, 'GetResourcePolicy', i.SecretId);
    return { ARN: secretArn(i.SecretId), Name: i.SecretId, ...(s.policy ? { ResourcePolicy: JSON.stringify(s.policy) } : {}) };
  });
  // https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteResourcePolicy.html: "Deletes the
  // resource-based permission policy attached to the secret"; IAM then decides alone.
  on(secrets, DeleteResourcePolicyCommand, 'DeleteResourcePolicy', (i: { SecretId: string }, who) => {
    const s = find(i.SecretId, who.region);
    authorize(who, 'DeleteResourcePolicy', i.SecretId);
    s.policy = undefined;
    return { ARN: secretArn(i.SecretId), Name: i.SecretId };
  });
  on(secrets, TagResourceCommand, 'TagResource', (i: { SecretId: string; Tags: { Key: string; Value: string }[] }, who) => {
    find(i.SecretId, who.region);
    authorize(who, 'TagResource', i.SecretId);
    setTags(i.SecretId, { ...tagsOf(i.SecretId), ...Object.fromEntries(i.Tags.map((t) => [t.Key, t.Value])) });
    return {};
  });
  on(secrets, UntagResourceCommand, 'UntagResource', (i: { SecretId: string; TagKeys: string[] }, who) => {
    find(i.SecretId, who.region);
    authorize(who, 'UntagResource', i.SecretId);
    setTags(i.SecretId, Object.fromEntries(Object.entries(tagsOf(i.SecretId)).filter(([k]) => !i.TagKeys.includes(k))));
    return {};
  });
  on(secrets, ReplicateSecretToRegionsCommand, 'ReplicateSecretToRegions', (i: { SecretId: string; AddReplicaRegions: { Region: string }[] }, who) => {
    const s = find(i.SecretId, who.region);
    authorize(who, 'ReplicateSecretToRegions', i.SecretId, { 'secretsmanager:AddReplicaRegions': i.AddReplicaRegions.map((r) => r.Region) });
    s.replicaRegions = [...new Set([...(s.replicaRegions ?? []), ...i.AddReplicaRegions.map((r) => r.Region)])];
    return { ARN: secretArn(i.SecretId), ReplicationStatus: s.replicaRegions.map((Region) => ({ Region, Status: 'InProgress' })) };
  });
  on(secrets, RemoveRegionsFromReplicationCommand, 'RemoveRegionsFromReplication', (i: { SecretId: string; RemoveReplicaRegions: string[] }, who) => {
    const s = find(i.SecretId, who.region);
    authorize(who, 'RemoveRegionsFromReplication', i.SecretId, { 'secretsmanager:RemoveReplicaRegions': i.RemoveReplicaRegions });
    s.replicaRegions = (s.replicaRegions ?? []).filter((r) => !i.RemoveReplicaRegions.includes(r));
    return { ARN: secretArn(i.SecretId), ReplicationStatus: [] };
  });
  // "You can't delete a primary secret that is replicated to other Regions": remove the replicas first.
  // https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html
  on(secrets, DeleteSecretCommand, 'DeleteSecret', (i: { SecretId: string; RecoveryWindowInDays?: number; ForceDeleteWithoutRecovery?: boolean }, who) => {
    const s = find(i.SecretId, who.region);
    authorize(who, 'DeleteSecret', i.SecretId);
    if ((s.replicaRegions ?? []).length > 0) throw serviceError('InvalidParameterException', `You can't delete secret ${i.SecretId} that still has replica regions [${s.replicaRegions!.join(', ')}]`);
    if (i.ForceDeleteWithoutRecovery) {
      aws.secrets.delete(i.SecretId);
      return { ARN: secretArn(i.SecretId), Name: i.SecretId, DeletionDate: world.clock };
    }
    s.deletedDate = s.deletedDate ?? world.clock;
    return { ARN: secretArn(i.SecretId), Name: i.SecretId, DeletionDate: new Date(world.clock.getTime() + (i.RecoveryWindowInDays ?? 30) * DAY_MS) };
  });
  on(secrets, RestoreSecretCommand, 'RestoreSecret', (i: { SecretId: string }, who) => {
    const s = find(i.SecretId, who.region);
    authorize(who, 'RestoreSecret', i.SecretId);
    s.deletedDate = undefined;
    return { ARN: secretArn(i.SecretId), Name: i.SecretId };
  });
});
