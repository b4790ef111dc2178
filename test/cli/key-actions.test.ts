import {
  changeReport,
  confirmationQuestion,
  DISABLE_WARNING,
  KeyFacts,
  keyNotFoundMessage,
  keyRegion,
  materialWarning,
  parseKeyRef,
  planKeyAction,
} from '../../cli/key/actions';

const ARN = 'arn:aws:kms:ap-southeast-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const LAB = { prefix: 'kms-key-lab', primaryRegion: 'ap-southeast-1', secondaryRegion: 'ap-southeast-2' };
const key = (state: string, more: Partial<KeyFacts> = {}): KeyFacts => ({ arn: ARN, region: 'ap-southeast-1', asGiven: 'alias/kms-key-lab/single-region', state, origin: 'AWS_KMS', ...more });

/** One paragraph: one line, what happened, what to do. */
function expectParagraph(text: string): void {
  expect(text).not.toContain('\n');
  expect(text).toContain('What to do:');
}

describe('key references', () => {
  test('an alias, a key id, a key ARN and an alias ARN are taken as KMS takes them; an ARN names its Region', () => {
    expect(parseKeyRef('alias/kms-key-lab/single-region', 'kms-key-lab')).toEqual({ kind: 'alias', value: 'alias/kms-key-lab/single-region' });
    expect(parseKeyRef('1234abcd-12ab-34cd-56ef-1234567890ab', 'kms-key-lab')).toEqual({ kind: 'key-id', value: '1234abcd-12ab-34cd-56ef-1234567890ab' });
    expect(parseKeyRef(`mrk-${'a'.repeat(32)}`, 'kms-key-lab')).toMatchObject({ kind: 'key-id' });
    expect(parseKeyRef(ARN, 'kms-key-lab')).toEqual({ kind: 'key-arn', value: ARN, region: 'ap-southeast-1' });
    expect(parseKeyRef('arn:aws:kms:ap-southeast-2:111122223333:alias/kms-key-lab/multi-region', 'x')).toMatchObject({ kind: 'alias-arn', region: 'ap-southeast-2' });
  });

  test("a bare name is the lab's own alias under its prefix", () => {
    expect(parseKeyRef('imported-material', 'team-lab')).toEqual({ kind: 'alias', value: 'alias/team-lab/imported-material' });
  });

  test('anything else is refused with the forms that are accepted', () => {
    const problem = parseKeyRef('arn:aws:s3:::bucket', 'kms-key-lab');
    expect(typeof problem).toBe('string');
    expect(problem).toContain('What to do: give a key id');
  });

  test("the Region is the ARN's, else --region, else the primary; a conflict or a bad code is refused", () => {
    const byArn = parseKeyRef(ARN, 'p') as Exclude<ReturnType<typeof parseKeyRef>, string>;
    const byAlias = parseKeyRef('single-region', 'p') as Exclude<ReturnType<typeof parseKeyRef>, string>;
    expect(keyRegion(byArn, undefined, 'eu-west-1')).toBe('ap-southeast-1');
    expect(keyRegion(byAlias, 'ap-southeast-2', 'ap-southeast-1')).toBe('ap-southeast-2');
    expect(keyRegion(byAlias, undefined, 'ap-southeast-1')).toBe('ap-southeast-1');
    expect(keyRegion(byArn, 'ap-southeast-2', 'ap-southeast-1')).toEqual({ problem: expect.stringContaining('is in ap-southeast-1, but --region says ap-southeast-2') });
    expect(keyRegion(byAlias, 'nowhere', 'ap-southeast-1')).toEqual({ problem: expect.stringContaining('--region "nowhere" is not an AWS Region code') });
  });
});

