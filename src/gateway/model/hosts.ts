// The routing table of one HTTP(S)/TLS port, kept up to date route by route. Each hostname a
// listener or an attached route brings (after intersection) becomes a virtual host; the proxy
// picks the most specific one that matches the request's Host. A virtual host is served by the
// most specific listener whose hostname covers it (listener isolation: `foo.example.com` traffic
// never reaches routes attached only to a `*.example.com` listener on the same port), and it lists
// every entry of that listener's routes whose hostname covers it, ordered by precedence (more
// specific route hostnames first).
//
// HttpPortState is told which routes arrive on and leave its listeners (add/remove) and marks
// the (listener, hostname) groups they touch. config() then rebuilds only the virtual hosts those
// groups cover (one exact hostname: that host; a wildcard: the hosts under it) and returns the
// same HttpPortConfig, virtual host and entry-list objects as before for everything else, so the
// proxy compiles only what changed and compares the rest by identity. A port built afresh and
// given every route equals one that was kept up to date through any sequence of changes.
import type { HttpPortConfig, HttpRouteEntry, PassthroughRoute, VirtualHost, WeightedBackend } from '../config.js';
import { compareHostnameSpecificity, coveringPatterns, hostnameCovers } from './hostnames.js';
import type { ListenerModel } from './listeners.js';
import { mergeRouteEntries, type RankedRoute, type SortedEntries } from './precedence.js';

/** One route attached to one listener, with its intersected hostnames. */
export interface ServedRoute extends RankedRoute {
  hostnames: string[];
  sorted: SortedEntries;
  created: string;
  routeKey: string;
  /** Passthrough (TLS listeners): where the route's connections go, and who it is. */
  passthrough?: { namespace: string; name: string; backends: WeightedBackend[] };
}

interface Group {
  grpc: HttpRouteEntry[];
  http: HttpRouteEntry[];
}

function listenerHost(l: ListenerModel): string {
  return l.hostname ?? '*';
}

function isWildcard(h: string): boolean {
  return h.charCodeAt(0) === 42; // '*'
}

export class HttpPortState {
  /** Web (HTTP/HTTPS) listeners, most specific hostname first. */
  private readonly web: ListenerModel[];
  private readonly tls: ListenerModel[];
  /** Per web listener: its routes by each of their hostnames (no empty lists). */
  private readonly index = new Map<ListenerModel, Map<string, ServedRoute[]>>();
  /** Per TLS listener: its routes. */
  private readonly passthroughRoutes = new Map<ListenerModel, Set<ServedRoute>>();
  /** How many (listener, route) pairs and listeners bring each hostname. */
  private readonly nameRefs = new Map<string, number>();
  /** The hostnames listed in `sorted`. */
  private readonly listed = new Set<string>();
  /** Every hostname of the port, most specific first. */
  private sorted: string[] = [];
  private readonly hosts = new Map<string, VirtualHost>();
  private readonly groups = new Map<ListenerModel, Map<string, Group>>();
  private readonly patterns = new Map<string, string[]>();
  /** Changes since the last config(). */
  private readonly dirtyPatterns = new Set<string>();
  private readonly touchedNames = new Set<string>();
  private passthroughDirty = true;
  private fresh = true;
  private last: HttpPortConfig | undefined;
  private readonly certificates: { hostnames: string[]; certPem: string; keyPem: string }[];
  private readonly listenerHostnames: string[] | undefined;
  private passthroughList: PassthroughRoute[] = [];

  constructor(
    readonly port: number,
    listeners: ListenerModel[],
  ) {
    this.web = listeners.filter((l) => l.protocol !== 'TLS');
    this.web.sort((a, b) => compareHostnameSpecificity(listenerHost(a), listenerHost(b)));
    this.tls = listeners.filter((l) => l.protocol === 'TLS');
    for (const l of this.web) {
      this.index.set(l, new Map());
      this.addName(listenerHost(l));
    }
    for (const l of this.tls) this.passthroughRoutes.set(l, new Set());
    const https = listeners.filter((l) => l.protocol === 'HTTPS');
    this.certificates = https
      .sort((a, b) => compareHostnameSpecificity(a.hostname ?? '*', b.hostname ?? '*'))
      .flatMap((l) => l.certificates.map((c) => ({ hostnames: [l.hostname ?? '*'], certPem: c.certPem, keyPem: c.keyPem })));
    this.listenerHostnames = https.length > 0 ? https.map((l) => l.hostname ?? '*') : undefined;
  }

  /**
   * The hostname index of an HTTP(S) listener; for a TLS passthrough listener, applies `passthrough`
   * to its route set instead and answers undefined.
   */
  private routesOf(listener: ListenerModel, passthrough: (routes: Set<ServedRoute>) => void): Map<string, ServedRoute[]> | undefined {
    const pass = this.passthroughRoutes.get(listener);
    if (pass) {
      passthrough(pass);
      this.passthroughDirty = true;
      return undefined;
    }
    const index = this.index.get(listener);
    if (!index) throw new Error(`listener ${listener.name} is not on port ${this.port}`);
    return index;
  }

