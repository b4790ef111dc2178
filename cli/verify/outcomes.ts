import { explainError } from '../error-messages';
import { CallContext } from '../errors';

/** What a check decided; SKIP when what it found shows it cannot test what it is for (the detail says why). */
export interface Outcome {
  readonly result: 'PASS' | 'FAIL' | 'SKIP';
  readonly detail: string;
}

const pass = (detail: string): Outcome => ({ result: 'PASS', detail });
const fail = (detail: string): Outcome => ({ result: 'FAIL', detail });

/** The key id within an ARN (`mrk-...` for multi-Region keys), or the input if it is no ARN. */
export function keyIdOf(keyRef: string): string {
  const match = /:key\/(.+)$/.exec(keyRef);
  return match ? match[1] : keyRef;
}

function errorNameOf(error: unknown): string {
  const cause = (error as { cause?: unknown } | undefined)?.cause ?? error;
  return cause instanceof Error ? cause.name : 'Error';
}

export interface RoundTrip {
  readonly expectedKeyArn: string;
  /** What Encrypt was given: the alias, as applications use it. */
  readonly encryptedWith: string;
  readonly plaintext: Uint8Array;
  readonly encryptKeyId?: string;
  readonly decrypted?: Uint8Array;
  readonly decryptKeyId?: string;
}

const same = (a: Uint8Array, b: Uint8Array | undefined) => b !== undefined && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

/**
 * A round trip passes when the alias led to the stack's own key (an alias
 * repointed elsewhere is a finding), the plaintext came back unchanged, and
 * Decrypt named the same key.
 */
export function judgeRoundTrip(t: RoundTrip): Outcome {
  if (t.encryptKeyId !== t.expectedKeyArn) {
    return fail(`${t.encryptedWith} encrypted under ${t.encryptKeyId ?? 'no key'}, not under the stack's key ${t.expectedKeyArn}: the alias points elsewhere`);
  }
  if (!same(t.plaintext, t.decrypted)) return fail('Decrypt answered, but the plaintext did not round-trip');
  if (t.decryptKeyId !== t.expectedKeyArn) return fail(`Decrypt named ${t.decryptKeyId ?? 'no key'}, not ${t.expectedKeyArn}`);
  return pass(`${t.plaintext.length} bytes encrypted with ${t.encryptedWith} and decrypted by ${keyIdOf(t.expectedKeyArn)}`);
}

/** KMS's answers that mean "this ciphertext is not for a key here": the refusal scenario (a) expects. */
const REGIONAL_REFUSALS = ['IncorrectKeyException', 'InvalidCiphertextException', 'NotFoundException'];

/**
 * Scenario (a): ciphertext of the primary Region's single-Region key must not
 * decrypt in the secondary Region, even under the same alias. A refusal for
 * another reason (throttling, access) proves nothing, so it fails.
 */
export function judgeCrossRegionRefusal(input: { error?: unknown; call: CallContext; primaryRegion: string; secondaryRegion: string }): Outcome {
  if (input.error === undefined) {
    return fail(`${input.secondaryRegion} decrypted ciphertext of ${input.primaryRegion}'s single-Region key: the keys are not Region-bound`);
  }
  const name = errorNameOf(input.error);
  if (REGIONAL_REFUSALS.includes(name)) {
    return pass(`${input.secondaryRegion} refused ciphertext of ${input.primaryRegion}'s single-Region key (${name})`);
  }
  return fail(explainError(input.error, input.call));
}

/**
 * Scenarios (b) and (e): the replica decrypts what the primary encrypted (or,
 * `reverse`, the primary what the replica encrypted), and both are one key id.
 */
export function judgeCrossRegionDecrypt(input: {
  primaryKeyArn: string;
  replicaKeyArn: string;
  plaintext: Uint8Array;
  decrypted?: Uint8Array;
  decryptKeyId?: string;
  primaryRegion: string;
  secondaryRegion: string;
  reverse?: boolean;
}): Outcome {
  const id = keyIdOf(input.primaryKeyArn);
  if (!id.startsWith('mrk-')) return fail(`${input.primaryKeyArn} is not a multi-Region key (its id does not start with mrk-)`);
  if (keyIdOf(input.replicaKeyArn) !== id) return fail(`the replica ${input.replicaKeyArn} does not share the primary's key id ${id}`);
  if (!same(input.plaintext, input.decrypted)) return fail('Decrypt answered, but the plaintext did not round-trip');
  const [decrypter, decrypterArn] = input.reverse ? ['the primary', input.primaryKeyArn] : ['the replica', input.replicaKeyArn];
  if (input.decryptKeyId !== decrypterArn) return fail(`Decrypt named ${input.decryptKeyId ?? 'no key'}, not ${decrypter} ${decrypterArn}`);
  const [from, to] = input.reverse ? [input.secondaryRegion, input.primaryRegion] : [input.primaryRegion, input.secondaryRegion];
  return pass(`encrypted in ${from}${input.reverse ? ' by the replica' : ''}, decrypted in ${to} by ${decrypter} (same key id ${id})`);
}

