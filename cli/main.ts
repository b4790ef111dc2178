import { Command, CommanderError } from 'commander';
import { registerStatus } from './commands/status';
import { registerVerify } from './commands/verify';
import { registerKey } from './commands/key';
import { registerTeardown } from './commands/teardown';
import { registerRotate } from './commands/rotate';
import { registerImportMaterial } from './commands/import-material';
import { registerPreflight } from './commands/preflight';
import { CliError, EXIT } from './errors';
import { CliIo, processIo } from './io';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command('kms-lab')
    .description('Operator CLI of the KMS Key Lab: finds the deployed lab through its CloudFormation stack outputs.')
    .option('-c, --context <key=value>', 'a cdk context value, as `cdk -c` takes it (repeatable): prefix, primaryRegion, secondaryRegion, pendingWindowDays; preflight also reads account, cloudHsm, deletionAlarm, multiRegionImportedKey, hsmAvailabilityZones', collect)
    .option('--prefix <name>', 'the lab\'s name prefix (default: cdk.json\'s "prefix", else kms-key-lab)')
    .option('--profile <name>', 'the AWS profile for every call (default: the SDK\'s usual chain, AWS_PROFILE included)')
    .addHelpText('after', '\nExit codes: 0 success, 1 a check or an AWS call failed, 2 a usage or configuration error.')
    .showSuggestionAfterError()
    // Set before the commands are added, which inherit them: commander must neither exit nor print outside io.
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  const ctx = { io, setExitCode };
  registerPreflight(program, ctx);
  registerVerify(program, ctx);
  registerStatus(program, ctx);
  registerKey(program, ctx);
  registerTeardown(program, ctx);
  registerRotate(program, ctx);
  registerImportMaterial(program, ctx);
  return program;
}

/**
 * Runs kms-lab with argv (the arguments after the program name) and returns
 * its exit code. Every failure is one paragraph on stderr, never a stack trace.
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram(io, (code) => (exitCode = code));
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT.usage;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version end with code 0; commander has already printed its own message for the rest.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof CliError) {
      io.stderr(`${error.message}\n`);
      return error.exitCode;
    }
    const name = error instanceof Error ? error.name : 'Error';
    const message = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
    io.stderr(`kms-lab stopped on an unexpected error (${name}): ${message}. What to do: run it again; if it happens again, report this message.\n`);
    return EXIT.failed;
  }
}

// Run when started by bin/kms-lab.cjs (or directly), not when a test imports main.
if (require.main === module || /kms-lab\.cjs$/.test(require.main?.filename ?? '')) {
  // The SDK warns on every run under Node 20 that versions from 2027 need Node 22; stderr is kept for failures.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
