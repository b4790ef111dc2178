import { parseKeyStoreName } from '../teardown/plan';
import { PreflightCheck, PreflightResult } from './report';

/**
 * Pure judgements, one per check: the facts AWS answered in, one line out.
 * run.ts makes the calls; nothing here calls AWS.
 */

/** A read that failed (access denied, throttled): what was asked, and the explained error. */
export interface ReadFailure {
  readonly failed: string;
}
export type Read<T> = T | ReadFailure;
export const isFailure = <T>(r: Read<T>): r is ReadFailure => typeof r === 'object' && r !== null && 'failed' in (r as object);

const line = (check: string, region: string, result: PreflightResult, detail: string, action = ''): PreflightCheck => ({ check, region, result, detail, action });

/** A read that failed is an UNKNOWN: the deploy may meet anything there. */
const unknown = (check: string, region: string, read: ReadFailure, permission: string): PreflightCheck =>
  line(check, region, 'UNKNOWN', `could not be checked: ${read.failed}`, `allow ${permission} to the identity running preflight, or check it by hand`);

// --- Credentials and account.

export function judgeAccount(region: string, caller: { account: string; arn: string }, wanted: string | undefined): PreflightCheck {
  if (wanted && wanted !== caller.account) {
    return line(
      'credentials',
      region,
      'FAIL',
      `the credentials (${caller.arn}) are of account ${caller.account}, but the "account" setting names ${wanted}`,
      `use credentials of ${wanted} (--profile, AWS_PROFILE), or change -c account= to ${caller.account}`,
    );
  }
  const pinned = wanted ? `, the account the "account" setting names` : ' (no "account" setting: the stacks deploy to this account)';
  return line('credentials', region, 'PASS', `${caller.arn} in account ${caller.account}${pinned}`);
}

// --- CDK bootstrap.

export interface BootstrapFacts {
  readonly region: string;
  readonly account: string;
  readonly qualifier: string;
  readonly toolkitStackName: string;
  /** The bootstrap stack's status; undefined: no such stack. */
  readonly stack: Read<string | undefined>;
  /** The version parameter's value; undefined: no such parameter. */
  readonly version: Read<string | undefined>;
  readonly required: { readonly version: number; readonly source: string };
  /** Whether the execution role exists; undefined when IAM cannot be asked (no @aws-sdk/client-iam). */
  readonly executionRole: Read<boolean> | undefined;
}

export const versionParameter = (qualifier: string) => `/cdk-bootstrap/${qualifier}/version`;
export const executionRoleName = (qualifier: string, account: string, region: string) => `cdk-${qualifier}-cfn-exec-role-${account}-${region}`;

function bootstrapCommand(f: BootstrapFacts): string {
  const options = [f.qualifier !== 'hnb659fds' ? ` --qualifier ${f.qualifier}` : '', f.toolkitStackName !== 'CDKToolkit' ? ` --toolkit-stack-name ${f.toolkitStackName}` : ''].join('');
  return `npx cdk bootstrap aws://${f.account}/${f.region}${options}`;
}

