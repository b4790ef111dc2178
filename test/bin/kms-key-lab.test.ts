import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

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
    return { ...result, files: fs.readdirSync(outdir) };
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
});
