import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from './errors';

/**
 * The "context" object of cdk.json in dir, as `cdk` reads it from the current
 * directory. No cdk.json: an empty context, so the defaults apply.
 */
export function readCdkContext(dir: string): Record<string, unknown> {
  const file = path.join(dir, 'cdk.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`Could not read ${file}: ${(error as Error).message}. What to do: make it readable, or run kms-lab from another directory.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file} is not valid JSON (${(error as Error).message}). What to do: fix the file; \`npx cdk synth\` reads it the same way.`);
  }
  const context = (parsed as { context?: unknown } | null)?.context;
  if (context === undefined) return {};
  if (typeof context !== 'object' || context === null || Array.isArray(context)) {
    throw new UsageError(`"context" in ${file} is not an object. What to do: make it an object of settings, e.g. { "prefix": "kms-key-lab" }.`);
  }
  return context as Record<string, unknown>;
}
