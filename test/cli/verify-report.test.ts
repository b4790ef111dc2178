import { renderTable } from '../../cli/render/table';
import {
  judgeCrossRegionDecrypt,
  judgeCrossRegionRefusal,
  judgeDenied,
  judgeKeyStore,
  judgeRoundTrip,
  keyIdOf,
  shortDetail,
} from '../../cli/verify/outcomes';
import { buildReport, CheckResult, parseScenarios, renderVerifyJson, verifyExitCode } from '../../cli/verify/report';
import { failureParagraphs, renderVerifyTable } from '../../cli/verify/render';
import { serviceError } from './fake-aws';
import { principalsAllowed } from '../../cli/verify/kms-probes';

const ARN = 'arn:aws:kms:ap-southeast-1:111122223333:key/1111';
const MRK = 'arn:aws:kms:ap-southeast-1:111122223333:key/mrk-abc';
const MRK_REPLICA = 'arn:aws:kms:ap-southeast-2:111122223333:key/mrk-abc';
const check = (over: Partial<CheckResult>): CheckResult => ({
  scenario: 'a',
  check: 'encrypt-decrypt:primary',
  region: 'ap-southeast-1',
  keyId: ARN,
  result: 'PASS',
  detail: 'ok',
  ms: 12,
  ...over,
});
const report = (checks: CheckResult[]) => buildReport({ prefix: 'kms-key-lab', primaryRegion: 'ap-southeast-1', secondaryRegion: 'ap-southeast-2', checks, apiCalls: 7 });

describe('verify report', () => {
  test('the summary counts each result and the API calls', () => {
    const r = report([check({}), check({ result: 'FAIL' }), check({ result: 'SKIP' }), check({ result: 'SKIP' })]);
    expect(r.summary).toEqual({ pass: 1, fail: 1, skip: 2, apiCalls: 7 });
  });

  test('exits 0 only when no check failed; skips do not fail', () => {
    expect(verifyExitCode(report([check({}), check({ result: 'SKIP' })]))).toBe(0);
    expect(verifyExitCode(report([check({}), check({ result: 'FAIL' })]))).toBe(1);
  });

  test('the JSON has schemaVersion 1 and exactly the documented fields, in a fixed order', () => {
    const text = renderVerifyJson(report([check({ scenario: 'grant', check: 'grant-encrypt-decrypt' })]));
    const parsed = JSON.parse(text);
    expect(Object.keys(parsed)).toEqual(['schemaVersion', 'prefix', 'regions', 'checks', 'summary']);
    expect(parsed.schemaVersion).toBe(1);
    expect(parsed.prefix).toBe('kms-key-lab');
    expect(parsed.regions).toEqual({ primary: 'ap-southeast-1', secondary: 'ap-southeast-2' });
    expect(Object.keys(parsed.checks[0])).toEqual(['scenario', 'check', 'region', 'keyId', 'result', 'detail', 'ms']);
    expect(parsed.checks[0]).toEqual({
      scenario: 'grant',
      check: 'grant-encrypt-decrypt',
      region: 'ap-southeast-1',
      keyId: ARN,
      result: 'PASS',
      detail: 'ok',
      ms: 12,
    });
    expect(Object.keys(parsed.summary)).toEqual(['pass', 'fail', 'skip', 'apiCalls']);
    expect(text.endsWith('}\n')).toBe(true);
  });

  test('the table has a row per check with scenario, check, Region, result and ms, then the totals', () => {
    const text = renderVerifyTable(
      report([check({}), check({ scenario: 'b', check: 'cross-region-decrypt', region: 'ap-southeast-2', result: 'FAIL', detail: 'Decrypt failed: x. What to do: y.', ms: 250 })]),
    );
    const lines = text.split('\n');
    expect(lines[0]).toBe('KMS Key Lab "kms-key-lab": primary ap-southeast-1, secondary ap-southeast-2');
    expect(lines[2].split(/\s{2,}/)).toEqual(['SCENARIO', 'CHECK', 'REGION', 'RESULT', 'MS', 'DETAIL']);
    expect(lines[3].split(/\s{2,}/)).toEqual(['(a)', 'encrypt-decrypt:primary', 'ap-southeast-1', 'PASS', '12', 'ok']);
    // The table keeps the short form; the remedy goes to stderr.
    expect(lines[4].split(/\s{2,}/)).toEqual(['(b)', 'cross-region-decrypt', 'ap-southeast-2', 'FAIL', '250', 'Decrypt failed: x.']);
    expect(text).toContain('1 passed, 1 failed, 0 skipped; 7 AWS API calls');
  });

  test('each failed check gives one stderr paragraph naming the check', () => {
    const paragraphs = failureParagraphs(report([check({}), check({ result: 'FAIL', detail: 'Encrypt failed: x. What to do: y.' })]));
    expect(paragraphs).toEqual(['(a) encrypt-decrypt:primary (ap-southeast-1): Encrypt failed: x. What to do: y.']);
  });

  test('--scenario takes a comma-separated list, in the canonical order, and refuses unknown names', () => {
    expect(parseScenarios(undefined)).toEqual(['a', 'b', 'c', 'd', 'e', 'grant', 'policy']);
    expect(parseScenarios('policy, B,a')).toEqual(['a', 'b', 'policy']);
    expect(parseScenarios('a,f,x')).toContain('names unknown scenarios f, x. What to do:');
    expect(parseScenarios(',')).toContain('no scenario');
  });

  test('renderTable pads every column but the last', () => {
    expect(renderTable(['A', 'BB'], [['xxx', 'y'], ['z', '']])).toBe('A    BB\nxxx  y\nz\n');
  });
});

