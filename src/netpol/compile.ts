// The compiler: for each pod of one node, whether it is isolated for ingress and for egress and
// the union of everything the policies selecting it allow, as disjoint boxes
// (peer addresses x protocol x ports) plus the peer ranges of rules without ports (every
// protocol). Pure: the model in, data out. render.ts turns the result into nftables elements.
import { ipToInt } from '../linux/ipv4.js';
import { disjointBoxes, mergeRanges, boxContains, type Box } from './boxes.js';
import { ALL_ADDRESSES, ipBlockRanges, peerMatches, policySelectsPod, portEntryRanges, podsMatchingSelectorPeer, type AddressRange } from './match.js';
import { isPolicyPod, policyKey, type Direction, type PolicyModel, type Protocol, type SlimPod, type SlimPolicy, type SlimPeer, type SlimPolicyPort, type SlimRule } from './model.js';

/** What one direction of one pod allows. */
export interface DirectionAllowance {
  /** Disjoint (peer addresses x protocol x ports) boxes from rules with ports. */
  boxes: Box[];
  /** Disjoint peer ranges of rules without ports: every protocol and port. */
  anyProtocol: AddressRange[];
}

export interface CompiledPod {
  ip: string;
  pod: string;
  ingressIsolated: boolean;
  egressIsolated: boolean;
  ingress: DirectionAllowance;
  egress: DirectionAllowance;
}

/** Per-compile memo of what does not depend on the local pod: peer ranges, egress named ports. */
class PeerRangeCache {
  private readonly ranges = new WeakMap<SlimRule, AddressRange[]>();
  private readonly namedEgress = new WeakMap<SlimPolicyPort, Box[]>();
  private readonly byPeer = new Map<string, AddressRange[]>();
  /** Compiled directions by signature (selecting policies + the pod's declared ports). */
  readonly bySignature = new Map<string, { ingress: DirectionAllowance; egress: DirectionAllowance }>();

  /** Boxes of an egress named port: each destination pod the rule's peers match, on its port of that name. */
  egressNamedPortBoxes(policy: SlimPolicy, rule: SlimRule, entry: SlimPolicyPort): Box[] {
    let boxes = this.namedEgress.get(entry);
    if (boxes) return boxes;
    boxes = [];
    const candidates = new Set<SlimPod & { ip: string }>();
    for (const peer of rule.peers) {
      if (peer.ipBlock) {
        for (const pod of this.model.policyPods()) if (peerMatches(this.model, policy.namespace, peer, { kind: 'pod', pod })) candidates.add(pod);
      } else for (const pod of podsMatchingSelectorPeer(this.model, policy.namespace, peer)) candidates.add(pod);
    }
    const destinations = rule.peers.length === 0 ? this.model.policyPods() : [...candidates];
    for (const peerPod of destinations) {
      const n = ipToInt(peerPod.ip);
      for (const ports of portEntryRanges(entry, peerPod)) boxes.push({ addresses: { lo: n, hi: n }, protocol: entry.protocol, ports });
    }
    this.namedEgress.set(entry, boxes);
    return boxes;
  }

  constructor(private readonly model: PolicyModel) {}

  /** Addresses of one peer; equal peers (same selectors, same namespace scope) are computed once. */
  private peerRanges(policyNamespace: string, peer: SlimPeer): AddressRange[] {
    const key = `${peer.namespaceSelector || peer.ipBlock ? '' : policyNamespace}|${JSON.stringify(peer)}`;
    let r = this.byPeer.get(key);
    if (r) return r;
    if (peer.ipBlock) r = ipBlockRanges(peer.ipBlock);
    else r = mergeRanges(podsMatchingSelectorPeer(this.model, policyNamespace, peer).map((pod) => ({ lo: ipToInt(pod.ip), hi: ipToInt(pod.ip) })));
    this.byPeer.set(key, r);
    return r;
  }

  /** Every address a rule's peers match: ipBlock ranges and the /32 of each selected pod. */
  rangesOf(policy: SlimPolicy, rule: SlimRule): AddressRange[] {
    let r = this.ranges.get(rule);
    if (r) return r;
    if (rule.peers.length === 0) r = [ALL_ADDRESSES];
    else {
      const all: AddressRange[] = [];
      for (const peer of rule.peers) all.push(...this.peerRanges(policy.namespace, peer));
      r = mergeRanges(all);
    }
    this.ranges.set(rule, r);
    return r;
  }
}

