import { CfnOutput, Stack } from 'aws-cdk-lib';

export interface KeyOutputProps {
  /** Output name prefix, e.g. `SingleRegion` gives `SingleRegionKeyId`, `SingleRegionKeyArn`, ... */
  readonly name: string;
  readonly scenario: string;
  readonly keyId: string;
  readonly keyArn: string;
  readonly aliasName: string;
}

/** Key id, ARN, alias and Region of one key, as stack outputs that tools read by name. */
export function addKeyOutputs(stack: Stack, props: KeyOutputProps): void {
  const out = (suffix: string, value: string, what: string) =>
    new CfnOutput(stack, `${props.name}${suffix}`, { value, description: `Scenario ${props.scenario}: ${what}` });
  out('KeyId', props.keyId, 'key id');
  out('KeyArn', props.keyArn, 'key ARN');
  out('KeyAlias', props.aliasName, 'alias');
  out('KeyRegion', stack.region, 'Region');
}
