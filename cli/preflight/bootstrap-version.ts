import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The bootstrap stack version that aws-cdk-lib 2.276.0's DefaultStackSynthesizer
 * requires to deploy a stack and publish its assets: MIN_BOOTSTRAP_STACK_VERSION
 * in node_modules/aws-cdk-lib/core/lib/stack-synthesizers/default-synthesizer.js
 * (22 only with session tags on the deploy or publishing roles, which the lab
 * does not set; the lookup role's 8 matters only to context lookups, which the
 * lab has none of). The synthesized template checks it too: its CheckBootstrapVersion
 * rule refuses versions 1 to 5.
 */
export const DEFAULT_SYNTHESIZER_BOOTSTRAP_VERSION = 6;

export interface RequiredBootstrapVersion {
  /** The highest version any lab stack of the Region requires. */
  readonly version: number;
  /** Where the number came from, for the report. */
  readonly source: string;
}

interface StackArtifact {
  readonly type?: string;
  readonly environment?: string;
  readonly displayName?: string;
  readonly properties?: { readonly stackName?: string; readonly requiresBootstrapStackVersion?: number };
}

/**
 * The version the lab's stacks in `region` require: from the synthesized
 * cloud assembly (cdk.out/manifest.json, each stack artifact's
 * `requiresBootstrapStackVersion`) when it holds a stack of this lab in that
 * Region, otherwise the default synthesizer's requirement.
 */
export function requiredBootstrapVersion(cwd: string, region: string, stackNames: readonly string[]): RequiredBootstrapVersion {
  const file = path.join(cwd, 'cdk.out', 'manifest.json');
  let artifacts: Record<string, StackArtifact> = {};
  try {
    artifacts = (JSON.parse(fs.readFileSync(file, 'utf8')) as { artifacts?: Record<string, StackArtifact> }).artifacts ?? {};
  } catch {
    // No synth yet, or one cut short: the default synthesizer's requirement stands.
  }
  const versions = Object.entries(artifacts)
    .filter(([id, a]) => a.type === 'aws:cloudformation:stack' && stackNames.includes(a.properties?.stackName ?? a.displayName ?? id))
    .filter(([, a]) => (a.environment ?? '').endsWith(`/${region}`))
    .map(([, a]) => a.properties?.requiresBootstrapStackVersion)
    .filter((v): v is number => typeof v === 'number');
  if (versions.length > 0) return { version: Math.max(...versions), source: 'cdk.out/manifest.json' };
  return { version: DEFAULT_SYNTHESIZER_BOOTSTRAP_VERSION, source: "aws-cdk-lib 2.276.0's default synthesizer; no synthesized lab stack of this Region in cdk.out" };
}
