import type { CloudAssembly, CloudFormationStackArtifact } from 'aws-cdk-lib/cx-api';
import type { Template } from './stack-engine';

/** One stack of the cloud assembly, as `cdk deploy` hands it to CloudFormation. */
export interface AssemblyStack {
  readonly stackName: string;
  /** From the artifact's environment; undefined when the app left the account unresolved (`cdk deploy` uses the caller's). */
  readonly account?: string;
  readonly region: string;
  /** The manifest's stack tags (`properties.tags`), which `cdk deploy` passes as CloudFormation stack tags. */
  readonly tags: Record<string, string>;
  readonly template: Template;
  /** Names of the stacks this one depends on (manifest `dependencies`, asset artifacts left out). */
  readonly dependsOn: string[];
}

/**
 * The assembly's stacks in the order `cdk deploy --all` deploys them: each
 * after the stacks it depends on, in the manifest's order otherwise.
 * https://docs.aws.amazon.com/cdk/v2/guide/ref-cli-cmd-deploy.html
 */
export function assemblyStacks(assembly: CloudAssembly): AssemblyStack[] {
  const artifacts = assembly.stacks;
  const byId = new Map(artifacts.map((a) => [a.id, a]));
  const stack = (a: CloudFormationStackArtifact): AssemblyStack => ({
    stackName: a.stackName,
    account: /^\d{12}$/.test(a.environment.account) ? a.environment.account : undefined,
    region: a.environment.region,
    tags: { ...a.tags },
    template: a.template as Template,
    dependsOn: a.dependencies.filter((d) => byId.has(d.id)).map((d) => byId.get(d.id)!.stackName),
  });
  const all = artifacts.map(stack);
  const ordered: AssemblyStack[] = [];
  const placed = new Set<string>();
  while (ordered.length < all.length) {
    const next = all.find((s) => !placed.has(s.stackName) && s.dependsOn.every((d) => placed.has(d)));
    if (!next) throw new Error(`dependency cycle among ${all.filter((s) => !placed.has(s.stackName)).map((s) => s.stackName).join(', ')}`);
    ordered.push(next);
    placed.add(next.stackName);
  }
  return ordered;
}
