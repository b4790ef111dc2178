import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ADMIN, synthLab, USER } from './helpers/lab';

const violationsOf = (stack: Stack) => new AwsSolutionsChecks(stack).validateScope(stack).violations;

describe('cdk-nag AwsSolutions', () => {
  test.each([
    ['default settings', {}],
    ['administrators and users', { keyAdminArns: [ADMIN], keyUserArns: [USER] }],
    ['bring-your-own material, deleted on destroy', { materialSource: 'secret', materialSecretName: 'lab/material', deleteImportedMaterialOnDestroy: true }],
    ['scenario (e) off', { multiRegionImportedKey: false }],
  ])('leaves no unacknowledged finding with %s', (_name, settings) => {
    const { lab } = synthLab(settings);
    expect(violationsOf(lab.primary)).toEqual([]);
    expect(violationsOf(lab.secondary)).toEqual([]);
  });

  test.each([
    ['scenario (d) with its defaults', { cloudHsm: true }],
    ['scenario (d) in manual mode, three HSMs, no expiry, with principals', { cloudHsm: true, kmsUserSetup: 'manual', hsmCount: 3, labExpiryHours: 0, keyAdminArns: [ADMIN], keyUserArns: [USER] }],
  ])('leaves no unacknowledged finding in %s', (_name, settings) => {
    const { lab } = synthLab(settings);
    expect(violationsOf(lab.cloudHsm!)).toEqual([]);
  });

  test('every acknowledgement in scenario (d) gives its reason', () => {
    const { lab } = synthLab({ cloudHsm: true });
    const acknowledged = lab
      .cloudHsm!.node.findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => m.data))
      .flatMap((data) => Object.entries(data as Record<string, string>))
      // aws-cdk-lib acknowledges CloudFormation validation findings of its own; these are the lab's.
      .filter(([id]) => id.startsWith('Annotation::AwsSolutions-'));
    expect(acknowledged.length).toBeGreaterThan(10);
    for (const [id, reason] of acknowledged) {
      expect(id).toMatch(/^Annotation::AwsSolutions-(IAM5\[Resource::.+\]|SF2|S1|EC29)$/);
      expect(reason.length).toBeGreaterThan(40);
    }
  });

  test('as an app plugin, synth passes', () => {
    const { app } = synthLab();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth({ force: true })).not.toThrow();
  });

  test('every acknowledgement names one finding and gives a reason', () => {
    const { app } = synthLab();
    const acknowledged = app.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => m.data))
      .flatMap((data) => Object.entries(data as Record<string, string>));
    expect(acknowledged.map(([id]) => id).sort()).toEqual([
      'Annotation::AwsSolutions-IAM5[Resource::*]',
      'Annotation::AwsSolutions-IAM5[Resource::*]',
      // The replica handler: kms:CreateKey (no key ARN exists yet), and its waiter's log delivery.
      'Annotation::AwsSolutions-IAM5[Resource::*]',
      'Annotation::AwsSolutions-IAM5[Resource::*]',
      // The roles stack's wait for IAM (a Provider with isComplete): its waiter state machine's log delivery.
      'Annotation::AwsSolutions-IAM5[Resource::*]',
      'Annotation::AwsSolutions-IAM5[Resource::<ApplicationGrantGrantHandler6A734C72.Arn>:*]',
      'Annotation::AwsSolutions-IAM5[Resource::<ImportedMaterialKeyImportHandler5DB5FA3E.Arn>:*]',
      'Annotation::AwsSolutions-IAM5[Resource::<LabReplicaKeyHandler3FA58237.Arn>:*]',
      'Annotation::AwsSolutions-IAM5[Resource::<LabReplicaKeyHandler3FA58237.Arn>:*]',
      'Annotation::AwsSolutions-IAM5[Resource::<LabReplicaKeyHandlerIsCompleteA54B5A3C.Arn>:*]',
      'Annotation::AwsSolutions-IAM5[Resource::<LabReplicaKeyHandlerIsCompleteA54B5A3C.Arn>:*]',
      'Annotation::AwsSolutions-IAM5[Resource::<LabReplicaKeyHandlerProviderframeworkisComplete97C4A4EB.Arn>:*]',
      'Annotation::AwsSolutions-IAM5[Resource::<LabReplicaKeyHandlerProviderframeworkonTimeout275BAFBA.Arn>:*]',
      'Annotation::AwsSolutions-IAM5[Resource::<MultiRegionImportedKeyImportHandler9077E7DF.Arn>:*]',
      'Annotation::AwsSolutions-IAM5[Resource::<MultiRegionImportedReplicaImportHandlerDB7BF74F.Arn>:*]',
      // The same wait's framework and waiter invoke its two functions (and the framework's own) by qualified ARN.
      'Annotation::AwsSolutions-IAM5[Resource::<RolesSettledHandler46683818.Arn>:*]',
      'Annotation::AwsSolutions-IAM5[Resource::<RolesSettledHandler46683818.Arn>:*]',
      'Annotation::AwsSolutions-IAM5[Resource::<RolesSettledIsComplete3CD97F3C.Arn>:*]',
      'Annotation::AwsSolutions-IAM5[Resource::<RolesSettledIsComplete3CD97F3C.Arn>:*]',
      'Annotation::AwsSolutions-IAM5[Resource::<RolesSettledProviderframeworkisComplete8642EBC5.Arn>:*]',
      'Annotation::AwsSolutions-IAM5[Resource::<RolesSettledProviderframeworkonTimeout4E339348.Arn>:*]',
      'Annotation::AwsSolutions-IAM5[Resource::arn:aws:cloudformation:*:<AWS::AccountId>:stack/kms-key-lab-*/*]',
      'Annotation::AwsSolutions-IAM5[Resource::arn:aws:cloudformation:*:<AWS::AccountId>:stack/kms-key-lab-*/*]',
      // Scenarios (c) and (e) primary: the lab's imported-material keys in the primary Region; (e) replica in the secondary;
      // the replicas the replica handler's resources own (owner tag), and TagResource for a request carrying the lab's tag
      // (ReplicateKey's Tags), in the secondary: one acknowledgement, whose reason names both.
      'Annotation::AwsSolutions-IAM5[Resource::arn:aws:kms:ap-southeast-1:<AWS::AccountId>:key/*]',
      'Annotation::AwsSolutions-IAM5[Resource::arn:aws:kms:ap-southeast-1:<AWS::AccountId>:key/*]',
      'Annotation::AwsSolutions-IAM5[Resource::arn:aws:kms:ap-southeast-2:<AWS::AccountId>:key/*]',
      'Annotation::AwsSolutions-IAM5[Resource::arn:aws:kms:ap-southeast-2:<AWS::AccountId>:key/*]',
      'Annotation::AwsSolutions-IAM5[Resource::arn:aws:secretsmanager:ap-southeast-1:<AWS::AccountId>:secret:kms-key-lab/imported-material/escrow-*]',
      'Annotation::AwsSolutions-IAM5[Resource::arn:aws:secretsmanager:ap-southeast-1:<AWS::AccountId>:secret:kms-key-lab/multi-region-imported/escrow-*]',
      'Annotation::AwsSolutions-IAM5[Resource::arn:aws:secretsmanager:ap-southeast-2:<AWS::AccountId>:secret:kms-key-lab/multi-region-imported/escrow-*]',
      // Keys (c) and (e) primary: imported material is rotated on demand. The (e) replica is no longer an AWS::KMS resource.
      'Annotation::AwsSolutions-KMS5',
      'Annotation::AwsSolutions-KMS5',
      // The replica handler's and the roles stack's waits: the Provider's waiter state machine takes no tracing option.
      'Annotation::AwsSolutions-SF2',
      'Annotation::AwsSolutions-SF2',
    ]);
    for (const [, reason] of acknowledged) expect(reason.length).toBeGreaterThan(40);
  });

  test('still finds what it should: a wildcard policy added to the lab is reported', () => {
    const { lab } = synthLab();
    new iam.Policy(lab.primary, 'Wildcard', {
      statements: [new iam.PolicyStatement({ actions: ['kms:*'], resources: ['*'] })],
      roles: [lab.primary.applicationGrant.role],
    });
    const rules = violationsOf(lab.primary).map((v) => v.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-IAM5[Action::kms:*]', 'AwsSolutions-IAM5[Resource::*]']));
  });
});
