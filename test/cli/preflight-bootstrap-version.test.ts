import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import { DEFAULT_SYNTHESIZER_BOOTSTRAP_VERSION, requiredBootstrapVersion } from '../../cli/preflight/bootstrap-version';
import { tempDir } from './harness';

describe('the bootstrap version the lab requires', () => {
  test("is the installed aws-cdk-lib default synthesizer's MIN_BOOTSTRAP_STACK_VERSION", () => {
    // aws-cdk-lib's exports map keeps this file from require.resolve: found from the package's own directory.
    const root = path.dirname(require.resolve('aws-cdk-lib/package.json'));
    const source = fs.readFileSync(path.join(root, 'core', 'lib', 'stack-synthesizers', 'default-synthesizer.js'), 'utf8');
    const min = /MIN_BOOTSTRAP_STACK_VERSION=(\d+)/.exec(source)?.[1];
    expect(Number(min)).toBe(DEFAULT_SYNTHESIZER_BOOTSTRAP_VERSION);
  });

  test("is read from a cloud assembly that aws-cdk-lib synthesized, per Region and for the lab's stacks only", () => {
    const dir = tempDir();
    const app = new App({ outdir: path.join(dir, 'cdk.out') });
    const stack = (name: string, region: string) => new CfnOutput(new Stack(app, name, { env: { region } }), 'Out', { value: name });
    stack('kms-key-lab-primary', 'ap-southeast-1');
    stack('someone-else', 'ap-southeast-2');
    app.synth();
    expect(requiredBootstrapVersion(dir, 'ap-southeast-1', ['kms-key-lab-primary'])).toEqual({ version: DEFAULT_SYNTHESIZER_BOOTSTRAP_VERSION, source: 'cdk.out/manifest.json' });
    expect(requiredBootstrapVersion(dir, 'ap-southeast-2', ['kms-key-lab-secondary']).source).toContain("default synthesizer; no synthesized lab stack of this Region in cdk.out");
  });

  test('a manifest cut short counts as none', () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'cdk.out'));
    fs.writeFileSync(path.join(dir, 'cdk.out', 'manifest.json'), '{"artifacts": {');
    expect(requiredBootstrapVersion(dir, 'ap-southeast-1', ['kms-key-lab-primary']).version).toBe(DEFAULT_SYNTHESIZER_BOOTSTRAP_VERSION);
  });
});
