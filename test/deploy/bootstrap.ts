import * as fs from 'node:fs';

/**
 * What `cdk bootstrap` leaves in each environment and a deploy reads: the SSM
 * parameter /cdk-bootstrap/<qualifier>/version, which every synthesized
 * stack's BootstrapVersion parameter names and its CheckBootstrapVersion rule
 * checks. The value is the one the installed CDK CLI's bootstrap template
 * writes (its CdkBootstrapVersion resource), not one the tests choose.
 * https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html
 */
const TEMPLATE = require.resolve('aws-cdk/lib/api/bootstrap/bootstrap-template.yaml');

export function bootstrapVersion(): string {
  const text = fs.readFileSync(TEMPLATE, 'utf8');
  const match = /CdkBootstrapVersion:\s*\n\s*Type: AWS::SSM::Parameter[\s\S]*?Value: '(\d+)'/.exec(text);
  if (!match) throw new Error(`no CdkBootstrapVersion in ${TEMPLATE}`);
  return match[1];
}

/** The bootstrap stack's SSM parameters, with the default qualifier (hnb659fds). */
export function bootstrapParameter(name: string): string | undefined {
  return /^\/cdk-bootstrap\/[a-z0-9]+\/version$/.test(name) ? bootstrapVersion() : undefined;
}
