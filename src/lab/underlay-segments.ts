// The two-segment underlay of `flatnet up --overlay bgp`: odd-numbered nodes (and the outside
// client) on 172.18.0.0/24 behind bridge flatnet0, even-numbered nodes on 172.18.1.0/24 behind
// bridge flatnet1, both bridges in the lab router's namespace (flatnet-lab), which is the only
// way between them. Nodes on different segments share no L2, so pod routes must come from BGP
// (the router re-announces them with itself as next hop).

export interface UnderlaySegment {
  bridge: string;
  /** The router's address on the segment: the nodes' default gateway and BGP peer. */
  gateway: string;
  prefix: number;
}

export const UNDERLAY_SEGMENTS: readonly UnderlaySegment[] = [
  { bridge: 'flatnet0', gateway: '172.18.0.1', prefix: 24 },
  { bridge: 'flatnet1', gateway: '172.18.1.1', prefix: 24 },
];

/** Node `i` (from 1) of a two-segment lab: its segment and address (172.18.<segment>.<10 + i>). */
export function segmentOfNode(i: number): { segment: UnderlaySegment; ip: string } {
  const index = (i + 1) % 2;
  return { segment: UNDERLAY_SEGMENTS[index], ip: `172.18.${index}.${10 + i}` };
}
