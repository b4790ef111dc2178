import { Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * A value as cdk-nag spells it in a finding id: tokens resolved, references
 * written `<LogicalId>` or `<LogicalId.Attribute>`, joins concatenated.
 */
export function nagSpelling(stack: Stack, value: string): string {
  const spell = (v: unknown): string => {
    if (typeof v === 'string') return v;
    const o = v as Record<string, unknown>;
    if (o.Ref) return `<${String(o.Ref)}>`;
    if (o['Fn::GetAtt']) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
    if (o['Fn::Join']) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(spell).join(sep);
    }
    return JSON.stringify(v);
  };
  return spell(stack.resolve(value));
}

/** Acknowledges the AwsSolutions-IAM5 finding for one wildcard resource on a construct's policy, with its reason. */
export function acknowledgeWildcardResource(scope: IConstruct, arn: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${nagSpelling(Stack.of(scope), arn)}]`, reason });
}
