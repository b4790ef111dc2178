import { isRegionCode } from '../settings';

/**
 * The key lifecycle steps of the lab's seeds (disable-key, enable-key,
 * cancel-key-deletion, delete-imported-key-material), as pure decisions:
 * which key the operator named, whether its state allows the step, and what
 * to say before and after. run.ts makes the calls.
 */
export type KeyAction = 'disable' | 'enable' | 'cancel-deletion' | 'delete-material';
export const KEY_ACTIONS: readonly KeyAction[] = ['disable', 'enable', 'cancel-deletion', 'delete-material'];

interface ActionText {
  /** The KMS operation. */
  readonly operation: 'DisableKey' | 'EnableKey' | 'CancelKeyDeletion' | 'DeleteImportedKeyMaterial';
  /** For the confirmation question: "Disable the KMS key". */
  readonly ask: string;
  /** For the result: "Disabled the KMS key". */
  readonly done: string;
  /** For the no-TTY refusal: "disables a KMS key". */
  readonly does: string;
  /** For --help. */
  readonly help: string;
}

export const ACTION_TEXT: Readonly<Record<KeyAction, ActionText>> = {
  disable: {
    operation: 'DisableKey',
    ask: 'Disable the KMS key',
    done: 'Disabled the KMS key',
    does: 'disables a KMS key',
    help: 'disable a key (DisableKey): every use of it is refused until it is enabled again',
  },
  enable: {
    operation: 'EnableKey',
    ask: 'Enable the KMS key',
    done: 'Enabled the KMS key',
    does: 'enables a KMS key',
    help: 'enable a disabled key (EnableKey)',
  },
  'cancel-deletion': {
    operation: 'CancelKeyDeletion',
    ask: 'Cancel the scheduled deletion of the KMS key',
    done: 'Cancelled the deletion of the KMS key',
    does: "cancels a KMS key's scheduled deletion",
    help: 'cancel a scheduled key deletion (CancelKeyDeletion); the key comes back Disabled unless --enable',
  },
  'delete-material': {
    operation: 'DeleteImportedKeyMaterial',
    ask: 'Delete the imported key material of the KMS key',
    done: 'Deleted the imported key material of the KMS key',
    does: "deletes a KMS key's imported material",
    help: 'delete the imported material of an Origin EXTERNAL key (DeleteImportedKeyMaterial): unusable until the same material is imported again',
  },
};

/** How the operator named the key: KMS takes each form as KeyId. */
export interface KeyRef {
  readonly kind: 'alias' | 'alias-arn' | 'key-id' | 'key-arn';
  /** What DescribeKey is given. */
  readonly value: string;
  /** The Region an ARN names. */
  readonly region?: string;
}

