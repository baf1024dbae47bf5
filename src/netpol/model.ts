// The policy model: slim copies of Pods, Namespaces and NetworkPolicies (only the fields policy
// needs, with API defaults applied) and the cluster view built from them. The evaluator (which
// answers `flatnet policy explain`) and the compiler (which produces kernel state) both read
// this model, so they cannot disagree about what an object means.
import type { KubeObject } from '../api/types.js';
import type { LabelSelector, Labels } from '../api/label-selector.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];
export type Direction = 'Ingress' | 'Egress';

export interface SlimContainerPort {
  name?: string;
  containerPort: number;
  protocol: Protocol;
}

export interface SlimPod {
  namespace: string;
  name: string;
  uid: string;
  /** The pod IPv4 address; undefined until the pod has one. */
  ip?: string;
  labels: Labels;
  nodeName?: string;
  /** hostNetwork pods are node traffic: never selected as pods, never isolated (semantics #14). */
  hostNetwork: boolean;
  /** Succeeded or Failed: the IP may already belong to another pod. */
  terminal: boolean;
  ports: SlimContainerPort[];
}

export interface SlimNamespace {
  name: string;
  labels: Labels;
}

export interface SlimIpBlock {
  cidr: string;
  except: string[];
}

export interface SlimPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: SlimIpBlock;
}

export interface SlimPolicyPort {
  protocol: Protocol;
  /** undefined = every port of the protocol; a number, or a container port name. */
  port?: number | string;
  endPort?: number;
}

export interface SlimRule {
  /** Empty = every peer (a rule without from/to). */
  peers: SlimPeer[];
  /** Empty = every port of every protocol (a rule without ports). */
  ports: SlimPolicyPort[];
}

export interface SlimPolicy {
  namespace: string;
  name: string;
  podSelector: LabelSelector;
  /** After defaulting: Ingress always unless listed otherwise; Egress when an egress section exists. */
  policyTypes: Direction[];
  ingress: SlimRule[];
  egress: SlimRule[];
}

/** Thrown for an object the model cannot use; the message names the object and the field. */
export class PolicyModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyModelError';
  }
}

function asProtocol(value: unknown, where: string): Protocol {
  const p = value === undefined || value === null ? 'TCP' : String(value);
  if (p === 'TCP' || p === 'UDP' || p === 'SCTP') return p;
  throw new PolicyModelError(`${where}: protocol "${p}" is not TCP, UDP or SCTP`);
}

export function slimPod(obj: KubeObject): SlimPod {
  const spec = (obj.spec ?? {}) as {
    nodeName?: string;
    hostNetwork?: boolean;
    containers?: { ports?: { name?: string; containerPort?: number; protocol?: string }[] }[];
  };
  const status = (obj.status ?? {}) as { podIP?: string; podIPs?: { ip: string }[]; phase?: string };
  const ip = status.podIPs?.find((p) => !p.ip.includes(':'))?.ip ?? (status.podIP && !status.podIP.includes(':') ? status.podIP : undefined);
  const where = `pod ${obj.metadata.namespace}/${obj.metadata.name}`;
  const ports: SlimContainerPort[] = [];
  for (const c of spec.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (typeof p.containerPort !== 'number') continue;
      ports.push({ name: p.name, containerPort: p.containerPort, protocol: asProtocol(p.protocol, `${where} container port ${p.containerPort}`) });
    }
  }
  return {
    namespace: obj.metadata.namespace ?? 'default',
    name: obj.metadata.name ?? '',
    uid: obj.metadata.uid ?? '',
    ip,
    labels: { ...(obj.metadata.labels ?? {}) },
    nodeName: spec.nodeName,
    hostNetwork: spec.hostNetwork === true,
    terminal: status.phase === 'Succeeded' || status.phase === 'Failed',
    ports,
  };
}

export function slimNamespace(obj: KubeObject): SlimNamespace {
  const name = obj.metadata.name ?? '';
  // The API server sets this immutable label; add it if an older object lacks it.
  return { name, labels: { 'kubernetes.io/metadata.name': name, ...(obj.metadata.labels ?? {}) } };
}

interface RawPeer {
  podSelector?: LabelSelector | null;
  namespaceSelector?: LabelSelector | null;
  ipBlock?: { cidr?: string; except?: string[] } | null;
}
interface RawPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
interface RawRule {
  from?: RawPeer[] | null;
  to?: RawPeer[] | null;
  ports?: RawPort[] | null;
}

