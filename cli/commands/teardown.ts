import { Command } from 'commander';
import { ensureCanConfirm } from '../confirm';
import { MAX_STACK_WAIT_MS, POLL_INTERVAL_MS } from '../teardown/plan';
import { CommandContext, settingsFor } from './context';

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function registerTeardown(program: Command, ctx: CommandContext): void {
  program
    .command('teardown')
    .description(
      "destroy the lab in order (the cloudhsm stack, then secondary, then primary, then roles), waiting for each and showing its events; " +
        'keep the roles stack while an escrow secret its key administrator role can restore is scheduled for deletion, unless --with-roles; keep the opt-in alarm stacks (alarm-secondary, alarm-primary), which watch for use of the keys pending deletion and delete themselves once the keys pending deletion are past their window, unless --with-alarms; ' +
        'then report what is left and when it goes, and delete a key store whose wait is over (run it again later for that). Exit 0 only when every stack is gone or kept and nothing billable is left',
    )
    .option('--yes', 'do it without asking (needed when stdin is not a terminal)')
    .option('--with-alarms', 'also delete the alarm stacks, after the roles stack (alarm-secondary, then alarm-primary): this ends the watch for use of the keys pending deletion now')
    .option(
      '--with-roles',
      'delete the roles stack even while an escrow secret its key administrator role can restore is scheduled for deletion: from then on only the account root user can restore the escrow',
    )
    .option('--json', 'print the report as JSON (schemaVersion 1) on stdout; progress goes to stderr')
    .action(async (options: { yes?: boolean; json?: boolean; withAlarms?: boolean; withRoles?: boolean }, command: Command) => {
      const settings = settingsFor(command, ctx.io);
      ensureCanConfirm(ctx.io, options.yes, { name: 'kms-lab teardown', does: "deletes the lab's stacks" });

      // Loaded only when teardown runs (see verify.ts for why require).
      const { runTeardown } = require('../teardown/run') as typeof import('../teardown/run');
      const { renderTeardownJson, renderTeardownText } = require('../teardown/render') as typeof import('../teardown/render');
      const { teardownExitCode } = require('../teardown/report') as typeof import('../teardown/report');
      const progress = (line: string) => (options.json ? ctx.io.stderr : ctx.io.stdout)(`${line}\n`);
      const waiting = { sleep: ctx.io.sleep ?? realSleep, pollIntervalMs: POLL_INTERVAL_MS, maxStackWaitMs: MAX_STACK_WAIT_MS, progress };
      const report = await runTeardown(settings, ctx.io, { yes: options.yes, withAlarms: options.withAlarms, withRoles: options.withRoles, waiting });
      ctx.io.stdout(options.json ? renderTeardownJson(report) : renderTeardownText(report));
      for (const paragraph of report.problems) ctx.io.stderr(`${paragraph}\n`);
      for (const paragraph of report.warnings) ctx.io.stderr(`Warning: ${paragraph}\n`);
      ctx.setExitCode(teardownExitCode(report));
    });
}
