// Route entry precedence inside one virtual host (Gateway API, HTTPRoute and GRPCRoute docs):
//   HTTPRoute: the route hostname that matched (most non-wildcard characters, then most
//   characters), Exact path, then RegularExpression (flatnet's choice, by pattern length), then
//   the longest PathPrefix, then a method match, most header matches, most query-param matches,
//   then the oldest route, `namespace/name` alphabetically, rule order, match order.
//   GRPCRoute: hostname, then most characters in the service, then in the method, most header
//   matches, then oldest route, name, rule order, match order.
// gRPC entries are listed before HTTP entries: they only match gRPC content types, so a gRPC
// call meets the GRPCRoutes first and every other request skips them.
import type { HttpRouteEntry } from '../config.js';
import { grpcRanks } from './grpcroute.js';

export interface RankedEntry {
  entry: HttpRouteEntry;
  /** [non-wildcard characters, characters] of the route hostname that covers the virtual host. */
  hostWeight: [number, number];
  /** creationTimestamp of the route. */
  created: string;
  /** `namespace/name` of the route. */
  routeKey: string;
}

const PATH_RANK = { Exact: 0, RegularExpression: 1, PathPrefix: 2 } as const;

function pathLength(e: HttpRouteEntry): number {
  const v = e.match.path.value;
  return e.match.path.type === 'PathPrefix' && v.length > 1 && v.endsWith('/') ? v.length - 1 : v.length;
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function tieBreak(a: RankedEntry, b: RankedEntry): number {
  return (
    cmpStr(a.created, b.created) ||
    cmpStr(a.routeKey, b.routeKey) ||
    a.entry.source.rule - b.entry.source.rule ||
    a.entry.source.match - b.entry.source.match
  );
}

export function compareHttpEntries(a: RankedEntry, b: RankedEntry): number {
  const ea = a.entry;
  const eb = b.entry;
  return (
    b.hostWeight[0] - a.hostWeight[0] ||
    b.hostWeight[1] - a.hostWeight[1] ||
    PATH_RANK[ea.match.path.type] - PATH_RANK[eb.match.path.type] ||
    pathLength(eb) - pathLength(ea) ||
    (eb.match.method ? 1 : 0) - (ea.match.method ? 1 : 0) ||
    eb.match.headers.length - ea.match.headers.length ||
    eb.match.queryParams.length - ea.match.queryParams.length ||
    tieBreak(a, b)
  );
}

export function compareGrpcEntries(a: RankedEntry, b: RankedEntry): number {
  const ra = grpcRanks.get(a.entry) ?? { serviceChars: 0, methodChars: 0 };
  const rb = grpcRanks.get(b.entry) ?? { serviceChars: 0, methodChars: 0 };
  return (
    b.hostWeight[0] - a.hostWeight[0] ||
    b.hostWeight[1] - a.hostWeight[1] ||
    rb.serviceChars - ra.serviceChars ||
    rb.methodChars - ra.methodChars ||
    b.entry.match.headers.length - a.entry.match.headers.length ||
    tieBreak(a, b)
  );
}

/** Orders a virtual host's entries: gRPC ones first, each group by its precedence. */
export function orderEntries(ranked: RankedEntry[]): HttpRouteEntry[] {
  const grpc = ranked.filter((r) => r.entry.source.kind === 'GRPCRoute').sort(compareGrpcEntries);
  const http = ranked.filter((r) => r.entry.source.kind !== 'GRPCRoute').sort(compareHttpEntries);
  return [...grpc, ...http].map((r) => r.entry);
}

// The fast path used to build virtual hosts: every entry's precedence keys are computed once
// (when its route is translated), each route's entries are sorted once, and a virtual host's
// list is made by merging those pre-sorted lists instead of re-sorting ranked copies.

/** An entry with its precedence keys (ascending = earlier), hostname and route excluded. */
export interface EntryRank {
  entry: HttpRouteEntry;
  k1: number;
  k2: number;
  k3: number;
  k4: number;
  k5: number;
}

/** One route's entries, each kind sorted by precedence (rule and match order break ties). */
export interface SortedEntries {
  grpc: EntryRank[];
  http: EntryRank[];
  grpcEntries: HttpRouteEntry[];
  httpEntries: HttpRouteEntry[];
}

function rankOf(entry: HttpRouteEntry): EntryRank {
  const m = entry.match;
  if (entry.source.kind === 'GRPCRoute') {
    const r = grpcRanks.get(entry);
    return { entry, k1: -(r?.serviceChars ?? 0), k2: -(r?.methodChars ?? 0), k3: -m.headers.length, k4: 0, k5: 0 };
  }
  return { entry, k1: PATH_RANK[m.path.type], k2: -pathLength(entry), k3: m.method ? -1 : 0, k4: -m.headers.length, k5: -m.queryParams.length };
}

/** Compares the entry keys only: equal ranks keep their order (Array.prototype.sort is stable). */
function compareRanks(a: EntryRank, b: EntryRank): number {
  return a.k1 - b.k1 || a.k2 - b.k2 || a.k3 - b.k3 || a.k4 - b.k4 || a.k5 - b.k5;
}

function compareRule(a: EntryRank, b: EntryRank): number {
  return compareRanks(a, b) || a.entry.source.rule - b.entry.source.rule || a.entry.source.match - b.entry.source.match;
}

function entriesOf(ranks: EntryRank[]): HttpRouteEntry[] {
  const out = new Array<HttpRouteEntry>(ranks.length);
  for (let i = 0; i < ranks.length; i++) out[i] = ranks[i].entry;
  return out;
}

/** Sorts one route's entries by precedence (same hostname and route, so the entry keys decide). */
export function sortRouteEntries(entries: HttpRouteEntry[]): SortedEntries {
  const grpc: EntryRank[] = [];
  const http: EntryRank[] = [];
  for (const e of entries) (e.source.kind === 'GRPCRoute' ? grpc : http).push(rankOf(e));
  grpc.sort(compareRule);
  http.sort(compareRule);
  return { grpc, http, grpcEntries: entriesOf(grpc), httpEntries: entriesOf(http) };
}

/** A route under one hostname: its sorted entries and its tie-breakers. */
export interface RankedRoute {
  sorted: SortedEntries;
  created: string;
  routeKey: string;
}

function compareRoutes(a: RankedRoute, b: RankedRoute): number {
  return cmpStr(a.created, b.created) || cmpStr(a.routeKey, b.routeKey);
}

function mergeKind(routes: RankedRoute[], grpc: boolean): HttpRouteEntry[] {
  let total = 0;
  for (const r of routes) total += grpc ? r.sorted.grpc.length : r.sorted.http.length;
  if (total === 0) return [];
  const all = new Array<EntryRank>(total);
  let n = 0;
  for (const r of routes) for (const x of grpc ? r.sorted.grpc : r.sorted.http) all[n++] = x;
  // Routes are in tie-break order and each route's list is sorted, so a stable sort by the entry
  // keys gives: keys, then oldest route, then name, then rule and match order.
  all.sort(compareRanks);
  return entriesOf(all);
}

/**
 * The entries of several routes under one hostname in precedence order, gRPC and HTTP apart.
 * Same result as orderEntries over their ranked entries with one hostWeight.
 */
export function mergeRouteEntries(routes: RankedRoute[]): { grpc: HttpRouteEntry[]; http: HttpRouteEntry[] } {
  if (routes.length === 1) return { grpc: routes[0].sorted.grpcEntries, http: routes[0].sorted.httpEntries };
  const ordered = routes.slice().sort(compareRoutes);
  return { grpc: mergeKind(ordered, true), http: mergeKind(ordered, false) };
}
