/**
 * IAM's policy evaluation, for the fakes' resources that a deploy made from
 * the synthesized templates (key policies, secret resource policies, the
 * roles' identity policies), in one account:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 * - an explicit Deny in any policy wins;
 * - otherwise an Allow in the resource policy naming the principal, or in an
 *   identity policy, allows. For a KMS key an identity policy counts only
 *   when the key policy allows the account (its root principal): "Unless the
 *   key policy explicitly allows it, you cannot use IAM policies to allow
 *   access to a KMS key."
 *   https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
 * Conditions: the String*, Arn* and Bool operators with the request's context
 * keys; a key missing from the context makes a positive operator false and a
 * negated one true, as the condition operators reference says:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 * An operator this does not know makes the statement not apply (reported, not guessed).
 */

export interface PolicyDocument {
  readonly Statement: readonly Statement[];
}
interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: '*' | { AWS?: string | string[]; Service?: string | string[] };
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

export interface Request {
  /** The caller: a role ARN (its sessions act as the role). */
  readonly principal: string;
  readonly account: string;
  /** e.g. kms:Encrypt */
  readonly action: string;
  readonly resource: string;
  /** Condition keys of the request, e.g. kms:KeyOrigin, aws:ResourceTag/<key>. */
  readonly context?: Record<string, string | readonly string[] | undefined>;
}

const glob = (pattern: string, value: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i').test(value);
const list = <T>(v: T | readonly T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? [...v] : [v as T]);

function actionMatches(s: Statement, action: string): boolean {
  if (s.NotAction) return !list(s.NotAction).some((a) => glob(a, action));
  return list(s.Action).some((a) => glob(a, action));
}

function principalMatches(s: Statement, r: Request): 'principal' | 'account' | false {
  if (s.Principal === '*') return 'principal';
  const aws = list(s.Principal?.AWS);
  if (aws.includes('*') || aws.includes(r.principal)) return 'principal';
  if (aws.includes(`arn:aws:iam::${r.account}:root`) || aws.includes(r.account)) return 'account';
  return false;
}

const OPERATORS: Record<string, (value: string, wanted: string) => boolean> = {
  StringEquals: (v, w) => v === w,
  StringLike: (v, w) => glob(w, v),
  ArnEquals: (v, w) => glob(w, v),
  ArnLike: (v, w) => glob(w, v),
  Bool: (v, w) => v.toLowerCase() === String(w).toLowerCase(),
};

function conditionHolds(s: Statement, r: Request): boolean {
  for (const [op, keys] of Object.entries(s.Condition ?? {})) {
    // ForAllValues:/ForAnyValue: compare a multivalued key; ForAllValues holds for a missing or empty key.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
    const [set, operator] = op.includes(':') ? (op.split(':') as [string, string]) : [undefined, op];
    const ifExists = operator.endsWith('IfExists');
    const base = operator.replace(/IfExists$/, '');
    const negated = /^(String|Arn)Not/.test(base);
    const positive = OPERATORS[base.replace(/Not(Equals|Like)$/, '$1')];
    if (!positive || (set && set !== 'ForAllValues' && set !== 'ForAnyValue')) return false;
    for (const [key, wanted] of Object.entries(keys)) {
      const given = r.context?.[key] ?? (key === 'aws:PrincipalArn' ? r.principal : key === 'aws:PrincipalAccount' || key === 'kms:CallerAccount' ? r.account : undefined);
      const values = list(given as string | string[] | undefined);
      const matches = (v: string) => {
        const any = list(wanted as string | string[]).some((w) => positive(v, String(w)));
        return negated ? !any : any;
      };
      if (set === 'ForAllValues') {
        if (!values.every(matches)) return false;
        continue;
      }
      if (set === 'ForAnyValue') {
        if (!values.some(matches)) return false;
        continue;
      }
      if (values.length === 0) {
        if (ifExists || negated) continue;
        return false;
      }
      if (!matches(values[0])) return false;
    }
  }
  return true;
}

function applies(s: Statement, r: Request, resourcePolicy: boolean): 'principal' | 'account' | false {
  if (!actionMatches(s, r.action) || !conditionHolds(s, r)) return false;
  if (resourcePolicy) return principalMatches(s, r);
  return list(s.Resource).some((p) => glob(p, r.resource)) ? 'principal' : false;
}

/** Whether the request is allowed by the resource policy and the caller's identity policies. */
export function evaluate(r: Request, resourcePolicy: PolicyDocument | undefined, identityPolicies: readonly PolicyDocument[], kind: 'kms' | 'other'): boolean {
  const resource = (resourcePolicy?.Statement ?? []).map((s) => ({ s, how: applies(s, r, true) })).filter((x) => x.how);
  const identity = identityPolicies.flatMap((p) => p.Statement).filter((s) => applies(s, r, false));
  if ([...resource.map((x) => x.s), ...identity].some((s) => s.Effect === 'Deny')) return false;
  if (resource.some((x) => x.s.Effect === 'Allow' && x.how === 'principal')) return true;
  const accountDelegates = kind === 'other' || resource.some((x) => x.s.Effect === 'Allow' && x.how === 'account');
  return accountDelegates && identity.some((s) => s.Effect === 'Allow');
}
