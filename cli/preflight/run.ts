import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { DescribeCustomKeyStoresCommand, DescribeKeyCommand, ListAliasesCommand, ListKeysCommand, ListResourceTagsCommand } from '@aws-sdk/client-kms';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { labAliases } from '../../lib/stacks/aliases';
import { AwsClients } from '../aws/clients';
import { describeLab } from '../aws/describe-lab';
import { awsCall, CliError, sdkErrorName } from '../errors';
import { explainError, isCredentialsProblem, isStackNotFound } from '../error-messages';
import { LabDeployment, labStacks, StackRole } from '../lab-stacks';
import { LabSettings } from '../settings';
import { LAB_TAG } from '../teardown/plan';
import { mapFew } from '../teardown/leftovers';
import { requiredBootstrapVersion } from './bootstrap-version';
import { DeployPlan } from './deploy-plan';
import {
  AliasPlanned,
  executionRoleName,
  judgeAccount,
  judgeAliases,
  judgeBootstrap,
  judgeHsmZones,
  judgeKeyStores,
  judgeKeysPendingDeletion,
  judgeReplicas,
  judgeRoles,
  judgeStack,
  judgeTrails,
  LabKeySeen,
  Read,
  ReplicaSeen,
  RolePlanned,
  versionParameter,
} from './judge';
import { buildPreflightReport, PreflightCheck, PreflightReport } from './report';

export interface PreflightOptions {
  readonly plan: DeployPlan;
  /** The directory of cdk.json and cdk.out. */
  readonly cwd: string;
  readonly toolkitStackName: string;
  readonly keyStoreQuota: number;
  readonly strict: boolean;
}

/** A read: its answer, or, when AWS refused or failed, the explained error. A credentials problem ends the command. */
async function read<T>(fn: () => Promise<T>): Promise<Read<T>> {
  try {
    return await fn();
  } catch (error) {
    if (isCredentialsProblem(error)) throw new CliError(explainError(error));
    return { failed: explainError(error) };
  }
}

/** Every stack `cdk deploy --all` deploys with this plan, in the order status lists them. */
function plannedStacks(plan: DeployPlan): StackRole[] {
  return ['primary', 'secondary', ...(plan.cloudHsm ? ['cloudhsm' as const] : []), 'roles', ...(plan.deletionAlarm ? ['alarm-primary' as const, 'alarm-secondary' as const] : [])];
}

async function bootstrapChecks(clients: AwsClients, settings: LabSettings, options: PreflightOptions, account: string, region: string): Promise<PreflightCheck[]> {
  const { plan } = options;
  const names = plannedStacks(plan).map((role) => labStacks(settings)[role]).filter((s) => s.region === region).map((s) => s.name);
  const [stack, version, executionRole] = await Promise.all([
    read(async () => {
      try {
        const answer = await awsCall({ operation: 'DescribeStacks', region, resource: options.toolkitStackName }, () =>
          clients.cloudFormation(region).send(new DescribeStacksCommand({ StackName: options.toolkitStackName })),
        );
        return answer.Stacks?.[0]?.StackStatus as string | undefined;
      } catch (error) {
        if (isStackNotFound(error)) return undefined;
        throw error;
      }
    }),
    read(async () => {
      const { GetParameterCommand } = require('@aws-sdk/client-ssm') as typeof import('@aws-sdk/client-ssm');
      const name = versionParameter(plan.qualifier);
      try {
        const answer = await awsCall({ operation: 'GetParameter', region, resource: name }, () => clients.ssm(region).send(new GetParameterCommand({ Name: name })));
        return answer.Parameter?.Value;
      } catch (error) {
        if (sdkErrorName(error) === 'ParameterNotFound') return undefined;
        throw error;
      }
    }),
    roleExists(clients, region, executionRoleName(plan.qualifier, account, region)),
  ]);
  return judgeBootstrap({
    region,
    account,
    qualifier: plan.qualifier,
    toolkitStackName: options.toolkitStackName,
    stack,
    version,
    required: requiredBootstrapVersion(options.cwd, region, names),
    executionRole,
  });
}

/** IAM GetRole: true, false (NoSuchEntity), a failure, or undefined when IAM's client is not installed. */
async function roleExists(clients: AwsClients, region: string, roleName: string): Promise<Read<boolean> | undefined> {
  const iam = clients.iam(region);
  if (!iam) return undefined;
  const { GetRoleCommand } = require('@aws-sdk/client-iam') as typeof import('@aws-sdk/client-iam');
  return read(async () => {
    try {
      await awsCall({ operation: 'GetRole', region, resource: roleName }, () => iam.send(new GetRoleCommand({ RoleName: roleName })));
      return true;
    } catch (error) {
      if (sdkErrorName(error) === 'NoSuchEntity' || sdkErrorName(error) === 'NoSuchEntityException') return false;
      throw error;
    }
  });
}

