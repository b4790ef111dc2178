import { Command } from 'commander';
import { readCdkContext } from '../cdk-json';
import { UsageError } from '../errors';
import { resolveDeployPlan } from '../preflight/deploy-plan';
import { preflightExitCode, renderPreflightJson } from '../preflight/report';
import { CommandContext, GlobalOptions, settingsFor } from './context';

interface PreflightCliOptions {
  readonly json?: boolean;
  readonly strict?: boolean;
  readonly toolkitStackName: string;
  readonly keyStoreQuota: string;
}

function keyStoreQuota(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1) throw new UsageError(`--key-store-quota "${value}" is not a whole number of 1 or more. What to do: give your account's quota of custom key stores per Region (10 unless raised).`);
  return n;
}

export function registerPreflight(program: Command, ctx: CommandContext): void {
  program
    .command('preflight')
    .description(
      'before a deploy, check the account as the deploy will meet it: credentials and account, the CDK bootstrap in both Regions, trails (with deletionAlarm), custom key stores and HSM zones (with cloudHsm), aliases, roles and replicas in the way, keys pending deletion, stacks in a failed state',
    )
    .option('--json', 'print the report as JSON (schemaVersion 1) instead of a table')
    .option('--strict', 'exit 1 on WARN and UNKNOWN too, not only on FAIL')
    .option('--toolkit-stack-name <name>', 'the CDK bootstrap stack, as `cdk bootstrap --toolkit-stack-name` named it', 'CDKToolkit')
    .option('--key-store-quota <n>', "the account's quota of custom key stores per Region, if raised", '10')
    .addHelpText('after', '\nWhat the deploy holds comes from the same context as `cdk deploy`: cdk.json, then -c (e.g. -c cloudHsm=true -c deletionAlarm=true).\nExit codes: 0 the deploy can go ahead, 1 a check failed, 2 a usage or settings mistake.')
    .action(async (options: PreflightCliOptions, command: Command) => {
      const quota = keyStoreQuota(options.keyStoreQuota);
      const settings = settingsFor(command, ctx.io);
      const globals = command.optsWithGlobals<GlobalOptions>();
      const plan = resolveDeployPlan({ cdkContext: readCdkContext(ctx.io.cwd), contextArgs: globals.context, primaryRegion: settings.primaryRegion });

      // Loaded here, not at start-up, so --help stays fast.
      const { runPreflight } = require('../preflight/run') as typeof import('../preflight/run');
      const { renderPreflightTable, preflightFailures } = require('../preflight/render') as typeof import('../preflight/render');
      const report = await runPreflight(settings, { plan, cwd: ctx.io.cwd, toolkitStackName: options.toolkitStackName, keyStoreQuota: quota, strict: !!options.strict });
      ctx.io.stdout(options.json ? renderPreflightJson(report) : renderPreflightTable(report));
      for (const paragraph of preflightFailures(report)) ctx.io.stderr(`${paragraph}\n`);
      ctx.setExitCode(preflightExitCode(report));
    });
}
