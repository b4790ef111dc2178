import { Command } from 'commander';
import { UsageError } from '../errors';
import { parseScenarios, renderVerifyJson, verifyExitCode } from '../verify/report';
import { CommandContext, settingsFor } from './context';

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

function roleArn(option: string, value: string | undefined): string | undefined {
  if (value === undefined || ROLE_ARN.test(value)) return value;
  throw new UsageError(`${option} "${value}" is not an IAM role ARN. What to do: give one such as arn:aws:iam::123456789012:role/KeyAdmin.`);
}

interface VerifyCliOptions {
  readonly json?: boolean;
  readonly scenario?: string;
  readonly adminRole?: string;
  readonly userRole?: string;
}

export function registerVerify(program: Command, ctx: CommandContext): void {
  program
    .command('verify')
    .description('prove each deployed scenario against AWS: encrypt/decrypt round trips, cross-Region behaviour (both ways for (e)), imported material in every Region, envelope encryption, the grant and the key policy split')
    .option('--json', 'print the report as JSON (schemaVersion 1) instead of a table')
    .option('--scenario <list>', 'comma-separated scenarios to check: a, b, c, d, e, grant, policy (default: all)')
    .option('--admin-role <arn>', 'a key administrator role to assume: it must be denied Encrypt (default: the lab\'s own KeyAdmin role, from the roles stack, when keyAdminArns is empty)')
    .option('--user-role <arn>', 'a key user role: IAM\'s policy simulator must find it denied ScheduleKeyDeletion, no deletion is ever attempted (default: the lab\'s own KeyUser role, when keyUserArns is empty)')
    .action(async (options: VerifyCliOptions, command: Command) => {
      const scenarios = parseScenarios(options.scenario);
      if (typeof scenarios === 'string') throw new UsageError(`${scenarios}.`);
      const adminRoleArn = roleArn('--admin-role', options.adminRole);
      const userRoleArn = roleArn('--user-role', options.userRole);
      const settings = settingsFor(command, ctx.io);

      // Loaded here, not at start-up, so --help stays fast: the SDK clients and the Encryption SDK take most of the load time.
      // require, not import(): the launcher registers tsx for require only, and Node's own import() cannot load .ts files.
      const { runVerify } = require('../verify/run') as typeof import('../verify/run');
      const { renderVerifyTable, failureParagraphs } = require('../verify/render') as typeof import('../verify/render');
      const report = await runVerify(settings, { scenarios, adminRoleArn, userRoleArn });
      ctx.io.stdout(options.json ? renderVerifyJson(report) : renderVerifyTable(report));
      for (const paragraph of failureParagraphs(report)) ctx.io.stderr(`${paragraph}\n`);
      ctx.setExitCode(verifyExitCode(report));
    });
}