describe('which states allow each step', () => {
  test('disable: Enabled changes to Disabled; Disabled is already done', () => {
    expect(planKeyAction('disable', key('Enabled'))).toEqual({ kind: 'change', expectedAfter: 'Disabled' });
    expect(planKeyAction('disable', key('Disabled'))).toMatchObject({ kind: 'nothing', message: expect.stringContaining('already Disabled') });
  });

  test('enable: Disabled changes to Enabled; Enabled is already done', () => {
    expect(planKeyAction('enable', key('Disabled'))).toEqual({ kind: 'change', expectedAfter: 'Enabled' });
    expect(planKeyAction('enable', key('Enabled'))).toMatchObject({ kind: 'nothing' });
  });

  test('enable on a key pending deletion is refused, and says cancel-deletion --enable brings it back', () => {
    const plan = planKeyAction('enable', key('PendingDeletion', { deletionDate: new Date('2025-06-08T00:00:00Z') }));
    expect(plan.kind).toBe('refuse');
    const message = (plan as { message: string }).message;
    expectParagraph(message);
    expect(message).toContain('is PendingDeletion (deleted on 2025-06-08T00:00:00.000Z)');
    expect(message).toContain('KMSInvalidStateException');
    expect(message).toContain(`\`kms-lab key cancel-deletion ${ARN} --enable\``);
  });

  test('disable and enable on a key without material (PendingImport) are refused with how to import it again', () => {
    for (const action of ['disable', 'enable'] as const) {
      const plan = planKeyAction(action, key('PendingImport', { origin: 'EXTERNAL' }));
      expect(plan.kind).toBe('refuse');
      expectParagraph((plan as { message: string }).message);
      expect((plan as { message: string }).message).toContain('ImportKeyMaterial');
    }
  });

  test('cancel-deletion: PendingDeletion and PendingReplicaDeletion come back Disabled; any other state has nothing to cancel', () => {
    expect(planKeyAction('cancel-deletion', key('PendingDeletion'))).toEqual({ kind: 'change', expectedAfter: 'Disabled' });
    expect(planKeyAction('cancel-deletion', key('PendingReplicaDeletion'))).toEqual({ kind: 'change', expectedAfter: 'Disabled' });
    expect(planKeyAction('cancel-deletion', key('Enabled'))).toMatchObject({ kind: 'nothing', message: expect.stringContaining('no deletion to cancel') });
  });

  test('delete-material: only Origin EXTERNAL; the key goes PendingImport, or stays PendingDeletion', () => {
    const refused = planKeyAction('delete-material', key('Enabled'));
    expect(refused.kind).toBe('refuse');
    expectParagraph((refused as { message: string }).message);
    expect((refused as { message: string }).message).toContain('has Origin AWS_KMS: only a key with imported material (Origin EXTERNAL');
    expect(planKeyAction('delete-material', key('Enabled', { origin: 'EXTERNAL' }))).toEqual({ kind: 'change', expectedAfter: 'PendingImport' });
    expect(planKeyAction('delete-material', key('PendingDeletion', { origin: 'EXTERNAL' }))).toEqual({ kind: 'change', expectedAfter: 'PendingDeletion' });
    expect(planKeyAction('delete-material', key('PendingImport', { origin: 'EXTERNAL' }))).toMatchObject({ kind: 'nothing' });
  });

  test('an AWS managed key is refused for every step', () => {
    for (const action of ['disable', 'enable', 'cancel-deletion', 'delete-material'] as const) {
      expect(planKeyAction(action, key('Enabled', { keyManager: 'AWS' }))).toMatchObject({ kind: 'refuse', message: expect.stringContaining('AWS managed key') });
    }
  });
});

describe('what the key commands say', () => {
  test('the question names the key, its Region and state, and the warning', () => {
    expect(confirmationQuestion('disable', key('Enabled'), DISABLE_WARNING)).toBe(
      `Disable the KMS key alias/kms-key-lab/single-region (${ARN}) in ap-southeast-1, now Enabled? Disabling a key stops every use of it until it is enabled again.`,
    );
    expect(confirmationQuestion('cancel-deletion', key('PendingDeletion'), undefined)).toContain('It comes back Disabled (add --enable to enable it too).');
  });

  test('the report gives the state before and after, and for cancel-deletion the state in between', () => {
    expect(changeReport({ action: 'disable', before: key('Enabled'), after: { state: 'Disabled' } })).toBe(
      `Disabled the KMS key alias/kms-key-lab/single-region (${ARN}) in ap-southeast-1\n` +
        '  state: Enabled → Disabled\n' +
        `  Disabling a key stops every use of it until it is enabled again. Enable it with \`kms-lab key enable ${ARN}\`.\n`,
    );
    const cancelled = changeReport({ action: 'cancel-deletion', before: key('PendingDeletion', { deletionDate: new Date('2025-06-08T00:00:00Z') }), after: { state: 'Enabled' }, between: 'Disabled' });
    expect(cancelled).toContain('state: PendingDeletion (deleted on 2025-06-08T00:00:00.000Z) → Disabled → Enabled');
    expect(changeReport({ action: 'cancel-deletion', before: key('PendingDeletion'), after: { state: 'Disabled' } })).toContain('It comes back Disabled, so it is still unusable');
  });

  test("delete-material's warning names the escrow secret and its output for the lab's key (c)", () => {
    const c = key('Enabled', { origin: 'EXTERNAL' });
    const escrow = { primaryStack: 'kms-key-lab-primary', deployed: true, labKeyArn: ARN, escrowSecretName: 'kms-key-lab/imported-material/escrow-1234' };
    expect(materialWarning(c, escrow)).toBe(
      'The key becomes unusable at once (PendingImport) until the same material is imported again; KMS accepts no other material for it. ' +
        'The lab escrowed that material in the secret kms-key-lab/imported-material/escrow-1234 (output ImportedMaterialEscrowSecretName of kms-key-lab-primary).',
    );
    expect(materialWarning(c, { ...escrow, escrowSecretName: undefined })).toContain('materialSecretName');
    expect(materialWarning(c, { ...escrow, labKeyArn: 'arn:other' })).toContain("this is not the lab's key (c)");
    expect(materialWarning(c, { primaryStack: 'kms-key-lab-primary', deployed: false })).toContain('the stack kms-key-lab-primary is not deployed');
  });

  test('an unknown alias names the lab aliases and the other Region; an unknown key id says how to find it', () => {
    const alias = keyNotFoundMessage({ kind: 'alias', value: 'alias/kms-key-lab/nope' }, 'ap-southeast-1', LAB);
    expectParagraph(alias);
    expect(alias).toContain('KMS in ap-southeast-1 has no alias alias/kms-key-lab/nope');
    expect(alias).toContain('add --region ap-southeast-2');
    const id = keyNotFoundMessage({ kind: 'key-id', value: '1234abcd-12ab-34cd-56ef-1234567890ab' }, 'ap-southeast-2', LAB);
    expectParagraph(id);
    expect(id).toContain('KMS in ap-southeast-2 has no key 1234abcd-12ab-34cd-56ef-1234567890ab');
  });
});