async function trailCheck(clients: AwsClients, settings: LabSettings, deployment: LabDeployment, region: string, where: 'primary' | 'secondary'): Promise<PreflightCheck> {
  const trails = await read(async () => {
    // includeShadowTrails: the trails of other Regions and organization trails that this Region holds too.
    const answer = await awsCall({ operation: 'DescribeTrails', region }, () => clients.cloudTrail(region).send(new DescribeTrailsCommand({ includeShadowTrails: true })));
    return (answer.trailList ?? []).map((t) => ({
      name: t.Name ?? '',
      arn: t.TrailARN ?? t.Name ?? '',
      homeRegion: t.HomeRegion ?? region,
      multiRegion: !!t.IsMultiRegionTrail,
      organization: !!t.IsOrganizationTrail,
    }));
  });
  const stack = deployment[`alarm-${where}`];
  return judgeTrails({
    region,
    trails,
    labTrailName: `${settings.prefix}-pending-deletion-use`,
    ...(stack ? { alarmStack: { name: stack.name, trailArn: stack.outputs.PendingDeletionTrailArn || undefined } } : {}),
  });
}

async function keyStoreChecks(clients: AwsClients, settings: LabSettings, deployment: LabDeployment, options: PreflightOptions): Promise<PreflightCheck[]> {
  const region = settings.primaryRegion;
  const stores = await read(async () => {
    const kms = clients.kms(region);
    const all: { id: string; name: string; type: string; state: string }[] = [];
    let marker: string | undefined;
    do {
      const page = await awsCall({ operation: 'DescribeCustomKeyStores', region }, () => kms.send(new DescribeCustomKeyStoresCommand({ Marker: marker })));
      for (const s of page.CustomKeyStores ?? []) {
        all.push({ id: s.CustomKeyStoreId ?? '', name: s.CustomKeyStoreName ?? '', type: s.CustomKeyStoreType ?? 'AWS_CLOUDHSM', state: s.ConnectionState ?? '' });
      }
      marker = page.Truncated ? page.NextMarker : undefined;
    } while (marker);
    return all;
  });
  const zones = await read(async () => {
    const { DescribeAvailabilityZonesCommand } = require('@aws-sdk/client-ec2') as typeof import('@aws-sdk/client-ec2');
    const answer = await awsCall({ operation: 'DescribeAvailabilityZones', region }, () => clients.ec2(region).send(new DescribeAvailabilityZonesCommand({})));
    return (answer.AvailabilityZones ?? []).map((z) => ({ name: z.ZoneName ?? '', state: z.State ?? '' }));
  });
  return [
    judgeKeyStores({ region, prefix: settings.prefix, stores, quota: options.keyStoreQuota, labStoreId: deployment.cloudhsm?.outputs.CustomKeyStoreId || undefined }),
    judgeHsmZones(region, options.plan.hsmAvailabilityZones, zones),
  ];
}

/** The aliases the deploy creates in each Region, with the stack and output that hold each (lib/stacks/aliases.ts, lib/common/key-outputs.ts). */
function plannedAliases(settings: LabSettings, plan: DeployPlan, deployment: LabDeployment, where: 'primary' | 'secondary'): AliasPlanned[] {
  const names = labAliases(settings.prefix);
  const refs = labStacks(settings);
  const alias = (a: string, role: StackRole, outputName: string): AliasPlanned => ({
    alias: a,
    stackName: refs[role].name,
    stackOutputs: deployment[role]?.outputs,
    outputName: `${outputName}KeyAlias`,
  });
  const keys = [
    alias(names.singleRegion, where, 'SingleRegion'),
    alias(names.multiRegion, where, 'MultiRegion'),
    ...(where === 'primary' ? [alias(names.importedMaterial, 'primary', 'ImportedMaterial')] : []),
    ...(plan.multiRegionImportedKey ? [alias(names.multiRegionImported, where, 'MultiRegionImported')] : []),
    ...(where === 'primary' && plan.cloudHsm ? [alias(names.cloudHsm, 'cloudhsm', 'CloudHsm')] : []),
  ];
  return keys;
}

async function aliasCheck(clients: AwsClients, settings: LabSettings, plan: DeployPlan, deployment: LabDeployment, where: 'primary' | 'secondary'): Promise<PreflightCheck> {
  const region = where === 'primary' ? settings.primaryRegion : settings.secondaryRegion;
  const existing = await read(async () => {
    const kms = clients.kms(region);
    const found = new Map<string, string | undefined>();
    let marker: string | undefined;
    do {
      const page = await awsCall({ operation: 'ListAliases', region }, () => kms.send(new ListAliasesCommand({ Limit: 100, Marker: marker })));
      for (const a of page.Aliases ?? []) if (a.AliasName) found.set(a.AliasName, a.TargetKeyId);
      marker = page.Truncated ? page.NextMarker : undefined;
    } while (marker);
    return found as ReadonlyMap<string, string | undefined>;
  });
  return judgeAliases(region, plannedAliases(settings, plan, deployment, where), existing);
}

