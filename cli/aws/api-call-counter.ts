/** How many AWS API calls a command made, for the benchmark; SDK retries of one call count once. */
export class ApiCallCounter {
  private readonly counts = new Map<string, number>();

  record(operation: string): void {
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
  }

  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  /** Calls per operation, e.g. { Encrypt: 6, Decrypt: 8 }, sorted by name. */
  byOperation(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }
}

interface SendingClient {
  send(command: unknown, ...rest: unknown[]): unknown;
}

/**
 * Counts every command the client sends. It wraps `send` rather than adding
 * middleware so that calls answered by aws-sdk-client-mock (which replaces
 * the prototype's send, skipping middleware) are counted too; the prototype's
 * send is looked up per call for the same reason.
 */
export function countCalls<C extends SendingClient>(client: C, counter: ApiCallCounter): C {
  const prototype = Object.getPrototypeOf(client) as SendingClient;
  client.send = function countedSend(this: C, command: unknown, ...rest: unknown[]) {
    const name = (command as { constructor?: { name?: string } })?.constructor?.name ?? 'Unknown';
    counter.record(name.replace(/Command$/, ''));
    return prototype.send.call(this, command, ...rest);
  } as C['send'];
  return client;
}
