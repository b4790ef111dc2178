import { backoffDelays, errorName, isNamed } from '../../../lambda/shared/retry';

const named = (name: string) => Object.assign(new Error(name), { name });

describe('backoffDelays', () => {
  test('delays double up to the cap and stop at the attempt limit', () => {
    expect(backoffDelays({ attempts: 6, baseDelayMs: 1000, maxDelayMs: 8000 })).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(backoffDelays({ attempts: 1, baseDelayMs: 1000, maxDelayMs: 8000 })).toEqual([]);
  });
});

describe('error names', () => {
  test('SDK errors are told apart by name; anything else has none', () => {
    expect(errorName(named('NotFoundException'))).toBe('NotFoundException');
    expect(errorName('a string')).toBeUndefined();
    expect(isNamed('NotFoundException', 'KMSInvalidStateException')(named('KMSInvalidStateException'))).toBe(true);
    expect(isNamed('NotFoundException')(named('AccessDeniedException'))).toBe(false);
  });
});
