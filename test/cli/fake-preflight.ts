import { DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { DescribeAvailabilityZonesCommand } from '@aws-sdk/client-ec2';
import { GetRoleCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import { DescribeCustomKeyStoresCommand, ListAliasesCommand } from '@aws-sdk/client-kms';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { sdkMock } from '../helpers/sdk-mocks';
import { ACCOUNT, FakeAws, fakeMocks, serviceError, fakePart } from './fake-aws';
// Registered first, so the DescribeCustomKeyStores below (Region-aware, paginated) replaces the one there.
import { lifecycle } from './fake-lifecycle';

/**
 * The fake AWS of fake-aws.ts and fake-lifecycle.ts, extended for `kms-lab
 * preflight`: SSM parameters (the CDK bootstrap version), IAM roles by name,
 * CloudTrail trails as DescribeTrails lists them with shadow trails, EC2's
 * Availability Zones, KMS aliases and custom key stores per Region, paged.
 * Importing this module adds them to every FakeAws that is installed.
 */

const ssm = sdkMock(SSMClient);

export interface FakeTrail {
  name: string;
  homeRegion: string;
  multiRegion?: boolean;
  /** An organization trail, as a member account sees it: a shadow trail in every Region of the account. */
  organization?: boolean;
}

export class PreflightWorld {
  /** `<region>|<name>` → value. */
  readonly parameters = new Map<string, string>();
  /** IAM role names that exist, besides those of FakeAws.roles (by their ARN's name). */
  readonly roles = new Set<string>();
  readonly trails: FakeTrail[] = [];
  /** Region → its zones; unset: `<region>a`, `b` and `c`, available. */
  readonly zones = new Map<string, { name: string; state: string }[]>();
  /** Custom key stores besides the lab's (FakeAws.keyStores, in the primary Region). */
  readonly keyStores: { id: string; name: string; type: 'AWS_CLOUDHSM' | 'EXTERNAL_KEY_STORE'; state: string; region: string }[] = [];
  /** At most this many stores a page, whatever Limit says: KMS "might return fewer" (DescribeCustomKeyStores, Limit). */
  storePageSize = 1000;

  constructor(private readonly aws: FakeAws) {}

  /**
   * What `cdk bootstrap` leaves in a Region (aws-cdk's lib/api/bootstrap/bootstrap-template.yaml, version 33 in
   * aws-cdk 2.1148.1): the CDKToolkit stack with its BootstrapVersion output, the SSM parameter
   * `/cdk-bootstrap/<qualifier>/version` (CdkBootstrapVersion) and the role `cdk-<qualifier>-cfn-exec-role-<account>-<region>`
   * (CloudFormationExecutionRole).
   */
  bootstrap(options: { version?: number; regions?: string[]; qualifier?: string } = {}): this {
    const qualifier = options.qualifier ?? 'hnb659fds';
    for (const region of options.regions ?? [this.aws.primary, this.aws.secondary]) {
      this.aws.stacks.set(`${region}|CDKToolkit`, { status: 'UPDATE_COMPLETE', outputs: { BootstrapVersion: String(options.version ?? 33) }, tags: {} });
      this.parameters.set(`${region}|/cdk-bootstrap/${qualifier}/version`, String(options.version ?? 33));
      this.roles.add(`cdk-${qualifier}-cfn-exec-role-${ACCOUNT}-${region}`);
    }
    return this;
  }

  roleExists(name: string): boolean {
    return this.roles.has(name) || [...this.aws.roles.keys()].some((arn) => arn.endsWith(`:role/${name}`));
  }

  /** The trails a Region holds: its own, and with shadows, other Regions' multi-Region trails and organization trails; the alarm stacks' trails too. */
  trailsIn(region: string, includeShadowTrails: boolean) {
    const lab: FakeTrail[] = [...this.aws.stacks.entries()]
      .filter(([, s]) => s.outputs.PendingDeletionTrailArn)
      .map(([key, s]) => ({ name: s.outputs.PendingDeletionTrailArn.split('/').pop()!, homeRegion: key.split('|')[0] }));
    return [...this.trails, ...lab].filter((t) =>
      t.homeRegion === region && !t.organization ? true : includeShadowTrails && (t.organization || t.multiRegion === true),
    );
  }
}

/** The preflight state of a fake, made on first use. */
export const preflight = fakePart((aws) => new PreflightWorld(aws));

/** Pages a list as KMS does: Limit items from Marker on, Truncated and NextMarker when more are left. */
function kmsPage<T>(items: T[], limit: number, marker: string | undefined) {
  const start = Number(marker ?? 0);
  const page = items.slice(start, start + limit);
  const more = start + page.length < items.length;
  return { page, Truncated: more, ...(more ? { NextMarker: String(start + page.length) } : {}) };
}

FakeAws.extensions.push((aws, on) => {
  const world = preflight(aws);
  const { cloudTrail, ec2, iam, kms } = fakeMocks;

  // SSM GetParameter: an unknown name answers ParameterNotFound (SSM API Reference, GetParameter, Errors).
  on(ssm as never, GetParameterCommand, 'GetParameter', (i: { Name: string }, who) => {
    const value = world.parameters.get(`${who.region}|${i.Name}`);
    if (value === undefined) throw new ParameterNotFound({ message: '', $metadata: { httpStatusCode: 400 } });
    return { Parameter: { Name: i.Name, Type: 'String', Value: value, Version: 1 } };
  });

  // IAM GetRole: an unknown role answers NoSuchEntity, "The role with name X cannot be found." (IAM API Reference, GetRole,
  // Errors), which the SDK raises as NoSuchEntityException (@aws-sdk/client-iam's error for that code).
  on(iam, GetRoleCommand, 'GetRole', (i: { RoleName: string }) => {
    if (!world.roleExists(i.RoleName)) {
      throw new NoSuchEntityException({ message: `The role with name ${i.RoleName} cannot be found.`, $metadata: { httpStatusCode: 404 } });
    }
    return { Role: { RoleName: i.RoleName, Arn: `arn:aws:iam::${ACCOUNT}:role/${i.RoleName}`, Path: '/', RoleId: 'AROAFAKE', CreateDate: new Date('2025-01-01T00:00:00Z') } };
  });

  // CloudTrail DescribeTrails: with an empty trailNameList, every trail of the Region, and, while includeShadowTrails is
  // true (its default), "any associated shadow trails in other Regions": another Region's multi-Region trail and, in a
  // member account, its organization's trail (CloudTrail API Reference, DescribeTrails; botocore cloudtrail
  // service-2.json, DescribeTrailsRequest.includeShadowTrails). Not paginated.
  on(cloudTrail, DescribeTrailsCommand, 'DescribeTrails', (i: { includeShadowTrails?: boolean }, who) => ({
    trailList: world.trailsIn(who.region, i.includeShadowTrails ?? true).map((t) => ({
      Name: t.name,
      TrailARN: `arn:aws:cloudtrail:${t.homeRegion}:${t.organization ? '999988887777' : ACCOUNT}:trail/${t.name}`,
      HomeRegion: t.homeRegion,
      IsMultiRegionTrail: !!(t.multiRegion || t.organization),
      IsOrganizationTrail: !!t.organization,
    })),
  }));

  // EC2 DescribeAvailabilityZones without AllAvailabilityZones: the zones of the Region the account may use, each with
  // its State (available | information | impaired | unavailable | constrained) (EC2 API Reference, DescribeAvailabilityZones).
  on(ec2, DescribeAvailabilityZonesCommand, 'DescribeAvailabilityZones', (_i: unknown, who) => ({
    AvailabilityZones: (world.zones.get(who.region) ?? ['a', 'b', 'c'].map((s) => ({ name: `${who.region}${s}`, state: 'available' }))).map((z) => ({
      ZoneName: z.name,
      State: z.state,
      RegionName: who.region,
      ZoneType: 'availability-zone',
    })),
  }));

  // KMS ListAliases: the aliases of the caller's Region, Limit 1-100 (default 50), paged by Marker (KMS API Reference, ListAliases).
  on(kms, ListAliasesCommand, 'ListAliases', (i: { Limit?: number; Marker?: string }, who) => {
    const aliases = [...aws.aliases.entries()]
      .filter(([key]) => key.startsWith(`${who.region}|`))
      .map(([key, arn]) => ({ AliasName: key.split('|')[1], AliasArn: `arn:aws:kms:${who.region}:${ACCOUNT}:${key.split('|')[1]}`, TargetKeyId: aws.keys.get(arn)?.keyId }));
    const { page, ...rest } = kmsPage(aliases, i.Limit ?? 50, i.Marker);
    return { Aliases: page, ...rest };
  });

  // KMS DescribeCustomKeyStores: every custom key store of the account in the caller's Region, both types
  // (CustomKeyStoreType AWS_CLOUDHSM | EXTERNAL_KEY_STORE), Limit 1-1000, paged by Marker; by id, that store or
  // CustomKeyStoreNotFoundException (KMS API Reference, DescribeCustomKeyStores).
  on(kms, DescribeCustomKeyStoresCommand, 'DescribeCustomKeyStores', (i: { CustomKeyStoreId?: string; Limit?: number; Marker?: string }, who) => {
    const lab = who.region === aws.primary ? [...aws.keyStores.entries()].map(([id, s]) => ({ id, name: lifecycle(aws).storeName(id), type: 'AWS_CLOUDHSM', state: s.state })) : [];
    const stores = [...lab, ...world.keyStores.filter((s) => s.region === who.region)].map((s) => ({
      CustomKeyStoreId: s.id,
      CustomKeyStoreName: s.name,
      CustomKeyStoreType: s.type,
      ConnectionState: s.state,
    }));
    if (i.CustomKeyStoreId) {
      const found = stores.filter((s) => s.CustomKeyStoreId === i.CustomKeyStoreId);
      if (found.length === 0) throw serviceError('CustomKeyStoreNotFoundException', `Custom key store ${i.CustomKeyStoreId} not found`);
      return { CustomKeyStores: found, Truncated: false };
    }
    const { page, ...rest } = kmsPage(stores, Math.min(i.Limit ?? 1000, world.storePageSize), i.Marker);
    return { CustomKeyStores: page, ...rest };
  });
});
