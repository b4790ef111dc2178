import { Command } from 'commander';
import { readCdkContext } from '../cdk-json';
import { CliIo } from '../io';
import { LabSettings, resolveSettings } from '../settings';

/** The program-wide options, shared by every command (cdk's own spelling for -c). */
export interface GlobalOptions {
  readonly context?: string[];
  readonly prefix?: string;
  readonly profile?: string;
}

/** What a command's action gets from main: where to write, and how to report its exit code. */
export interface CommandContext {
  readonly io: CliIo;
  setExitCode(code: number): void;
}

/** Settings for a command, resolved only when it runs, so `--help` reads no file. */
export function settingsFor(command: Command, io: CliIo): LabSettings {
  const options = command.optsWithGlobals<GlobalOptions>();
  return resolveSettings({ cdkContext: readCdkContext(io.cwd), contextArgs: options.context, prefix: options.prefix, profile: options.profile });
}