describe('check outcomes', () => {
  const trip = { expectedKeyArn: ARN, encryptedWith: 'alias/x', plaintext: Buffer.from('hi'), encryptKeyId: ARN, decrypted: Buffer.from('hi'), decryptKeyId: ARN };

  test('a round trip passes when the alias leads to the key, the plaintext returns and Decrypt names the key', () => {
    expect(judgeRoundTrip(trip)).toEqual({ result: 'PASS', detail: '2 bytes encrypted with alias/x and decrypted by 1111' });
  });

  test('a round trip fails when the alias points at another key, the text differs, or Decrypt names another key', () => {
    expect(judgeRoundTrip({ ...trip, encryptKeyId: `${ARN}2` }).detail).toContain('the alias points elsewhere');
    expect(judgeRoundTrip({ ...trip, decrypted: Buffer.from('ho') }).detail).toContain('did not round-trip');
    expect(judgeRoundTrip({ ...trip, decryptKeyId: `${ARN}2` }).result).toBe('FAIL');
  });

  test("(a) passes when the secondary Region refuses the primary's ciphertext, and fails when it decrypts it", () => {
    const base = { call: { operation: 'Decrypt', region: 'ap-southeast-2' }, primaryRegion: 'ap-southeast-1', secondaryRegion: 'ap-southeast-2' };
    for (const name of ['IncorrectKeyException', 'InvalidCiphertextException', 'NotFoundException']) {
      expect(judgeCrossRegionRefusal({ ...base, error: serviceError(name, 'no') }).result).toBe('PASS');
    }
    expect(judgeCrossRegionRefusal(base).detail).toContain('not Region-bound');
  });

  test('(a) fails when the refusal has another reason, such as throttling', () => {
    const outcome = judgeCrossRegionRefusal({
      error: serviceError('ThrottlingException', 'Rate exceeded'),
      call: { operation: 'Decrypt', region: 'ap-southeast-2' },
      primaryRegion: 'ap-southeast-1',
      secondaryRegion: 'ap-southeast-2',
    });
    expect(outcome.result).toBe('FAIL');
    expect(outcome.detail).toContain('throttled');
  });

  test('(b) needs an mrk- key shared by the replica, and the replica to answer', () => {
    const base = { primaryKeyArn: MRK, replicaKeyArn: MRK_REPLICA, plaintext: Buffer.from('x'), decrypted: Buffer.from('x'), decryptKeyId: MRK_REPLICA, primaryRegion: 'ap-southeast-1', secondaryRegion: 'ap-southeast-2' };
    expect(judgeCrossRegionDecrypt(base).result).toBe('PASS');
    expect(judgeCrossRegionDecrypt({ ...base, primaryKeyArn: ARN }).detail).toContain('not a multi-Region key');
    expect(judgeCrossRegionDecrypt({ ...base, replicaKeyArn: 'arn:aws:kms:ap-southeast-2:111122223333:key/mrk-other' }).detail).toContain('does not share');
    expect(judgeCrossRegionDecrypt({ ...base, decryptKeyId: MRK }).result).toBe('FAIL');
  });

  test('a denial the policy must give passes on AccessDenied and fails on success or another error', () => {
    const call = { operation: 'Encrypt', region: 'ap-southeast-1' };
    expect(judgeDenied({ call, who: 'admin', error: serviceError('AccessDeniedException', 'denied') }).result).toBe('PASS');
    expect(judgeDenied({ call, who: 'admin' })).toEqual({ result: 'FAIL', detail: 'admin was allowed Encrypt: the key policy does not deny it' });
    expect(judgeDenied({ call, who: 'admin', error: serviceError('DisabledException', 'disabled') }).result).toBe('FAIL');
  });

  test('a key store that is not CONNECTED fails with its state and error code', () => {
    expect(judgeKeyStore({ id: 'cks-1', connectionState: 'CONNECTED' })).toBeUndefined();
    const outcome = judgeKeyStore({ id: 'cks-1', connectionState: 'FAILED', connectionErrorCode: 'USER_LOCKED_OUT' });
    expect(outcome?.result).toBe('FAIL');
    expect(outcome?.detail).toContain('FAILED, ConnectionErrorCode USER_LOCKED_OUT');
  });

  test('helpers: the key id of an ARN, and the short form of a detail', () => {
    expect(keyIdOf(MRK)).toBe('mrk-abc');
    expect(keyIdOf('alias/x')).toBe('alias/x');
    expect(shortDetail('A happened. What to do: B.')).toBe('A happened.');
  });
});

