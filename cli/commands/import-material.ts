import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { ensureCanConfirm } from '../confirm';
import { UsageError } from '../errors';
import { IMPORT_MATERIAL_COMMAND } from '../import-material/plan';
import { keyRegion, parseKeyRef } from '../key/actions';
import { decodeMaterialFile, MATERIAL_FILE_FORMS } from '../key-material/file';
import { CommandContext, settingsFor } from './context';

interface ImportMaterialCliOptions {
  readonly key: string;
  readonly file?: string;
  readonly fromEscrow?: boolean;
  readonly region?: string;
  readonly rotate?: boolean;
  readonly yes?: boolean;
}

/** The file's bytes; a file that cannot be read is a usage error, named without its content. */
function readMaterialFile(file: string, cwd: string): Buffer {
  try {
    return fs.readFileSync(path.resolve(cwd, file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(`Could not read ${file} (${code}). What to do: give the path of a readable file that holds ${MATERIAL_FILE_FORMS}.`);
  }
}

export function registerImportMaterial(program: Command, ctx: CommandContext): void {
  program
    .command('import-material')
    .description(
      'bring your own key material for an Origin EXTERNAL key: read it from a file, wrap it here with the RSA public key of GetParametersForImport, and import it (only the wrapped bytes leave this process; asks first, unless --yes)',
    )
    .requiredOption('--key <key>', "the key: an alias (alias/kms-key-lab/imported-material, or just imported-material or multi-region-imported for the lab's own), a key id, a key ARN or an alias ARN")
    .option('--file <path>', `the material: ${MATERIAL_FILE_FORMS}`)
    .option(
      '--from-escrow',
      "instead of --file, for the lab's keys (c) and (e): import the material the lab escrowed, read from the primary Region's escrow secret, as EXISTING_KEY_MATERIAL (e.g. into an (e) replica left PendingImport); key administrators only",
    )
    .option('--region <region>', "the key's Region (default: the lab's primary Region; an ARN names its own)")
    .option('--rotate', 'import it as new material (NEW_KEY_MATERIAL) into a key that holds other material, and rotate to it (RotateKeyOnDemand); without it, the material must be the one the key holds')
    .option('--yes', 'import without asking (needed when stdin is not a terminal)')
    .action(async (options: ImportMaterialCliOptions, command: Command) => {
      const settings = settingsFor(command, ctx.io);
      const ref = parseKeyRef(options.key, settings.prefix);
      if (typeof ref === 'string') throw new UsageError(`${ref}.`);
      const region = keyRegion(ref, options.region, settings.primaryRegion);
      if (typeof region !== 'string') throw new UsageError(`${region.problem}.`);
      if ((options.file === undefined) === !options.fromEscrow) {
        throw new UsageError('import-material takes the material from exactly one of --file <path> and --from-escrow. What to do: give one of them.');
      }
      if (options.fromEscrow && options.rotate) {
        throw new UsageError(
          "--from-escrow imports material the key already holds, and --rotate new material. What to do: to rotate the lab's keys (c) and (e), run `kms-lab rotate --scenario c,e`, which escrows new material first; to restore escrowed material, leave --rotate out.",
        );
      }
      let material: Buffer | undefined;
      if (options.file !== undefined) {
        const decoded = decodeMaterialFile(options.file, readMaterialFile(options.file, ctx.io.cwd));
        if (typeof decoded === 'string') throw new UsageError(decoded);
        material = decoded;
      }
      ensureCanConfirm(ctx.io, options.yes, IMPORT_MATERIAL_COMMAND);

      // Loaded only when import-material runs (see verify.ts for why require).
      const { runImportMaterial } = require('../import-material/run') as typeof import('../import-material/run');
      const input = { ref, region, file: options.file, material, fromEscrow: options.fromEscrow, rotate: options.rotate, yes: options.yes };
      ctx.io.stdout(await runImportMaterial(settings, input, ctx.io));
    });
}
