// Addresses -> Kubernetes identities, from slim copies of the objects the agent's informers hold:
// a pod address names the pod, a Service address (ClusterIP, external or LoadBalancer IP) and port
// name the Service port, a node address (or the node's bridge address in its pod CIDR) names the
// node, anything else is "world". Pure: the collector rebuilds the index when objects change.
import type { KubeObject } from '../api/types.js';
import { intToIp, parseCidr } from '../linux/ipv4.js';
import { policySelectsPod } from '../netpol/match.js';
import { slimPod, slimPolicy, type SlimPod, type SlimPolicy } from '../netpol/model.js';
import type { Identity, PolicyVerdict } from './types.js';

export interface SlimServicePort {
  name: string;
  protocol: string;
  port: number;
  nodePort?: number;
}

export interface SlimService {
  namespace: string;
  name: string;
  /** ClusterIPs, external IPs and LoadBalancer ingress IPs. */
  addresses: string[];
  ports: SlimServicePort[];
}

export interface SlimNode {
  name: string;
  addresses: string[];
  podCIDR?: string;
}

export function slimService(obj: KubeObject): SlimService {
  const spec = (obj.spec ?? {}) as { clusterIP?: string; clusterIPs?: string[]; externalIPs?: string[]; ports?: { name?: string; protocol?: string; port: number; nodePort?: number }[] };
  const status = (obj.status ?? {}) as { loadBalancer?: { ingress?: { ip?: string }[] } };
  const addresses = new Set<string>();
  for (const ip of [spec.clusterIP, ...(spec.clusterIPs ?? []), ...(spec.externalIPs ?? []), ...(status.loadBalancer?.ingress ?? []).map((i) => i.ip)]) {
    if (ip && ip !== 'None') addresses.add(ip);
  }
  return {
    namespace: obj.metadata.namespace ?? 'default',
    name: obj.metadata.name ?? '',
    addresses: [...addresses],
    ports: (spec.ports ?? []).map((p) => ({ name: p.name ?? '', protocol: (p.protocol ?? 'TCP').toLowerCase(), port: p.port, nodePort: p.nodePort })),
  };
}

export function slimNode(obj: KubeObject): SlimNode {
  const status = (obj.status ?? {}) as { addresses?: { type: string; address: string }[] };
  const spec = (obj.spec ?? {}) as { podCIDR?: string };
  return { name: obj.metadata.name ?? '', addresses: (status.addresses ?? []).filter((a) => a.type.endsWith('IP')).map((a) => a.address), podCIDR: spec.podCIDR };
}

export interface ClusterObjects {
  pods: SlimPod[];
  services: SlimService[];
  nodes: SlimNode[];
  policies: SlimPolicy[];
}

export function slimObjects(o: { pods: KubeObject[]; services: KubeObject[]; nodes: KubeObject[]; policies: KubeObject[] }): ClusterObjects {
  const policies: SlimPolicy[] = [];
  for (const p of o.policies) {
    try {
      policies.push(slimPolicy(p));
    } catch {
      // a policy the model refuses is reported by the enforcer; here it names no drop
    }
  }
  return { pods: o.pods.map(slimPod), services: o.services.map(slimService), nodes: o.nodes.map(slimNode), policies };
}

export class IdentityIndex {
  private readonly pods = new Map<string, SlimPod>();
  private readonly services = new Map<string, SlimService>();
  private readonly nodes = new Map<string, string>();
  private readonly nodePorts = new Map<string, { service: SlimService; port: SlimServicePort }>();
  private readonly policies: SlimPolicy[];

  constructor(objects: ClusterObjects) {
    for (const n of objects.nodes) {
      for (const a of n.addresses) this.nodes.set(a, n.name);
      if (n.podCIDR) {
        try {
          this.nodes.set(intToIp(parseCidr(n.podCIDR).first + 1), n.name);
        } catch {
          // not an IPv4 CIDR: no bridge address to name
        }
      }
    }
    for (const p of objects.pods) {
      // hostNetwork pods share their node's address: that address stays the node's.
      if (!p.ip || p.hostNetwork) continue;
      const seen = this.pods.get(p.ip);
      if (!seen || (seen.terminal && !p.terminal)) this.pods.set(p.ip, p);
    }
    for (const s of objects.services) {
      for (const a of s.addresses) this.services.set(a, s);
      for (const port of s.ports) if (port.nodePort) this.nodePorts.set(`${port.protocol}/${port.nodePort}`, { service: s, port });
    }
    this.policies = objects.policies;
  }

  pod(ip: string): SlimPod | undefined {
    return this.pods.get(ip);
  }

  /** Who has this address. */
  identity(ip: string): Identity {
    const pod = this.pods.get(ip);
    if (pod) return { kind: 'pod', namespace: pod.namespace, name: pod.name, node: pod.nodeName };
    const node = this.nodes.get(ip);
    if (node) return { kind: 'node', name: node };
    const svc = this.services.get(ip);
    if (svc) return { kind: 'service', namespace: svc.namespace, name: svc.name };
    return { kind: 'world' };
  }

  /** The Service port an address, protocol and port belong to (a Service address, or a node port on a node address). */
  service(ip: string, protocol: string, port: number | undefined): { namespace: string; name: string; port?: string } | undefined {
    const svc = this.services.get(ip);
    if (svc) {
      const p = svc.ports.find((x) => x.protocol === protocol && x.port === port);
      return { namespace: svc.namespace, name: svc.name, port: p ? p.name || String(p.port) : undefined };
    }
    if (port !== undefined && this.nodes.has(ip)) {
      const np = this.nodePorts.get(`${protocol}/${port}`);
      if (np) return { namespace: np.service.namespace, name: np.service.name, port: np.port.name || String(np.port.port) };
    }
    return undefined;
  }

  /** The NetworkPolicies that isolate the pod at `ip` in `direction` (a drop there is theirs). */
  isolatingPolicies(ip: string, direction: 'ingress' | 'egress', chain: string): PolicyVerdict {
    const pod = this.pods.get(ip);
    const type = direction === 'ingress' ? 'Ingress' : 'Egress';
    const selecting = pod ? this.policies.filter((p) => p.policyTypes.includes(type) && policySelectsPod(p, pod)) : [];
    const rules = (p: SlimPolicy) => (direction === 'ingress' ? p.ingress : p.egress);
    return {
      direction,
      policies: selecting.map((p) => `${p.namespace}/${p.name}`).sort(),
      defaultDeny: selecting.length > 0 && selecting.every((p) => rules(p).length === 0),
      chain,
    };
  }
}
