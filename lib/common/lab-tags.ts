/** Tag keys that teardown automation and cost reports filter on. */
export const LAB_TAG = 'kms-key-lab:lab';
export const OWNER_TAG = 'kms-key-lab:owner';

/** The lab's tags, for resources that CDK's tag aspect cannot reach (those a handler creates). */
export function labTags(prefix: string, owner: string): Record<string, string> {
  return { [LAB_TAG]: prefix, [OWNER_TAG]: owner };
}
