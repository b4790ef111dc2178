/**
 * Approximate on-demand prices in USD per hour, for the warning synth prints
 * and the README's cost table. Not read from AWS (synth runs offline) and not
 * checked for every Region: the CloudHSM, VPC and EC2 pricing pages decide.
 */
export const APPROXIMATE_HOURLY_USD = {
  /** CloudHSM, per HSM-hour, roughly $1.45 to $2 across Regions. */
  hsm: 1.9,
  /** One NAT gateway, hourly charge only (data processing is extra, about $0.06 per GB). */
  natGateway: 0.06,
  /** The client host, by instance type; others are left out of the estimate. */
  clientInstance: { 't3.micro': 0.013, 't3.small': 0.026, 't3a.micro': 0.012, 't3a.small': 0.024 } as Record<string, number>,
} as const;

export interface HourlyCost {
  readonly total: number;
  readonly lines: readonly string[];
}

/** What scenario (d) costs per hour while its HSMs run. */
export function cloudHsmHourlyCost(hsmCount: number, clientInstanceType: string): HourlyCost {
  const p = APPROXIMATE_HOURLY_USD;
  const host = p.clientInstance[clientInstanceType];
  const lines = [
    `${hsmCount} HSMs × $${p.hsm.toFixed(2)} = $${(hsmCount * p.hsm).toFixed(2)}`,
    `1 NAT gateway $${p.natGateway.toFixed(2)}`,
    host === undefined ? `client host ${clientInstanceType}: not in the estimate` : `client host ${clientInstanceType} $${host.toFixed(3)}`,
  ];
  return { total: hsmCount * p.hsm + p.natGateway + (host ?? 0), lines };
}
