/**
 * Where a command writes and what it reads from its surroundings. The real
 * process provides it in main.ts; tests pass their own, so they run the CLI
 * in-process and read what it printed.
 */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The directory whose cdk.json names the lab, as cdk reads it. */
  readonly cwd: string;
  readonly now: () => Date;
}

export function processIo(): CliIo {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    cwd: process.cwd(),
    now: () => new Date(),
  };
}
