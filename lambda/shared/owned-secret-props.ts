import { LabSecretSpec } from './lab-secrets';
import { managedByValue, OwnerEvent } from './secret-lifecycle';

/** The properties every handler-owned secret arrives with: its name, resource policy and lab tags. */
export interface OwnedSecretProperties {
  readonly name: string;
  readonly resourcePolicy: string;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * Reads `<prefix>SecretName`, `<prefix>SecretPolicy` and `SecretTags` from a
 * resource's properties: the shape the lib side gives every secret a handler
 * owns, so each handler reads them the same way.
 */
export function ownedSecretProperties(props: Record<string, unknown>, prefix: string, what: string): OwnedSecretProperties {
  const name = props[`${prefix}SecretName`];
  if (typeof name !== 'string' || name === '') throw new Error(`${what}: resource property ${prefix}SecretName is missing.`);
  const policy = props[`${prefix}SecretPolicy`];
  if (typeof policy !== 'object' || policy === null || !Array.isArray((policy as { Statement?: unknown }).Statement)) {
    throw new Error(`${what}: resource property ${prefix}SecretPolicy must be a policy document with a Statement list.`);
  }
  const tags = props.SecretTags ?? {};
  if (typeof tags !== 'object' || tags === null || Object.values(tags).some((v) => typeof v !== 'string')) {
    throw new Error(`${what}: resource property SecretTags must map tag keys to string values.`);
  }
  return { name, resourcePolicy: JSON.stringify(policy), tags: tags as Record<string, string> };
}

export function ownedSecretSpec(owned: OwnedSecretProperties, event: OwnerEvent, description: string): LabSecretSpec {
  return { name: owned.name, description, tags: owned.tags, resourcePolicy: owned.resourcePolicy, managedBy: managedByValue(event) };
}
