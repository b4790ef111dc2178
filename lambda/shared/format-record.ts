/**
 * The object in a secret value that carries `format`, or undefined for
 * anything else: a value that is not JSON, not an object, or of another
 * format (a placeholder, another record). Records a lab handler writes
 * (escrowed material, the lab CA) all start with this check.
 */
export function parseFormatRecord(secretString: string | undefined, format: string): Record<string, unknown> | undefined {
  if (!secretString) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const record = parsed as Record<string, unknown>;
  return record.format === format ? record : undefined;
}
