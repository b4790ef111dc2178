import {
  decideImport,
  escrowBelongsTo,
  holdsMaterial,
  importBlocker,
  importPlan,
  importTypeFor,
  keyIdOf,
  materialsPendingImport,
  notEnabledProblem,
  regionOfArn,
  reimportBlocker,
  replicaBeforePrimary,
  unescrowedMaterial,
} from '../../../lambda/import-key-material/converge';
import { decodeEscrowRecord, encodeEscrowRecord } from '../../../lambda/import-key-material/escrow-record';
import { decodeSecretMaterial, materialSpellings, redactMaterial } from '../../../lambda/import-key-material/material';
import { parseImportProperties } from '../../../lambda/import-key-material/properties';
import { explain, IMPORT_REMEDIES } from '../../../lambda/import-key-material/remedies';

const material = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 53 + 7) % 256));

describe('decodeSecretMaterial', () => {
  test.each([
    ['SecretBinary', { SecretBinary: new Uint8Array(material) }],
    ['hex SecretString', { SecretString: material.toString('hex') }],
    ['base64 SecretString', { SecretString: material.toString('base64') }],
    ['base64 SecretString with a trailing newline', { SecretString: `${material.toString('base64')}\n` }],
  ])('reads 32 bytes from a %s', (_name, value) => {
    expect(decodeSecretMaterial('s', value).equals(material)).toBe(true);
  });

  test.each([
    ['too short', { SecretBinary: new Uint8Array(16) }, 'holds 16 bytes'],
    ['too long in base64', { SecretString: Buffer.alloc(48, 1).toString('base64') }, 'holds 48 bytes'],
    ['neither hex nor base64', { SecretString: 'not key material!' }, 'holds a SecretString that is neither hex nor base64'],
    ['empty', {}, 'has no value'],
  ])('explains a secret that is %s, without quoting it', (_name, value: { SecretBinary?: Uint8Array; SecretString?: string }, expected) => {
    let message = '';
    try {
      decodeSecretMaterial('lab/material', value);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(`Secret lab/material ${expected}`);
    expect(message).toContain('Store 32 bytes as SecretBinary');
    if (value.SecretString) expect(message).not.toContain(value.SecretString);
  });
});

describe('redactMaterial', () => {
  test.each(materialSpellings(material).map((s) => [s.slice(0, 12), s]))('removes the %s... spelling', (_p, spelling) => {
    expect(redactMaterial(`before ${spelling} after`, material)).toBe('before [REDACTED] after');
  });
});

describe('escrow record', () => {
  test('round-trips key, material and material id', () => {
    const record = { keyArn: 'arn:aws:kms:ap-southeast-1:1:key/k', material, keyMaterialId: 'id-1' };
    expect(decodeEscrowRecord(encodeEscrowRecord(record))).toEqual(record);
  });

  test('round-trips the earlier materials a rotation keeps, newest first, and writes none when there are none', () => {
    const older = Buffer.alloc(32, 2);
    const record = {
      keyArn: 'arn:aws:kms:ap-southeast-1:1:key/k',
      material,
      keyMaterialId: 'id-3',
      previous: [{ material: Buffer.alloc(32, 1), keyMaterialId: 'id-2' }, { material: older }],
    };
    expect(decodeEscrowRecord(encodeEscrowRecord(record))).toEqual(record);
    expect(JSON.parse(encodeEscrowRecord({ ...record, previous: [] }))).not.toHaveProperty('previous');
  });

  test('reads a record with a damaged list of earlier materials as no record, so nobody rewrites it without them', () => {
    const value = JSON.parse(encodeEscrowRecord({ keyArn: 'arn:aws:kms:ap-southeast-1:1:key/k', material }));
    expect(decodeEscrowRecord(JSON.stringify({ ...value, previous: 'x' }))).toBeUndefined();
    expect(decodeEscrowRecord(JSON.stringify({ ...value, previous: [{ keyMaterialId: 'id-1' }] }))).toBeUndefined();
  });

  test.each([
    ['a generated placeholder', 'Xy7#pQ9!placeholder'],
    ['JSON of another shape', '{"username":"a","password":"b"}'],
    ['nothing', undefined],
  ])('reads %s as no record', (_name, value) => {
    expect(decodeEscrowRecord(value)).toBeUndefined();
  });
});

describe('decideImport', () => {
  const validTo = new Date('2027-01-01T00:00:00Z');
  const enabled = { KeyState: 'Enabled', Origin: 'EXTERNAL', ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', CurrentKeyMaterialId: 'm1' };

  test('imports into a key waiting for its material', () => {
    expect(decideImport({ KeyState: 'PendingImport', Origin: 'EXTERNAL' }, undefined, undefined)).toEqual({ action: 'import' });
  });
  test('does nothing when the key holds this material with this expiry', () => {
    expect(decideImport(enabled, 'm1', undefined).action).toBe('none');
    expect(decideImport({ ...enabled, ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo }, 'm1', validTo).action).toBe('none');
  });
  test('re-imports when the expiry differs', () => {
    expect(decideImport(enabled, 'm1', validTo).action).toBe('import');
    expect(decideImport({ ...enabled, ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(0) }, 'm1', validTo).action).toBe('import');
  });
  test('re-imports when it cannot tell which material the key holds', () => {
    expect(decideImport(enabled, undefined, undefined).action).toBe('import');
    expect(decideImport({ ...enabled, CurrentKeyMaterialId: undefined }, 'm1', undefined).action).toBe('import');
    expect(decideImport(enabled, 'm2', undefined).action).toBe('import');
  });
  test('refuses a key pending deletion or of another origin', () => {
    expect(importBlocker({ ...enabled, KeyState: 'PendingDeletion' })).toContain('PendingDeletion');
    expect(importBlocker({ ...enabled, Origin: 'AWS_KMS' })).toBe(
      "the key's Origin is AWS_KMS, not EXTERNAL, so it cannot take imported material",
    );
    expect(importBlocker(enabled)).toBeUndefined();
    expect(importBlocker({ KeyState: 'PendingImport', Origin: 'EXTERNAL' })).toBeUndefined();
  });
});

describe('material already in a key', () => {
  test.each([
    ['Enabled', true],
    ['Disabled', true],
    ['PendingImport', false],
    ['PendingDeletion', false],
  ])('a %s key holds material: %s', (state, holds) => {
    expect(holdsMaterial({ KeyState: state })).toBe(holds);
    expect(unescrowedMaterial({ KeyState: state }, 'lab/escrow') !== undefined).toBe(holds);
  });

  test('only a Disabled key blocks a needed re-import, and the message says how to enable it', () => {
    expect(reimportBlocker({ KeyState: 'Enabled' })).toBeUndefined();
    expect(reimportBlocker({ KeyState: 'PendingImport' })).toBeUndefined();
    expect(reimportBlocker({ KeyState: 'Disabled', KeyId: 'k-1' })).toContain('aws kms enable-key --key-id k-1');
  });
});

describe('parseImportProperties', () => {
  const now = new Date('2026-11-23T00:00:00Z');
  const base = {
    KeyArn: 'arn:k',
    WrappingAlgorithm: 'RSAES_OAEP_SHA_256',
    WrappingKeySpec: 'RSA_4096',
    ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    MaterialSource: 'generate',
    EscrowSecretName: 'lab/imported-material/escrow-k',
    EscrowSecretPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Deny' }] },
    SecretTags: { 'kms-key-lab:lab': 'lab' },
    PendingWindowDays: '7',
  };
  test('reads CloudFormation strings into typed properties', () => {
    expect(parseImportProperties({ ...base, DeleteMaterialOnDelete: 'true' }, now)).toEqual({
      keyArn: 'arn:k',
      wrappingAlgorithm: 'RSAES_OAEP_SHA_256',
      wrappingKeySpec: 'RSA_4096',
      validTo: undefined,
      pendingWindowDays: 7,
      deleteMaterialOnDelete: true,
      multiRegion: undefined,
      materialSource: 'generate',
      escrow: {
        secretName: 'lab/imported-material/escrow-k',
        resourcePolicy: '{"Version":"2012-10-17","Statement":[{"Effect":"Deny"}]}',
        tags: { 'kms-key-lab:lab': 'lab' },
        replicaRegions: [],
      },
    });
  });
  test.each([
    [{ WrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256' }, 'WrappingAlgorithm is "RSA_AES_KEY_WRAP_SHA_256"; accepted: RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256.'],
    [{ KeyArn: '' }, 'Resource property KeyArn is missing.'],
    [{ ExpirationModel: 'KEY_MATERIAL_EXPIRES' }, 'Resource property ValidTo is missing.'],
    [{ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: '2028-01-01T00:00:00Z' }, 'more than 365 days ahead'],
    [{ PendingWindowDays: '3' }, 'PendingWindowDays must be a whole number from 7 to 30.'],
    [{ MaterialSource: 'secret' }, 'Resource property MaterialSecretName is missing.'],
    [{ EscrowSecretPolicy: '{}' }, 'EscrowSecretPolicy must be a policy document with a Statement list.'],
    [{ SecretTags: { a: 1 } }, 'SecretTags must map tag keys to string values.'],
  ])('rejects %j', (overrides, message) => {
    expect(() => parseImportProperties({ ...base, ...overrides }, now)).toThrow(message);
  });
});

describe('remedies', () => {
  test.each(['ExpiredImportTokenException', 'IncorrectKeyMaterialException', 'InvalidImportTokenException', 'KMSInvalidStateException'])(
    '%s has a remedy',
    (name) => {
      expect(IMPORT_REMEDIES[name]).toBeDefined();
      expect(explain('ImportKeyMaterial', name, 'x')).toMatch(new RegExp(`^ImportKeyMaterial failed \\(${name}\\): .+\\. What to do: .+\\.$`));
    },
  );
  test("unknown errors keep the service's own words", () => {
    expect(explain('ImportKeyMaterial', 'ThrottlingException', 'Rate exceeded')).toBe('ImportKeyMaterial failed (ThrottlingException): Rate exceeded');
  });
});

describe('scenario (e): multi-Region keys', () => {
  const PRIMARY = 'arn:aws:kms:ap-southeast-1:111111111111:key/mrk-1234abcd12ab34cd56ef1234567890ab';
  const REPLICA = 'arn:aws:kms:ap-southeast-2:111111111111:key/mrk-1234abcd12ab34cd56ef1234567890ab';

  test.each([
    ['a primary that never held material', 'multi-region-primary', {}, undefined, 'NEW_KEY_MATERIAL'],
    ['a primary whose escrow records an import (its material expired)', 'multi-region-primary', {}, 'id-1', 'EXISTING_KEY_MATERIAL'],
    ['a primary that shows its current material', 'multi-region-primary', { CurrentKeyMaterialId: 'id-1' }, undefined, 'EXISTING_KEY_MATERIAL'],
    ['a replica, always', 'multi-region-replica', {}, undefined, 'EXISTING_KEY_MATERIAL'],
    ['a single-Region key (KMS decides, as before)', 'single-region', {}, undefined, undefined],
  ] as const)('ImportType for %s', (_name, role, key, recorded, expected) => {
    expect(importTypeFor(role, key, recorded)).toBe(expected);
  });

  test('the keys of a multi-Region set are one key id; single-Region keys compare whole ARNs', () => {
    expect(keyIdOf(REPLICA)).toBe('mrk-1234abcd12ab34cd56ef1234567890ab');
    expect(keyIdOf('mrk-1')).toBe('mrk-1');
    expect(regionOfArn(REPLICA)).toBe('ap-southeast-2');
    expect(escrowBelongsTo(PRIMARY, REPLICA, 'multi-region-replica')).toBe(true);
    expect(escrowBelongsTo(PRIMARY, REPLICA.replace('mrk-1234', 'mrk-9999'), 'multi-region-replica')).toBe(false);
    expect(escrowBelongsTo(PRIMARY, REPLICA, 'single-region')).toBe(false);
  });

  test('a replica refused before its primary has material names both keys and the order to deploy in', () => {
    const message = replicaBeforePrimary(REPLICA, PRIMARY);
    expect(message).toContain(REPLICA);
    expect(message).toContain(PRIMARY);
    expect(message).toContain("Deploy the primary Region's stack first");
  });

  const now = new Date('2026-11-23T00:00:00Z');
  const common = {
    KeyArn: PRIMARY,
    WrappingAlgorithm: 'RSAES_OAEP_SHA_256',
    WrappingKeySpec: 'RSA_4096',
    ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    PendingWindowDays: '14',
  };
  const primary = {
    ...common,
    MultiRegion: 'primary',
    MaterialSource: 'generate',
    EscrowSecretName: 'lab/multi-region-imported/escrow-mrk-1',
    EscrowSecretPolicy: { Statement: [] },
    EscrowReplicaRegions: ['ap-southeast-2'],
  };

  test('a primary escrows generated material with the replica Regions; a replica only names the escrow', () => {
    expect(parseImportProperties(primary, now)).toMatchObject({
      multiRegion: 'primary',
      materialSource: 'generate',
      escrow: { secretName: 'lab/multi-region-imported/escrow-mrk-1', replicaRegions: ['ap-southeast-2'] },
    });
    expect(parseImportProperties({ ...common, KeyArn: REPLICA, MultiRegion: 'replica', MaterialSource: 'escrow-replica', EscrowSecretName: 'e' }, now)).toMatchObject({
      multiRegion: 'replica',
      materialSource: 'escrow-replica',
      escrowSecretName: 'e',
    });
  });

  test.each([
    [{ ...primary, EscrowReplicaRegions: [] }, 'EscrowReplicaRegions must list the Region codes'],
    [{ ...primary, EscrowReplicaRegions: ['Sydney'] }, 'EscrowReplicaRegions must list the Region codes'],
    [{ ...primary, MaterialSource: 'secret' }, 'MaterialSource is "secret"; accepted: generate.'],
    [{ ...primary, MultiRegion: 'replica' }, 'MaterialSource is "generate"; accepted: escrow-replica.'],
    [{ ...primary, MultiRegion: 'secondary' }, 'MultiRegion is "secondary"; accepted: primary, replica.'],
    [{ ...common, MultiRegion: 'replica', MaterialSource: 'escrow-replica' }, 'Resource property EscrowSecretName is missing.'],
  ])('rejects %j', (props, message) => {
    expect(() => parseImportProperties(props, now)).toThrow(message);
  });
});

describe('keys with several materials', () => {
  const older = Buffer.alloc(32, 1);
  const old = Buffer.alloc(32, 2);
  const record = { material, keyMaterialId: 'm3', previous: [{ material: old, keyMaterialId: 'm2' }, { material: older }] };

  test('importPlan imports the earlier materials oldest first as EXISTING with their ids, then the current one', () => {
    const plan = importPlan('single-region', { KeyState: 'PendingImport', CurrentKeyMaterialId: 'm3' }, record);
    expect(plan.map((p) => [p.material, p.importType, p.keyMaterialId, p.current])).toEqual([
      [older, 'EXISTING_KEY_MATERIAL', undefined, false],
      [old, 'EXISTING_KEY_MATERIAL', 'm2', false],
      [material, 'EXISTING_KEY_MATERIAL', 'm3', true],
    ]);
  });

  test('importPlan of a record without earlier materials keeps the one import and its type rules', () => {
    expect(importPlan('multi-region-primary', { KeyState: 'PendingImport' }, { material })).toEqual([{ material, importType: 'NEW_KEY_MATERIAL', current: true }]);
    expect(importPlan('single-region', { KeyState: 'PendingImport' }, { material, keyMaterialId: 'm1' })).toEqual([{ material, importType: undefined, current: true }]);
    expect(importPlan('multi-region-replica', {}, { material, keyMaterialId: 'm1' })).toEqual([
      { material, importType: 'EXISTING_KEY_MATERIAL', keyMaterialId: 'm1', current: true },
    ]);
  });

  test("importPlan leaves out a rotation's new material that the key does not have yet (no id, the key's current is the newest earlier one)", () => {
    const inProgress = { material, previous: [{ material: old, keyMaterialId: 'm2' }] };
    expect(importPlan('single-region', { CurrentKeyMaterialId: 'm2' }, inProgress).map((p) => p.material)).toEqual([old]);
    expect(importPlan('single-region', { CurrentKeyMaterialId: 'm1' }, inProgress).map((p) => p.material)).toEqual([old, material]);
  });

  test('materialsPendingImport counts only materials that belong to the key', () => {
    expect(
      materialsPendingImport([
        { KeyMaterialId: 'a', KeyMaterialState: 'NON_CURRENT', ImportState: 'PENDING_IMPORT' },
        { KeyMaterialId: 'b', KeyMaterialState: 'CURRENT', ImportState: 'IMPORTED' },
        { KeyMaterialId: 'c', KeyMaterialState: 'PENDING_ROTATION', ImportState: 'PENDING_IMPORT' },
        { KeyMaterialId: 'd', KeyMaterialState: 'CURRENT', ImportState: 'PENDING_IMPORT' },
      ]),
    ).toEqual(['a', 'd']);
  });

  test('notEnabledProblem says what is missing and what to do in each case', () => {
    const base = { keyArn: 'arn:aws:kms:ap-southeast-1:111111111111:key/k', region: 'ap-southeast-1', state: 'PendingImport', known: ['m2', 'm3'] };
    const escrow = { kind: 'escrow', secretName: 'lab/escrow-k' } as const;
    expect(notEnabledProblem({ ...base, pending: ['m1'], origin: escrow })).toMatch(/no copy of m1.*put-secret-value/);
    expect(notEnabledProblem({ ...base, pending: ['m1'], origin: { kind: 'secret', secretName: 'mine' } })).toContain('kms-lab import-material --key');
    expect(notEnabledProblem({ ...base, pending: ['m2'], origin: escrow })).toContain('KMS may not have caught up yet');
    expect(notEnabledProblem({ ...base, pending: undefined, origin: escrow })).toContain('--include-key-material ALL_KEY_MATERIAL');
  });
});