describe('principalsAllowed: who a key policy names for an action', () => {
  const policy = (statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
  const ROLE = 'arn:aws:iam::111122223333:role/Admins';

  test('an Allow naming the role for the action, by name or by wildcard, names it; the account root and "*" name no one', () => {
    const doc = policy([
      { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'kms:*', Resource: '*' },
      { Effect: 'Allow', Principal: '*', Action: 'kms:ScheduleKeyDeletion', Resource: '*' },
      { Effect: 'Allow', Principal: { AWS: [ROLE] }, Action: ['kms:Schedule*'], Resource: '*' },
    ]);
    expect(principalsAllowed(doc, 'kms:ScheduleKeyDeletion')).toEqual([ROLE]);
    expect(principalsAllowed(doc, 'kms:Encrypt')).toEqual([]);
  });

  test('a Deny, or an Allow of other actions, does not name the role', () => {
    const doc = policy([
      { Effect: 'Deny', Principal: { AWS: ROLE }, Action: 'kms:Encrypt', Resource: '*' },
      { Effect: 'Allow', Principal: { AWS: ROLE }, Action: ['kms:Decrypt', 'kms:ReEncrypt*'], Resource: '*' },
    ]);
    expect(principalsAllowed(doc, 'kms:Encrypt')).toEqual([]);
    expect(principalsAllowed(doc, 'kms:ReEncryptFrom')).toEqual([ROLE]);
  });
});
