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

  test('alarm stacks on use of keys pending deletion, with the opt-in, in both Regions', () => {
    const { deletionAlarms } = synthLab({ keyAdminArns: [ADMIN], keyUserArns: [USER], deletionAlarm: true, deletionAlarmEmail: 'ops@example.com' });
    expect(normalizeTemplate({ primary: deletionAlarms!.primary.toJSON(), secondary: deletionAlarms!.secondary.toJSON() })).toMatchSnapshot();
  });

  test('CloudHSM stack, scenario (d), with the opt-in', () => {
    const { cloudHsm } = synthLab({ keyAdminArns: [ADMIN], keyUserArns: [USER], cloudHsm: true });
    expect(normalizeTemplate(cloudHsm!.toJSON())).toMatchSnapshot();
  });
});
