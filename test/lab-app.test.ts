import * as cxapi from 'aws-cdk-lib/cx-api';
import { synthLab } from './helpers/lab';

/** Stack tags as `cdk deploy` reads them: the manifest's artifact properties, never the construct tree. */
function manifestStackTags(settings: Record<string, unknown>): Record<string, Record<string, string> | undefined> {
  const assembly = synthLab(settings).app.synth();
  const stacks = assembly.artifacts.filter((a): a is cxapi.CloudFormationStackArtifact => a instanceof cxapi.CloudFormationStackArtifact);
  return Object.fromEntries(stacks.map((s) => [s.stackName, (assembly.manifest.artifacts![s.id].properties as { tags?: Record<string, string> }).tags]));
}

describe('lab stacks as cdk deploy creates them', () => {
  test('every stack of the default lab carries the lab and owner tags in the manifest', () => {
    const tags = manifestStackTags({ owner: 'platform-team' });
    expect(Object.keys(tags).sort()).toEqual(['kms-key-lab-primary', 'kms-key-lab-roles', 'kms-key-lab-secondary']);
    for (const stackTags of Object.values(tags)) {
      expect(stackTags).toEqual({ 'kms-key-lab:lab': 'kms-key-lab', 'kms-key-lab:owner': 'platform-team' });
    }
  });

  test('the opt-in stacks carry the same tags, under a prefix of the user', () => {
    const tags = manifestStackTags({ prefix: 'lab2', cloudHsm: true, deletionAlarm: true, deletionAlarmEmail: 'ops@example.com' });
    expect(Object.keys(tags).sort()).toEqual(['lab2-alarm-primary', 'lab2-alarm-secondary', 'lab2-cloudhsm', 'lab2-primary', 'lab2-roles', 'lab2-secondary']);
    for (const stackTags of Object.values(tags)) expect(stackTags).toEqual({ 'kms-key-lab:lab': 'lab2', 'kms-key-lab:owner': 'unassigned' });
  });
});
