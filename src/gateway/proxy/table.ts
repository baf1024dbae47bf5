// Compiles a ProxyConfig into immutable per-port tables: regexes, filter address lists and TLS
// secure contexts are built here before the tables are swapped in; entries and virtual hosts the
// previous config already had (the same objects) are taken from CompiledPieces, not compiled again.
import type { HttpRouteEntry, PassthroughRoute, PortConfig, ProxyConfig, RouteSource, VirtualHost, WeightedBackend } from '../config.js';
import { endpointKey } from './balance.js';
import { compileFilters, type CompiledFilters } from './filters.js';
import { compileMatch, type CompiledMatch } from './match.js';
import { SecureContextCache, type CertChoice } from './tls.js';
import type tls from 'node:tls';

export interface CompiledBackend {
  weight: number;
  backend: WeightedBackend;
  filters: CompiledFilters;
}

export interface CompiledEntry {
  /** Metrics label: kind/namespace/name/ruleN. */
  route: string;
  source: RouteSource;
  match: CompiledMatch;
  filters: CompiledFilters;
  backends: CompiledBackend[];
  timeouts: HttpRouteEntry['timeouts'];
  retry: HttpRouteEntry['retry'];
  maxBodyBytes?: number;
  affinityCookie: HttpRouteEntry['affinityCookie'];
}

export interface CompiledHost {
  hostname: string;
  wildcardOneLabel?: boolean;
  entries: CompiledEntry[];
}

export interface HttpTable {
  kind: 'http';
  port: number;
  hosts: CompiledHost[];
  tls?: { certificates: CertChoice[]; passthrough: PassthroughRoute[]; listenerHostnames?: string[] };
}

export interface StreamTable {
  kind: 'tcp' | 'udp';
  port: number;
  route: string;
  backends: WeightedBackend[];
}

export type PortTable = HttpTable | StreamTable;

export function routeLabel(s: RouteSource | undefined): string {
  return s ? `${s.kind}/${s.namespace}/${s.name}/rule${s.rule}` : 'none';
}

export interface CompiledConfig {
  tables: Map<number, PortTable>;
  /** Every endpoint (`address:port`) the config can send to: upstream pools of others are closed. */
  endpoints: Set<string>;
  /** Parts of the config that could not be used (the rest is served). */
  errors: string[];
}

function portKey(p: PortConfig): number {
  return p.kind === 'udp' ? -p.port : p.port;
}

/** Key of a port table: TCP-based ports by number, UDP ports as the negative number. */
export { portKey };

/**
 * Compiled pieces of earlier configs, keyed by the config's own objects: a config built from the
 * previous one (the route model reuses every VirtualHost and HttpRouteEntry that did not change)
 * compiles only its new objects. Only pieces that compiled without a problem are kept, so every
 * problem is reported again, with its field, on every update. Configs are treated as immutable:
 * an object edited in place after update() is not compiled again.
 */
export class CompiledPieces {
  private entries = new WeakMap<HttpRouteEntry, CompiledEntry>();
  private hosts = new WeakMap<VirtualHost, { host: CompiledHost; endpoints: string[] }>();

  entry(e: HttpRouteEntry, field: string): CompiledEntry {
    let c = this.entries.get(e);
    if (!c) {
      c = {
        route: routeLabel(e.source),
        source: e.source,
        match: compileMatch(e.match, `${field}.match`),
        filters: compileFilters(e.filters, `${field}.filters`),
        backends: e.backends.map((b, bi) => ({ weight: b.weight, backend: b, filters: compileFilters(b.filters, `${field}.backends[${bi}].filters`) })),
        timeouts: e.timeouts,
        retry: e.retry,
        maxBodyBytes: e.maxBodyBytes,
        affinityCookie: e.affinityCookie,
      };
      this.entries.set(e, c);
    }
    return c;
  }

  /** The compiled host and every endpoint its entries can send to; problems go to `errors`. */
  host(h: VirtualHost, at: string, errors: string[]): { host: CompiledHost; endpoints: string[] } {
    const cached = this.hosts.get(h);
    if (cached) return cached;
    const entries: CompiledEntry[] = [];
    let failed = false;
    h.entries.forEach((e, ei) => {
      try {
        entries.push(this.entry(e, `${at}.entries[${ei}]`));
      } catch (err) {
        failed = true;
        errors.push(`${(err as Error).message} (entry dropped)`);
      }
    });
    const endpoints = new Set<string>();
    for (const e of h.entries) {
      addBackendEndpoints(e.backends, endpoints);
      for (const f of e.filters) if (f.type === 'RequestMirror') addBackendEndpoints([f.backend], endpoints);
    }
    const piece = { host: { hostname: h.hostname.toLowerCase(), wildcardOneLabel: h.wildcardOneLabel, entries }, endpoints: [...endpoints] };
    if (!failed) this.hosts.set(h, piece);
    return piece;
  }
}

function addBackendEndpoints(bs: WeightedBackend[], into: Set<string>): void {
  for (const b of bs) {
    for (const e of b.endpoints) into.add(endpointKey(e));
    for (const f of b.filters) if (f.type === 'RequestMirror') addBackendEndpoints([f.backend], into);
  }
}

export function compileConfig(config: ProxyConfig, certs: SecureContextCache, pieces: CompiledPieces = new CompiledPieces()): CompiledConfig {
  const tables = new Map<number, PortTable>();
  const errors: string[] = [];
  const usedContexts = new Set<tls.SecureContext>();
  const endpoints = new Set<string>();
  config.ports.forEach((p, pi) => {
    const at = `ports[${pi}]`;
    if (p.kind !== 'http') {
      tables.set(portKey(p), { kind: p.kind, port: p.port, route: routeLabel(p.source), backends: p.backends });
      addBackendEndpoints(p.backends, endpoints);
      return;
    }
    const hosts: CompiledHost[] = p.hosts.map((h, hi) => {
      const piece = pieces.host(h, `${at}.hosts[${hi}]`, errors);
      for (const e of piece.endpoints) endpoints.add(e);
      return piece.host;
    });
    let tlsTable: HttpTable['tls'];
    if (p.tls) {
      const certificates: CertChoice[] = [];
      p.tls.certificates.forEach((c, ci) => {
        try {
          const context = certs.get(c, `${at}.tls.certificates[${ci}]`);
          usedContexts.add(context);
          certificates.push({ hostnames: c.hostnames, context });
        } catch (err) {
          errors.push((err as Error).message);
        }
      });
      tlsTable = { certificates, passthrough: p.tls.passthrough, ...(p.tls.listenerHostnames ? { listenerHostnames: p.tls.listenerHostnames } : {}) };
    }
    tables.set(portKey(p), { kind: 'http', port: p.port, hosts, tls: tlsTable });
  });
  certs.retain(usedContexts);
  return { tables, errors, endpoints };
}
