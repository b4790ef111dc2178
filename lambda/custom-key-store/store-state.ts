/** The connection states KMS reports, and the one step the handler takes from each. */
export type StoreStep =
  | { readonly kind: 'done' }
  | { readonly kind: 'wait' }
  | { readonly kind: 'connect' }
  | { readonly kind: 'disconnect-then-fail'; readonly code?: string }
  | { readonly kind: 'disconnect' }
  | { readonly kind: 'delete' };

/** Create or Update: on to CONNECTED. A FAILED connect must be disconnected before anything else (KMS's rule). */
export function connectStep(state: string | undefined, code?: string): StoreStep {
  switch (state) {
    case 'CONNECTED':
      return { kind: 'done' };
    case 'CONNECTING':
    case 'DISCONNECTING':
      return { kind: 'wait' };
    case 'FAILED':
      return { kind: 'disconnect-then-fail', code };
    default:
      // DISCONNECTED: the Connect was not taken yet (eventual consistency), or the store was disconnected by hand.
      return { kind: 'connect' };
  }
}

/** Delete: off to DISCONNECTED (KMS then removes its network interfaces and security group), then delete. */
export function removalStep(state: string | undefined): StoreStep {
  switch (state) {
    case undefined:
      return { kind: 'done' };
    case 'DISCONNECTED':
      return { kind: 'delete' };
    case 'DISCONNECTING':
      return { kind: 'wait' };
    default:
      return { kind: 'disconnect' };
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A key store cannot be deleted while keys, even keys pending deletion, are
 * in it. Its name records when it can go: custom key stores take no tags.
 */
export function waitingName(name: string, keyPendingWindowDays: number, now: Date): string {
  const after = new Date(now.getTime() + (keyPendingWindowDays + 1) * DAY_MS).toISOString().slice(0, 10);
  const suffix = `-delete-after-${after}`;
  return name.endsWith(suffix) ? name : `${name.replace(/-delete-after-\d{4}-\d{2}-\d{2}$/, '')}${suffix}`;
}
