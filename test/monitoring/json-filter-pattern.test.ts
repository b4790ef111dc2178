import { FilterPatternSyntaxError, matchesJsonFilterPattern } from './json-filter-pattern';

// The examples below are those of the CloudWatch Logs User Guide, "Filter pattern syntax for metric filters",
// section "Matching terms in JSON log events", with the outcome the guide gives for each.

describe('JSON filter patterns: the guide\'s single-condition examples', () => {
  const event = JSON.stringify({
    eventType: 'UpdateTrail',
    sourceIPAddress: '111.111.111.111',
    arrayKey: ['value', 'another value'],
    objectList: [
      { name: 'a', id: 1 },
      { name: 'b', id: 2 },
    ],
    SomeObject: null,
    ThisFlag: true,
  });

  test.each([
    '{ $.eventType = "UpdateTrail" }',
    '{ $.sourceIPAddress != 123.123.* }',
    '{ $.arrayKey[0] = "value" }',
    '{ $.objectList[1].id = 2 }',
    '{ $.SomeObject IS NULL }',
    '{ $.SomeOtherObject NOT EXISTS }',
    '{ $.ThisFlag IS TRUE }',
  ])('%s matches', (pattern) => {
    expect(matchesJsonFilterPattern(pattern, event)).toBe(true);
  });

  test.each([
    '{ $.eventType = "CreateTrail" }',
    '{ $.sourceIPAddress != 111.111.* }',
    '{ $.arrayKey[1] = "value" }',
    '{ $.objectList[1].id = 1 }',
    '{ $.eventType IS NULL }',
    '{ $.SomeObject NOT EXISTS }',
    '{ $.ThisFlag IS FALSE }',
  ])('%s, the same selector with another value, does not match', (pattern) => {
    expect(matchesJsonFilterPattern(pattern, event)).toBe(false);
  });
});

describe('JSON filter patterns: the guide\'s compound conditions', () => {
  const event = JSON.stringify({
    user: { id: 1, email: 'John.Stiles@example.com' },
    users: [
      { id: 2, email: 'John.Doe@example.com' },
      { id: 3, email: 'Jane.Doe@example.com' },
    ],
    actions: ['GET', 'PUT', 'DELETE'],
    coordinates: [
      [0, 1, 2],
      [4, 5, 6],
      [7, 8, 9],
    ],
  });

  test.each([
    ['{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', true],
    ['{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', false],
    // && binds tighter than ||: the first condition alone decides.
    ['{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }', true],
    ['{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }', false],
  ])('%s gives %s', (pattern, expected) => {
    expect(matchesJsonFilterPattern(pattern, event)).toBe(expected);
  });
});

describe('JSON filter patterns: OR', () => {
  test.each([
    ['{$.foo = bar}', [true, false]],
    ['{$.foo = baz }', [false, true]],
    ['{$.foo = bar || $.foo = baz }', [true, true]],
  ])('%s matches {"foo":"bar"}, {"foo":"baz"}: %j', (pattern, expected) => {
    expect([{ foo: 'bar' }, { foo: 'baz' }].map((e) => matchesJsonFilterPattern(pattern, JSON.stringify(e)))).toEqual(expected);
  });
});

