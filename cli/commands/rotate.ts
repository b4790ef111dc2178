import { Command } from 'commander';
import { ensureCanConfirm } from '../confirm';
import { UsageError } from '../errors';
import { rotateHelp } from '../rotate/help';
import { parseRotateScenarios, ROTATE_COMMAND } from '../rotate/plan';
import { CommandContext, settingsFor } from './context';

interface RotateCliOptions {
  readonly json?: boolean;
  readonly yes?: boolean;
  readonly dryRun?: boolean;
  readonly scenario?: string;
}

export function registerRotate(program: Command, ctx: CommandContext): void {
  program
    .command('rotate')
    .description(
      "show each key's rotation status and material history, then rotate on demand: (a) in both Regions, the (b) primary (its replica follows), and the imported material of (c) and of the (e) primary, through their escrows ((e)'s new material goes into its replica too; asks first, unless --yes)",
    )
    .option('--json', 'print the status, plan and results as JSON (schemaVersion 1) instead of tables')
    .option('--yes', 'rotate without asking (needed when stdin is not a terminal)')
    .option('--dry-run', 'show the status and what would be rotated; rotate nothing, ask nothing')
    .option('--scenario <list>', 'comma-separated scenarios: a, b, c, d, e (default: all; d only shows that it cannot rotate)')
    .addHelpText('after', rotateHelp)
    .action(async (options: RotateCliOptions, command: Command) => {
      const scenarios = parseRotateScenarios(options.scenario);
      if (typeof scenarios === 'string') throw new UsageError(`${scenarios}.`);
      const settings = settingsFor(command, ctx.io);
      if (!options.dryRun) ensureCanConfirm(ctx.io, options.yes, ROTATE_COMMAND);
      // Loaded only when rotate runs (see verify.ts for why require).
      const { runRotate } = require('../rotate/run') as typeof import('../rotate/run');
      ctx.setExitCode(await runRotate(settings, { scenarios, yes: options.yes, dryRun: options.dryRun, json: options.json }, ctx.io));
    });
}
