import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  CancelKeyDeletionCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  KeyMetadata,
} from '@aws-sdk/client-kms';
import { AwsClients } from '../aws/clients';
import { confirmOrStop } from '../confirm';
import { awsCall, CallContext, CliError, sdkErrorName } from '../errors';
import { explainError, isStackNotFound } from '../error-messages';
import { CliIo } from '../io';
import { labStacks } from '../lab-stacks';
import { LabSettings } from '../settings';
import {
  ACTION_TEXT,
  changeReport,
  confirmationQuestion,
  DISABLE_WARNING,
  EscrowFacts,
  KeyAction,
  KeyFacts,
  keyNotFoundMessage,
  KeyRef,
  materialWarning,
  planKeyAction,
} from './actions';

export interface KeyActionInput {
  readonly action: KeyAction;
  readonly ref: KeyRef;
  readonly region: string;
  readonly yes?: boolean;
  /** cancel-deletion only: enable the key once its deletion is cancelled. */
  readonly enable?: boolean;
}


function facts(meta: KeyMetadata | undefined, region: string, asGiven: string): KeyFacts {
  if (!meta?.Arn) throw new CliError(`DescribeKey in ${region} answered without the key's metadata for ${asGiven}. What to do: run the command again; if it happens again, report this message.`);
  return {
    arn: meta.Arn,
    region,
    asGiven,
    state: meta.KeyState ?? 'unknown',
    origin: meta.Origin,
    keyManager: meta.KeyManager,
    deletionDate: meta.DeletionDate,
    pendingWindowDays: meta.PendingDeletionWindowInDays,
  };
}

async function describe(clients: AwsClients, ref: KeyRef, region: string, settings: LabSettings): Promise<KeyFacts> {
  try {
    const answer = await awsCall({ operation: 'DescribeKey', region, resource: ref.value }, () =>
      clients.kms(region).send(new DescribeKeyCommand({ KeyId: ref.value })),
    );
    return facts(answer.KeyMetadata, region, ref.value);
  } catch (error) {
    if (sdkErrorName(error) === 'NotFoundException') throw new CliError(keyNotFoundMessage(ref, region, settings));
    throw new CliError(explainError(error));
  }
}

/** The primary stack's outputs that say where imported material is escrowed. */
async function escrowFacts(clients: AwsClients, settings: LabSettings): Promise<EscrowFacts> {
  const { name, region } = labStacks(settings).primary;
  try {
    const answer = await awsCall({ operation: 'DescribeStacks', region, resource: name }, () =>
      clients.cloudFormation(region).send(new DescribeStacksCommand({ StackName: name })),
    );
    const outputs = new Map((answer.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
    return {
      primaryStack: name,
      deployed: true,
      labKeyArn: outputs.get('ImportedMaterialKeyArn'),
      escrowSecretName: outputs.get('ImportedMaterialEscrowSecretName'),
    };
  } catch (error) {
    if (isStackNotFound(error)) return { primaryStack: name, deployed: false };
    throw new CliError(explainError(error));
  }
}

async function send(clients: AwsClients, action: KeyAction, key: KeyFacts): Promise<void> {
  const kms = clients.kms(key.region);
  const call: CallContext = { operation: ACTION_TEXT[action].operation, region: key.region, resource: key.asGiven, keyArn: key.arn };
  await awsCall(call, () => {
    switch (action) {
      case 'disable':
        return kms.send(new DisableKeyCommand({ KeyId: key.arn }));
      case 'enable':
        return kms.send(new EnableKeyCommand({ KeyId: key.arn }));
      case 'cancel-deletion':
        return kms.send(new CancelKeyDeletionCommand({ KeyId: key.arn }));
      case 'delete-material':
        return kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: key.arn }));
    }
  });
}

/**
 * Makes the call; if KMS answers KMSInvalidStateException (the key changed
 * since it was read), reads it again and explains with its new state.
 */
async function perform(clients: AwsClients, settings: LabSettings, action: KeyAction, key: KeyFacts): Promise<void> {
  try {
    await send(clients, action, key);
  } catch (error) {
    if (sdkErrorName(error) === 'KMSInvalidStateException') {
      const now = await describe(clients, { kind: 'key-arn', value: key.arn, region: key.region }, key.region, settings);
      const plan = planKeyAction(action, { ...now, asGiven: key.asGiven });
      if (plan.kind !== 'change') throw new CliError(plan.kind === 'refuse' ? plan.message : plan.message.trim());
    }
    throw new CliError(explainError(error));
  }
}

/**
 * One lifecycle step on one key: DescribeKey, the decision, the question
 * (unless --yes), the call, then DescribeKey again for the state KMS reports.
 * Returns what to print; failures are CliErrors with their paragraph.
 */
export async function runKeyAction(settings: LabSettings, input: KeyActionInput, io: CliIo, clients = new AwsClients(settings.profile)): Promise<string> {
  const { action } = input;
  const before = await describe(clients, input.ref, input.region, settings);
  const plan = planKeyAction(action, before);
  if (plan.kind === 'refuse') throw new CliError(plan.message);
  if (plan.kind === 'nothing') return plan.message;

  const warning = action === 'disable' ? DISABLE_WARNING : action === 'delete-material' ? materialWarning(before, await escrowFacts(clients, settings)) : undefined;
  const command = { name: `kms-lab key ${action}`, does: ACTION_TEXT[action].does };
  await confirmOrStop(io, input.yes, confirmationQuestion(action, before, warning, input.enable), command);

  await perform(clients, settings, action, before);
  const byArn: KeyRef = { kind: 'key-arn', value: before.arn, region: before.region };
  if (action === 'cancel-deletion' && input.enable) {
    const between = await describe(clients, byArn, before.region, settings);
    try {
      await perform(clients, settings, 'enable', between);
    } catch (error) {
      // The deletion is cancelled all the same: say so, then why the key is not enabled.
      io.stdout(changeReport({ action, before, after: between }));
      throw error;
    }
    const after = await describe(clients, byArn, before.region, settings);
    return changeReport({ action, before, after, between: between.state, warning });
  }
  const after = await describe(clients, byArn, before.region, settings);
  return changeReport({ action, before, after, warning });
}