export function judgeBootstrap(f: BootstrapFacts): PreflightCheck[] {
  const checks: PreflightCheck[] = [];
  const cmd = bootstrapCommand(f);
  // The stack: cdk deploy needs it settled (its bucket and roles are what it deploys with).
  if (isFailure(f.stack)) checks.push(unknown('bootstrap-stack', f.region, f.stack, 'cloudformation:DescribeStacks'));
  else if (f.stack === undefined) checks.push(line('bootstrap-stack', f.region, 'FAIL', `no stack ${f.toolkitStackName}: ${f.region} is not bootstrapped for CDK`, `run \`${cmd}\``));
  else if (f.stack === 'CREATE_COMPLETE' || f.stack === 'UPDATE_COMPLETE') checks.push(line('bootstrap-stack', f.region, 'PASS', `${f.toolkitStackName} is ${f.stack}`));
  else if (f.stack === 'UPDATE_ROLLBACK_COMPLETE') {
    checks.push(line('bootstrap-stack', f.region, 'WARN', `${f.toolkitStackName} is UPDATE_ROLLBACK_COMPLETE: its last update rolled back, its earlier version is in place`, `run \`${cmd}\` again to finish the upgrade`));
  } else if (f.stack.endsWith('_IN_PROGRESS')) {
    checks.push(line('bootstrap-stack', f.region, 'FAIL', `${f.toolkitStackName} is ${f.stack}`, 'wait until it ends, then run preflight again'));
  } else {
    checks.push(line('bootstrap-stack', f.region, 'FAIL', `${f.toolkitStackName} is ${f.stack}`, `look at its events in the CloudFormation console, fix the cause, then run \`${cmd}\` again`));
  }

  // The version: the stacks' CheckBootstrapVersion rule, and cdk deploy before it, refuse an older one.
  const parameter = versionParameter(f.qualifier);
  const from = `required ${f.required.version}, from ${f.required.source}`;
  if (isFailure(f.version)) checks.push(unknown('bootstrap-version', f.region, f.version, `ssm:GetParameter on ${parameter}`));
  else if (f.version === undefined) {
    checks.push(line('bootstrap-version', f.region, 'FAIL', `no SSM parameter ${parameter} (${from}): not bootstrapped with this qualifier, or with the legacy template`, `run \`${cmd}\``));
  } else {
    const have = Number(f.version);
    if (!Number.isFinite(have)) checks.push(line('bootstrap-version', f.region, 'FAIL', `${parameter} holds "${f.version}", not a version number (${from})`, `run \`${cmd}\``));
    else if (have < f.required.version) checks.push(line('bootstrap-version', f.region, 'FAIL', `version ${have} in ${parameter}, ${from}`, `upgrade it: \`${cmd}\``));
    else checks.push(line('bootstrap-version', f.region, 'PASS', `version ${have} in ${parameter} (${from})`));
  }

  // The execution role: CloudFormation deploys the lab's stacks as this role.
  const role = executionRoleName(f.qualifier, f.account, f.region);
  if (f.executionRole === undefined) {
    checks.push(line('execution-role', f.region, 'UNKNOWN', `could not be checked: the @aws-sdk/client-iam package is not installed`, `install it, or check that the role ${role} exists`));
  } else if (isFailure(f.executionRole)) checks.push(unknown('execution-role', f.region, f.executionRole, `iam:GetRole on ${role}`));
  else if (!f.executionRole) checks.push(line('execution-role', f.region, 'FAIL', `no IAM role ${role}, which CloudFormation deploys the stacks as`, `run \`${cmd}\`, which creates it`));
  else checks.push(line('execution-role', f.region, 'PASS', `role ${role} exists`));
  return checks;
}

// --- Trails (the alarm stacks).

/** CloudTrail's trails per Region: 5, not adjustable (CloudTrail User Guide, "Quotas in AWS CloudTrail"). */
export const TRAILS_PER_REGION = 5;

export interface TrailSeen {
  readonly name: string;
  readonly arn: string;
  readonly homeRegion: string;
  readonly multiRegion: boolean;
  readonly organization: boolean;
}

export interface TrailFacts {
  readonly region: string;
  /** Every trail DescribeTrails lists in the Region, shadow trails included. */
  readonly trails: Read<readonly TrailSeen[]>;
  /** The name the alarm stack gives its trail (lib/monitoring/pending-deletion-alarm.ts). */
  readonly labTrailName: string;
  /** The alarm stack of the Region, when deployed, and the trail ARN it outputs. */
  readonly alarmStack?: { readonly name: string; readonly trailArn?: string };
}

const trailLabel = (t: TrailSeen, region: string) =>
  `${t.name}${t.organization ? ' (organization trail)' : t.homeRegion !== region ? ` (multi-Region trail of ${t.homeRegion})` : t.multiRegion ? ' (multi-Region)' : ''}`;

