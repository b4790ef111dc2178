import { X509Certificate } from 'node:crypto';

/**
 * True when certificatePem (e.g. the cluster certificate DescribeClusters
 * returns once INITIALIZED) was signed by the trust anchor's key. Apart from
 * the CA code so that handlers that only check a chain do not bundle it.
 */
export function issuedBy(certificatePem: string, trustAnchorPem: string): boolean {
  try {
    return new X509Certificate(certificatePem).verify(new X509Certificate(trustAnchorPem).publicKey);
  } catch {
    return false;
  }
}
