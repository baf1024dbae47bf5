// Virtual hosts of one HTTP(S) port. Each hostname a listener or an attached route brings (after
// intersection) becomes a virtual host; the proxy picks the most specific one that matches the
// request's Host. A virtual host is served by the most specific listener whose hostname covers
// it (listener isolation: `foo.example.com` traffic never reaches routes attached only to a
// `*.example.com` listener on the same port), and it lists every entry of that listener's routes
// whose hostname covers it, ordered by precedence (more specific route hostnames first).
//
// Cost: each route's entries are sorted once (at translation); the routes under one (listener,
// hostname) are merged once and that list is shared by every virtual host the hostname covers;
// a virtual host's list is the concatenation of those groups, most specific hostname first.
// With a VirtualHostCache (kept by GatewayModel between computations) a group whose routes did
// not change, and a virtual host whose groups did not change, are reused as they are.
import type { HttpRouteEntry, VirtualHost } from '../config.js';
import { compareHostnameSpecificity, coveringPatterns, hostnameCovers } from './hostnames.js';
import type { ListenerModel } from './listeners.js';
import { mergeRouteEntries, type RankedRoute, type SortedEntries } from './precedence.js';

/** One route attached to one listener, with its intersected hostnames. */
export interface ServedRoute extends RankedRoute {
  hostnames: string[];
  sorted: SortedEntries;
  created: string;
  routeKey: string;
}

export interface ServedListener {
  listener: ListenerModel;
  routes: ServedRoute[];
}

interface Group {
  grpc: HttpRouteEntry[];
  http: HttpRouteEntry[];
}

interface CachedGroup {
  routes: ServedRoute[];
  group: Group;
  /** The computation that last used it. */
  seen: number;
}

interface CachedFiltered {
  base: Group;
  excluded: ServedRoute[];
  group: Group;
}

interface CachedHost {
  parts: Group[];
  host: VirtualHost;
  seen: number;
}

/**
 * Groups and virtual hosts of the previous computation, to reuse the unchanged ones. Results are
 * the same with or without it; each computation keeps only what it used. Groups and hosts are
 * updated in place and swept only when some were not used, so an unchanged one costs a lookup,
 * not a new record in a new map (fewer objects to collect when thousands of hosts are served).
 */
export class VirtualHostCache {
  // Keyed by scope (the port), then listener and hostname: nested maps, so that no key string is
  // built per lookup (the hostnames are the routes' own strings, hashed once).
  private readonly groups = new Map<string, Map<string, Map<string, CachedGroup>>>();
  private readonly hosts = new Map<string, Map<string, CachedHost>>();
  private serial = 1;
  private groupCount = 0;
  private groupsUsed = 0;
  private hostCount = 0;
  private hostsUsed = 0;
  private patterns = new Map<string, string[]>();
  private filteredGroups = new Map<string, Map<string, CachedFiltered>>();
  private nextFiltered = new Map<string, Map<string, CachedFiltered>>();
  private nextPatterns = new Map<string, string[]>();
  private sorted = new Map<string, { list: string[]; set: Set<string> }>();
  private nextSorted = new Map<string, { list: string[]; set: Set<string> }>();

  /**
   * `names` most specific first (compareHostnameSpecificity), as sorting them would give: the
   * previous computation's order for the scope, without the names that left, with the new ones
   * inserted in place, so that one new route costs a binary search, not a sort.
   */
  sortedNames(scope: string, names: Set<string>): string[] {
    const old = this.sorted.get(scope);
    let list: string[];
    if (!old) list = Array.from(names).sort(compareHostnameSpecificity);
    else {
      const added: string[] = [];
      for (const n of names) if (!old.set.has(n)) added.push(n);
      const removed = old.list.length - (names.size - added.length);
      const kept = removed > 0 ? old.list.filter((n) => names.has(n)) : old.list;
      if (added.length === 0) list = kept;
      else if (added.length > 32) list = Array.from(names).sort(compareHostnameSpecificity);
      else {
        list = kept.slice();
        for (const n of added) list.splice(insertionIndex(list, n), 0, n);
      }
    }
    this.nextSorted.set(scope, { list, set: names });
    return list;
  }

  group(scope: string, listener: string, pattern: string, routes: ServedRoute[]): Group {
    const byPattern = nested(nested(this.groups, scope), listener);
    const old = byPattern.get(pattern);
    if (!old) {
      const fresh: CachedGroup = { routes, group: mergeRouteEntries(routes), seen: this.serial };
      byPattern.set(pattern, fresh);
      this.groupCount += 1;
      this.groupsUsed += 1;
      return fresh.group;
    }
    if (old.seen !== this.serial) {
      old.seen = this.serial;
      this.groupsUsed += 1;
    }
    if (!sameRoutes(old.routes, routes)) {
      old.routes = routes;
      old.group = mergeRouteEntries(routes);
    }
    return old.group;
  }

  /** `base` without the entries of `excluded` (routes listed under a more specific hostname). */
  filtered(scope: string, listener: string, pattern: string, base: Group, excluded: ServedRoute[]): Group {
    let key = `${listener}\u0000${pattern}`;
    for (const r of excluded) key += `\u0000${r.routeKey}`;
    const old = this.filteredGroups.get(scope)?.get(key);
    const g = old && old.base === base && sameRoutes(old.excluded, excluded) ? old.group : withoutEntries(base, excluded);
    nested(this.nextFiltered, scope).set(key, { base, excluded, group: g });
    return g;
  }