export function judgeTrails(f: TrailFacts): PreflightCheck {
  if (isFailure(f.trails)) return unknown('trails', f.region, f.trails, 'cloudtrail:DescribeTrails');
  const trails = [...new Map(f.trails.map((t) => [t.arn, t])).values()];
  const isLabs = (t: TrailSeen) => (f.alarmStack?.trailArn ? t.arn === f.alarmStack.trailArn : false) || (t.name === f.labTrailName && t.homeRegion === f.region);
  const own = trails.find(isLabs);
  const listed = trails.map((t) => trailLabel(t, f.region)).join(', ');
  const counted = `${trails.length} of ${TRAILS_PER_REGION} trails in ${f.region}${trails.length ? `: ${listed}` : ''}`;
  if (own && f.alarmStack) return line('trails', f.region, 'PASS', `${counted}; the lab's own ${own.name} is one of them (its stack ${f.alarmStack.name} is deployed): no new slot needed`);
  if (own) {
    return line(
      'trails',
      f.region,
      'FAIL',
      `${counted}; a trail named ${own.name} exists outside the alarm stack, so its create fails (TrailAlreadyExistsException)`,
      `delete it if it is a leftover (\`aws cloudtrail delete-trail --name ${own.arn} --region ${f.region}\`), or use another -c prefix`,
    );
  }
  if (trails.length + 1 <= TRAILS_PER_REGION) return line('trails', f.region, 'PASS', `${counted}: room for the lab's trail`);
  return line(
    'trails',
    f.region,
    'FAIL',
    `${counted}: no room for the lab's trail (organization, Control Tower and other Regions' multi-Region trails count here too)`,
    'the quota cannot be raised: delete a trail of this account that you no longer need, or deploy without the alarm (-c deletionAlarm=false)',
  );
}

// --- Custom key stores and CloudHSM (scenario (d)).

/** KMS's default quota of custom key stores per account and Region, both store types together (KMS Developer Guide, "Resource quotas"). */
export const DEFAULT_KEY_STORE_QUOTA = 10;

export interface KeyStoreSeen {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly state: string;
}

export interface KeyStoreFacts {
  readonly region: string;
  readonly prefix: string;
  readonly stores: Read<readonly KeyStoreSeen[]>;
  readonly quota: number;
  /** The store the deployed CloudHSM stack outputs (CustomKeyStoreId), if it is deployed. */
  readonly labStoreId?: string;
}

export function judgeKeyStores(f: KeyStoreFacts): PreflightCheck {
  if (isFailure(f.stores)) return unknown('custom-key-stores', f.region, f.stores, 'kms:DescribeCustomKeyStores');
  const own = f.labStoreId ? f.stores.find((s) => s.id === f.labStoreId) : undefined;
  const waiting = f.stores.filter((s) => s !== own && parseKeyStoreName(s.name, f.prefix)?.deleteAfter);
  const stores = f.stores;
  const byType = (type: string) => stores.filter((s) => s.type === type).length;
  const types = f.stores.length ? ` (${byType('AWS_CLOUDHSM')} AWS_CLOUDHSM, ${byType('EXTERNAL_KEY_STORE')} EXTERNAL_KEY_STORE)` : '';
  const leftovers = waiting.length
    ? `; ${waiting.length} of them ${waiting.length === 1 ? 'is a torn-down lab store' : 'are torn-down lab stores'} waiting for ${waiting.length === 1 ? 'its keys' : 'their keys'} (${waiting.map((s) => s.name).join(', ')})`
    : '';
  const counted = `${f.stores.length} of ${f.quota} custom key stores in ${f.region}${types}${leftovers}`;
  if (own) return line('custom-key-stores', f.region, 'PASS', `${counted}; the lab's own ${own.id} is one of them: no new slot needed`);
  if (f.stores.length + 1 <= f.quota) return line('custom-key-stores', f.region, 'PASS', `${counted}: room for the lab's store`);
  const forLeftovers = waiting.length ? '`kms-lab teardown` deletes a torn-down lab store once its keys are gone after its delete-after date; ' : '';
  return line(
    'custom-key-stores',
    f.region,
    'FAIL',
    `${counted}: no room for the lab's store`,
    `${forLeftovers}delete a store you no longer need (disconnected, holding no keys: \`aws kms delete-custom-key-store\`), or ask for a higher quota in Service Quotas (AWS KMS, custom key stores) and pass it as --key-store-quota`,
  );
}

