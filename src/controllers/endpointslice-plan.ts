// The EndpointSlices a Service with a selector should have, as a change plan against the slices
// it has: keep slices that are right, rewrite only slices whose endpoints changed, fill slices
// being rewritten before making new ones, and never reshuffle endpoints between slices.
import type { KubeObject, OwnerReference } from '../api/types.js';
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
import type { Pod, Service } from './types.js';
import { matchesMap } from './selector.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
export const MIRROR_MANAGED_BY = 'endpointslicemirroring-controller.k8s.io';
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
export const MAX_ENDPOINTS_PER_SLICE = 100;

export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving?: boolean; terminating?: boolean };
  hostname?: string;
  nodeName?: string;
  targetRef?: { kind: string; namespace?: string; name: string; uid?: string };
}

export interface EndpointSlice extends KubeObject {
  addressType: string;
  endpoints?: SliceEndpoint[] | null;
  ports?: ResolvedPort[] | null;
}

export interface SlicePlan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

export interface DesiredGroup {
  ports: ResolvedPort[];
  endpoints: Map<string, SliceEndpoint>;
}

/** Is this slice one the controller (`managedBy`) manages for this Service? */
export function isManagedSliceOf(slice: KubeObject, svc: KubeObject, managedBy = MANAGED_BY): boolean {
  const labels = slice.metadata.labels ?? {};
  return slice.metadata.namespace === svc.metadata.namespace && labels[SERVICE_NAME_LABEL] === svc.metadata.name && labels[MANAGED_BY_LABEL] === managedBy;
}

export function endpointForPod(svc: Service, pod: Pod): SliceEndpoint {
  const ep: SliceEndpoint = {
    addresses: [podIP(pod)!],
    conditions: endpointConditions(svc, pod),
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' },
  };
  const hostname = endpointHostname(svc, pod);
  if (hostname) ep.hostname = hostname;
  if (pod.spec.nodeName) ep.nodeName = pod.spec.nodeName;
  return ep;
}

/** Field-by-field equality of two endpoints (hot: runs for every endpoint of a Service per sync). */
export function sameEndpoint(a: SliceEndpoint, b: SliceEndpoint): boolean {
  const ca = a.conditions ?? {};
  const cb = b.conditions ?? {};
  const ra: Partial<NonNullable<SliceEndpoint['targetRef']>> = a.targetRef ?? {};
  const rb: Partial<NonNullable<SliceEndpoint['targetRef']>> = b.targetRef ?? {};
  return (
    a.addresses?.length === b.addresses?.length &&
    (a.addresses ?? []).every((x, i) => x === b.addresses[i]) &&
    ca.ready === cb.ready &&
    ca.serving === cb.serving &&
    ca.terminating === cb.terminating &&
    a.hostname === b.hostname &&
    a.nodeName === b.nodeName &&
    ra.kind === rb.kind &&
    ra.namespace === rb.namespace &&
    ra.name === rb.name &&
    ra.uid === rb.uid
  );
}

/** What identifies an endpoint across syncs: its pod, or its address. */
export function endpointKey(ep: SliceEndpoint): string {
  return ep.targetRef?.name ? `${ep.targetRef.kind}/${ep.targetRef.name}` : `ip/${ep.addresses[0]}`;
}

/** The endpoints a Service should have, grouped by the ports they resolve to. */
export function desiredEndpoints(svc: Service, pods: Pod[]): Map<string, DesiredGroup> {
  const groups = new Map<string, DesiredGroup>();
  const sorted = pods
    .filter((p) => p.metadata.namespace === svc.metadata.namespace && matchesMap(svc.spec.selector, p.metadata.labels) && shouldPodBeInEndpoints(p, true))
    .sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
  for (const pod of sorted) {
    const ports = resolvePorts(svc, pod);
    const key = portsKey(ports);
    let g = groups.get(key);
    if (!g) {
      g = { ports, endpoints: new Map() };
      groups.set(key, g);
    }
    const ep = endpointForPod(svc, pod);
    g.endpoints.set(endpointKey(ep), ep);
  }
  return groups;
}

export function sliceLabels(svc: Service, managedBy = MANAGED_BY): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
  delete labels[HEADLESS_LABEL];
  labels[SERVICE_NAME_LABEL] = svc.metadata.name ?? '';
  labels[MANAGED_BY_LABEL] = managedBy;
  if (isHeadlessService(svc)) labels[HEADLESS_LABEL] = '';
  return labels;
}

export function serviceOwnerRef(svc: Service): OwnerReference {
  return { apiVersion: 'v1', kind: 'Service', name: svc.metadata.name ?? '', uid: svc.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

function newSlice(svc: Service, name: string, ports: ResolvedPort[], endpoints: SliceEndpoint[], managedBy: string): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: svc.metadata.namespace, labels: sliceLabels(svc, managedBy), ownerReferences: [serviceOwnerRef(svc)] },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}

