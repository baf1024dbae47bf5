// Reading the Accept header the way client-go writes it: which clients want a Table, and which
// want aggregated discovery (and must get it with the matching Content-Type).

export interface MediaRange {
  type: string; // e.g. application/json
  params: Record<string, string>;
}

export function parseAccept(accept: string | undefined): MediaRange[] {
  if (!accept) return [];
  return accept.split(',').map((part) => {
    const [type, ...rest] = part.split(';').map((s) => s.trim());
    const params: Record<string, string> = {};
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
    }
    return { type: type.toLowerCase(), params };
  });
}

function isJson(m: MediaRange): boolean {
  return m.type === 'application/json' || m.type === '*/*' || m.type === 'application/*';
}

/** True when the client asks for a meta.k8s.io/v1 Table (kubectl get, get -w). */
export function wantsTable(accept: string | undefined): boolean {
  return parseAccept(accept).some((m) => isJson(m) && m.params.as === 'Table' && m.params.g === 'meta.k8s.io' && m.params.v === 'v1');
}

/** True when the client asks for aggregated discovery (apidiscovery.k8s.io/v2 APIGroupDiscoveryList). */
export function wantsAggregatedDiscovery(accept: string | undefined): boolean {
  return parseAccept(accept).some(
    (m) => isJson(m) && m.params.as === 'APIGroupDiscoveryList' && m.params.g === 'apidiscovery.k8s.io' && m.params.v === 'v2',
  );
}
