// The matching rules of NetworkPolicy, shared by the evaluator and the compiler: which pods a
// policy selects, which endpoints a peer matches, which ports a port entry opens.
import { labelSelectorMatches } from '../api/label-selector.js';
import { ipToInt, parseCidr } from '../linux/ipv4.js';
import { isPolicyPod, type PolicyModel, type Protocol, type SlimIpBlock, type SlimPeer, type SlimPod, type SlimPolicy, type SlimPolicyPort } from './model.js';

/** Whether `policy` selects `pod` (same namespace and its podSelector matches). */
export function policySelectsPod(policy: SlimPolicy, pod: SlimPod): boolean {
  return isPolicyPod(pod) && pod.namespace === policy.namespace && labelSelectorMatches(policy.podSelector, pod.labels);
}

/** An inclusive range of IPv4 addresses as integers. */
export interface AddressRange {
  lo: number;
  hi: number;
}

export const ALL_ADDRESSES: AddressRange = { lo: 0, hi: 0xffffffff };

function isIpv4Cidr(cidr: string): boolean {
  return !cidr.includes(':');
}

/** The addresses of an ipBlock: its CIDR minus every except CIDR, as sorted disjoint ranges. */
export function ipBlockRanges(block: SlimIpBlock): AddressRange[] {
  if (!isIpv4Cidr(block.cidr)) return [];
  const c = parseCidr(block.cidr);
  let ranges: AddressRange[] = [{ lo: c.first, hi: c.last }];
  for (const ex of block.except) {
    if (!isIpv4Cidr(ex)) continue;
    const e = parseCidr(ex);
    const next: AddressRange[] = [];
    for (const r of ranges) {
      if (e.last < r.lo || e.first > r.hi) {
        next.push(r);
        continue;
      }
      if (r.lo < e.first) next.push({ lo: r.lo, hi: e.first - 1 });
      if (e.last < r.hi) next.push({ lo: e.last + 1, hi: r.hi });
    }
    ranges = next;
  }
  return ranges;
}

export function ipBlockContains(block: SlimIpBlock, ip: string): boolean {
  const n = ipToInt(ip);
  return ipBlockRanges(block).some((r) => n >= r.lo && n <= r.hi);
}

/** Whether a selector peer (podSelector and/or namespaceSelector) matches `pod`. */
export function selectorPeerMatchesPod(model: PolicyModel, policyNamespace: string, peer: SlimPeer, pod: SlimPod): boolean {
  if (!isPolicyPod(pod)) return false;
  if (peer.namespaceSelector) {
    if (!labelSelectorMatches(peer.namespaceSelector, model.namespaceLabels(pod.namespace))) return false;
  } else if (pod.namespace !== policyNamespace) {
    return false; // a podSelector-only peer means the policy's own namespace
  }
  return peer.podSelector ? labelSelectorMatches(peer.podSelector, pod.labels) : true;
}

/** Every pod a selector peer matches, namespace by namespace (same answer as selectorPeerMatchesPod). */
export function podsMatchingSelectorPeer(model: PolicyModel, policyNamespace: string, peer: SlimPeer): (SlimPod & { ip: string })[] {
  const namespaces = peer.namespaceSelector
    ? model.podNamespaces().filter((ns) => labelSelectorMatches(peer.namespaceSelector!, model.namespaceLabels(ns)))
    : [policyNamespace];
  const out: (SlimPod & { ip: string })[] = [];
  for (const ns of namespaces) {
    for (const pod of model.policyPodsIn(ns)) if (!peer.podSelector || labelSelectorMatches(peer.podSelector, pod.labels)) out.push(pod);
  }
  return out;
}

/** A flow endpoint: a pod of the cluster or any other address. */
export type Endpoint = { kind: 'pod'; pod: SlimPod & { ip: string } } | { kind: 'ip'; ip: string };

export function endpointIp(e: Endpoint): string {
  return e.kind === 'pod' ? e.pod.ip : e.ip;
}

/** An address as an endpoint: the pod that owns it, if any. */
export function endpointFor(model: PolicyModel, ip: string): Endpoint {
  const pod = model.podByIp(ip);
  return pod ? { kind: 'pod', pod } : { kind: 'ip', ip };
}

/** Whether one peer matches an endpoint. ipBlocks match pod IPs too (upstream e2e #34-36). */
export function peerMatches(model: PolicyModel, policyNamespace: string, peer: SlimPeer, endpoint: Endpoint): boolean {
  if (peer.ipBlock) return ipBlockContains(peer.ipBlock, endpointIp(endpoint));
  return endpoint.kind === 'pod' && selectorPeerMatchesPod(model, policyNamespace, peer, endpoint.pod);
}

/** Inclusive port ranges a port entry opens on `destination` (named ports resolve there). */
export function portEntryRanges(entry: SlimPolicyPort, destination: SlimPod | undefined): { lo: number; hi: number }[] {
  if (entry.port === undefined) return [{ lo: 0, hi: 65535 }];
  if (typeof entry.port === 'number') return [{ lo: entry.port, hi: entry.endPort ?? entry.port }];
  if (!destination) return [];
  return destination.ports.filter((p) => p.name === entry.port && p.protocol === entry.protocol).map((p) => ({ lo: p.containerPort, hi: p.containerPort }));
}

export function portEntryMatches(entry: SlimPolicyPort, protocol: Protocol, port: number, destination: SlimPod | undefined): boolean {
  if (entry.protocol !== protocol) return false;
  return portEntryRanges(entry, destination).some((r) => port >= r.lo && port <= r.hi);
}
