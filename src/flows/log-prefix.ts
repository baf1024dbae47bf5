// The nftables log statements flatnet's tables carry at their drop and reject points, and the
// reading back of their prefixes. Every statement logs to one NFLOG group that the node's flow
// collector reads; the prefix says which decision point the packet hit, within the kernel's
// 64-byte limit (nft refuses longer): `flatnet:pol:in-<hash>` (a NetworkPolicy allow class of
// direction ingress/egress dropped it), `flatnet:pol:not-admitted`, `flatnet:pol:ipv6`,
// `flatnet:svc:no-endpoints` (the proxy rejected a Service without endpoints).

/** The NFLOG group of flatnet's log rules (one per node namespace). */
export const FLOW_LOG_GROUP = 13;

/** nft's limit for a log prefix, in bytes. */
export const MAX_PREFIX_BYTES = 64;

export type DropPoint =
  | { kind: 'policy'; direction: 'ingress' | 'egress'; allowClass: string }
  | { kind: 'not-admitted' }
  | { kind: 'ipv6' }
  | { kind: 'no-endpoints' };

export function prefixOf(point: DropPoint): string {
  switch (point.kind) {
    case 'policy':
      return `flatnet:pol:${point.allowClass}`;
    case 'not-admitted':
      return 'flatnet:pol:not-admitted';
    case 'ipv6':
      return 'flatnet:pol:ipv6';
    case 'no-endpoints':
      return 'flatnet:svc:no-endpoints';
  }
}

/** The nft statement that logs a packet at `point` (put it before the drop or reject verdict). */
export function logStatement(point: DropPoint): string {
  const prefix = prefixOf(point);
  if (Buffer.byteLength(prefix) >= MAX_PREFIX_BYTES || /["\\]/.test(prefix)) throw new Error(`log prefix ${JSON.stringify(prefix)} does not fit nft's ${MAX_PREFIX_BYTES}-byte limit`);
  return `log group ${FLOW_LOG_GROUP} prefix "${prefix}"`;
}

/** The decision point a logged prefix names, or undefined for a prefix that is not flatnet's. */
export function parsePrefix(prefix: string): DropPoint | undefined {
  if (prefix === 'flatnet:pol:not-admitted') return { kind: 'not-admitted' };
  if (prefix === 'flatnet:pol:ipv6') return { kind: 'ipv6' };
  if (prefix === 'flatnet:svc:no-endpoints') return { kind: 'no-endpoints' };
  const m = /^flatnet:pol:((in|out)-[0-9a-f]+)$/.exec(prefix);
  if (m) return { kind: 'policy', direction: m[2] === 'in' ? 'ingress' : 'egress', allowClass: m[1] };
  return undefined;
}
