// What EndpointSlices and Endpoints share: which pods are endpoints of a Service, whether they
// are ready, and which port numbers a Service's ports resolve to on each pod.
import type { Pod, Service, ServicePort } from './types.js';
import { isPodReady } from './types.js';

export interface ResolvedPort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/** Upstream's rule: pods with an IP that have not finished for good (terminating ones on request). */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (!podIP(pod)) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  const phase = pod.status?.phase;
  switch (pod.spec.restartPolicy) {
    case 'Never':
      return phase !== 'Failed' && phase !== 'Succeeded';
    case 'OnFailure':
      return phase !== 'Succeeded';
    default:
      return true;
  }
}

export function podIP(pod: Pod): string | undefined {
  return pod.status?.podIP || pod.status?.podIPs?.[0]?.ip || undefined;
}

/** The conditions of a pod's endpoint (as the EndpointSlice controller sets them). */
export function endpointConditions(svc: Service, pod: Pod): { ready: boolean; serving: boolean; terminating: boolean } {
  const serving = isPodReady(pod);
  const terminating = pod.metadata.deletionTimestamp !== undefined;
  const publish = svc.spec.publishNotReadyAddresses === true;
  let ready = publish || serving;
  if (terminating && !publish) ready = false;
  return { ready, serving, terminating };
}

/** The number a Service port's targetPort means on this pod; undefined when a named port is not there. */
export function resolveTargetPort(sp: ServicePort, pod: Pod): number | undefined {
  const target = sp.targetPort;
  if (target === undefined || target === '' || target === 0) return sp.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = sp.protocol ?? 'TCP';
  for (const c of pod.spec.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
    }
  }
  return undefined;
}

/** The ports of `svc` on `pod`, in the Service's order; ports that do not resolve are left out. */
export function resolvePorts(svc: Service, pod: Pod): ResolvedPort[] {
  const out: ResolvedPort[] = [];
  for (const sp of svc.spec.ports ?? []) {
    const port = resolveTargetPort(sp, pod);
    if (port === undefined) continue;
    const rp: ResolvedPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) rp.appProtocol = sp.appProtocol;
    out.push(rp);
  }
  return out;
}

export function portsKey(ports: ResolvedPort[]): string {
  return ports
    .map((p) => `${p.name}/${p.protocol}/${p.port}/${p.appProtocol ?? ''}`)
    .sort()
    .join(',');
}

/** The hostname a pod answers under in a (headless) Service: spec.hostname when spec.subdomain names it. */
export function endpointHostname(svc: Service, pod: Pod): string | undefined {
  if (pod.spec.hostname && pod.spec.subdomain === svc.metadata.name && pod.metadata.namespace === svc.metadata.namespace) {
    return pod.spec.hostname;
  }
  return undefined;
}

/** Does this Service have its endpoints managed (a non-empty selector, not ExternalName)? */
export function hasManagedEndpoints(svc: Service): boolean {
  return svc.spec.type !== 'ExternalName' && !!svc.spec.selector && Object.keys(svc.spec.selector).length > 0;
}

export function isHeadlessService(svc: Service): boolean {
  return svc.spec.clusterIP === 'None';
}