async function roleCheck(clients: AwsClients, settings: LabSettings, plan: DeployPlan, deployment: LabDeployment): Promise<PreflightCheck> {
  const refs = labStacks(settings);
  // The fixed names of lib/common/lab-principals.ts (labRoleNames) and lib/scenarios/multi-region-imported-key.ts (replicaImportRoleName).
  const planned: RolePlanned[] = [
    { roleName: `${settings.prefix}-KeyAdmin`, stackName: refs.roles.name, stackDeployed: !!deployment.roles },
    { roleName: `${settings.prefix}-KeyUser`, stackName: refs.roles.name, stackDeployed: !!deployment.roles },
    ...(plan.multiRegionImportedKey
      ? [{ roleName: `${settings.prefix}-mrk-import-${settings.secondaryRegion}`, stackName: refs.secondary.name, stackDeployed: !!deployment.secondary }]
      : []),
  ];
  const region = settings.primaryRegion;
  const answers = await Promise.all(planned.map((p) => roleExists(clients, region, p.roleName)));
  if (answers.some((a) => a === undefined)) return judgeRoles(region, planned, undefined);
  const failed = answers.find((a) => typeof a === 'object');
  const exists = failed ?? new Map(planned.map((p, i) => [p.roleName, answers[i] as boolean]));
  return judgeRoles(region, planned, exists as Read<ReadonlyMap<string, boolean>>);
}

async function replicaCheck(clients: AwsClients, settings: LabSettings, plan: DeployPlan, deployment: LabDeployment): Promise<PreflightCheck> {
  const region = settings.secondaryRegion;
  const outputs = deployment.primary?.outputs ?? {};
  const primaries = [
    { label: '(b)', arn: outputs.MultiRegionKeyArn },
    ...(plan.multiRegionImportedKey ? [{ label: '(e)', arn: outputs.MultiRegionImportedKeyArn }] : []),
  ].filter((p): p is { label: string; arn: string } => !!p.arn);
  const replicas =
    deployment.secondary || !deployment.primary
      ? []
      : await read(async () => {
          const seen: ReplicaSeen[] = [];
          for (const p of primaries) {
            const primary = await awsCall({ operation: 'DescribeKey', region: settings.primaryRegion, resource: p.arn }, () =>
              clients.kms(settings.primaryRegion).send(new DescribeKeyCommand({ KeyId: p.arn })),
            );
            const replicaArns = (primary.KeyMetadata?.MultiRegionConfiguration?.ReplicaKeys ?? []).filter((r) => r.Region === region && r.Arn).map((r) => r.Arn!);
            for (const arn of replicaArns) {
              const replica = await awsCall({ operation: 'DescribeKey', region, resource: arn }, () => clients.kms(region).send(new DescribeKeyCommand({ KeyId: arn })));
              seen.push({ label: p.label, primaryArn: p.arn, replicaArn: arn, state: replica.KeyMetadata?.KeyState ?? 'unknown', deletionDate: replica.KeyMetadata?.DeletionDate });
            }
          }
          return seen;
        });
  return judgeReplicas({ region, secondaryStackName: labStacks(settings).secondary.name, secondaryDeployed: !!deployment.secondary, primaryDeployed: !!deployment.primary, replicas });
}

