import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CDK_JSON_CONTEXT, synthLab } from '../helpers/lab';

const ROOT = path.join(__dirname, '..', '..');

/** Runs the app entry point the way `cdk synth -c key=value` does: context through CDK_CONTEXT_JSON. */
function runApp(context: Record<string, unknown>) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-key-lab-app-'));
  try {
    const result = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['bin/kms-key-lab.ts'], {
      cwd: ROOT,
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: outdir },
      encoding: 'utf8',
    });
    const templates: Record<string, any> = {};
    for (const f of fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json'))) {
      templates[f] = JSON.parse(fs.readFileSync(path.join(outdir, f), 'utf8'));
    }
    return { ...result, files: fs.readdirSync(outdir), templates };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

describe('app entry point', () => {
  test('a bad setting fails synth with the setting, the value and what is accepted, and writes nothing', () => {
    const { status, stderr, files } = runApp({ rotationPeriodDays: '30', wrappingKeySpec: 'RSA_1024' });
    expect(status).toBe(1);
    expect(stderr).toContain('Invalid setting "rotationPeriodDays": "30". Accepted: a whole number of days from 90 to 2560.');
    expect(stderr).toContain('Invalid setting "wrappingKeySpec": "RSA_1024". Accepted: one of RSA_2048, RSA_3072, RSA_4096.');
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(files.filter((f) => f.endsWith('.template.json'))).toEqual([]);
  });

  test('`cdk destroy` and `cdk diff` still synthesize a lab deployed with a material expiry that has since passed', () => {
    // The date was in the future when the lab was deployed; the app now runs after it, as a teardown would.
    const deployedWith = { ...CDK_JSON_CONTEXT, materialExpiresOn: '2026-01-01', 'aws:cdk:bundling-stacks': [] };
    const atDeploy = synthLab({ materialExpiresOn: '2026-01-01' }, { now: new Date('2025-12-01T00:00:00Z') });
    const { status, stderr, templates } = runApp(deployedWith);
    expect(status).toBe(0);
    expect(stderr).toContain('materialExpiresOn "2026-01-01" has passed. Synth goes on');
    const imported = (template: any) =>
      Object.values(template.Resources as Record<string, any>).find((r) => r.Type === 'Custom::ImportedKeyMaterial').Properties;
    // Same properties as deployed: CloudFormation sends no Update, and the Delete goes through.
    expect(imported(templates['kms-key-lab-primary.template.json'])).toEqual(imported(atDeploy.primary.toJSON()));
    expect(imported(atDeploy.primary.toJSON()).ValidTo).toBe('2026-01-01T00:00:00Z');
  });
});
