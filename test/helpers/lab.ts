import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readLabConfig } from '../../lib/config/lab-config';
import { buildLab, Lab } from '../../lib/lab-app';
import cdkJson from '../../cdk.json';

/** The context cdk.json gives a real synth: feature flags and setting defaults. */
export const CDK_JSON_CONTEXT: Record<string, unknown> = cdkJson.context;

/** A fixed "now" so expiry checks do not depend on the day the tests run. */
export const NOW = new Date('2026-11-23T00:00:00Z');

export const ADMIN = 'arn:aws:iam::111111111111:role/KeyAdmin';
export const USER = 'arn:aws:iam::111111111111:role/KeyUser';

export interface SynthOptions {
  /** Bundle the Lambda code with esbuild (slower); off by default. */
  readonly bundle?: boolean;
  readonly outdir?: string;
  /** The instant settings are checked against. @default NOW */
  readonly now?: Date;
}

export interface SynthesizedLab {
  readonly app: App;
  /** What synthesis printed as warnings (the validation report), captured instead of cluttering the test output. */
  readonly warnings: string;
  readonly lab: Lab;
  readonly primary: Template;
  readonly secondary: Template;
  /** Scenario (d), present with the opt-in `cloudHsm: true`. */
  readonly cloudHsm?: Template;
  /** The lab roles. */
  readonly roles: Template;
  /** The alarm stacks, present with the opt-in `deletionAlarm: true`. */
  readonly deletionAlarms?: { readonly primary: Template; readonly secondary: Template };
}

/** Synthesizes the whole lab as `cdk synth` would, with settings on top of cdk.json's. */
export function synthLab(settings: Record<string, unknown> = {}, options: SynthOptions = {}): SynthesizedLab {
  const app = new App({
    outdir: options.outdir,
    context: {
      ...CDK_JSON_CONTEXT,
      ...settings,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
  });
  const lab = buildLab(app, readLabConfig(app.node, { now: options.now ?? NOW }));
  const printed: string[] = [];
  const spy = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void printed.push(args.join(' ')));
  try {
    return {
      app,
      lab,
      primary: Template.fromStack(lab.primary),
      secondary: Template.fromStack(lab.secondary),
      cloudHsm: lab.cloudHsm ? Template.fromStack(lab.cloudHsm) : undefined,
      roles: Template.fromStack(lab.roles),
      deletionAlarms: lab.deletionAlarms
        ? { primary: Template.fromStack(lab.deletionAlarms.primary), secondary: Template.fromStack(lab.deletionAlarms.secondary) }
        : undefined,
      warnings: printed.join('\n'),
    };
  } finally {
    spy.mockRestore();
  }
}

/** Replaces asset hashes, which change with every edit to a handler, so snapshots show only real changes. */
export function normalizeTemplate(template: unknown): unknown {
  return JSON.parse(JSON.stringify(template).replace(/[0-9a-f]{64}/g, '[ASSET_HASH]'));
}

/** Resources of one type, by logical id. */
export function resourcesOfType(template: Template, type: string): Record<string, { Properties: Record<string, any>; [k: string]: any }> {
  return template.findResources(type) as never;
}
