// Gateway API hostname rules: a wildcard `*.example.com` covers one or more labels to the left
// (so `a.b.example.com` but not `example.com`), `*` (an absent hostname) covers everything.

/** Whether `pattern` (exact, `*.suffix` or `*`) matches the concrete host name `host`. */
export function hostnameMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.length > pattern.length - 1 && host.endsWith(pattern.slice(1));
  return pattern === host;
}

/** Whether every host `specific` matches is also matched by `general`. */
export function hostnameCovers(general: string, specific: string): boolean {
  if (general === '*') return true;
  if (specific === '*') return false;
  if (!general.startsWith('*.')) return general === specific;
  if (specific.startsWith('*.')) return specific === general || specific.endsWith(general.slice(1));
  return hostnameMatches(general, specific);
}

/**
 * The hostnames both a listener (undefined = any) and a route hostname accept: the more
 * specific of the two when one covers the other, undefined when they are disjoint.
 */
export function intersectHostname(listener: string | undefined, route: string): string | undefined {
  const l = listener ?? '*';
  if (hostnameCovers(l, route)) return route;
  if (hostnameCovers(route, l)) return l;
  return undefined;
}

/**
 * Orders hostnames most specific first: exact names (alphabetical), then wildcards by length
 * (longer first, then alphabetical), then `*`.
 */
export function compareHostnameSpecificity(a: string, b: string): number {
  const ra = specificityRank(a);
  const rb = specificityRank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 1 && a.length !== b.length) return b.length - a.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function specificityRank(h: string): number {
  return h === '*' ? 2 : h.startsWith('*.') ? 1 : 0;
}

/** The patterns that could cover `host` (itself, each wildcard suffix, `*`), most specific first. */
export function coveringPatterns(host: string): string[] {
  const out: string[] = [];
  if (host === '*') return ['*'];
  out.push(host);
  // Each suffix after a dot: `a.b.c` -> `*.b.c`, `*.c`.
  let dot = host.startsWith('*.') ? host.indexOf('.', 2) : host.indexOf('.');
  while (dot >= 0) {
    out.push(`*${host.slice(dot)}`);
    dot = host.indexOf('.', dot + 1);
  }
  out.push('*');
  return out;
}

/** The route-precedence weight of a matching hostname: [non-wildcard characters, characters]. */
export function hostnameWeight(h: string): [number, number] {
  if (h === '*') return [0, 0];
  if (h.startsWith('*.')) return [0, h.length];
  return [h.length, h.length];
}
