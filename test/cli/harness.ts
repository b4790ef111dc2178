import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliIo } from '../../cli/io';
import { main } from '../../cli/main';
import { OPERATOR_ACCESS_KEY } from './fake-aws';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A directory of its own per test, holding cdk.json when the test writes one. */
export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'kms-lab-cli-'));
}

export function writeCdkJson(dir: string, context: Record<string, unknown>): void {
  fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ app: 'npx tsx bin/kms-key-lab.ts', context }));
}

/** Runs kms-lab in-process, as `kms-lab <argv>` would from cwd. */
export async function runCli(argv: string[], options: { cwd?: string; now?: Date; io?: Partial<Pick<CliIo, 'confirm' | 'sleep'>> } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    cwd: options.cwd ?? tempDir(),
    now: () => options.now ?? new Date('2025-06-01T06:00:00Z'),
    // Polls return at once; no confirm, as without a terminal, unless a test passes one.
    sleep: async () => undefined,
    ...options.io,
  });
  return { code, stdout, stderr };
}

const AWS_ENV = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED',
];

/**
 * The operator's credentials in the environment, and nothing else the SDK
 * could find (no config files, no instance metadata), restored after each test.
 */
export function useOperatorCredentials(): void {
  const saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    for (const k of AWS_ENV) {
      saved[k] = process.env[k];
      delete process.env[k];
    }
    process.env.AWS_ACCESS_KEY_ID = OPERATOR_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = 'operator-secret';
    process.env.AWS_CONFIG_FILE = path.join(os.tmpdir(), 'kms-lab-no-such-config');
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(os.tmpdir(), 'kms-lab-no-such-credentials');
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  });
  afterEach(() => {
    for (const k of AWS_ENV) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });
}

/** Parses `verify --json` output, failing the test with the output if it is not JSON. */
export function json<T = Record<string, unknown>>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON:\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}