export interface ZoneSeen {
  readonly name: string;
  readonly state: string;
}

export function judgeHsmZones(region: string, wanted: readonly string[], zones: Read<readonly ZoneSeen[]>): PreflightCheck {
  if (isFailure(zones)) return unknown('hsm-zones', region, zones, 'ec2:DescribeAvailabilityZones');
  const byName = new Map(zones.map((z) => [z.name, z]));
  const missing = wanted.filter((z) => !byName.has(z));
  const unavailable = wanted.filter((z) => byName.has(z) && byName.get(z)!.state !== 'available');
  if (missing.length || unavailable.length) {
    const what = [
      missing.length ? `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not an Availability Zone of ${region} for this account` : '',
      unavailable.length ? `${unavailable.map((z) => `${z} is ${byName.get(z)!.state}`).join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('; ');
    const offered = zones.filter((z) => z.state === 'available').map((z) => z.name);
    return line('hsm-zones', region, 'FAIL', `the HSM subnets' zones: ${what}`, `set -c hsmAvailabilityZones to 2 or 3 of ${offered.join(', ') || 'the Region\'s available zones'}`);
  }
  return line(
    'hsm-zones',
    region,
    'UNKNOWN',
    `${wanted.join(', ')} exist and are available (EC2), but CloudHSM has no API that lists the zones or HSM types it offers, so whether HSMs can be created there is known only when CreateHsm runs`,
    'check the CloudHSM Regions and HSM types pages of the CloudHSM User Guide for these zones, or pick others with -c hsmAvailabilityZones',
  );
}

// --- What the deploy would collide with.

/** An alias the deploy creates, and the stack output that names it when that stack holds it. */
export interface AliasPlanned {
  readonly alias: string;
  readonly stackName: string;
  /** The stack's outputs, when deployed. */
  readonly stackOutputs?: Readonly<Record<string, string>>;
  /** `<name>KeyAlias` (lib/common/key-outputs.ts). */
  readonly outputName: string;
}

export function judgeAliases(region: string, planned: readonly AliasPlanned[], existing: Read<ReadonlyMap<string, string | undefined>>): PreflightCheck {
  if (isFailure(existing)) return unknown('aliases', region, existing, 'kms:ListAliases');
  const clashes = planned.filter((p) => existing.has(p.alias) && p.stackOutputs?.[p.outputName] !== p.alias);
  if (clashes.length === 0) {
    const held = planned.filter((p) => existing.has(p.alias)).length;
    return line('aliases', region, 'PASS', `none of the ${planned.length} lab aliases of ${region} exists outside its stack${held ? ` (${held} held by the deployed stacks)` : ''}`);
  }
  const detail = clashes.map((c) => `${c.alias} (on key ${existing.get(c.alias) ?? 'none'}) exists, but ${c.stackName} does not hold it`).join('; ');
  const commands = clashes.map((c) => `\`aws kms delete-alias --alias-name ${c.alias} --region ${region}\``).join(', ');
  return line('aliases', region, 'FAIL', `${detail}: the stack's create of the alias fails (AlreadyExistsException)`, `delete ${clashes.length === 1 ? 'it' : 'them'} if left over from an earlier lab (${commands}), or deploy with another -c prefix`);
}

/** An IAM role with a fixed name that a lab stack creates. */
export interface RolePlanned {
  readonly roleName: string;
  readonly stackName: string;
  readonly stackDeployed: boolean;
}

