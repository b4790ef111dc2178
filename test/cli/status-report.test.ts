import {
  ago,
  estimateHsmHours,
  KeyStatus,
  lastUsedText,
  lastUseFields,
  NEVER_USED,
  pendingDeletions,
  rotationText,
  StatusReport,
} from '../../cli/status/report';
import { renderStatusJson, renderStatusText } from '../../cli/status/render';

const NOW = new Date('2025-06-01T06:00:00Z');
const key = (over: Partial<KeyStatus>): KeyStatus => ({
  scenario: 'a',
  where: 'primary',
  region: 'ap-southeast-1',
  keyArn: 'arn:aws:kms:ap-southeast-1:111122223333:key/1111',
  alias: 'alias/kms-key-lab/single-region',
  state: 'Enabled',
  enabled: true,
  origin: 'AWS_KMS',
  rotation: 'on, every 365 days',
  lastUsedStatus: over.lastUsed ? 'used' : 'never',
  ...over,
});

describe('status report', () => {
  test('HSM-hours are HSMs times hours since the cluster was created', () => {
    expect(estimateHsmHours(new Date('2025-06-01T00:00:00Z'), 2, NOW)).toBe(12);
    expect(estimateHsmHours(new Date('2025-06-01T05:45:00Z'), 3, NOW)).toBe(0.8);
    expect(estimateHsmHours(undefined, 2, NOW)).toBeUndefined();
  });

  test('rotation reads on/off for KMS material and n/a for other origins and states', () => {
    expect(rotationText({ origin: 'AWS_KMS', state: 'Enabled', enabled: true, periodDays: 365, next: new Date('2026-01-01T00:00:00Z') })).toBe(
      'on, every 365 days, next 2026-01-01T00:00:00.000Z',
    );
    expect(rotationText({ origin: 'AWS_KMS', state: 'Enabled', enabled: false })).toBe('off');
    expect(rotationText({ origin: 'EXTERNAL', state: 'Enabled' })).toBe('n/a (EXTERNAL material)');
    expect(rotationText({ origin: 'AWS_KMS', state: 'PendingDeletion' })).toBe('n/a (PendingDeletion)');
  });

  test('last use is the newest event with its age, or "never in the last 90 days"', () => {
    expect(lastUsedText(lastUseFields({ status: 'used', at: '2025-06-01T03:00:00.000Z', event: 'Decrypt' }), NOW)).toBe('2025-06-01T03:00:00.000Z (3 h ago, Decrypt)');
    expect(lastUsedText(lastUseFields({ status: 'never' }), NOW)).toBe('never in the last 90 days');
    expect(NEVER_USED).toBe('never in the last 90 days');
    expect(ago(new Date('2025-05-29T06:00:00Z'), NOW)).toBe('3 days ago');
    expect(ago(new Date('2025-06-01T05:50:00Z'), NOW)).toBe('10 min ago');
  });

  test('a failed last-use lookup reads "unknown" with why, never "never"', () => {
    const unknown = lastUseFields({ status: 'unknown', reason: 'LookupEvents failed (ThrottlingException): Rate exceeded' });
    expect(unknown).toEqual({ lastUsedStatus: 'unknown', lastUsedUnknownReason: 'LookupEvents failed (ThrottlingException): Rate exceeded' });
    expect(lastUsedText(unknown, NOW)).toBe('unknown: LookupEvents failed (ThrottlingException): Rate exceeded');
  });

  test('pending deletions list keys and secrets, soonest first, saying what each date means', () => {
    const list = pendingDeletions(
      [key({ deletionDate: '2025-06-08T00:00:00.000Z' }), key({ keyArn: 'k2' })],
      [{ name: 'lab/escrow', region: 'ap-southeast-1', deletedDate: '2025-06-01T00:00:00.000Z' }, { name: 'live', region: 'ap-southeast-1' }],
    );
    expect(list).toEqual([
      { kind: 'secret', name: 'lab/escrow', region: 'ap-southeast-1', date: '2025-06-01T00:00:00.000Z', dateMeaning: 'scheduled-on' },
      { kind: 'key', name: 'arn:aws:kms:ap-southeast-1:111122223333:key/1111', region: 'ap-southeast-1', date: '2025-06-08T00:00:00.000Z', dateMeaning: 'deleted-on' },
    ]);
  });

  const report: StatusReport = {
    schemaVersion: 1,
    prefix: 'kms-key-lab',
    regions: { primary: 'ap-southeast-1', secondary: 'ap-southeast-2' },
    generatedAt: NOW.toISOString(),
    stacks: [
      { role: 'primary', name: 'kms-key-lab-primary', region: 'ap-southeast-1', status: 'CREATE_COMPLETE' },
      { role: 'secondary', name: 'kms-key-lab-secondary', region: 'ap-southeast-2', status: 'NOT_DEPLOYED' },
    ],
    keys: [key({ lastUsed: { at: '2025-06-01T05:00:00.000Z', event: 'Encrypt' } }), key({ scenario: 'b', where: 'secondary', state: 'PendingDeletion', deletionDate: '2025-06-08T00:00:00.000Z' })],
    cloudHsm: { keyStoreId: 'cks-1', connectionState: 'DISCONNECTED', expiresAt: '2025-06-01T08:00:00Z', clusterId: 'cluster-1', clusterState: 'ACTIVE', hsmCount: 2, hsmHoursEstimate: 12 },
    pendingDeletion: [{ kind: 'key', name: 'k', region: 'ap-southeast-2', date: '2025-06-08T00:00:00.000Z', dateMeaning: 'deleted-on' }],
    escrowRecovery: [],
    warnings: [],
    problems: [],
    apiCalls: 9,
  };

  test('the text shows stacks, keys, scenario (d) with an HSM-hours estimate, and what is pending deletion', () => {
    const text = renderStatusText(report, NOW);
    expect(text).toMatch(/kms-key-lab-secondary\s+ap-southeast-2\s+NOT_DEPLOYED/);
    expect(text).toMatch(/\(a\) primary\s+ap-southeast-1\s+Enabled\s+AWS_KMS\s+on, every 365 days\s+2025-06-01T05:00:00.000Z \(1 h ago, Encrypt\)/);
    expect(text).toMatch(/\(b\) replica\s+ap-southeast-1\s+PendingDeletion/);
    expect(text).toContain('cks-1: DISCONNECTED');
    expect(text).toContain('about 12 HSM-hours so far (estimate, an upper bound');
    expect(text).toContain('expires    2025-06-01T08:00:00Z');
    expect(text).toMatch(/key k\s+ap-southeast-2\s+deleted on 2025-06-08T00:00:00.000Z/);
    expect(text).toContain('9 AWS API calls');
  });

  test('the JSON is the report itself', () => {
    expect(JSON.parse(renderStatusJson(report))).toEqual(report);
  });
});