const KEY_ID = /^(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const KMS_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:(key|alias)\/(.+)$/;
const ALIAS_NAME = /^alias\/[A-Za-z0-9/_-]+$/;
const LAB_ALIAS_SUFFIX = /^[A-Za-z0-9_-][A-Za-z0-9/_-]*$/;

/**
 * A key id, key ARN, alias (`alias/...`) or alias ARN; a bare name such as
 * `single-region` is the lab's alias `alias/<prefix>/single-region`.
 * Returns the problem as text when it is none of them.
 */
export function parseKeyRef(input: string, prefix: string): KeyRef | string {
  const text = input.trim();
  const arn = KMS_ARN.exec(text);
  if (arn) return { kind: arn[2] === 'key' ? 'key-arn' : 'alias-arn', value: text, region: arn[1] };
  if (KEY_ID.test(text)) return { kind: 'key-id', value: text };
  if (ALIAS_NAME.test(text)) return { kind: 'alias', value: text };
  if (LAB_ALIAS_SUFFIX.test(text) && !text.startsWith('arn:')) return { kind: 'alias', value: `alias/${prefix}/${text}` };
  return (
    `"${input}" names no KMS key. What to do: give a key id (1234abcd-12ab-34cd-56ef-1234567890ab or mrk-...), a key ARN, an alias ` +
    `(alias/${prefix}/single-region, or just single-region for the lab's own) or an alias ARN`
  );
}

/** The Region to call: the ARN's, else --region, else the lab's primary. Returns the problem as text on a conflict. */
export function keyRegion(ref: KeyRef, regionOption: string | undefined, primaryRegion: string): string | { problem: string } {
  if (regionOption !== undefined && !isRegionCode(regionOption)) {
    return { problem: `--region "${regionOption}" is not an AWS Region code. What to do: give one such as ${primaryRegion}` };
  }
  if (ref.region && regionOption && ref.region !== regionOption) {
    return { problem: `${ref.value} is in ${ref.region}, but --region says ${regionOption}. What to do: leave --region out (an ARN names its Region), or give the matching one` };
  }
  return ref.region ?? regionOption ?? primaryRegion;
}

/** What DescribeKey says about the key, as far as these commands need it. */
export interface KeyFacts {
  readonly arn: string;
  readonly region: string;
  /** What the operator typed (an alias, say), to name the key as they know it. */
  readonly asGiven: string;
  readonly state: string;
  readonly origin?: string;
  /** CUSTOMER or AWS. */
  readonly keyManager?: string;
  readonly deletionDate?: Date;
  /** PendingReplicaDeletion: the window that starts once the replicas are deleted. */
  readonly pendingWindowDays?: number;
}

export type KeyPlan =
  /** Make the call; the state KMS should report afterwards. */
  | { readonly kind: 'change'; readonly expectedAfter: string }
  /** Already where the operator wants it: nothing to call, exit 0. */
  | { readonly kind: 'nothing'; readonly message: string }
  /** Not possible in this state (KMS would answer KMSInvalidStateException): the paragraph, exit 1. */
  | { readonly kind: 'refuse'; readonly message: string };

const PENDING_DELETION = ['PendingDeletion', 'PendingReplicaDeletion'];

/** "arn:..." or "alias/x (arn:...)": the key as the operator named it, and its ARN. */
export function keyName(key: Pick<KeyFacts, 'arn' | 'asGiven'>): string {
  // A key id adds nothing to the ARN that holds it; an alias does.
  return key.asGiven === key.arn || key.arn.endsWith(`:key/${key.asGiven}`) ? key.arn : `${key.asGiven} (${key.arn})`;
}

/** The state with when it ends, e.g. "PendingDeletion (deleted on 2025-06-08T06:00:00.000Z)". */
export function stateText(key: Pick<KeyFacts, 'state' | 'deletionDate' | 'pendingWindowDays'>): string {
  if (key.state === 'PendingDeletion' && key.deletionDate) return `PendingDeletion (deleted on ${key.deletionDate.toISOString()})`;
  if (key.state === 'PendingReplicaDeletion') {
    return `PendingReplicaDeletion (deleted ${key.pendingWindowDays ? `${key.pendingWindowDays} days` : 'its own pending window'} after its last replica is deleted)`;
  }
  return key.state;
}

const cmd = (action: KeyAction, key: KeyFacts, extra = '') => `\`kms-lab key ${action} ${key.arn}${extra}\``;

function refuse(key: KeyFacts, what: string, todo: string): KeyPlan {
  return { kind: 'refuse', message: `The KMS key ${keyName(key)} in ${key.region} is ${stateText(key)}: ${what}. What to do: ${todo}.` };
}

/** The paragraph for a state that does not allow the step, or undefined when it does. */
function wrongState(action: KeyAction, key: KeyFacts): KeyPlan | undefined {
  const operation = ACTION_TEXT[action].operation;
  if (PENDING_DELETION.includes(key.state) && (action === 'disable' || action === 'enable')) {
    return refuse(
      key,
      action === 'disable'
        ? 'a key pending deletion is already unusable, and KMS does not disable it (KMSInvalidStateException)'
        : 'KMS does not enable a key pending deletion (KMSInvalidStateException)',
      `to keep the key, cancel its deletion with ${cmd('cancel-deletion', key, ' --enable')}, which also enables it (without --enable it comes back Disabled)`,
    );
  }
  if (key.state === 'PendingImport' && (action === 'disable' || action === 'enable')) {
    return refuse(
      key,
      `it holds no key material, so KMS refuses ${operation} (KMSInvalidStateException)`,
      "import the same material it held before (GetParametersForImport, wrap it, ImportKeyMaterial); for the lab's key (c) it is in the escrow secret named by the primary stack's output ImportedMaterialEscrowSecretName",
    );
  }
  if (['Creating', 'Updating'].includes(key.state)) {
    return refuse(key, `KMS is still working on it and refuses ${operation} until it is done`, `wait a minute, then run this again (\`aws kms describe-key --key-id ${key.arn} --region ${key.region}\` shows its state)`);
  }
  return undefined;
}

/** Whether the step applies to the key in its state, and what KMS should report after it. */
export function planKeyAction(action: KeyAction, key: KeyFacts): KeyPlan {
  if (key.keyManager === 'AWS') {
    return {
      kind: 'refuse',
      message: `The KMS key ${keyName(key)} in ${key.region} is an AWS managed key: KMS does not let anyone change its state. What to do: name one of the lab's customer managed keys (\`kms-lab status\` lists them).`,
    };
  }
  const invalid = wrongState(action, key);
  if (invalid) return invalid;
  switch (action) {
    case 'disable':
      return key.state === 'Disabled' ? nothing(key, 'it is already Disabled') : { kind: 'change', expectedAfter: 'Disabled' };
    case 'enable':
      return key.state === 'Enabled' ? nothing(key, 'it is already Enabled') : { kind: 'change', expectedAfter: 'Enabled' };
    case 'cancel-deletion':
      return PENDING_DELETION.includes(key.state)
        ? { kind: 'change', expectedAfter: 'Disabled' }
        : nothing(key, `it is not pending deletion, so there is no deletion to cancel${key.state === 'Disabled' ? ` (to enable it: ${cmd('enable', key)})` : ''}`);
    case 'delete-material':
      if (key.origin !== 'EXTERNAL') {
        return {
          kind: 'refuse',
          message:
            `The KMS key ${keyName(key)} in ${key.region} has Origin ${key.origin ?? 'unknown'}: only a key with imported material (Origin EXTERNAL, the lab's key (c)) has material to delete. ` +
            `What to do: name the imported-material key (alias/<prefix>/imported-material); to stop using this key, disable it with ${cmd('disable', key)}.`,
        };
      }
      if (key.state === 'PendingImport') return nothing(key, 'it holds no key material (PendingImport), so there is none to delete');
      return { kind: 'change', expectedAfter: key.state === 'PendingDeletion' ? 'PendingDeletion' : 'PendingImport' };
  }
}

function nothing(key: KeyFacts, why: string): KeyPlan {
  return { kind: 'nothing', message: `Nothing to do: the KMS key ${keyName(key)} in ${key.region} is ${stateText(key)}, and ${why}.\n` };
}

/** Where the material of the key to be emptied can be found again, as the lab knows it. */
export interface EscrowFacts {
  readonly primaryStack: string;
  /** The primary stack is deployed (in the primary Region). */
  readonly deployed: boolean;
  /** Its ImportedMaterialKeyArn output. */
  readonly labKeyArn?: string;
  /** Its ImportedMaterialEscrowSecretName output (absent with materialSource=secret). */
  readonly escrowSecretName?: string;
}

/** The warning before and after delete-material: unusable until the same material is back, and where that material is. */
export function materialWarning(key: KeyFacts, escrow: EscrowFacts): string {
  const head = 'The key becomes unusable at once (PendingImport) until the same material is imported again; KMS accepts no other material for it.';
  if (escrow.deployed && escrow.labKeyArn === key.arn) {
    return escrow.escrowSecretName
      ? `${head} The lab escrowed that material in the secret ${escrow.escrowSecretName} (output ImportedMaterialEscrowSecretName of ${escrow.primaryStack}).`
      : `${head} This lab took the material from its materialSecretName secret (materialSource=secret; ${escrow.primaryStack} has no output ImportedMaterialEscrowSecretName): that secret must still hold it.`;
  }
  const why = escrow.deployed ? `this is not the lab's key (c) (output ImportedMaterialKeyArn of ${escrow.primaryStack})` : `the stack ${escrow.primaryStack} is not deployed`;
  return `${head} No lab escrow is known for it: ${why}, so no secret named by the output ImportedMaterialEscrowSecretName holds its material. Go on only if you hold a copy.`;
}

/** The warning before and after disable: only what is true of every lab key. */
export const DISABLE_WARNING = 'Disabling a key stops every use of it until it is enabled again.';

/** The question asked before the call. */
export function confirmationQuestion(action: KeyAction, key: KeyFacts, warning: string | undefined, enableAfter = false): string {
  const then = action === 'cancel-deletion' ? (enableAfter ? ' It is then enabled (--enable).' : ' It comes back Disabled (add --enable to enable it too).') : '';
  return `${ACTION_TEXT[action].ask} ${keyName(key)} in ${key.region}, now ${stateText(key)}?${then}${warning ? ` ${warning}` : ''}`;
}

/** What the command prints once KMS has made the change: the key, its state before and after, and what follows. */
export function changeReport(input: {
  action: KeyAction;
  before: KeyFacts;
  /** After the call (after EnableKey too, with cancel-deletion --enable). */
  after: Pick<KeyFacts, 'state' | 'deletionDate' | 'pendingWindowDays'>;
  /** The state between CancelKeyDeletion and EnableKey, with --enable. */
  between?: string;
  warning?: string;
}): string {
  const { action, before, after } = input;
  const states = [stateText(before), ...(input.between ? [input.between] : []), stateText(after)].join(' → ');
  const lines = [`${ACTION_TEXT[action].done} ${keyName(before)} in ${before.region}`, `  state: ${states}`];
  if (action === 'disable') lines.push(`  ${DISABLE_WARNING} Enable it with ${cmd('enable', before)}.`);
  if (action === 'cancel-deletion' && after.state === 'Disabled') {
    lines.push(`  It comes back Disabled, so it is still unusable: enable it with ${cmd('enable', before)}.`);
  }
  if (input.warning && action === 'delete-material') lines.push(`  ${input.warning}`);
  return `${lines.join('\n')}\n`;
}

/** The paragraph for DescribeKey's NotFoundException: an unknown alias or key in that Region. */
export function keyNotFoundMessage(ref: KeyRef, region: string, lab: { prefix: string; primaryRegion: string; secondaryRegion: string }): string {
  if (ref.kind === 'alias' || ref.kind === 'alias-arn') {
    const alias = ref.kind === 'alias' ? ref.value : ref.value.slice(ref.value.indexOf(':alias/') + 1);
    const otherRegion = region === lab.primaryRegion ? lab.secondaryRegion : lab.primaryRegion;
    return (
      `KMS in ${region} has no alias ${alias}. What to do: check the name (the lab's are alias/${lab.prefix}/single-region, multi-region, imported-material and multi-region-imported, ` +
      `and cloudhsm with scenario (d)) and the Region (for a key in ${otherRegion}, add --region ${otherRegion}); ` +
      `\`aws kms list-aliases --region ${region}\` lists them, and an alias is deleted with its stack.`
    );
  }
  return (
    `KMS in ${region} has no key ${ref.value}. What to do: check the id and the Region (a key ARN names its own; for a key id add --region when the key is not in ${lab.primaryRegion}); ` +
    'a key deleted at the end of its pending window is gone for good.'
  );
}
