import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { synthLab } from './helpers/lab';

/** Synthesizes with real esbuild bundling into a fresh folder and returns each template's bytes. */
function synthTemplates(): { dir: string; templates: Record<string, string> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-key-lab-synth-'));
  const { app } = synthLab({ cloudHsm: true }, { bundle: true, outdir: dir });
  app.synth();
  const templates: Record<string, string> = {};
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.template.json'))) {
    templates[file] = fs.readFileSync(path.join(dir, file), 'utf8');
  }
  return { dir, templates };
}

describe('deterministic synth', () => {
  const first = synthTemplates();
  const second = synthTemplates();
  afterAll(() => {
    for (const dir of [first.dir, second.dir]) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the same settings give byte-identical templates, bundled assets included', () => {
    expect(Object.keys(first.templates).sort()).toEqual(['kms-key-lab-cloudhsm.template.json', 'kms-key-lab-primary.template.json', 'kms-key-lab-roles.template.json', 'kms-key-lab-secondary.template.json']);
    expect(second.templates).toEqual(first.templates);
  });

  test('templates hold no machine paths, user names or timestamps', () => {
    for (const text of Object.values(first.templates)) {
      expect(text).not.toContain(process.cwd());
      expect(text).not.toContain(first.dir);
      expect(text).not.toContain(os.homedir());
      expect(text).not.toMatch(/20\d\d-\d\d-\d\dT\d\d:\d\d/);
    }
  });

  test('each handler is really bundled, with the SDK left to the runtime', () => {
    const assets = fs.readdirSync(first.dir).filter((f) => f.startsWith('asset.'));
    const handlers = assets
      .map((a) => path.join(first.dir, a, 'index.js'))
      .filter((f) => fs.existsSync(f) && fs.readFileSync(f, 'utf8').includes('onEvent'));
    // Nine, the replica handler (replica-key) and the roles stack's wait for IAM (iam-settle).
    expect(handlers.length).toBe(11);
    for (const file of handlers) {
      const code = fs.readFileSync(file, 'utf8');
      expect(code).toMatch(/require\("@aws-sdk\/client-[a-z0-9-]+"\)/);
      // Only the CA code carries a library of its own (@peculiar/x509); every other handler is the lab's code alone.
      expect(fs.statSync(file).size).toBeLessThan(code.includes('cloudhsm-ca@1') ? 400_000 : 50_000);
    }
  });
});
