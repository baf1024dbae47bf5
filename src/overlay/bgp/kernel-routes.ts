// The kernel side of a node's BGP speaker: the best routes it learned become routes in the node's
// namespace, marked with the routing protocol number of BGP (186, `proto bgp` in iproute2) so that
// only ours are ever read back or removed. A learned route is never installed for a prefix that
// overlaps what this node originates (its pod CIDR), nor via one of this node's own addresses.
import { listRoutes, applyIpBatch, IpBatch } from '../../linux/ip.js';
import { parseCidr } from '../../linux/ipv4.js';
import type { LearnedRoute } from './rib.js';

export const BGP_ROUTE_PROTO = 186;

export interface KernelRoute {
  dst: string;
  via: string;
}

export interface RouteDiff {
  add: KernelRoute[];
  del: KernelRoute[];
}

function overlaps(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  return x.first <= y.last && y.first <= x.last;
}

/** The routes to install for the speaker's best routes. */
export function desiredRoutes(best: Iterable<LearnedRoute>, own: { prefixes: readonly string[]; addresses: readonly string[] }): KernelRoute[] {
  const routes: KernelRoute[] = [];
  for (const r of best) {
    if (own.addresses.includes(r.attributes.nextHop)) continue;
    if (own.prefixes.some((p) => overlaps(p, r.prefix))) continue;
    routes.push({ dst: r.prefix, via: r.attributes.nextHop });
  }
  return routes.sort((a, b) => a.dst.localeCompare(b.dst));
}

export function diffRoutes(current: readonly KernelRoute[], desired: readonly KernelRoute[]): RouteDiff {
  const want = new Map(desired.map((r) => [r.dst, r]));
  const have = new Map(current.map((r) => [r.dst, r]));
  return {
    add: desired.filter((r) => have.get(r.dst)?.via !== r.via),
    del: current.filter((r) => !want.has(r.dst)),
  };
}

/** `ip route show` prints a /32 without its length. */
function normaliseDst(dst: string): string {
  return dst.includes('/') ? dst : `${dst}/32`;
}

export async function readBgpRoutes(netns: string | undefined): Promise<KernelRoute[]> {
  const routes = await listRoutes(netns, { proto: BGP_ROUTE_PROTO });
  return routes.filter((r) => r.gateway).map((r) => ({ dst: normaliseDst(r.dst), via: r.gateway! }));
}

export async function applyRouteDiff(netns: string | undefined, diff: RouteDiff): Promise<void> {
  const batch = new IpBatch();
  for (const r of diff.del) batch.deleteRoute({ dst: r.dst, proto: BGP_ROUTE_PROTO });
  for (const r of diff.add) batch.replaceRoute({ dst: r.dst, via: r.via, proto: BGP_ROUTE_PROTO });
  await applyIpBatch(netns, batch);
}
