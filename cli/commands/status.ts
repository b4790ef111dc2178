import { Command } from 'commander';
import { EXIT } from '../errors';
import { CommandContext, settingsFor } from './context';

export function registerStatus(program: Command, ctx: CommandContext): void {
  program
    .command('status')
    .description("show what is deployed: stacks, each key's state, rotation and last use, scenario (d)'s key store, expiry and HSM-hours, and what is pending deletion (read-only)")
    .option('--json', 'print the status as JSON (schemaVersion 1) instead of tables')
    .action(async (options: { json?: boolean }, command: Command) => {
      const settings = settingsFor(command, ctx.io);
      // Loaded only when status runs (see verify.ts for why require).
      const { collectStatus } = require('../status/collect') as typeof import('../status/collect');
      const { renderStatusJson, renderStatusText } = require('../status/render') as typeof import('../status/render');
      const now = ctx.io.now();
      const report = await collectStatus(settings, now);
      ctx.io.stdout(options.json ? renderStatusJson(report) : renderStatusText(report, now));
      for (const paragraph of report.problems) ctx.io.stderr(`${paragraph}\n`);
      for (const paragraph of report.warnings) ctx.io.stderr(`Warning: ${paragraph}\n`);
      ctx.setExitCode(report.problems.length === 0 ? EXIT.ok : EXIT.failed);
    });
}