async function pendingDeletionCheck(clients: AwsClients, settings: LabSettings, deployment: LabDeployment, region: string): Promise<PreflightCheck> {
  let unreadable = 0;
  const kms = clients.kms(region);
  const keys = await read(async () => {
    const arns: string[] = [];
    let marker: string | undefined;
    do {
      const page = await awsCall({ operation: 'ListKeys', region }, () => kms.send(new ListKeysCommand({ Limit: 1000, Marker: marker })));
      for (const k of page.Keys ?? []) if (k.KeyArn) arns.push(k.KeyArn);
      marker = page.Truncated ? page.NextMarker : undefined;
    } while (marker);
    const tagged = await mapFew(arns, async (arn) => {
      try {
        const answer = await awsCall({ operation: 'ListResourceTags', region, resource: arn }, () => kms.send(new ListResourceTagsCommand({ KeyId: arn })));
        return (answer.Tags ?? []).some((t) => t.TagKey === LAB_TAG && t.TagValue === settings.prefix) ? arn : undefined;
      } catch (error) {
        // AWS managed keys, and keys whose policy does not let this identity read their tags.
        if (['AccessDeniedException', 'NotFoundException', 'KMSInvalidStateException'].includes(sdkErrorName(error))) {
          unreadable++;
          return undefined;
        }
        throw error;
      }
    });
    const described = await mapFew(
      tagged.filter((a): a is string => !!a),
      async (arn): Promise<LabKeySeen> => {
        const answer = await awsCall({ operation: 'DescribeKey', region, resource: arn }, () => kms.send(new DescribeKeyCommand({ KeyId: arn })));
        return { arn, state: answer.KeyMetadata?.KeyState ?? 'unknown', deletionDate: answer.KeyMetadata?.DeletionDate };
      },
    );
    return described;
  });
  // The keys the deployed stacks name (their `<name>KeyArn` outputs), by stack.
  const named = new Map<string, string>();
  for (const stack of Object.values(deployment)) {
    if (!stack || stack.region !== region) continue;
    for (const [output, value] of Object.entries(stack.outputs)) if (output.endsWith('KeyArn') && value) named.set(value, stack.name);
  }
  return judgeKeysPendingDeletion(region, keys, named, unreadable);
}

/** Runs every check against the account the deploy will meet, and judges each. */
export async function runPreflight(settings: LabSettings, options: PreflightOptions, clients = new AwsClients(settings.profile)): Promise<PreflightReport> {
  const { plan } = options;
  const { primaryRegion: primary, secondaryRegion: secondary } = settings;
  const report = (account: string, checks: PreflightCheck[]) =>
    buildPreflightReport({
      prefix: settings.prefix,
      account,
      regions: { primary, secondary },
      deploy: plan,
      checks,
      apiCalls: clients.counter.total,
      strict: options.strict,
    });

  // Who the deploy runs as: without it, nothing else can be asked.
  let caller: { account: string; arn: string };
  try {
    const answer = await awsCall({ operation: 'GetCallerIdentity', region: primary }, () => clients.sts(primary).send(new GetCallerIdentityCommand({})));
    caller = { account: answer.Account ?? '', arn: answer.Arn ?? '' };
  } catch (error) {
    const explained = explainError(error);
    const at = explained.indexOf(' What to do: ');
    const detail = at < 0 ? explained : explained.slice(0, at);
    const action = at < 0 ? 'fix the credentials, then run preflight again' : explained.slice(at + ' What to do: '.length).replace(/\.$/, '');
    return report('', [{ check: 'credentials', region: primary, result: 'FAIL', detail, action }]);
  }
  const checks: PreflightCheck[] = [judgeAccount(primary, caller, plan.account)];
  // On to the rest only as the account the deploy targets: another account's answers would mislead.
  if (checks[0].result === 'FAIL') return report(caller.account, checks);

  const deployment = await describeLab(clients, settings);
  const skip = (check: string, region: string, detail: string): PreflightCheck => ({ check, region, result: 'SKIP', detail, action: '' });
  const [bootPrimary, bootSecondary, trails, stores, aliases, roles, replicas, pending] = await Promise.all([
    bootstrapChecks(clients, settings, options, caller.account, primary),
    bootstrapChecks(clients, settings, options, caller.account, secondary),
    plan.deletionAlarm
      ? Promise.all([trailCheck(clients, settings, deployment, primary, 'primary'), trailCheck(clients, settings, deployment, secondary, 'secondary')])
      : Promise.resolve([primary, secondary].map((r) => skip('trails', r, 'deletionAlarm is off: no alarm stack, no trail (opt in with -c deletionAlarm=true)'))),
    plan.cloudHsm
      ? keyStoreChecks(clients, settings, deployment, options)
      : Promise.resolve(['custom-key-stores', 'hsm-zones'].map((c) => skip(c, primary, 'cloudHsm is off: no scenario (d) (opt in with -c cloudHsm=true)'))),
    Promise.all([aliasCheck(clients, settings, plan, deployment, 'primary'), aliasCheck(clients, settings, plan, deployment, 'secondary')]),
    roleCheck(clients, settings, plan, deployment),
    replicaCheck(clients, settings, plan, deployment),
    Promise.all([pendingDeletionCheck(clients, settings, deployment, primary), pendingDeletionCheck(clients, settings, deployment, secondary)]),
  ]);
  const refs = labStacks(settings);
  const stacks = plannedStacks(plan).map((role) => judgeStack(refs[role].name, refs[role].region, deployment[role]?.status, deployment[role]?.statusReason));
  checks.push(...bootPrimary, ...bootSecondary, ...trails, ...stores, ...aliases, roles, replicas, ...pending, ...stacks);
  return report(caller.account, checks);
}
