/**
 * An evaluator for CloudWatch Logs JSON filter patterns, the `{ ... }` form that metric filters apply to JSON log
 * events such as CloudTrail records, so that a pattern can be tried on recorded events without AWS.
 *
 * It follows the CloudWatch Logs User Guide, "Filter pattern syntax for metric filters" (matching terms in JSON log
 * events): https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntaxForMetricFilters.html
 *
 * - Selectors start at `$`, continue with `.name` (letters, digits, `-`, `_`) and `[index]`.
 * - `=` and `!=` compare with a string, quoted or not; unquoted, only letters, digits and `_ . - + : *` are valid.
 *   A leading and/or trailing `*` matches any text there; a `*` inside (`Ev*ent`) is the character itself; `*`
 *   alone matches any value.
 * - `<`, `>`, `<=`, `>=`, and `=`/`!=` with an unquoted number, compare numerically when the field is a number.
 * - `IS NULL`, `IS TRUE`, `IS FALSE`, `NOT EXISTS`.
 * - `&&` binds tighter than `||`; parentheses group.
 * - A comparison is true only on a value node (string or number): a selector that reaches an object, an array, a
 *   boolean, null or nothing fails both `=` and `!=` (the guide states this for arrays and objects; for absent
 *   fields `NOT EXISTS` is the documented test).
 * - Case-sensitive; a message that is not JSON never matches.
 *
 * Not covered: space-delimited and plain-term patterns, `%regex%` terms, and metric value extraction.
 */

export type Condition =
  | { readonly kind: 'compare'; readonly selector: Selector; readonly op: CompareOp; readonly value: PatternValue }
  | { readonly kind: 'is'; readonly selector: Selector; readonly what: 'NULL' | 'TRUE' | 'FALSE' | 'NOT EXISTS' };

export type Expr =
  | Condition
  | { readonly kind: 'and' | 'or'; readonly left: Expr; readonly right: Expr };

export type Selector = readonly (string | number)[];
export type CompareOp = '=' | '!=' | '<' | '>' | '<=' | '>=';
export interface PatternValue {
  readonly text: string;
  readonly quoted: boolean;
}

export class FilterPatternSyntaxError extends Error {
  constructor(pattern: string, at: number, what: string) {
    super(`${what} at character ${at} of ${JSON.stringify(pattern)}`);
    this.name = 'FilterPatternSyntaxError';
  }
}

/** Parses a JSON filter pattern; throws {@link FilterPatternSyntaxError} on anything outside the grammar above. */
export function parseJsonFilterPattern(pattern: string): Expr {
  let i = 0;
  const fail = (what: string): never => {
    throw new FilterPatternSyntaxError(pattern, i, what);
  };
  const skip = () => {
    while (i < pattern.length && /\s/.test(pattern[i])) i++;
  };
  const eat = (token: string): boolean => {
    skip();
    if (pattern.startsWith(token, i)) {
      i += token.length;
      return true;
    }
    return false;
  };
  const expect = (token: string) => {
    if (!eat(token)) fail(`expected ${JSON.stringify(token)}`);
  };
  const word = (w: string): boolean => {
    skip();
    const re = new RegExp(`^${w}(?![A-Za-z0-9_])`);
    const m = re.exec(pattern.slice(i));
    if (m) i += m[0].length;
    return Boolean(m);
  };

  const selector = (): Selector => {
    expect('$');
    const path: (string | number)[] = [];
    for (;;) {
      if (pattern[i] === '.') {
        const m = /^\.([A-Za-z0-9_-]+)/.exec(pattern.slice(i));
        if (!m) fail('expected a property name after "."');
        path.push(m![1]);
        i += m![0].length;
      } else if (pattern[i] === '[') {
        const m = /^\[(\d+)\]/.exec(pattern.slice(i));
        if (!m) fail('expected an array index such as [0]');
        if (path.length === 0) fail('an array index must follow a property');
        path.push(Number(m![1]));
        i += m![0].length;
      } else break;
    }
    if (path.length === 0) fail('expected a property after "$"');
    return path;
  };

  const value = (): PatternValue => {
    skip();
    if (pattern[i] === '"') {
      let text = '';
      i++;
      while (i < pattern.length && pattern[i] !== '"') {
        if (pattern[i] === '\\' && i + 1 < pattern.length) i++;
        text += pattern[i++];
      }
      if (pattern[i] !== '"') fail('unterminated quoted string');
      i++;
      return { text, quoted: true };
    }
    const m = /^[^\s()&|}]+/.exec(pattern.slice(i));
    if (!m) fail('expected a value');
    if (!/^[A-Za-z0-9_.+:*-]+$/.test(m![0])) fail(`${JSON.stringify(m![0])} must be quoted`);
    i += m![0].length;
    return { text: m![0], quoted: false };
  };

  const condition = (): Expr => {
    const sel = selector();
    if (word('IS')) {
      for (const what of ['NULL', 'TRUE', 'FALSE'] as const) if (word(what)) return { kind: 'is', selector: sel, what };
      return fail('expected NULL, TRUE or FALSE after IS');
    }
    if (word('NOT')) {
      if (!word('EXISTS')) fail('expected EXISTS after NOT');
      return { kind: 'is', selector: sel, what: 'NOT EXISTS' };
    }
    skip();
    const op = (['!=', '<=', '>=', '=', '<', '>'] as const).find((o) => pattern.startsWith(o, i));
    if (!op) return fail('expected a comparison operator');
    i += op.length;
    const v = value();
    if (op !== '=' && op !== '!=' && (v.quoted || !isNumber(v.text))) fail(`${op} needs a number`);
    return { kind: 'compare', selector: sel, op, value: v };
  };

  const primary = (): Expr => {
    if (eat('(')) {
      const e = or();
      expect(')');
      return e;
    }
    return condition();
  };
  const and = (): Expr => {
    let left = primary();
    while (eat('&&')) left = { kind: 'and', left, right: primary() };
    return left;
  };
  const or = (): Expr => {
    let left = and();
    while (eat('||')) left = { kind: 'or', left, right: and() };
    return left;
  };

  expect('{');
  const expr = or();
  expect('}');
  skip();
  if (i < pattern.length) fail('unexpected text after "}"');
  return expr;
}