export function judgeRoles(region: string, planned: readonly RolePlanned[], exists: Read<ReadonlyMap<string, boolean>> | undefined): PreflightCheck {
  const names = planned.map((p) => p.roleName).join(', ');
  if (exists === undefined) return line('roles', region, 'UNKNOWN', 'could not be checked: the @aws-sdk/client-iam package is not installed', `install it, or check that no role ${names} exists outside its stack`);
  if (isFailure(exists)) return unknown('roles', region, exists, 'iam:GetRole');
  const clashes = planned.filter((p) => !p.stackDeployed && exists.get(p.roleName));
  if (clashes.length === 0) return line('roles', region, 'PASS', `no role of ${names} exists outside its stack`);
  return line(
    'roles',
    region,
    'FAIL',
    `${clashes.map((c) => `IAM role ${c.roleName} exists, but ${c.stackName}, which creates it, is not deployed`).join('; ')}: the create fails (EntityAlreadyExists)`,
    `delete ${clashes.length === 1 ? 'it' : 'them'} if left over from an earlier lab (\`aws iam delete-role --role-name <name>\`, after removing its policies), or deploy with another -c prefix`,
  );
}

export interface ReplicaSeen {
  /** e.g. "(b)". */
  readonly label: string;
  readonly primaryArn: string;
  readonly replicaArn: string;
  readonly state: string;
  readonly deletionDate?: Date;
}

export interface ReplicaFacts {
  readonly region: string;
  readonly secondaryStackName: string;
  readonly secondaryDeployed: boolean;
  readonly primaryDeployed: boolean;
  readonly replicas: Read<readonly ReplicaSeen[]>;
}

/**
 * A replica of the lab's primary already in the secondary Region while the
 * secondary stack is not deployed. A multi-Region key has one replica per
 * Region, one pending deletion included (ReplicateKey API), so the deploy
 * cannot make a new one: it adopts a replica pending deletion (cancels the
 * deletion, lambda/replica-key), and refuses a live one that no lab resource
 * owns, which must be scheduled for deletion first.
 */
export function judgeReplicas(f: ReplicaFacts): PreflightCheck {
  if (f.secondaryDeployed) return line('replicas', f.region, 'PASS', `${f.secondaryStackName} is deployed and holds the lab's replicas in ${f.region}`);
  if (!f.primaryDeployed) return line('replicas', f.region, 'PASS', 'no multi-Region primary of the lab is deployed: the deploy makes new primaries, which have no replica yet');
  if (isFailure(f.replicas)) return unknown('replicas', f.region, f.replicas, 'kms:DescribeKey on the lab keys');
  if (f.replicas.length === 0) return line('replicas', f.region, 'PASS', `the lab's multi-Region primaries have no replica in ${f.region}: ${f.secondaryStackName} can create them`);
  const describe = (r: ReplicaSeen) =>
    `the ${r.label} primary ${r.primaryArn} already has a replica ${r.replicaArn} in ${f.region}, ${r.state}${r.deletionDate ? ` until ${r.deletionDate.toISOString()}` : ''}`;
  const isPending = (r: ReplicaSeen) => r.state === 'PendingDeletion' || r.state === 'PendingReplicaDeletion';
  const live = f.replicas.filter((r) => !isPending(r));
  if (live.length === 0) {
    return line(
      'replicas',
      f.region,
      'WARN',
      `${f.replicas.map(describe).join('; ')}, outside ${f.secondaryStackName}: the deploy adopts it (cancels its deletion and applies the lab's policy, description and tags; an imported-material replica gets its material again)`,
      'nothing, unless you want a fresh replica: then wait until its deletion date',
    );
  }
  return line(
    'replicas',
    f.region,
    'FAIL',
    `${live.map(describe).join('; ')}, outside ${f.secondaryStackName}: a multi-Region key has one replica per Region, and the deploy adopts only a replica pending deletion, never a live one that another resource may own`,
    `if nothing uses it, schedule its deletion (\`aws kms schedule-key-deletion --key-id <replica arn> --pending-window-in-days 7 --region ${f.region}\`), then deploy: the deploy adopts it; or tear the primary down too (\`kms-lab teardown\`) so the deploy makes a new pair`,
  );
}

export interface LabKeySeen {
  readonly arn: string;
  readonly state: string;
  readonly deletionDate?: Date;
}

/**
 * The lab's keys pending deletion in a Region: in the deploy's way when a
 * deployed stack still names one (an update of that key fails, KMS refuses
 * every change to a key pending deletion); otherwise a past deploy's, which
 * KMS deletes by date.
 */
