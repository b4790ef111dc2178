import { CliError, UsageError } from './errors';
import { CliIo } from './io';

/** A command that changes AWS, as the operator typed it and in a few words what it does. */
export interface ChangingCommand {
  /** e.g. `kms-lab key disable`. */
  readonly name: string;
  /** e.g. `disables a KMS key`. */
  readonly does: string;
}

/** The paragraph for a command that needs a confirmation it cannot ask for. */
export function cannotAskMessage(command: ChangingCommand): string {
  return (
    `${command.name} ${command.does} and asks for confirmation first, but there is no terminal to ask on (stdin is not a TTY), so nothing was changed. ` +
    'What to do: run it in a terminal and answer the question, or add --yes to confirm on the command line.'
  );
}

/** The paragraph for a question answered no (or left empty). */
export function notConfirmedMessage(command: ChangingCommand): string {
  return `${command.name} was not confirmed, so nothing was changed. What to do: run it again and answer y, or add --yes.`;
}

/**
 * Refuses at once, before any AWS call, when the command would have to ask
 * and cannot: without --yes and without a terminal. Exit 2: the command
 * line, not AWS, decides it.
 */
export function ensureCanConfirm(io: CliIo, yes: boolean | undefined, command: ChangingCommand): void {
  if (!yes && !io.confirm) throw new UsageError(cannotAskMessage(command));
}

/** Asks the question unless --yes was given; a "no" ends the command (exit 1) with nothing changed. */
export async function confirmOrStop(io: CliIo, yes: boolean | undefined, question: string, command: ChangingCommand): Promise<void> {
  if (yes) return;
  if (!io.confirm) throw new UsageError(cannotAskMessage(command));
  if (!(await io.confirm(question))) throw new CliError(notConfirmedMessage(command));
}
