// The legacy core/v1 Endpoints object of a Service with a selector: one subset per distinct set
// of resolved ports, ready pods under `addresses`, others under `notReadyAddresses`, cut at
// 1000 addresses with upstream's over-capacity annotation.
import type { KubeObject } from '../api/types.js';
import { canonicalJSON } from './names.js';
import {
  endpointConditions,
  endpointHostname,
  isHeadlessService,
  podIP,
  portsKey,
  resolvePorts,
  shouldPodBeInEndpoints,
  type ResolvedPort,
} from './pod-endpoints.js';
import { matchesMap } from './selector.js';
import type { Pod, Service } from './types.js';
import { HEADLESS_LABEL } from './endpointslice-plan.js';

export const MAX_ENDPOINTS_ADDRESSES = 1000;
export const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';
/** Upstream marks the Endpoints it writes so the EndpointSlice mirroring controller skips them. */
export const SKIP_MIRROR_LABEL = 'endpointslice.kubernetes.io/skip-mirror';

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  /** Always set by this controller; optional in Endpoints users write. */
  targetRef?: { kind: string; namespace?: string; name: string; uid?: string };
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

export interface Endpoints extends KubeObject {
  subsets?: EndpointSubset[];
}

function toEndpointPort(p: ResolvedPort): EndpointPort {
  const out: EndpointPort = { port: p.port, protocol: p.protocol };
  if (p.name) out.name = p.name;
  if (p.appProtocol) out.appProtocol = p.appProtocol;
  return out;
}

const byIP = (a: EndpointAddress, b: EndpointAddress) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : (a.targetRef?.uid ?? '') < (b.targetRef?.uid ?? '') ? -1 : 1);

/** The Endpoints object `svc` should have. */
export function desiredEndpointsObject(svc: Service, pods: Pod[], max = MAX_ENDPOINTS_ADDRESSES): Endpoints {
  const publish = svc.spec.publishNotReadyAddresses === true;
  const groups = new Map<string, { ports: ResolvedPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const pod of pods) {
    if (pod.metadata.namespace !== svc.metadata.namespace || !matchesMap(svc.spec.selector, pod.metadata.labels)) continue;
    if (!shouldPodBeInEndpoints(pod, publish)) continue;
    const ports = resolvePorts(svc, pod);
    if ((svc.spec.ports ?? []).length > 0 && ports.length === 0) continue;
    const key = portsKey(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, ready: [], notReady: [] }));
    const addr: EndpointAddress = {
      ip: podIP(pod)!,
      targetRef: { kind: 'Pod', namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' },
    };
    const hostname = endpointHostname(svc, pod);
    if (hostname) addr.hostname = hostname;
    if (pod.spec.nodeName) addr.nodeName = pod.spec.nodeName;
    (endpointConditions(svc, pod).ready ? g.ready : g.notReady).push(addr);
  }
  const ordered = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, g]) => g);
  const total = ordered.reduce((n, g) => n + g.ready.length + g.notReady.length, 0);
  let budget = Math.min(total, max);
  const subsets: EndpointSubset[] = [];
  // Ready addresses first, then not-ready ones, until the budget is spent.
  for (const g of ordered) g.ready.sort(byIP);
  for (const g of ordered) g.notReady.sort(byIP);
  const keepReady = ordered.map((g) => {
    const n = Math.min(g.ready.length, budget);
    budget -= n;
    return n;
  });
  const keepNotReady = ordered.map((g) => {
    const n = Math.min(g.notReady.length, budget);
    budget -= n;
    return n;
  });
  ordered.forEach((g, i) => {
    const subset: EndpointSubset = {};
    if (keepReady[i]! > 0) subset.addresses = g.ready.slice(0, keepReady[i]);
    if (keepNotReady[i]! > 0) subset.notReadyAddresses = g.notReady.slice(0, keepNotReady[i]);
    if (!subset.addresses && !subset.notReadyAddresses) return;
    if (g.ports.length > 0) subset.ports = g.ports.map(toEndpointPort);
    subsets.push(subset);
  });
  const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}), [SKIP_MIRROR_LABEL]: 'true' };
  delete labels[HEADLESS_LABEL];
  if (isHeadlessService(svc)) labels[HEADLESS_LABEL] = '';
  const ep: Endpoints = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: svc.metadata.name, namespace: svc.metadata.namespace, labels },
    subsets,
  };
  if (total > max) ep.metadata.annotations = { [OVER_CAPACITY_ANNOTATION]: 'truncated' };
  return ep;
}

/** The object to write when `current` differs from what is desired (undefined: nothing to do). */
export function endpointsUpdate(desired: Endpoints, current: Endpoints): Endpoints | undefined {
  const annotations = { ...(current.metadata.annotations ?? {}) };
  delete annotations[OVER_CAPACITY_ANNOTATION];
  Object.assign(annotations, desired.metadata.annotations ?? {});
  const same =
    canonicalJSON(current.subsets ?? []) === canonicalJSON(desired.subsets ?? []) &&
    canonicalJSON(current.metadata.labels ?? {}) === canonicalJSON(desired.metadata.labels ?? {}) &&
    canonicalJSON(current.metadata.annotations ?? {}) === canonicalJSON(annotations);
  if (same) return undefined;
  const metadata = { ...current.metadata, labels: desired.metadata.labels };
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  else delete metadata.annotations;
  return { ...current, metadata, subsets: desired.subsets };
}
