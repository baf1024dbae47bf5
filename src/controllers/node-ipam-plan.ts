// Pod CIDRs for nodes: a /24 of the cluster's pod CIDR each, in the order nodes were first
// seen; a node keeps the range it has (so restarts change nothing) and a deleted node's range
// becomes free again.
import { formatIPv4, parseCIDR } from '../apiserver/service-allocation.js';
import type { Node } from './types.js';

export const NODE_MASK = 24;

export interface PodCIDRAssignment {
  node: string;
  podCIDR: string;
}

/** The /24 subnets of the pod CIDR as `a.b.c.0/24` strings, by index. */
export class PodCIDRSpace {
  readonly base: number;
  readonly count: number;
  constructor(podCIDR: string) {
    const { base, prefix } = parseCIDR(podCIDR);
    if (prefix > NODE_MASK) throw new Error(`pod CIDR ${podCIDR} is smaller than one node's /${NODE_MASK}: use a /${NODE_MASK} or larger, such as 10.244.0.0/16`);
    this.base = base;
    this.count = 2 ** (NODE_MASK - prefix);
  }
  cidr(index: number): string {
    return `${formatIPv4(this.base + index * 256)}/${NODE_MASK}`;
  }
  indexOf(cidr: string): number | undefined {
    for (let i = 0; i < this.count; i++) if (this.cidr(i) === cidr) return i;
    return undefined;
  }
}

/** The nodes that need a pod CIDR and the one each gets. Nodes are taken oldest first. */
export function assignPodCIDRs(space: PodCIDRSpace, nodes: Node[]): PodCIDRAssignment[] {
  const used = new Set<string>();
  for (const n of nodes) {
    const c = n.spec?.podCIDR ?? n.spec?.podCIDRs?.[0];
    if (c) used.add(c);
  }
  const waiting = nodes
    .filter((n) => !n.spec?.podCIDR && !n.spec?.podCIDRs?.length && !n.metadata.deletionTimestamp)
    .sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  const out: PodCIDRAssignment[] = [];
  let next = 0;
  for (const node of waiting) {
    while (next < space.count && used.has(space.cidr(next))) next++;
    if (next >= space.count) break;
    const cidr = space.cidr(next);
    used.add(cidr);
    out.push({ node: node.metadata.name!, podCIDR: cidr });
  }
  return out;
}