/** Whether CloudWatch Logs would count `message` (one log event) as a match of the JSON filter `pattern`. */
export function matchesJsonFilterPattern(pattern: string, message: string): boolean {
  const expr = parseJsonFilterPattern(pattern);
  let event: unknown;
  try {
    event = JSON.parse(message);
  } catch {
    return false;
  }
  return evaluate(expr, event);
}

export function evaluate(expr: Expr, event: unknown): boolean {
  switch (expr.kind) {
    case 'and':
      return evaluate(expr.left, event) && evaluate(expr.right, event);
    case 'or':
      return evaluate(expr.left, event) || evaluate(expr.right, event);
    case 'is': {
      const node = resolve(event, expr.selector);
      if (expr.what === 'NOT EXISTS') return node === ABSENT;
      if (expr.what === 'NULL') return node === null;
      return node === (expr.what === 'TRUE');
    }
    case 'compare': {
      const node = resolve(event, expr.selector);
      if (typeof node !== 'string' && typeof node !== 'number') return false;
      return compare(node, expr.op, expr.value);
    }
  }
}

const ABSENT = Symbol('absent');

function resolve(event: unknown, selector: Selector): unknown {
  let node: unknown = event;
  for (const step of selector) {
    if (typeof step === 'number') {
      if (!Array.isArray(node) || step >= node.length) return ABSENT;
      node = node[step];
    } else {
      if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, step)) return ABSENT;
      node = (node as Record<string, unknown>)[step];
    }
  }
  return node;
}

function compare(node: string | number, op: CompareOp, value: PatternValue): boolean {
  if (typeof node === 'number' && !value.quoted && isNumber(value.text)) {
    const n = Number(value.text);
    switch (op) {
      case '=':
        return node === n;
      case '!=':
        return node !== n;
      case '<':
        return node < n;
      case '>':
        return node > n;
      case '<=':
        return node <= n;
      case '>=':
        return node >= n;
    }
  }
  if (op !== '=' && op !== '!=') return false;
  const equal = wildcardMatch(String(node), value.text);
  return op === '=' ? equal : !equal;
}

function wildcardMatch(text: string, pattern: string): boolean {
  if (pattern === '*') return true;
  const leading = pattern.startsWith('*');
  const trailing = pattern.length > 1 && pattern.endsWith('*');
  const core = pattern.slice(leading ? 1 : 0, trailing ? -1 : undefined);
  if (leading && trailing) return text.includes(core);
  if (leading) return text.endsWith(core);
  if (trailing) return text.startsWith(core);
  return text === core;
}

function isNumber(text: string): boolean {
  return /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text);
}
