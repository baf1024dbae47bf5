// The Service page's data: the Service, its endpoints (from its EndpointSlices, with the pod and
// node behind each address) and, per node, the rules that node's proxy programs for each port,
// from the proxy's own model (src/proxy/model.ts): which address and port, which endpoints
// share the traffic under the traffic policies, or a reject when there are none. Pure.
import { buildServicePorts, endpointsForPolicy, isProxied, type SlimEndpointSlice, type SlimService } from '../proxy/model.js';

export interface ServiceEndpointRow {
  ip: string;
  ports: string[];
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  node?: string;
  pod?: string;
}

export interface ServiceRule {
  /** What matches: `10.96.0.20:80/TCP`, `node port 30080/TCP`, `load balancer 172.18.255.1:80/TCP`, ... */
  match: string;
  /** ip:port of each endpoint the traffic is spread over (equal shares); empty = rejected. */
  endpoints: string[];
  policy: 'Cluster' | 'Local';
  verdict: 'dnat' | 'reject';
}

export interface ServiceView {
  service: SlimService;
  proxied: boolean;
  endpoints: ServiceEndpointRow[];
  nodes: { node: string; rules: ServiceRule[] }[];
}

export function serviceView(svc: SlimService, slices: readonly SlimEndpointSlice[], nodes: readonly string[], podByIp: (ip: string) => string | undefined): ServiceView {
  const own = slices.filter((s) => s.namespace === svc.namespace && s.serviceName === svc.name);
  const rows = new Map<string, ServiceEndpointRow>();
  for (const slice of own) {
    for (const ep of slice.endpoints) {
      const row = rows.get(ep.ip) ?? { ip: ep.ip, ports: [], ready: ep.ready, serving: ep.serving, terminating: ep.terminating, node: ep.nodeName, pod: podByIp(ep.ip) };
      for (const p of slice.ports) {
        const text = `${p.port}/${p.protocol}${p.name ? ` (${p.name})` : ''}`;
        if (!row.ports.includes(text)) row.ports.push(text);
      }
      rows.set(ep.ip, row);
    }
  }
  const perNode = [...nodes].sort().map((node) => {
    const rules: ServiceRule[] = [];
    for (const sp of buildServicePorts(svc, own, node)) {
      const rule = (match: string, policy: 'Cluster' | 'Local') => {
        const eps = endpointsForPolicy(sp.endpoints, policy).map((e) => `${e.ip}:${e.port}`);
        rules.push({ match, endpoints: eps, policy, verdict: eps.length > 0 ? 'dnat' : 'reject' });
      };
      const proto = `${sp.port}/${sp.protocol}`;
      if (svc.clusterIP) rule(`${svc.clusterIP}:${proto}`, svc.internalTrafficPolicy);
      if (sp.nodePort) rule(`node port ${sp.nodePort}/${sp.protocol}`, svc.externalTrafficPolicy);
      for (const ip of svc.externalIPs) rule(`external ${ip}:${proto}`, svc.externalTrafficPolicy);
      for (const ip of svc.loadBalancerIPs) rule(`load balancer ${ip}:${proto}`, svc.externalTrafficPolicy);
    }
    return { node, rules };
  });
  return { service: svc, proxied: isProxied(svc), endpoints: [...rows.values()].sort((a, b) => a.ip.localeCompare(b.ip, 'en', { numeric: true })), nodes: perNode };
}
