/**
 * What every handler's SDK clients are given on top of the defaults (so the
 * standard AWS_REGION and AWS_ENDPOINT_URL* variables still apply): a request
 * that hangs is cut off, so the handler keeps the time it needs to clean up
 * and answer before Lambda stops it.
 */
export const CLIENT_CONFIG = { requestHandler: { requestTimeout: 10_000, connectionTimeout: 3_000 } } as const;
