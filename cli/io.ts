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
  /**
   * Asks the operator a yes/no question; absent when there is no terminal to
   * ask on (stdin not a TTY), so a command that needs confirmation without
   * --yes refuses instead of waiting for an answer that cannot come.
   */
  readonly confirm?: (question: string) => Promise<boolean>;
  /** Waits between polls; tests pass one that returns at once. Default: a real timer. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export function processIo(): CliIo {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    cwd: process.cwd(),
    now: () => new Date(),
    ...(process.stdin.isTTY ? { confirm: askOnTerminal } : {}),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

/** The question on stderr (stdout may be JSON), answered on stdin; only y or yes confirms. */
async function askOnTerminal(question: string): Promise<boolean> {
  // Loaded only when a command asks: most runs never do.
  const readline = require('node:readline/promises') as typeof import('node:readline/promises');
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^(y|yes)$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