export function judgeKeysPendingDeletion(region: string, keys: Read<readonly LabKeySeen[]>, namedByStacks: ReadonlyMap<string, string>, unreadable: number): PreflightCheck {
  if (isFailure(keys)) return unknown('keys-pending-deletion', region, keys, 'kms:ListKeys, kms:ListResourceTags and kms:DescribeKey');
  const pending = keys.filter((k) => k.state === 'PendingDeletion' || k.state === 'PendingReplicaDeletion');
  const blocking = pending.filter((k) => namedByStacks.has(k.arn));
  const skipped = unreadable ? `; ${unreadable} key${unreadable === 1 ? '' : 's'} whose tags this identity may not read were not checked` : '';
  if (blocking.length > 0) {
    return line(
      'keys-pending-deletion',
      region,
      'FAIL',
      `${blocking.map((k) => `${k.arn} (held by ${namedByStacks.get(k.arn)}) is ${k.state}${k.deletionDate ? ` until ${k.deletionDate.toISOString()}` : ''}`).join('; ')}: KMS refuses changes to it, so an update of its stack fails, and the lab cannot use it${skipped}`,
      `bring ${blocking.length === 1 ? 'it' : 'each'} back with ${blocking.map((k) => `\`kms-lab key cancel-deletion ${k.arn}\` and \`kms-lab key enable ${k.arn}\``).join(', ')}, or tear the lab down (\`kms-lab teardown\`) and deploy it afresh`,
    );
  }
  const others = pending.length ? `${pending.length} key${pending.length === 1 ? '' : 's'} of an earlier deploy pending deletion, not in the deploy's way (KMS deletes them by date)` : 'no lab key pending deletion';
  return line('keys-pending-deletion', region, 'PASS', `${others}${skipped}`);
}

// --- The lab's stacks.

export function judgeStack(name: string, region: string, status: string | undefined, reason?: string): PreflightCheck {
  const check = `stack:${name}`;
  const why = reason ? ` (${reason})` : '';
  if (status === undefined) return line(check, region, 'PASS', 'not deployed: the deploy creates it');
  if (status.endsWith('_IN_PROGRESS')) return line(check, region, 'FAIL', `${status}: CloudFormation works on it now`, 'wait until it ends (`kms-lab status`), then run preflight again');
  switch (status) {
    case 'ROLLBACK_COMPLETE':
      return line(check, region, 'WARN', `ROLLBACK_COMPLETE: its create failed and was rolled back${why}`, 'nothing to do first: `cdk deploy` deletes a stack that failed its create, then creates it again; fix what failed it');
    case 'ROLLBACK_FAILED':
      return line(
        check,
        region,
        'FAIL',
        `ROLLBACK_FAILED: its create failed and so did the rollback${why}; \`cdk deploy\` tries to delete it first and stops if that fails`,
        `delete it (\`aws cloudformation delete-stack --stack-name ${name} --region ${region}\`, with --retain-resources for what will not delete, then clean those up), then deploy`,
      );
    case 'UPDATE_ROLLBACK_FAILED':
      return line(check, region, 'FAIL', `UPDATE_ROLLBACK_FAILED${why}: CloudFormation takes no update until the rollback is finished`, `fix the cause, then \`aws cloudformation continue-update-rollback --stack-name ${name} --region ${region}\` (skipping resources that cannot roll back)`);
    case 'CREATE_FAILED':
    case 'UPDATE_FAILED':
      return line(check, region, 'FAIL', `${status}${why}: left as it failed (deployed with --no-rollback)`, `roll it back (\`npx cdk rollback ${name}\`) or deploy again with --no-rollback once the cause is fixed`);
    case 'DELETE_FAILED':
      return line(check, region, 'FAIL', `DELETE_FAILED${why}: a deletion stopped half-way`, 'finish the teardown with `kms-lab teardown` (it names what did not delete), then deploy');
    default:
      return status.endsWith('_FAILED')
        ? line(check, region, 'FAIL', `${status}${why}`, 'look at its events in the CloudFormation console and fix the cause before deploying')
        : line(check, region, 'PASS', `${status}: the deploy updates it`);
  }
}
