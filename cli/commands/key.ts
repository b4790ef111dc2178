import { Command } from 'commander';
import { ensureCanConfirm } from '../confirm';
import { UsageError } from '../errors';
import { ACTION_TEXT, KEY_ACTIONS, KeyAction, keyRegion, parseKeyRef } from '../key/actions';
import { CommandContext, settingsFor } from './context';

interface KeyCliOptions {
  readonly region?: string;
  readonly yes?: boolean;
  readonly enable?: boolean;
}

export function registerKey(program: Command, ctx: CommandContext): void {
  const key = program
    .command('key')
    .description("the lifecycle steps of the lab's seeds on one KMS key: disable, enable, cancel-deletion, delete-material (each asks first, unless --yes)");
  for (const action of KEY_ACTIONS) {
    const sub = key
      .command(action)
      .description(ACTION_TEXT[action].help)
      .argument('<key>', 'an alias (alias/kms-key-lab/single-region, or just single-region for the lab\'s own), a key id, a key ARN or an alias ARN')
      .option('--region <region>', "the key's Region (default: the lab's primary Region; an ARN names its own)")
      .option('--yes', 'do it without asking (needed when stdin is not a terminal)');
    if (action === 'cancel-deletion') sub.option('--enable', 'also enable the key once its deletion is cancelled (otherwise it comes back Disabled)');
    sub.action(async (keyArg: string, options: KeyCliOptions, command: Command) => {
      const settings = settingsFor(command, ctx.io);
      const ref = parseKeyRef(keyArg, settings.prefix);
      if (typeof ref === 'string') throw new UsageError(`${ref}.`);
      const region = keyRegion(ref, options.region, settings.primaryRegion);
      if (typeof region !== 'string') throw new UsageError(`${region.problem}.`);
      ensureCanConfirm(ctx.io, options.yes, { name: `kms-lab key ${action}`, does: ACTION_TEXT[action].does });

      // Loaded only when a key command runs (see verify.ts for why require).
      const { runKeyAction } = require('../key/run') as typeof import('../key/run');
      const input = { action: action as KeyAction, ref, region, yes: options.yes, enable: options.enable };
      ctx.io.stdout(await runKeyAction(settings, input, ctx.io));
    });
  }
}
