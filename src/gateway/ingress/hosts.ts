// Ingress host names: lower-cased; a rule without host serves every name (`*`); a wildcard
// `*.foo.com` covers exactly one label. Virtual hosts are ordered most specific first.
export const ANY_HOST = '*';

/** The virtual host name of a rule's host ('' or absent -> `*`). */
export function normalizeIngressHost(host: string | undefined): string {
  const h = (host ?? '').trim().toLowerCase().replace(/\.$/, '');
  return h === '' ? ANY_HOST : h;
}

export function isWildcardHost(host: string): boolean {
  return host.startsWith('*.');
}

/** Whether TLS host `tlsHost` (exact or one-label wildcard) covers the rule host `host`. */
export function tlsHostCovers(tlsHost: string, host: string): boolean {
  if (tlsHost === host) return true;
  if (!isWildcardHost(tlsHost) || isWildcardHost(host) || host === ANY_HOST) return false;
  const suffix = tlsHost.slice(1);
  const label = host.slice(0, host.length - suffix.length);
  return host.endsWith(suffix) && label.length > 0 && !label.includes('.');
}

/** Exact names first (alphabetically), then wildcards, longest first, then `*`. */
export function compareHosts(a: string, b: string): number {
  const rank = (h: string) => (h === ANY_HOST ? 2 : isWildcardHost(h) ? 1 : 0);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 1 && a.length !== b.length) return b.length - a.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