  /** A route arrives on one of this port's listeners. */
  add(listener: ListenerModel, route: ServedRoute): void {
    const index = this.routesOf(listener, (pass) => pass.add(route));
    if (!index) return;
    for (const h of route.hostnames) {
      const list = index.get(h);
      if (list) list.push(route);
      else index.set(h, [route]);
      this.addName(h);
      this.touch(listener, h);
    }
  }

  /** A route added before leaves the listener. */
  remove(listener: ListenerModel, route: ServedRoute): void {
    const index = this.routesOf(listener, (pass) => pass.delete(route));
    if (!index) return;
    for (const h of route.hostnames) {
      const list = index.get(h);
      const at = list ? list.indexOf(route) : -1;
      if (!list || at < 0) throw new Error(`route ${route.routeKey} is not served under ${h} on listener ${listener.name}`);
      list.splice(at, 1);
      if (list.length === 0) index.delete(h);
      this.dropName(h);
      this.touch(listener, h);
    }
  }

  /** The port's config; the previous object when nothing changed since. */
  config(): HttpPortConfig {
    const hostsChanged = this.fresh || this.dirtyPatterns.size > 0 || this.touchedNames.size > 0;
    if (this.last && !hostsChanged && !this.passthroughDirty) return this.last;
    const hosts = hostsChanged ? this.virtualHosts() : this.last!.hosts;
    const cfg: HttpPortConfig = { kind: 'http', port: this.port, hosts };
    if (this.certificates.length > 0 || this.tls.length > 0 || this.listenerHostnames) {
      if (this.passthroughDirty) this.passthroughList = this.passthrough();
      const lastTls = this.last?.tls;
      cfg.tls =
        lastTls && lastTls.passthrough === this.passthroughList
          ? lastTls
          : { certificates: this.certificates, passthrough: this.passthroughList, ...(this.listenerHostnames ? { listenerHostnames: this.listenerHostnames } : {}) };
    }
    this.passthroughDirty = false;
    this.fresh = false;
    this.last = cfg;
    return cfg;
  }

  private touch(listener: ListenerModel, hostname: string): void {
    this.groups.get(listener)?.delete(hostname);
    this.dirtyPatterns.add(hostname);
  }

  private addName(name: string): void {
    const n = this.nameRefs.get(name) ?? 0;
    this.nameRefs.set(name, n + 1);
    if (n === 0) this.touchedNames.add(name);
  }

  private dropName(name: string): void {
    const n = this.nameRefs.get(name)! - 1;
    if (n > 0) this.nameRefs.set(name, n);
    else {
      this.nameRefs.delete(name);
      this.touchedNames.add(name);
    }
  }

  private coveringPatterns(name: string): string[] {
    let p = this.patterns.get(name);
    if (!p) {
      p = coveringPatterns(name);
      this.patterns.set(name, p);
    }
    return p;
  }

  private virtualHosts(): VirtualHost[] {
    // 1. The hostname order: names that came or went are inserted or dropped in place.
    const dirty = new Set<string>();
    const added: string[] = [];
    let removed = false;
    for (const name of this.touchedNames) {
      const present = this.nameRefs.has(name);
      if (present && !this.listed.has(name)) {
        this.listed.add(name);
        added.push(name);
      } else if (!present && this.listed.has(name)) {
        this.listed.delete(name);
        this.hosts.delete(name);
        this.patterns.delete(name);
        removed = true;
      }
      if (present) dirty.add(name);
    }
    this.touchedNames.clear();
    if (this.fresh || added.length > 32) this.sorted = Array.from(this.listed).sort(compareHostnameSpecificity);
    else if (added.length > 0 || removed) {
      const list = removed ? this.sorted.filter((n) => this.listed.has(n)) : this.sorted.slice();
      for (const n of added) list.splice(insertionIndex(list, n), 0, n);
      this.sorted = list;
    }
    // 2. The hosts whose entries may have changed: those of changed exact hostnames, and every
    // host under a changed wildcard hostname.
    if (this.fresh) for (const n of this.sorted) dirty.add(n);
    else {
      let wildcard = false;
      for (const p of this.dirtyPatterns) {
        if (isWildcard(p)) wildcard = true;
        else if (this.listed.has(p)) dirty.add(p);
      }
      if (wildcard) {
        for (const n of this.sorted) {
          if (dirty.has(n)) continue;
          for (const p of this.coveringPatterns(n)) {
            if (isWildcard(p) && this.dirtyPatterns.has(p)) {
              dirty.add(n);
              break;
            }
          }
        }
      }
    }
    this.dirtyPatterns.clear();
    for (const name of dirty) {
      const host = this.buildHost(name);
      if (host) this.hosts.set(name, host);
      else this.hosts.delete(name);
    }
    // 3. The port's hosts in order: the unchanged ones are the same objects as before.
    const out: VirtualHost[] = [];
    for (const n of this.sorted) {
      const h = this.hosts.get(n);
      if (h) out.push(h);
    }
    return out;
  }

