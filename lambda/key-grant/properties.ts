/** Grant operations the lab's example grant may carry. */
export const GRANTABLE_OPERATIONS = ['Encrypt', 'Decrypt', 'GenerateDataKey', 'ReEncryptFrom', 'ReEncryptTo', 'DescribeKey'] as const;
export type GrantOperation = (typeof GRANTABLE_OPERATIONS)[number];

export interface GrantProperties {
  readonly keyArn: string;
  readonly granteePrincipal: string;
  readonly operations: GrantOperation[];
  /** Makes CreateGrant idempotent: the same name and parameters return the same grant. */
  readonly name: string;
}

export class GrantPropertyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GrantPropertyError';
  }
}

export function parseGrantProperties(props: Record<string, unknown>): GrantProperties {
  const str = (name: string): string => {
    const v = props[name];
    if (typeof v !== 'string' || v === '') throw new GrantPropertyError(`Resource property ${name} is missing.`);
    return v;
  };
  const operations = props.Operations;
  if (!Array.isArray(operations) || operations.length === 0) {
    throw new GrantPropertyError('Resource property Operations must list at least one grant operation.');
  }
  for (const op of operations) {
    if (!(GRANTABLE_OPERATIONS as readonly unknown[]).includes(op)) {
      throw new GrantPropertyError(`Operation ${JSON.stringify(op)} is not accepted; use ${GRANTABLE_OPERATIONS.join(', ')}.`);
    }
  }
  return {
    keyArn: str('KeyArn'),
    granteePrincipal: str('GranteePrincipal'),
    operations: [...(operations as GrantOperation[])].sort(),
    name: str('Name'),
  };
}

/** Physical ids carry the key too, so a Delete can revoke without the (possibly changed) properties. */
export function grantPhysicalId(keyArn: string, grantId: string): string {
  return `${keyArn}|${grantId}`;
}

export function parseGrantPhysicalId(physicalId: string): { keyArn: string; grantId: string } | undefined {
  const [keyArn, grantId, ...rest] = physicalId.split('|');
  if (!keyArn || !grantId || rest.length > 0) return undefined;
  return { keyArn, grantId };
}
