import { connectStep, removalStep, waitingName } from '../../../lambda/custom-key-store/store-state';

const NOW = new Date('2030-06-01T08:00:00Z');

describe('connectStep', () => {
  test('CONNECTED is done, CONNECTING and DISCONNECTING are waited for', () => {
    expect(connectStep('CONNECTED')).toEqual({ kind: 'done' });
    expect(connectStep('CONNECTING')).toEqual({ kind: 'wait' });
    expect(connectStep('DISCONNECTING')).toEqual({ kind: 'wait' });
  });

  test('FAILED is disconnected first, as KMS requires, and reported with its code', () => {
    expect(connectStep('FAILED', 'USER_NOT_FOUND')).toEqual({ kind: 'disconnect-then-fail', code: 'USER_NOT_FOUND' });
  });

  test('DISCONNECTED, or a state not seen yet, asks for a connect', () => {
    expect(connectStep('DISCONNECTED')).toEqual({ kind: 'connect' });
    expect(connectStep(undefined)).toEqual({ kind: 'connect' });
  });
});

describe('removalStep', () => {
  test('a store that is gone is done, a DISCONNECTED one is deleted, a DISCONNECTING one is waited for', () => {
    expect(removalStep(undefined)).toEqual({ kind: 'done' });
    expect(removalStep('DISCONNECTED')).toEqual({ kind: 'delete' });
    expect(removalStep('DISCONNECTING')).toEqual({ kind: 'wait' });
  });

  test.each(['CONNECTED', 'CONNECTING', 'FAILED'])('a %s store is disconnected first', (state) => {
    expect(removalStep(state)).toEqual({ kind: 'disconnect' });
  });
});

describe('waitingName', () => {
  test('names the day after the keys pending deletion are gone', () => {
    expect(waitingName('lab-store', 7, NOW)).toBe('lab-store-delete-after-2030-06-09');
    expect(waitingName('lab-store', 30, NOW)).toBe('lab-store-delete-after-2030-07-02');
  });

  test('renaming again keeps one suffix: the same one, or a later date in place of the old one', () => {
    expect(waitingName('lab-store-delete-after-2030-06-09', 7, NOW)).toBe('lab-store-delete-after-2030-06-09');
    expect(waitingName('lab-store-delete-after-2030-06-09', 7, new Date('2030-06-05T00:00:00Z'))).toBe('lab-store-delete-after-2030-06-13');
  });
});