  /** One virtual host from the routes of its owning listener (undefined: no listener covers it). */
  private buildHost(name: string): VirtualHost | undefined {
    let owner: ListenerModel | undefined;
    for (const l of this.web) {
      if (hostnameCovers(listenerHost(l), name)) {
        owner = l;
        break;
      }
    }
    if (!owner) return undefined;
    const index = this.index.get(owner)!;
    // coveringPatterns yields patterns in decreasing hostname weight, so concatenating these
    // sorted groups keeps the whole list in precedence order.
    const found: { pattern: string; routes: ServedRoute[] }[] = [];
    for (const pattern of this.coveringPatterns(name)) {
      const routes = index.get(pattern);
      if (routes) found.push({ pattern, routes });
    }
    const parts: Group[] = [];
    for (let k = 0; k < found.length; k++) {
      let g = this.group(owner, found[k].pattern, found[k].routes);
      // A route listed under several covering hostnames counts with its most specific one.
      const excluded = k === 0 ? undefined : earlierRoutes(found, k);
      if (excluded) g = withoutEntries(g, excluded);
      parts.push(g);
    }
    return { hostname: name, entries: concatParts(parts) };
  }

  /** The merged entries of the routes under one (listener, hostname), kept until they change. */
  private group(listener: ListenerModel, pattern: string, routes: ServedRoute[]): Group {
    let byPattern = this.groups.get(listener);
    if (!byPattern) {
      byPattern = new Map();
      this.groups.set(listener, byPattern);
    }
    let g = byPattern.get(pattern);
    if (!g) {
      g = mergeRouteEntries(routes);
      byPattern.set(pattern, g);
    }
    return g;
  }

  /** TLS passthrough routes: most specific hostname, then oldest route, then namespace/name. */
  private passthrough(): PassthroughRoute[] {
    const list: (PassthroughRoute & { created: string; key: string })[] = [];
    for (const l of this.tls) {
      for (const r of this.passthroughRoutes.get(l)!) {
        const p = r.passthrough!;
        for (const h of r.hostnames) {
          list.push({ source: { kind: 'TLSRoute', namespace: p.namespace, name: p.name, rule: 0, match: 0 }, hostnames: [h], backends: p.backends, created: r.created, key: r.routeKey });
        }
      }
    }
    list.sort(
      (a, b) =>
        compareHostnameSpecificity(a.hostnames[0], b.hostnames[0]) ||
        (a.created < b.created ? -1 : a.created > b.created ? 1 : 0) ||
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
    return list.map(({ source, hostnames, backends }) => ({ source, hostnames, backends }));
  }
}

/** Where `name` goes in the sorted `list` (after equal names, which cannot occur in a set). */
function insertionIndex(list: string[], name: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareHostnameSpecificity(list[mid], name) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** gRPC entries of every group, then HTTP entries of every group (groups most specific first). */
function concatParts(parts: Group[]): HttpRouteEntry[] {
  if (parts.length === 0) return [];
  if (parts.length === 1 && parts[0].grpc.length === 0) return parts[0].http;
  let total = 0;
  for (const p of parts) total += p.grpc.length + p.http.length;
  const out = new Array<HttpRouteEntry>(total);
  let n = 0;
  for (const p of parts) for (let i = 0; i < p.grpc.length; i++) out[n++] = p.grpc[i];
  for (const p of parts) for (let i = 0; i < p.http.length; i++) out[n++] = p.http[i];
  return out;
}

/** The routes of found[k] also listed under a more specific hostname (found[0..k-1]), if any. */
function earlierRoutes(found: { pattern: string; routes: ServedRoute[] }[], k: number): ServedRoute[] | undefined {
  const pattern = found[k].pattern;
  let out: ServedRoute[] | undefined;
  for (let j = 0; j < k; j++) {
    for (const r of found[j].routes) {
      if (!r.hostnames.includes(pattern) || out?.includes(r)) continue;
      (out ??= []).push(r);
    }
  }
  return out;
}

/**
 * A merged group without some routes' entries. Precedence is a total order, so the rest keeps
 * its order: the same list as merging the other routes afresh.
 */
function withoutEntries(base: Group, excluded: ServedRoute[]): Group {
  const drop = new Set<HttpRouteEntry>();
  for (const r of excluded) {
    for (const e of r.sorted.grpcEntries) drop.add(e);
    for (const e of r.sorted.httpEntries) drop.add(e);
  }
  return { grpc: base.grpc.filter((e) => !drop.has(e)), http: base.http.filter((e) => !drop.has(e)) };
}
