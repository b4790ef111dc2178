import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BaseCredentials, CdkAppMultiContext, IIoHost, IoMessage, IoRequest, StackActivity, StackSelectionStrategy, Toolkit } from '@aws-cdk/toolkit-lib';
import type { DeployRequest } from './flow';

/**
 * The integ run's synth and deploy, through @aws-cdk/toolkit-lib: the app as
 * `cdk deploy --all` runs it, with cdk.json's context (plus cdk.context.json
 * and ~/.cdk.json, as cdk reads them) under the -c overrides.
 */
export async function synthAndDeployWithToolkit(
  request: DeployRequest & { readonly root: string; readonly out: (text: string) => void; readonly err: (text: string) => void },
): Promise<{ stacks: string[] }> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(request.root, 'cdk.json'), 'utf8')) as { app?: string };
  const toolkit = new Toolkit({
    ioHost: new ConciseIoHost(request.out, request.err),
    emojis: false,
    color: false,
    ...(request.profile ? { sdkConfig: { baseCredentials: BaseCredentials.awsCliCompatible({ profile: request.profile }) } } : {}),
  });
  // A directory of its own, so the run neither locks nor overwrites the cdk.out another command may be using.
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-key-lab-integ-'));
  try {
    const source = await toolkit.fromCdkApp(cdkJson.app ?? 'npx tsx bin/kms-key-lab.ts', {
      workingDirectory: request.root,
      outdir,
      disposeOutdir: true,
      contextStore: new CdkAppMultiContext(request.root, { ...request.context }),
      // The lab looks nothing up (Availability Zones are settings), so nothing is written to cdk.context.json.
      lookups: false,
    });
    const result = await toolkit.deploy(source, { stacks: { strategy: StackSelectionStrategy.ALL_STACKS } });
    return { stacks: result.stacks.map((s) => s.stackName) };
  } finally {
    // Also when the synth failed, before the assembly could dispose of it.
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** Deploy progress in a few lines: each stack's start and end, stack-level events, custom resources done, and every failure. */
class ConciseIoHost implements IIoHost {
  /** Annotation texts already shown. */
  private readonly seen = new Set<string>();

  constructor(
    private readonly out: (text: string) => void,
    private readonly err: (text: string) => void,
  ) {}

  async notify(msg: IoMessage<unknown>): Promise<void> {
    const line = this.line(msg);
    if (line !== undefined) (msg.level === 'error' || msg.level === 'warn' ? this.err : this.out)(`${line}\n`);
  }

  /** Nobody to ask: the run deploys what it synthesized, as `cdk deploy --require-approval never` would. */
  async requestResponse<T>(msg: IoRequest<unknown, T>): Promise<T> {
    return msg.defaultResponse;
  }

  private line(msg: IoMessage<unknown>): string | undefined {
    // The app's stderr: esbuild's lines for each bundle say nothing an integ run needs.
    if (msg.code === 'CDK_ASSEMBLY_E1002' && BUNDLING_CHATTER.test(msg.message)) return undefined;
    // Annotations come as blocks ("<file:line>\nWARNING <text> (Annotation)\n   <stack> ...\n   Acknowledge with ..."), one per stack: each text once.
    const annotations = [...msg.message.matchAll(/^(WARNING|ERROR) (.*?)(?: \(Annotation\))?$/gm)];
    if (annotations.length > 0) {
      const fresh = [...new Set(annotations.map((m) => `${m[1].toLowerCase()}: ${m[2]}`))].filter((text) => !this.seen.has(text));
      fresh.forEach((text) => this.seen.add(text));
      return fresh.length > 0 ? fresh.join('\n') : undefined;
    }
    if (msg.level === 'warn') return `warning: ${msg.message.trim()}`;
    if (msg.level === 'error') return msg.message.trimEnd();
    if (msg.code === 'CDK_TOOLKIT_I5502') return activityLine(msg.data as StackActivity);
    if (msg.code && SHOWN.has(msg.code)) return msg.message.trim();
    return undefined;
  }
}

const BUNDLING_CHATTER = /^\s*$|^Bundling asset |^\s*\.\.\..*\s[\d.]+[km]?b\s*$|^\s*Done in \d+ms\s*$/;

const SHOWN = new Set([
  'CDK_TOOLKIT_I1000', // synthesis time
  'CDK_TOOLKIT_I5100', // "<stack>: deploying... [1/2]"
  'CDK_TOOLKIT_I5900', // "<stack>" deployed
  'CDK_TOOLKIT_I5000', // deployment time
]);

function activityLine({ event, progress }: StackActivity): string | undefined {
  const status = event.ResourceStatus ?? '';
  const type = event.ResourceType ?? '';
  const stackLevel = type === 'AWS::CloudFormation::Stack';
  // Custom resources are the lab's slow steps (material import, HSMs, the key store).
  if (!stackLevel && !status.endsWith('FAILED') && !(type.startsWith('Custom::') && status.endsWith('_COMPLETE'))) return undefined;
  const time = (event.Timestamp ?? new Date()).toISOString().slice(11, 19);
  const what = stackLevel ? event.StackName : `${event.StackName} ${event.LogicalResourceId} (${type})`;
  const reason = event.ResourceStatusReason && status.endsWith('FAILED') ? `: ${event.ResourceStatusReason}` : '';
  return `  ${time}  ${progress.formatted.trim().padEnd(7)}  ${status.padEnd(20)}  ${what}${reason}`;
}
