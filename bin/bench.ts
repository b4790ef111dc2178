#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * Offline figures for the lab: synth time against a one-key baseline app,
 * test time, and each Lambda bundle's size and module-load time.
 * `--runs N` repeats each synth (median reported); `--skip-tests` leaves out npm test.
 */
const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'node_modules', '.bin');
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 3;
const skipTests = args.includes('--skip-tests');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

function timed(command: string, commandArgs: string[], env: NodeJS.ProcessEnv = {}): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, commandArgs, { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) {
    throw new Error(`${command} ${commandArgs.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  }
  return ms;
}

function synth(outdir: string, app?: string): number {
  fs.rmSync(outdir, { recursive: true, force: true });
  // Everything the lab can hold: every scenario, (d) opted in, and the alarm stacks of both Regions.
  const appArgs = app ? ['--app', app] : ['-c', 'cloudHsm=true', '-c', 'deletionAlarm=true', '-c', 'deletionAlarmEmail=ops@example.com'];
  return timed(path.join(BIN, 'cdk'), ['synth', '-q', '--no-notices', '-o', outdir, ...appArgs]);
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-key-lab-bench-'));
try {
  const labDir = path.join(scratch, 'lab');
  const lab: number[] = [];
  const baseline: number[] = [];
  // Interleaved, so both see the same machine load.
  for (let i = 0; i < runs; i++) {
    lab.push(synth(labDir));
    baseline.push(synth(path.join(scratch, 'baseline'), `${path.join(BIN, 'tsx')} bin/bench-baseline-app.ts`));
  }
  const labMs = median(lab);
  const baseMs = median(baseline);

  console.log(`KMS Key Lab benchmark (${os.cpus().length} cores, Node ${process.version}, median of ${runs})`);
  console.log('');
  console.log('cdk synth (CLI, tsx, esbuild bundling, cdk-nag)');
  const stackCount = fs.readdirSync(labDir).filter((f) => f.endsWith('.template.json')).length;
  console.log(`  whole lab, ${stackCount} stacks (a-e, alarm) ${seconds(labMs)}`);
  console.log(`  baseline, 1 stack, 1 key    ${seconds(baseMs)}`);
  console.log(`  ratio lab / baseline        ${(labMs / baseMs).toFixed(2)}x`);

  console.log('');
  console.log('Lambda bundles (SDK v3 provided by the Node.js 24 runtime)');
  for (const a of bundleAssets(labDir)) {
    const code = Buffer.concat(a.files.map((f) => fs.readFileSync(f)));
    const loads = Array.from({ length: 5 }, () => moduleLoadMs(a.entry));
    const load = loads.includes(undefined) ? 'load n/a (needs an SDK client not installed here)' : `load ${median(loads as number[]).toFixed(0)} ms`;
    console.log(`  ${a.name.padEnd(44)} ${kib(code.length).padStart(9)} raw ${kib(gzipSync(code).length).padStart(9)} gzip   ${load}`);
  }

  console.log('');
  const timeline = spawnSync(path.join(BIN, 'tsx'), ['bin/bench-timeline.ts', path.join(labDir, 'kms-key-lab-cloudhsm.template.json')], {
    cwd: ROOT,
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
    encoding: 'utf8',
  });
  if (timeline.status !== 0) throw new Error(`bench-timeline failed:\n${timeline.stdout}\n${timeline.stderr}`);
  console.log(timeline.stdout.trimEnd());

  console.log('');
  const watch = spawnSync(path.join(BIN, 'tsx'), ['bin/bench-watch.ts', labDir], { cwd: ROOT, env: { ...process.env, NODE_NO_WARNINGS: '1' }, encoding: 'utf8' });
  if (watch.status !== 0) throw new Error(`bench-watch failed:\n${watch.stdout}\n${watch.stderr}`);
  console.log(watch.stdout.trimEnd());

  console.log('');
  const cli = spawnSync(path.join(BIN, 'tsx'), ['bin/bench-cli.ts'], { cwd: ROOT, env: { ...process.env, NODE_NO_WARNINGS: '1' }, encoding: 'utf8' });
  if (cli.status !== 0) throw new Error(`bench-cli failed:\n${cli.stdout}\n${cli.stderr}`);
  console.log(cli.stdout.trimEnd());

  if (!skipTests) {
    console.log('');
    const testMs = timed('npm', ['test', '--silent'], { CI: 'true' });
    console.log(`npm test (tsc --noEmit + jest)  ${seconds(testMs)}`);
  }
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}

/** Each distinct Lambda bundle, named after the construct that owns it. */
function bundleAssets(outdir: string): { name: string; entry: string; files: string[] }[] {
  const found = new Map<string, { name: string; entry: string; files: string[] }>();
  for (const templateFile of fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json'))) {
    const template = JSON.parse(fs.readFileSync(path.join(outdir, templateFile), 'utf8'));
    for (const resource of Object.values(template.Resources) as { Type: string; Metadata?: Record<string, string> }[]) {
      const assetPath = resource.Metadata?.['aws:asset:path'];
      if (resource.Type !== 'AWS::Lambda::Function' || !assetPath || found.has(assetPath)) continue;
      const dir = path.join(outdir, assetPath);
      const files = fs.readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => path.join(dir, f));
      const isFramework = files.some((f) => f.endsWith('framework.js'));
      const cdkPath = resource.Metadata!['aws:cdk:path'].split('/');
      const name = isFramework ? 'Provider framework (aws-cdk-lib, shared)' : cdkPath.slice(1, -1).join('/');
      found.set(assetPath, { name, entry: path.join(dir, isFramework ? 'framework.js' : 'index.js'), files });
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Time to load a bundle in a fresh Node process, the local stand-in for a Lambda cold start's init phase. */
function moduleLoadMs(file: string): number | undefined {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});console.log(Number(process.hrtime.bigint()-t)/1e6)`;
  const result = spawnSync(process.execPath, ['-e', script], {
    cwd: ROOT,
    env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') },
    encoding: 'utf8',
  });
  return result.status === 0 ? Number(result.stdout.trim()) : undefined;
}
