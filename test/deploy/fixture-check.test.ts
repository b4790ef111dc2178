import { ADMIN_ROLE, FakeAws, LabOptions, USER_ROLE } from '../cli/fake-aws';
import '../cli/fake-key-material';
import { useOperatorCredentials } from '../cli/harness';
import { synthLab } from '../helpers/lab';
import { assemblyStacks } from './cloud-assembly';
import { FakeAwsDeployment } from './fake-aws-deploy';
import { evaluate, PolicyDocument } from './iam-policy';

/**
 * The CLI tests' hand-written lab (FakeAws.lab()) against what the app really
 * produces: the same option set synthesized, and deployed offline into a
 * FakeAws of its own. Stack names, Regions and tags, output names and
 * values, the keys the outputs name, and what their key policies decide for
 * the administrator and the user must agree, so a fixture cannot disagree
 * with the templates.
 */
jest.setTimeout(120_000);
useOperatorCredentials();

/** Outputs aws-cdk-lib adds for crossRegionReferences (read by Fn::GetStackOutput, never by the CLI); named by hash. */
const CDK_EXPORT = /^PublishOutput/;

/** A value with every key id (UUID or mrk-) and CloudFormation-generated role name made generic. */
function shape(value: string): string {
  return value
    .replace(/mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<key-id>')
    .replace(/^(arn:aws:iam::\d{12}:role\/)(?!kms-key-lab-Key(Admin|User)$).+$/, '$1<role>');
}

function stacksOf(aws: FakeAws) {
  return [...aws.stacks.entries()].map(([key, s]) => ({ key, tags: aws.stackTags(s), outputs: s.outputs })).sort((a, b) => a.key.localeCompare(b.key));
}

const variants: { name: string; fixture: LabOptions; settings: Record<string, unknown>; existingRoles?: string[] }[] = [
  { name: 'default settings', fixture: {}, settings: {} },
  { name: 'multiRegionImportedKey=false', fixture: { multiRegionImported: false }, settings: { multiRegionImportedKey: false } },
  {
    name: 'keyAdminArns and keyUserArns set',
    fixture: { labRoles: false },
    settings: { keyAdminArns: [ADMIN_ROLE], keyUserArns: [USER_ROLE] },
    // The account's own roles, which the key policies then name.
    existingRoles: [ADMIN_ROLE, USER_ROLE],
  },
];

describe.each(variants)('FakeAws.lab() against the synthesized lab: $name', ({ fixture, settings, existingRoles }) => {
  let fake: FakeAws;
  let deployed: FakeAws;
  let failures: string[];
  let deployedNames: string[];
  let assemblyNames: string[];
  beforeAll(async () => {
    fake = FakeAws.lab(fixture);
    deployed = new FakeAws().install();
    for (const role of existingRoles ?? []) deployed.roles.set(role, 'deployed');
    const assembly = synthLab(settings).app.synth();
    const results = await new FakeAwsDeployment(deployed).deployAll(assembly);
    failures = results.map((r) => r.result.failure ?? '').filter(Boolean);
    deployedNames = results.map((r) => r.stack.stackName);
    assemblyNames = assemblyStacks(assembly).map((s) => s.stackName);
  });

  test('deployed offline, the same stacks with the same tags and outputs', () => {
    expect(failures).toEqual([]);
    expect(deployedNames).toEqual(assemblyNames);

    const want = stacksOf(deployed);
    const have = stacksOf(fake);
    expect(have.map((s) => s.key)).toEqual(want.map((s) => s.key));
    for (const [i, w] of want.entries()) {
      const h = have[i];
      expect({ stack: h.key, tags: h.tags }).toEqual({ stack: w.key, tags: w.tags });
      const outputs = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).filter(([k]) => !CDK_EXPORT.test(k)).map(([k, v]) => [k, shape(v)]));
      expect({ stack: h.key, outputs: outputs(h.outputs) }).toEqual({ stack: w.key, outputs: outputs(w.outputs) });
    }
  });

  test('the keys the outputs name: Region, origin, multi-Region type, state, rotation', () => {
    const facts = (aws: FakeAws) =>
      [...aws.stacks.entries()].flatMap(([key, s]) =>
        Object.entries(s.outputs)
          .filter(([name]) => name.endsWith('KeyArn'))
          .map(([name, arn]) => {
            const k = aws.keys.get(arn)!;
            return { stack: key, output: name, region: k.region, origin: k.origin, multiRegion: k.multiRegion, state: k.state, rotation: k.rotation && { enabled: k.rotation.enabled, periodDays: k.rotation.periodDays } };
          }),
      );
    expect(facts(fake).sort((a, b) => `${a.stack}${a.output}`.localeCompare(`${b.stack}${b.output}`))).toEqual(
      facts(deployed).sort((a, b) => `${a.stack}${a.output}`.localeCompare(`${b.stack}${b.output}`)),
    );
  });

  test("the key policy decides for the administrator and the user as the template's does", () => {
    const actions = ['Encrypt', 'Decrypt', 'GenerateDataKey', 'DescribeKey', 'ScheduleKeyDeletion', 'CancelKeyDeletion', 'EnableKey', 'DisableKey', 'RotateKeyOnDemand', 'ImportKeyMaterial'];
    // The administrator and user the fixture's policies name (the lab's roles, or keyAdminArns and keyUserArns).
    const decisions = (aws: FakeAws, policy: (arn: string) => PolicyDocument) =>
      [...aws.stacks.values()].flatMap((s) =>
        Object.entries(s.outputs)
          .filter(([name]) => name.endsWith('KeyArn'))
          .flatMap(([name, arn]) =>
            [fake.adminRole, fake.userRole].flatMap((principal) =>
              actions.map((action) => `${name} ${principal.split('/').pop()} kms:${action} ${evaluate({ principal, account: '111122223333', action: `kms:${action}`, resource: arn }, policy(arn), [], 'kms') ? 'allowed' : 'denied'}`),
            ),
          ),
      );
    expect(decisions(fake, (arn) => fake.keyPolicy(fake.keys.get(arn)) as unknown as PolicyDocument).sort()).toEqual(decisions(deployed, (arn) => deployed.keys.get(arn)!.policy!).sort());
  });
});

test('the opt-in stacks (deletionAlarm, cloudHsm): names, Regions, tags and output names as synthesized', () => {
  const fake = FakeAws.lab({ deletionAlarm: true, cloudHsm: true });
  const stacks = assemblyStacks(synthLab({ deletionAlarm: true, deletionAlarmEmail: 'ops@example.com', cloudHsm: true }).app.synth());
  const want = stacks.map((s) => ({ key: `${s.region}|${s.stackName}`, tags: s.tags, outputs: Object.keys(s.template.Outputs ?? {}).filter((o) => !CDK_EXPORT.test(o)).sort() }));
  const have = [...fake.stacks.entries()].map(([key, s]) => ({ key, tags: s.tags, outputs: Object.keys(s.outputs).sort() }));
  expect(have.sort((a, b) => a.key.localeCompare(b.key))).toEqual(want.sort((a, b) => a.key.localeCompare(b.key)));
});
