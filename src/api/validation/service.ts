// Service validation (upstream's ValidateService / ValidateServiceUpdate in pkg/apis/core/validation).
import type { KubeObject } from '../types.js';
import type { Obj } from './defaults/util.js';
import { type FieldPath, duplicateRendered, forbidden, goSyntax, invalid, invalidRendered, notSupported, path, required } from './errors.js';
import type { FieldError } from './index.js';
import { validateLabels } from './meta.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidCIDR, isValidIP, isValidPortName, isValidPortNum, parseIP } from './names.js';

export const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
export const PORT_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const AFFINITIES = ['ClientIP', 'None'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];
const IP_FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const IP_FAMILIES = ['IPv4', 'IPv6'];
export const MAX_CLIENT_IP_AFFINITY_SECONDS = 86400;

/** An int port number or an IANA_SVC_NAME, as upstream's ValidatePortNumOrName checks it. */
export function validatePortNumOrName(port: unknown, fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (typeof port === 'number') {
    for (const msg of isValidPortNum(port)) errs.push(invalid(fld, port, msg));
  } else if (typeof port === 'string') {
    if (port === '') errs.push(required(fld, ''));
    else for (const msg of isValidPortName(port)) errs.push(invalid(fld, port, msg));
  } else {
    errs.push(required(fld, ''));
  }
  return errs;
}

function isHeadless(spec: Obj): boolean {
  return spec.clusterIP === 'None';
}

function externallyAccessible(spec: Obj): boolean {
  return spec.type === 'LoadBalancer' || spec.type === 'NodePort' || (spec.type === 'ClusterIP' && Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0);
}

function goServicePort(protocol: string, port: number): string {
  return `core.ServicePort{Name:"", Protocol:${JSON.stringify(protocol)}, AppProtocol:(*string)(nil), Port:${port}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`;
}

function validateServicePort(sp: Obj, requireName: boolean, names: Set<string>, fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const name = typeof sp.name === 'string' ? sp.name : '';
  if (requireName && name === '') {
    errs.push(required(fld.child('name'), ''));
  } else if (name !== '') {
    for (const msg of isDNS1123Label(name)) errs.push(invalid(fld.child('name'), name, msg));
    if (names.has(name)) errs.push(duplicateRendered(fld.child('name'), JSON.stringify(name)));
    names.add(name);
  }
  for (const msg of isValidPortNum(sp.port)) errs.push(invalid(fld.child('port'), sp.port ?? 0, msg));
  if (!sp.protocol) errs.push(required(fld.child('protocol'), ''));
  else if (!PORT_PROTOCOLS.includes(sp.protocol)) errs.push(notSupported(fld.child('protocol'), sp.protocol, PORT_PROTOCOLS));
  if (sp.targetPort !== undefined) errs.push(...validatePortNumOrName(sp.targetPort, fld.child('targetPort')));
  if (sp.appProtocol !== undefined) {
    for (const msg of isQualifiedAppProtocol(String(sp.appProtocol))) errs.push(invalid(fld.child('appProtocol'), sp.appProtocol, msg));
  }
  return errs;
}

/** appProtocol is a qualified name (IANA names like `http`, or `example.com/proto`). */
function isQualifiedAppProtocol(v: string): string[] {
  return isQualifiedName(v);
}