  host(scope: string, hostname: string, parts: Group[]): VirtualHost {
    const byName = nested(this.hosts, scope);
    const old = byName.get(hostname);
    if (!old) {
      const host = { hostname, entries: concatParts(parts) };
      byName.set(hostname, { parts, host, seen: this.serial });
      this.hostCount += 1;
      this.hostsUsed += 1;
      return host;
    }
    if (old.seen !== this.serial) {
      old.seen = this.serial;
      this.hostsUsed += 1;
    }
    if (!sameParts(old.parts, parts)) {
      old.parts = parts;
      old.host = { hostname, entries: concatParts(parts) };
    }
    return old.host;
  }

  coveringPatterns(hostname: string): string[] {
    let p = this.patterns.get(hostname) ?? this.nextPatterns.get(hostname);
    if (!p) p = coveringPatterns(hostname);
    this.nextPatterns.set(hostname, p);
    return p;
  }

  /** Ends a computation: what it did not use is forgotten. */
  rotate(): void {
    if (this.groupsUsed !== this.groupCount) {
      for (const [scope, byListener] of this.groups) {
        for (const [listener, byPattern] of byListener) {
          for (const [pattern, g] of byPattern) if (g.seen !== this.serial) byPattern.delete(pattern);
          if (byPattern.size === 0) byListener.delete(listener);
        }
        if (byListener.size === 0) this.groups.delete(scope);
      }
      this.groupCount = this.groupsUsed;
    }
    if (this.hostsUsed !== this.hostCount) {
      for (const [scope, byName] of this.hosts) {
        for (const [name, h] of byName) if (h.seen !== this.serial) byName.delete(name);
        if (byName.size === 0) this.hosts.delete(scope);
      }
      this.hostCount = this.hostsUsed;
    }
    this.groupsUsed = 0;
    this.hostsUsed = 0;
    this.serial += 1;
    this.patterns = this.nextPatterns;
    this.filteredGroups = this.nextFiltered;
    this.sorted = this.nextSorted;
    this.nextSorted = new Map();
    this.nextFiltered = new Map();
    this.nextPatterns = new Map();
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

function nested<V>(map: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let m = map.get(key);
  if (!m) {
    m = new Map();
    map.set(key, m);
  }
  return m;
}

function sameRoutes(a: ServedRoute[], b: ServedRoute[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.sorted !== y.sorted || x.created !== y.created || x.routeKey !== y.routeKey) return false;
  }
  return true;
}

function sameParts(a: Group[], b: Group[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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

function listenerHost(l: ListenerModel): string {
  return l.hostname ?? '*';
}

function compareListeners(a: ServedListener, b: ServedListener): number {
  return compareHostnameSpecificity(listenerHost(a.listener), listenerHost(b.listener));
}

/**
 * The virtual hosts of one port. `scope` names the port (`namespace/gateway:port`) in `cache`,
 * which is optional: without it every group is merged afresh.
 */
export function buildVirtualHosts(listeners: ServedListener[], cache?: VirtualHostCache, scope = ''): VirtualHost[] {
  // Per listener: routes by each of their hostnames.
  const byListenerHost = new Map<ServedListener, Map<string, ServedRoute[]>>();
  const names = new Set<string>();
  for (const sl of listeners) {
    names.add(listenerHost(sl.listener));
    const index = new Map<string, ServedRoute[]>();
    for (const r of sl.routes) {
      for (const h of r.hostnames) {
        names.add(h);
        const list = index.get(h);
        if (list) list.push(r);
        else index.set(h, [r]);
      }
    }
    byListenerHost.set(sl, index);
  }
  const ordered = listeners.slice().sort(compareListeners);
  // The entries of the routes under one (listener, hostname), merged once and shared by every
  // virtual host that hostname covers. coveringPatterns yields patterns in decreasing hostname
  // weight, so concatenating these sorted groups keeps the whole list in precedence order.
  const groups = new Map<ServedRoute[], Group>();
  const hosts: VirtualHost[] = [];
  const sortedNames = cache ? cache.sortedNames(scope, names) : Array.from(names).sort(compareHostnameSpecificity);
  for (const name of sortedNames) {
    let owner: ServedListener | undefined;
    for (const sl of ordered) {
      if (hostnameCovers(listenerHost(sl.listener), name)) {
        owner = sl;
        break;
      }
    }
    if (!owner) continue;
    const index = byListenerHost.get(owner)!;
    const found: { pattern: string; routes: ServedRoute[] }[] = [];
    for (const pattern of cache ? cache.coveringPatterns(name) : coveringPatterns(name)) {
      const routes = index.get(pattern);
      if (routes) found.push({ pattern, routes });
    }
    const parts: Group[] = [];
    for (let k = 0; k < found.length; k++) {
      const { pattern, routes } = found[k];
      // A route listed under several covering hostnames counts with its most specific one.
      let g = groups.get(routes);
      if (!g) {
        g = cache ? cache.group(scope, owner.listener.name, pattern, routes) : mergeRouteEntries(routes);
        groups.set(routes, g);
      }
      const excluded = k === 0 ? undefined : earlierRoutes(found, k);
      if (excluded) g = cache ? cache.filtered(scope, owner.listener.name, pattern, g, excluded) : withoutEntries(g, excluded);
      parts.push(g);
    }
    hosts.push(cache ? cache.host(scope, name, parts) : { hostname: name, entries: concatParts(parts) });
  }
  return hosts;
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
