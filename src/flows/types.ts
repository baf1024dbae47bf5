// Flow events: what a node saw happen to a connection or a packet, with Kubernetes identities.

export type Verdict = 'forwarded' | 'translated' | 'replied' | 'closed' | 'dropped' | 'rejected';
export const VERDICTS: readonly Verdict[] = ['forwarded', 'translated', 'replied', 'closed', 'dropped', 'rejected'];

export type Identity =
  | { kind: 'pod'; namespace: string; name: string; node?: string }
  | { kind: 'service'; namespace: string; name: string; port?: string }
  | { kind: 'node'; name: string }
  | { kind: 'world' };

export interface FlowPeer {
  ip: string;
  port?: number;
  identity: Identity;
}

export interface PolicyVerdict {
  direction: 'ingress' | 'egress';
  /** The NetworkPolicies (namespace/name) that isolate the pod in this direction and allow none of this. */
  policies: string[];
  /** True when every one of them allows nothing in this direction (a default deny). */
  defaultDeny: boolean;
  /** The allow-class chain that dropped the packet (nft table inet flatnet-policy). */
  chain: string;
}

export interface FlowEvent {
  /** Per node, increasing: the position of the event in its node's stream. */
  seq: number;
  /** RFC 3339 with microseconds, from the kernel's timestamp. */
  time: string;
  node: string;
  verdict: Verdict;
  /** tcp, udp, sctp, icmp, ... */
  protocol: string;
  source: FlowPeer;
  destination: FlowPeer;
  /** The Service the destination address and port belong to. */
  service?: { namespace: string; name: string; port?: string };
  /** Where DNAT sent the connection (translated), or the endpoint that replied. */
  endpoint?: FlowPeer;
  policy?: PolicyVerdict;
  /** Words for a person: the conntrack state, why a packet was dropped. */
  summary: string;
  /** conntrack id (connection events) or 'nflog' (packet events). */
  origin: string;
}