function compileDirection(cache: PeerRangeCache, pod: SlimPod, policies: SlimPolicy[], direction: Direction): DirectionAllowance {
  const boxes: Box[] = [];
  const anyProtocol: AddressRange[] = [];
  for (const policy of policies) {
    for (const rule of direction === 'Ingress' ? policy.ingress : policy.egress) {
      if (rule.ports.length === 0) {
        anyProtocol.push(...cache.rangesOf(policy, rule));
        continue;
      }
      for (const entry of rule.ports) {
        if (typeof entry.port === 'string' && direction === 'Egress') {
          // An egress named port resolves on each destination pod the rule's peers match.
          boxes.push(...cache.egressNamedPortBoxes(policy, rule, entry));
          continue;
        }
        // Ingress named ports resolve on the local pod itself (the destination).
        const portRanges = portEntryRanges(entry, direction === 'Ingress' ? pod : undefined);
        for (const addresses of cache.rangesOf(policy, rule)) {
          for (const ports of portRanges) boxes.push({ addresses, protocol: entry.protocol, ports });
        }
      }
    }
  }
  return { boxes: disjointBoxes(boxes), anyProtocol: mergeRanges(anyProtocol) };
}

/**
 * What a pod's policies allow depends only on which policies select it and (for ingress named
 * ports) on its declared ports, so pods alike (replicas) share one computation.
 */
function allowances(cache: PeerRangeCache, pod: SlimPod, selecting: SlimPolicy[], ingressPolicies: SlimPolicy[], egressPolicies: SlimPolicy[]) {
  const signature = `${selecting.map(policyKey).join('|')}#${pod.ports.map((p) => `${p.name ?? ''}:${p.containerPort}/${p.protocol}`).join(',')}`;
  let found = cache.bySignature.get(signature);
  if (!found) {
    found = { ingress: compileDirection(cache, pod, ingressPolicies, 'Ingress'), egress: compileDirection(cache, pod, egressPolicies, 'Egress') };
    cache.bySignature.set(signature, found);
  }
  return found;
}

function compileOne(model: PolicyModel, cache: PeerRangeCache, pod: SlimPod & { ip: string }): CompiledPod {
  const selecting = model.policiesInNamespace(pod.namespace).filter((p) => policySelectsPod(p, pod));
  const ingressPolicies = selecting.filter((p) => p.policyTypes.includes('Ingress'));
  const egressPolicies = selecting.filter((p) => p.policyTypes.includes('Egress'));
  return {
    ip: pod.ip,
    pod: `${pod.namespace}/${pod.name}`,
    ingressIsolated: ingressPolicies.length > 0,
    egressIsolated: egressPolicies.length > 0,
    ...allowances(cache, pod, selecting, ingressPolicies, egressPolicies),
  };
}

/**
 * Compiles the pods `isLocal` accepts (pods without an IP, hostNetwork or finished are skipped);
 * `reuse` may hand back a pod's result from an earlier pass instead (see incremental.ts).
 */
export function compilePods(model: PolicyModel, isLocal: (pod: SlimPod) => boolean, reuse?: (pod: SlimPod & { ip: string }) => CompiledPod | undefined): CompiledPod[] {
  const cache = new PeerRangeCache(model);
  const out: CompiledPod[] = [];
  for (const pod of model.pods) {
    if (isPolicyPod(pod) && isLocal(pod)) out.push(reuse?.(pod) ?? compileOne(model, cache, pod));
  }
  return out;
}

/** Compiles the pods scheduled on `nodeName`. */
export function compileNode(model: PolicyModel, nodeName: string): CompiledPod[] {
  return compilePods(model, (p) => p.nodeName === nodeName);
}

function directionAllows(a: DirectionAllowance, peer: number, protocol: Protocol, port: number): boolean {
  return a.anyProtocol.some((r) => peer >= r.lo && peer <= r.hi) || a.boxes.some((b) => boxContains(b, peer, protocol, port));
}

/**
 * What the kernel state compiled for these pods does with one packet of a new connection, read
 * the way the nftables rules read it: the source's egress state (if compiled and isolated),
 * then the destination's ingress state. Used to check the compiler against the evaluator.
 */
export function compiledAllows(compiled: ReadonlyMap<string, CompiledPod>, srcIp: string, dstIp: string, protocol: Protocol, port: number): boolean {
  if (srcIp === dstIp) return true;
  const src = compiled.get(srcIp);
  if (src?.egressIsolated && !directionAllows(src.egress, ipToInt(dstIp), protocol, port)) return false;
  const dst = compiled.get(dstIp);
  if (dst?.ingressIsolated && !directionAllows(dst.ingress, ipToInt(srcIp), protocol, port)) return false;
  return true;
}