/**
 * Scenario (e): each of its keys must hold the imported material. A replica
 * gets none from its primary: its own import (the import handler's, at
 * deploy) gives it the same bytes, and until then it is PendingImport.
 */
export function judgeHoldsMaterial(input: {
  keyArn: string;
  region: string;
  replica: boolean;
  state: string;
  origin?: string;
  currentKeyMaterialId?: string;
  stackName: string;
  prefix: string;
}): Outcome {
  const which = input.replica ? 'the replica' : 'the primary';
  if (input.origin && input.origin !== 'EXTERNAL') return fail(`${which} ${input.keyArn} has Origin ${input.origin}, not EXTERNAL: it does not hold imported material`);
  const material = input.currentKeyMaterialId ? ` (material ${input.currentKeyMaterialId})` : '';
  if (input.state === 'Enabled') return pass(`${which} is Enabled with its imported material${material}, Origin EXTERNAL`);
  if (input.state === 'PendingImport') {
    return fail(
      `${which} ${input.keyArn} in ${input.region} is PendingImport: it holds no key material, so it can neither encrypt nor decrypt. ` +
        `What to do: deploy its stack again (\`npx cdk deploy ${input.stackName}\`), whose import handler imports the escrowed material; ` +
        `or, as a key administrator, \`kms-lab import-material --key ${input.keyArn} --from-escrow\`, which imports the escrowed material as EXISTING_KEY_MATERIAL`,
    );
  }
  return fail(
    `${which} ${input.keyArn} in ${input.region} is ${input.state}, so it cannot be used. ` +
      `What to do: look at it with \`aws kms describe-key --key-id ${input.keyArn} --region ${input.region}\` (\`kms-lab key enable\` or \`kms-lab key cancel-deletion\` bring it back)`,
  );
}

/**
 * A call the key policy must refuse: AccessDeniedException passes. Anything
 * else fails: success means the policy lets the principal through, and
 * another error proves nothing about the policy.
 */
export function judgeDenied(input: { error?: unknown; call: CallContext; who: string }): Outcome {
  if (input.error === undefined) return fail(`${input.who} was allowed ${input.call.operation}: the key policy does not deny it`);
  const name = errorNameOf(input.error);
  if (name === 'AccessDeniedException') return pass(`${input.who} was denied ${input.call.operation} (AccessDeniedException)`);
  return fail(explainError(input.error, input.call));
}

/**
 * A call the policies must refuse, judged by IAM's policy simulator instead
 * of being made: anything but "allowed" (explicitDeny, implicitDeny) passes.
 */
export function judgeSimulatedDenial(input: { decision: string; matched: readonly string[]; who: string; action: string }): Outcome {
  const by = input.matched.length > 0 ? ` by ${input.matched.join(', ')}` : '';
  const how = 'IAM policy simulation of its IAM policies and the key policy; nothing was scheduled';
  if (input.decision === 'allowed') return fail(`${input.who} would be allowed ${input.action}${by} (${how}): the key policy does not deny it`);
  if (input.decision === 'explicitDeny' || input.decision === 'implicitDeny') return pass(`${input.who} is denied ${input.action} (${input.decision}${by}; ${how})`);
  return fail(`IAM's policy simulator gave no decision for ${input.action} (${input.decision})`);
}

/** A custom key store must be CONNECTED for its keys to work. */
export function judgeKeyStore(state: { id: string; connectionState?: string; connectionErrorCode?: string }): Outcome | undefined {
  if (state.connectionState === 'CONNECTED') return undefined;
  const code = state.connectionErrorCode ? `, ConnectionErrorCode ${state.connectionErrorCode}` : '';
  return fail(
    `the custom key store ${state.id} is ${state.connectionState ?? 'not found'}${code}. What to do: connect it with \`aws kms connect-custom-key-store --custom-key-store-id ${state.id}\` (up to 20 minutes), or deploy the cloudhsm stack again`,
  );
}

/** The short form of a detail for the table: its first sentence, without the "What to do" part that stderr prints. */
export function shortDetail(detail: string): string {
  const at = detail.indexOf(' What to do:');
  return at === -1 ? detail : detail.slice(0, at);
}