export function validateService(svc: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = (svc.spec ?? {}) as Obj;
  const sp = path('spec');
  const type = spec.type;
  const ports: Obj[] = Array.isArray(spec.ports) ? spec.ports : [];

  if (!type) errs.push(required(sp.child('type'), ''));
  else if (!SERVICE_TYPES.includes(type)) errs.push(notSupported(sp.child('type'), type, SERVICE_TYPES));

  if (type === 'ExternalName') {
    if (spec.clusterIP) errs.push(forbidden(sp.child('clusterIP'), 'may not be set for ExternalName services'));
    if (Array.isArray(spec.clusterIPs) && spec.clusterIPs.length) errs.push(forbidden(sp.child('clusterIPs'), 'may not be set for ExternalName services'));
    if (Array.isArray(spec.ipFamilies) && spec.ipFamilies.length) errs.push(forbidden(sp.child('ipFamilies'), 'may not be set for ExternalName services'));
    if (spec.ipFamilyPolicy) errs.push(forbidden(sp.child('ipFamilyPolicy'), 'may not be set for ExternalName services'));
    const externalName = typeof spec.externalName === 'string' ? spec.externalName : '';
    if (externalName === '') errs.push(required(sp.child('externalName'), ''));
    else {
      const clean = externalName.endsWith('.') ? externalName.slice(0, -1) : externalName;
      for (const msg of isDNS1123Subdomain(clean)) errs.push(invalid(sp.child('externalName'), externalName, msg));
    }
  }

  if (ports.length === 0 && !isHeadless(spec) && type !== 'ExternalName') errs.push(required(sp.child('ports'), ''));
  if (type === 'LoadBalancer' || type === 'NodePort') {
    if (isHeadless(spec)) errs.push(invalid(sp.child('clusterIPs').index(0), 'None', `may not be set to 'None' for ${type} services`));
  }
  const names = new Set<string>();
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    const pf = sp.child('ports').index(i);
    errs.push(...validateServicePort(p, ports.length > 1, names, pf));
    const key = `${p.protocol}/${p.port}`;
    if (seen.has(key)) errs.push(duplicateRendered(pf, goServicePort(String(p.protocol), Number(p.port))));
    seen.add(key);
    if (type === 'ClusterIP' && p.nodePort) errs.push(forbidden(pf.child('nodePort'), "may not be used when `type` is 'ClusterIP'"));
    if (type === 'ExternalName' && p.nodePort) errs.push(forbidden(pf.child('nodePort'), "may not be used when `type` is 'ExternalName'"));
    if (p.nodePort !== undefined && p.nodePort !== 0) {
      for (const msg of isValidPortNum(p.nodePort)) errs.push(invalid(pf.child('nodePort'), p.nodePort, msg));
    }
  });

  if (spec.clusterIP !== undefined && spec.clusterIP !== '' && spec.clusterIP !== 'None' && type !== 'ExternalName') {
    for (const msg of isValidIP(String(spec.clusterIP))) errs.push(invalid(sp.child('clusterIPs').index(0), spec.clusterIP, msg));
  }
  if (Array.isArray(spec.clusterIPs)) {
    if (spec.clusterIP !== undefined && spec.clusterIPs.length > 0 && spec.clusterIPs[0] !== spec.clusterIP) {
      errs.push(invalid(sp.child('clusterIPs'), spec.clusterIPs, 'first value must match `clusterIP`'));
    }
    if (spec.clusterIPs.length > 2) errs.push(invalid(sp.child('clusterIPs'), spec.clusterIPs, 'may only hold up to 2 values'));
  }

  if (!spec.sessionAffinity) errs.push(required(sp.child('sessionAffinity'), ''));
  else if (!AFFINITIES.includes(spec.sessionAffinity)) errs.push(notSupported(sp.child('sessionAffinity'), spec.sessionAffinity, AFFINITIES));
  if (spec.sessionAffinity === 'ClientIP') {
    const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    if (timeout === undefined) errs.push(required(sp.child('sessionAffinityConfig'), 'when session affinity type is ClientIP'));
    else if (!(timeout > 0 && timeout <= MAX_CLIENT_IP_AFFINITY_SECONDS)) {
      errs.push(invalid(sp.child('sessionAffinityConfig', 'clientIP', 'timeoutSeconds'), timeout, `must be greater than 0 and less than ${MAX_CLIENT_IP_AFFINITY_SECONDS}`));
    }
  } else if (spec.sessionAffinity === 'None' && spec.sessionAffinityConfig !== undefined && spec.sessionAffinityConfig !== null) {
    errs.push(invalid(sp.child('sessionAffinityConfig'), spec.sessionAffinityConfig, 'must not be set when session affinity is None'));
  }
  if (type === 'ExternalName' && spec.sessionAffinity === 'ClientIP') {
    errs.push(forbidden(sp.child('sessionAffinity'), 'may not be ClientIP for ExternalName services'));
  }

  // externalTrafficPolicy and healthCheckNodePort only make sense for externally reachable services.
  if (!externallyAccessible(spec)) {
    if (spec.externalTrafficPolicy) errs.push(invalid(sp.child('externalTrafficPolicy'), spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
  } else if (!spec.externalTrafficPolicy) {
    errs.push(required(sp.child('externalTrafficPolicy'), ''));
  } else if (!TRAFFIC_POLICIES.includes(spec.externalTrafficPolicy)) {
    errs.push(notSupported(sp.child('externalTrafficPolicy'), spec.externalTrafficPolicy, TRAFFIC_POLICIES));
  }
  if (spec.healthCheckNodePort) {
    if (type !== 'LoadBalancer' || spec.externalTrafficPolicy !== 'Local') {
      errs.push(invalid(sp.child('healthCheckNodePort'), spec.healthCheckNodePort, 'may only be set when `type` is \'LoadBalancer\' and `externalTrafficPolicy` is \'Local\''));
    } else for (const msg of isValidPortNum(spec.healthCheckNodePort)) errs.push(invalid(sp.child('healthCheckNodePort'), spec.healthCheckNodePort, msg));
  }
  if (type !== 'ExternalName') {
    if (!spec.internalTrafficPolicy) errs.push(required(sp.child('internalTrafficPolicy'), ''));
    else if (!TRAFFIC_POLICIES.includes(spec.internalTrafficPolicy)) errs.push(notSupported(sp.child('internalTrafficPolicy'), spec.internalTrafficPolicy, TRAFFIC_POLICIES));
  }

  if (spec.ipFamilyPolicy !== undefined && type !== 'ExternalName' && !IP_FAMILY_POLICIES.includes(spec.ipFamilyPolicy)) {
    errs.push(notSupported(sp.child('ipFamilyPolicy'), spec.ipFamilyPolicy, IP_FAMILY_POLICIES));
  }
  if (Array.isArray(spec.ipFamilies)) {
    const fams = new Set<string>();
    spec.ipFamilies.forEach((f: unknown, i: number) => {
      if (!IP_FAMILIES.includes(String(f))) errs.push(notSupported(sp.child('ipFamilies').index(i), f, IP_FAMILIES));
      else if (fams.has(String(f))) errs.push(duplicateRendered(sp.child('ipFamilies').index(i), JSON.stringify(f)));
      fams.add(String(f));
    });
    if (spec.ipFamilyPolicy === 'SingleStack' && spec.ipFamilies.length > 1) {
      errs.push(invalid(sp.child('ipFamilies'), spec.ipFamilies, 'when multiple IP families are specified, IP family policy must be PreferDualStack or RequireDualStack'));
    }
  }

  (Array.isArray(spec.externalIPs) ? spec.externalIPs : []).forEach((ip: unknown, i: number) => {
    for (const msg of isValidIP(String(ip))) errs.push(invalid(sp.child('externalIPs').index(i), ip, msg));
  });

  if (Array.isArray(spec.loadBalancerSourceRanges) && spec.loadBalancerSourceRanges.length > 0) {
    if (type !== 'LoadBalancer') errs.push(forbidden(sp.child('loadBalancerSourceRanges'), "may only be used when `type` is 'LoadBalancer'"));
    spec.loadBalancerSourceRanges.forEach((cidr: unknown, i: number) => {
      const c = String(cidr).trim();
      if (isValidCIDR(c).length) errs.push(invalid(sp.child('loadBalancerSourceRanges').index(i), cidr, 'must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24 '));
    });
  }
  if (spec.loadBalancerIP !== undefined && spec.loadBalancerIP !== '') {
    if (type !== 'LoadBalancer') errs.push(forbidden(sp.child('loadBalancerIP'), "may only be used when `type` is 'LoadBalancer'"));
    else if (!parseIP(String(spec.loadBalancerIP))) errs.push(invalid(sp.child('loadBalancerIP'), spec.loadBalancerIP, 'must be a valid IP address'));
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && spec.allocateLoadBalancerNodePorts !== null && type !== 'LoadBalancer') {
    errs.push(forbidden(sp.child('allocateLoadBalancerNodePorts'), "may only be used when `type` is 'LoadBalancer'"));
  }
  if (type === 'LoadBalancer' && (spec.allocateLoadBalancerNodePorts === undefined || spec.allocateLoadBalancerNodePorts === null)) {
    errs.push(required(sp.child('allocateLoadBalancerNodePorts'), ''));
  }
  if (spec.loadBalancerClass !== undefined && spec.loadBalancerClass !== null && type !== 'LoadBalancer') {
    errs.push(forbidden(sp.child('loadBalancerClass'), 'may only be used when `type` is \'LoadBalancer\''));
  }
  if (type !== 'ExternalName') errs.push(...validateLabels(spec.selector, sp.child('selector')));
  return errs;
}

/**
 * Upstream's update rules for cluster IPs: a changed `clusterIP` with untouched `clusterIPs` counts
 * as a change of clusterIPs[0] (the registry normalizes them), empty values keep the allocated ones,
 * and the primary IP may not change unless the service moves to or from ExternalName.
 */
export function validateServiceUpdate(svc: KubeObject, old: KubeObject): FieldError[] {
  const spec = (svc.spec ?? {}) as Obj;
  const oldSpec = (old.spec ?? {}) as Obj;
  const sp = path('spec');
  const involvesExternalName = spec.type === 'ExternalName' || oldSpec.type === 'ExternalName';
  const oldIPs: string[] = Array.isArray(oldSpec.clusterIPs) ? oldSpec.clusterIPs : oldSpec.clusterIP ? [oldSpec.clusterIP] : [];
  let newIPs: string[] = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [];
  const ipsUntouched = JSON.stringify(newIPs) === JSON.stringify(oldIPs) || newIPs.length === 0;
  if (spec.clusterIP && spec.clusterIP !== oldSpec.clusterIP && ipsUntouched) newIPs = [spec.clusterIP, ...oldIPs.slice(1)];
  else if (newIPs.length === 0 && !spec.clusterIP) newIPs = oldIPs;
  const normalized: KubeObject = { ...svc, spec: { ...spec, ...(newIPs.length ? { clusterIPs: newIPs, clusterIP: newIPs[0] } : {}) } };
  const errs = validateService(involvesExternalName ? svc : normalized);
  if (!involvesExternalName && oldIPs.length > 0 && newIPs[0] !== oldIPs[0]) {
    errs.push(invalidRendered(sp.child('clusterIPs').index(0), goSyntax(newIPs), 'may not change once set'));
  }
  return errs;
}