describe('JSON filter patterns: wildcards', () => {
  const matches = (pattern: string, value: string) => matchesJsonFilterPattern(`{ $.eventName = ${pattern} }`, JSON.stringify({ eventName: value }));

  test('a leading * matches any text before: *Event matches PutEvent and GetEvent, not EventId', () => {
    expect([matches('*Event', 'PutEvent'), matches('*Event', 'GetEvent'), matches('*Event', 'EventId')]).toEqual([true, true, false]);
  });

  test('a trailing * matches any text after: Event* matches EventId and EventName, not PutEvent', () => {
    expect([matches('Event*', 'EventId'), matches('Event*', 'EventName'), matches('Event*', 'PutEvent')]).toEqual([true, true, false]);
  });

  test('a * inside is the character itself: Ev*ent matches only "Ev*ent"', () => {
    expect([matches('Ev*ent', 'Ev*ent'), matches('Ev*ent', 'Event'), matches('Ev*ent', 'EvXent')]).toEqual([true, false, false]);
  });

  test('wildcards work inside quotes, and a quoted value keeps its spaces', () => {
    expect(matches('"* is pending deletion."', 'arn:aws:kms:ap-southeast-1:111122223333:key/k is pending deletion.')).toBe(true);
    expect(matches('"* is pending deletion."', 'arn:aws:kms:ap-southeast-1:111122223333:key/k is disabled.')).toBe(false);
  });

  test('* alone matches any value, but not a missing field', () => {
    expect(matchesJsonFilterPattern('{ $.latency = * }', '{"latency": 12}')).toBe(true);
    expect(matchesJsonFilterPattern('{ $.latency = * }', '{"other": 12}')).toBe(false);
  });

  test('matching is case-sensitive', () => {
    expect(matches('kms*', 'KMS.amazonaws.com')).toBe(false);
  });
});

describe('JSON filter patterns: values that are not strings or numbers', () => {
  test('a selector on an array fails both = and !=, as the guide states', () => {
    const event = '{"users": [1, 2, 3]}';
    expect(matchesJsonFilterPattern('{$.users = 1}', event)).toBe(false);
    expect(matchesJsonFilterPattern('{$.users != 1}', event)).toBe(false);
  });

  test('a missing field fails both = and !=', () => {
    expect(matchesJsonFilterPattern('{ $.errorMessage = "*" }', '{"eventName": "Encrypt"}')).toBe(false);
    expect(matchesJsonFilterPattern('{ $.errorMessage != "x" }', '{"eventName": "Encrypt"}')).toBe(false);
  });

  test('a message that is not JSON never matches', () => {
    expect(matchesJsonFilterPattern('{ $.a = * }', 'a = 1')).toBe(false);
  });
});

describe('JSON filter patterns: numbers', () => {
  test.each([
    ['{ $.latency >= 500 }', { latency: 500 }, true],
    ['{ $.latency > +1000 }', { latency: 1000 }, false],
    ['{ $.numbers[0] < 10e3 }', { numbers: [9999] }, true],
    ['{ $.numbers[0] < 10e-3 }', { numbers: [0.01] }, false],
    ['{ $.processes[4].averageRuntime <= 55.5 }', { processes: [{}, {}, {}, {}, { averageRuntime: 55.5 }] }, true],
    ['{ $.errorCode = 400 }', { errorCode: 400 }, true],
    ['{ $.errorCode != 500 }', { errorCode: 500 }, false],
  ])('%s on %j gives %s', (pattern, event, expected) => {
    expect(matchesJsonFilterPattern(pattern, JSON.stringify(event))).toBe(expected);
  });

  test('an unquoted number equals a string field that holds it, as in an account id', () => {
    expect(matchesJsonFilterPattern('{ $.recipientAccountId = 123456789012 }', '{"recipientAccountId": "123456789012"}')).toBe(true);
  });
});

describe('JSON filter patterns: syntax errors', () => {
  test.each([
    ['no braces', '$.a = b'],
    ['no selector', '{ = b }'],
    ['an unquoted @', '{ $.user = alice@example.com }'],
    ['an unterminated quote', '{ $.a = "b }'],
    ['an unbalanced parenthesis', '{ ($.a = b }'],
    ['a dangling &&', '{ $.a = b && }'],
    ['a comparison of a quoted string with <', '{ $.a < "5" }'],
    ['text after the closing brace', '{ $.a = b } c'],
  ])('%s is rejected', (_what, pattern) => {
    expect(() => matchesJsonFilterPattern(pattern, '{}')).toThrow(FilterPatternSyntaxError);
  });
});
