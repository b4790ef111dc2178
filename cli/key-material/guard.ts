import { redactMaterial } from '../../lambda/import-key-material/material';
import { AwsCallError, CliError } from '../errors';
import { explainError } from '../error-messages';

/**
 * The last line of defence for key material: every text a command prints or
 * throws passes through it, with every material the command has held (new,
 * current, earlier, from a file) replaced in any spelling. Nothing is meant
 * to need it: no message is built from material.
 */
export class MaterialGuard {
  private readonly materials: Buffer[] = [];

  hold(material: Buffer): Buffer {
    this.materials.push(material);
    return material;
  }

  text(text: string): string {
    return this.materials.reduce((t, m) => redactMaterial(t, m), text);
  }

  /** The error main will print, its message guarded: a CliError keeps its exit code, a failed AWS call is explained. */
  error(error: unknown): Error {
    if (error instanceof CliError) return new CliError(this.text(error.message), error.exitCode);
    if (error instanceof AwsCallError) return new CliError(this.text(explainError(error)));
    if (!(error instanceof Error)) return new Error(this.text(String(error)));
    const safe = new Error(this.text(error.message));
    safe.name = error.name;
    return safe;
  }
}
