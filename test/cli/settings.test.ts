import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCdkContext } from '../../cli/cdk-json';
import { EXIT, UsageError } from '../../cli/errors';
import { labStacks } from '../../cli/lab-stacks';
import { DEFAULT_SETTINGS, parseContextArgs, resolveSettings } from '../../cli/settings';
import { tempDir, writeCdkJson } from './harness';

const usageError = (fn: () => unknown): UsageError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('expected a UsageError');
};

describe('settings', () => {
  test('defaults are the CDK app defaults when nothing is set', () => {
    expect(resolveSettings({})).toEqual({ prefix: 'kms-key-lab', primaryRegion: 'ap-southeast-1', secondaryRegion: 'ap-southeast-2', pendingWindowDays: 7 });
    expect(DEFAULT_SETTINGS).toEqual({ prefix: 'kms-key-lab', primaryRegion: 'ap-southeast-1', secondaryRegion: 'ap-southeast-2' });
  });

  test("cdk.json's context overrides the defaults and its other settings are ignored", () => {
    const settings = resolveSettings({ cdkContext: { prefix: 'team-lab', primaryRegion: 'eu-west-1', secondaryRegion: 'eu-central-1', owner: 'x', hsmCount: 2 } });
    expect(settings).toEqual({ prefix: 'team-lab', primaryRegion: 'eu-west-1', secondaryRegion: 'eu-central-1', pendingWindowDays: 7 });
  });

  test('-c overrides cdk.json, the last -c for a key wins, and --prefix overrides both', () => {
    const cdkContext = { prefix: 'from-file', primaryRegion: 'eu-west-1', secondaryRegion: 'eu-central-1' };
    expect(resolveSettings({ cdkContext, contextArgs: ['primaryRegion=us-east-1', 'primaryRegion=us-west-2'] }).primaryRegion).toBe('us-west-2');
    expect(resolveSettings({ cdkContext, contextArgs: ['prefix=from-c'] }).prefix).toBe('from-c');
    expect(resolveSettings({ cdkContext, contextArgs: ['prefix=from-c'], prefix: 'from-flag' }).prefix).toBe('from-flag');
  });

  test('-c splits at the first "=" as cdk does', () => {
    expect(parseContextArgs(['keyUserArns=a=b', 'prefix=x'])).toEqual({ keyUserArns: 'a=b', prefix: 'x' });
  });

  test('-c without "=" is a usage error', () => {
    const error = usageError(() => parseContextArgs(['prefix']));
    expect(error.exitCode).toBe(EXIT.usage);
    expect(error.message).toContain('-c key=value');
  });

  test('every invalid setting is named in one paragraph with what it accepts', () => {
    const error = usageError(() => resolveSettings({ contextArgs: ['primaryRegion=Singapore', 'secondaryRegion=ap-southeast-2'], prefix: 'aws' }));
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('"prefix" is "aws"');
    expect(error.message).toContain('"primaryRegion" is "Singapore"');
    expect(error.message).toContain('an AWS Region code');
    expect(error.message).toContain('What to do:');
    expect(error.message).not.toContain('\n');
  });

  test('pendingWindowDays is read as the CDK app reads it: default 7, then cdk.json, then -c', () => {
    expect(resolveSettings({}).pendingWindowDays).toBe(7);
    expect(resolveSettings({ cdkContext: { pendingWindowDays: 14 } }).pendingWindowDays).toBe(14);
    expect(resolveSettings({ cdkContext: { pendingWindowDays: 14 }, contextArgs: ['pendingWindowDays=30'] }).pendingWindowDays).toBe(30);
    expect(resolveSettings({ contextArgs: ['pendingWindowDays= 7 '] }).pendingWindowDays).toBe(7);
    expect(resolveSettings({ cdkContext: { pendingWindowDays: '21' } }).pendingWindowDays).toBe(21);
  });

  test('a pendingWindowDays the CDK app refuses is a usage error naming it, the value and what it accepts', () => {
    const error = usageError(() => resolveSettings({ contextArgs: ['pendingWindowDays=3'] }));
    expect(error.exitCode).toBe(EXIT.usage);
    expect(error.message).toBe(
      'Invalid setting: "pendingWindowDays" is "3", but accepts a whole number of days from 7 to 30. What to do: fix them in cdk.json\'s "context" or on the command line (-c key=value, --prefix).',
    );
    for (const bad of ['31', '6', '7.5', 'seven', '']) {
      expect(usageError(() => resolveSettings({ contextArgs: [`pendingWindowDays=${bad}`] })).message).toContain(`"pendingWindowDays" is ${JSON.stringify(bad)}, but accepts a whole number of days from 7 to 30`);
    }
    // From cdk.json: a number out of range, and null (a value, not unset, for the CDK app too).
    expect(usageError(() => resolveSettings({ cdkContext: { pendingWindowDays: 45 } })).message).toContain('"pendingWindowDays" is 45, but accepts');
    expect(usageError(() => resolveSettings({ cdkContext: { pendingWindowDays: null } })).message).toContain('"pendingWindowDays" is null, but accepts');
    // Named together with the other invalid settings.
    const both = usageError(() => resolveSettings({ contextArgs: ['pendingWindowDays=3', 'primaryRegion=Singapore'] })).message;
    expect(both).toContain('Invalid settings:');
    expect(both).toContain('"primaryRegion" is "Singapore"');
    expect(both).toContain('"pendingWindowDays" is "3"');
  });

  test('the two Regions must differ', () => {
    expect(usageError(() => resolveSettings({ contextArgs: ['secondaryRegion=ap-southeast-1'] })).message).toContain('must differ');
  });

  test('--profile is kept, and an empty one is refused', () => {
    expect(resolveSettings({ profile: 'lab' }).profile).toBe('lab');
    expect(usageError(() => resolveSettings({ profile: ' ' })).message).toContain('--profile');
  });

  test('stack names and Regions follow the prefix and Regions', () => {
    const stacks = labStacks(resolveSettings({ prefix: 'my-lab', contextArgs: ['primaryRegion=eu-west-1', 'secondaryRegion=eu-central-1'] }));
    expect(stacks).toEqual({
      primary: { role: 'primary', name: 'my-lab-primary', region: 'eu-west-1' },
      secondary: { role: 'secondary', name: 'my-lab-secondary', region: 'eu-central-1' },
      cloudhsm: { role: 'cloudhsm', name: 'my-lab-cloudhsm', region: 'eu-west-1' },
      roles: { role: 'roles', name: 'my-lab-roles', region: 'eu-west-1' },
      'alarm-primary': { role: 'alarm-primary', name: 'my-lab-alarm-primary', region: 'eu-west-1' },
      'alarm-secondary': { role: 'alarm-secondary', name: 'my-lab-alarm-secondary', region: 'eu-central-1' },
    });
  });
});

describe('cdk.json', () => {
  test('a directory without cdk.json has an empty context', () => {
    expect(readCdkContext(tempDir())).toEqual({});
  });

  test('the context object is read from cdk.json', () => {
    const dir = tempDir();
    writeCdkJson(dir, { prefix: 'file-lab' });
    expect(readCdkContext(dir)).toEqual({ prefix: 'file-lab' });
  });

  test('invalid JSON is a usage error that names the file', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'cdk.json'), '{ "context": ');
    const error = usageError(() => readCdkContext(dir));
    expect(error.message).toContain(path.join(dir, 'cdk.json'));
    expect(error.message).toContain('not valid JSON');
  });

  test('a context that is not an object is a usage error', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'cdk.json'), '{ "context": [1] }');
    expect(usageError(() => readCdkContext(dir)).message).toContain('not an object');
  });
});