function slimRule(raw: RawRule, direction: Direction, where: string): SlimRule {
  const rawPeers = (direction === 'Ingress' ? raw.from : raw.to) ?? [];
  const peers = rawPeers.map((p, i): SlimPeer => {
    const at = `${where}.${direction === 'Ingress' ? 'from' : 'to'}[${i}]`;
    if (p.ipBlock) {
      if (!p.ipBlock.cidr) throw new PolicyModelError(`${at}.ipBlock.cidr is required`);
      return { ipBlock: { cidr: p.ipBlock.cidr, except: p.ipBlock.except ?? [] } };
    }
    if (!p.podSelector && !p.namespaceSelector) throw new PolicyModelError(`${at}: a peer needs podSelector, namespaceSelector or ipBlock`);
    return { podSelector: p.podSelector ?? undefined, namespaceSelector: p.namespaceSelector ?? undefined };
  });
  const ports = (raw.ports ?? []).map((p, i): SlimPolicyPort => {
    const at = `${where}.ports[${i}]`;
    const protocol = asProtocol(p.protocol, at);
    let port: number | string | undefined = p.port;
    if (typeof port === 'string' && /^\d+$/.test(port)) port = Number(port);
    if (p.endPort !== undefined) {
      if (typeof port !== 'number') throw new PolicyModelError(`${at}.endPort needs a numeric port`);
      if (p.endPort < port) throw new PolicyModelError(`${at}.endPort ${p.endPort} is below port ${port}`);
    }
    return { protocol, port, endPort: p.endPort };
  });
  return { peers, ports };
}

export function slimPolicy(obj: KubeObject): SlimPolicy {
  const spec = (obj.spec ?? {}) as {
    podSelector?: LabelSelector | null;
    policyTypes?: Direction[];
    ingress?: RawRule[] | null;
    egress?: RawRule[] | null;
  };
  const namespace = obj.metadata.namespace ?? 'default';
  const name = obj.metadata.name ?? '';
  const where = `networkpolicy ${namespace}/${name} spec`;
  // Semantics #1: without policyTypes, Ingress always, Egress only with an egress section.
  const policyTypes: Direction[] = spec.policyTypes?.length
    ? [...spec.policyTypes]
    : spec.egress !== undefined && spec.egress !== null
      ? ['Ingress', 'Egress']
      : ['Ingress'];
  return {
    namespace,
    name,
    podSelector: spec.podSelector ?? {},
    policyTypes,
    ingress: (spec.ingress ?? []).map((r, i) => slimRule(r, 'Ingress', `${where}.ingress[${i}]`)),
    egress: (spec.egress ?? []).map((r, i) => slimRule(r, 'Egress', `${where}.egress[${i}]`)),
  };
}

export function policyKey(p: { namespace: string; name: string }): string {
  return `${p.namespace}/${p.name}`;
}

/** Pods that take part in policy: they have an IP, are not hostNetwork and not finished. */
export function isPolicyPod(pod: SlimPod): pod is SlimPod & { ip: string } {
  return pod.ip !== undefined && !pod.hostNetwork && !pod.terminal;
}

/** The cluster as policy sees it, with the lookups every stage needs. */
export class PolicyModel {
  readonly pods: readonly SlimPod[];
  readonly policies: readonly SlimPolicy[];
  private readonly namespaces = new Map<string, SlimNamespace>();
  private readonly podsByIp = new Map<string, SlimPod & { ip: string }>();
  private readonly policiesByNamespace = new Map<string, SlimPolicy[]>();
  private readonly podsByNamespace = new Map<string, (SlimPod & { ip: string })[]>();

  constructor(input: { pods: Iterable<SlimPod>; namespaces: Iterable<SlimNamespace>; policies: Iterable<SlimPolicy> }) {
    this.pods = [...input.pods];
    this.policies = [...input.policies];
    for (const ns of input.namespaces) this.namespaces.set(ns.name, ns);
    for (const pod of this.pods) if (isPolicyPod(pod)) this.podsByIp.set(pod.ip, pod);
    for (const pod of this.podsByIp.values()) {
      const list = this.podsByNamespace.get(pod.namespace) ?? [];
      list.push(pod);
      this.podsByNamespace.set(pod.namespace, list);
    }
    for (const p of this.policies) {
      const list = this.policiesByNamespace.get(p.namespace) ?? [];
      list.push(p);
      this.policiesByNamespace.set(p.namespace, list);
    }
  }

  /** A namespace's labels; one the model has not seen still carries its name label. */
  namespaceLabels(name: string): Labels {
    return this.namespaces.get(name)?.labels ?? { 'kubernetes.io/metadata.name': name };
  }

  namespaceNames(): string[] {
    return [...this.namespaces.keys()];
  }

  /** The namespaces the model was built from (the same objects). */
  namespaceList(): Iterable<SlimNamespace> {
    return this.namespaces.values();
  }

  podByIp(ip: string): (SlimPod & { ip: string }) | undefined {
    return this.podsByIp.get(ip);
  }

  findPod(namespace: string, name: string): SlimPod | undefined {
    return this.pods.find((p) => p.namespace === namespace && p.name === name);
  }

  /** Pods that can be peers or subjects of policy (see isPolicyPod). */
  policyPods(): (SlimPod & { ip: string })[] {
    return [...this.podsByIp.values()];
  }

  /** Namespaces that hold policy pods. */
  podNamespaces(): string[] {
    return [...this.podsByNamespace.keys()];
  }

  /** Policy pods (see isPolicyPod) of one namespace. */
  policyPodsIn(namespace: string): readonly (SlimPod & { ip: string })[] {
    return this.podsByNamespace.get(namespace) ?? [];
  }

  policiesInNamespace(namespace: string): readonly SlimPolicy[] {
    return this.policiesByNamespace.get(namespace) ?? [];
  }
}