function metadataNeedsFix(slice: EndpointSlice, svc: Service, managedBy: string): boolean {
  const labels = sliceLabels(svc, managedBy);
  if (canonicalJSON(slice.metadata.labels ?? {}) !== canonicalJSON(labels)) return true;
  const refs = slice.metadata.ownerReferences ?? [];
  return !refs.some((r) => r.uid === svc.metadata.uid && r.controller);
}

function withFixedMetadata(slice: EndpointSlice, svc: Service, managedBy: string): EndpointSlice {
  const others = (slice.metadata.ownerReferences ?? []).filter((r) => !r.controller);
  return { ...slice, metadata: { ...slice.metadata, labels: sliceLabels(svc, managedBy), ownerReferences: [serviceOwnerRef(svc), ...others] } };
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The change plan for one Service: `existing` are the slices managed for it (see
 * isManagedSliceOf), `newName` names a slice to create.
 */
export function planEndpointSlices(
  svc: Service,
  pods: Pod[],
  existing: EndpointSlice[],
  newName: () => string,
  maxPerSlice = MAX_ENDPOINTS_PER_SLICE,
): SlicePlan {
  return planSlices(svc, desiredEndpoints(svc, pods), existing, newName, MANAGED_BY, maxPerSlice);
}

/** The change plan from `existing` slices to slices holding the `desired` endpoint groups. */
export function planSlices(
  svc: Service,
  desired: Map<string, DesiredGroup>,
  existing: EndpointSlice[],
  newName: () => string,
  managedBy: string,
  maxPerSlice = MAX_ENDPOINTS_PER_SLICE,
): SlicePlan {
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const slices = [...existing].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));

  if (desired.size === 0) {
    // No endpoints: keep (or make) one placeholder slice without endpoints and ports, as upstream.
    const placeholder = slices.find((s) => (s.endpoints ?? []).length === 0 && (s.ports ?? []).length === 0);
    for (const s of slices) if (s !== placeholder) plan.delete.push(s);
    if (!placeholder) plan.create.push(newSlice(svc, newName(), [], [], managedBy));
    else if (metadataNeedsFix(placeholder, svc, managedBy)) plan.update.push(withFixedMetadata(placeholder, svc, managedBy));
    return plan;
  }

  const byKey = new Map<string, EndpointSlice[]>();
  for (const s of slices) {
    const key = (s.endpoints ?? []).length === 0 && (s.ports ?? []).length === 0 ? '\u0000placeholder' : portsKey(s.ports ?? []);
    const list = byKey.get(key) ?? [];
    list.push(s);
    byKey.set(key, list);
  }
  for (const [key, list] of byKey) if (!desired.has(key)) plan.delete.push(...list);

  for (const [key, group] of desired) {
    const unplaced = new Map(group.endpoints);
    const updating: EndpointSlice[] = [];
    const unchanged: EndpointSlice[] = [];
    for (const slice of byKey.get(key) ?? []) {
      const kept: SliceEndpoint[] = [];
      let changed = false;
      for (const ep of slice.endpoints ?? []) {
        const k = endpointKey(ep);
        const want = unplaced.get(k);
        if (!want) {
          changed = true; // gone, or a duplicate of one placed already
          continue;
        }
        unplaced.delete(k);
        if (!sameEndpoint(want, ep)) changed = true;
        kept.push(want);
      }
      if (kept.length === 0) {
        plan.delete.push(slice);
        continue;
      }
      if (changed || kept.length > maxPerSlice || metadataNeedsFix(slice, svc, managedBy)) {
        updating.push({ ...withFixedMetadata(slice, svc, managedBy), endpoints: kept, ports: group.ports });
      } else unchanged.push(slice);
    }
    let rest = [...unplaced.values()];
    // Fill slices being rewritten anyway.
    for (const s of updating) {
      const room = maxPerSlice - s.endpoints!.length;
      if (room > 0 && rest.length > 0) {
        s.endpoints!.push(...rest.slice(0, room));
        rest = rest.slice(room);
      }
    }
    // What is left goes into new slices; a last partial one may fit into an unchanged slice instead.
    const chunks = chunk(rest, maxPerSlice);
    const last = chunks[chunks.length - 1];
    if (last && last.length < maxPerSlice) {
      const host = unchanged
        .filter((s) => maxPerSlice - (s.endpoints ?? []).length >= last.length)
        .sort((a, b) => (b.endpoints ?? []).length - (a.endpoints ?? []).length)[0];
      if (host) {
        chunks.pop();
        unchanged.splice(unchanged.indexOf(host), 1);
        updating.push({ ...withFixedMetadata(host, svc, managedBy), endpoints: [...(host.endpoints ?? []), ...last], ports: group.ports });
      }
    }
    plan.update.push(...updating);
    for (const c of chunks) plan.create.push(newSlice(svc, newName(), group.ports, c, managedBy));
  }
  return plan;
}
