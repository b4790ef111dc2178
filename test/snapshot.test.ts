import { ADMIN, normalizeTemplate, synthLab, USER } from './helpers/lab';

// Reviewers read template changes here first; asset hashes are masked so only real changes show.
describe('template snapshots', () => {
  const { primary, secondary } = synthLab({ keyAdminArns: [ADMIN], keyUserArns: [USER] });

  test('primary Region stack', () => {
    expect(normalizeTemplate(primary.toJSON())).toMatchSnapshot();
  });

  test('secondary Region stack', () => {
    expect(normalizeTemplate(secondary.toJSON())).toMatchSnapshot();
  });

  test('roles stack, with no principals given', () => {
    const { roles } = synthLab();
    expect(normalizeTemplate(roles!.toJSON())).toMatchSnapshot();
  });

  test('alarm on use of keys pending deletion, with the opt-in, in both Regions', () => {
    const lab = synthLab({ keyAdminArns: [ADMIN], keyUserArns: [USER], deletionAlarm: true, deletionAlarmEmail: 'ops@example.com' });
    const alarmParts = (t: typeof primary) => {
      const json = t.toJSON() as { Resources: Record<string, { Type: string }>; Outputs?: Record<string, unknown> };
      const types = ['AWS::CloudTrail::Trail', 'AWS::Logs::MetricFilter', 'AWS::CloudWatch::Alarm', 'AWS::SNS::Topic', 'AWS::SNS::Subscription'];
      return Object.fromEntries(Object.entries(json.Resources).filter(([, r]) => types.includes(r.Type)));
    };
    expect(normalizeTemplate({ primary: alarmParts(lab.primary), secondary: alarmParts(lab.secondary) })).toMatchSnapshot();
  });

  test('CloudHSM stack, scenario (d), with the opt-in', () => {
    const { cloudHsm } = synthLab({ keyAdminArns: [ADMIN], keyUserArns: [USER], cloudHsm: true });
    expect(normalizeTemplate(cloudHsm!.toJSON())).toMatchSnapshot();
  });
});
