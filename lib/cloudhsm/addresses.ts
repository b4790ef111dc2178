/**
 * The fixed address of the k-th HSM in a subnet: the 11th address onwards.
 * Only HSMs are placed in these subnets by the lab (the client host has its
 * own), and KMS adds its network interfaces only once every HSM exists. A
 * fixed address lets a handler find its HSM again, without keeping state,
 * after any retry.
 */
export function hsmIpAddress(subnetCidr: string, k: number): string {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(subnetCidr);
  if (!m) throw new Error(`Not an IPv4 CIDR block: ${subnetCidr}`);
  const bits = Number(m[5]);
  const size = 2 ** (32 - bits);
  const offset = 10 + k;
  if (offset >= size - 1) throw new Error(`Subnet ${subnetCidr} has no room for HSM number ${k + 1}.`);
  const base = m.slice(1, 5).reduce((n, octet) => n * 256 + Number(octet), 0);
  const ip = base + offset;
  return [24, 16, 8, 0].map((shift) => Math.floor(ip / 2 ** shift) % 256).join('.');
}

/** HSM i goes to zone i mod n, and is the k-th in that zone: spread evenly, deterministic. */
export function hsmPlacement(hsmCount: number, zoneCount: number): { zone: number; k: number }[] {
  return Array.from({ length: hsmCount }, (_, i) => ({ zone: i % zoneCount, k: Math.floor(i / zoneCount) }));
}

