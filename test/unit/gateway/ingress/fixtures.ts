// Builders for Ingress translation tests, and a tiny request router over the resulting
// ProxyConfig that uses the proxy's own host and entry selection (src/gateway/proxy/match.ts).
import type { KubeObject } from '../../../../src/api/types.js';
import type { HttpPortConfig, HttpRouteEntry, ProxyConfig } from '../../../../src/gateway/config.js';
import { compileMatch, normalizeHost, selectEntry, selectVirtualHost } from '../../../../src/gateway/proxy/match.js';
import type { IngressWorld } from '../../../../src/gateway/ingress/types.js';
import { selfSignedCertificate } from '../../../support/certificates.js';

let clock = 0;

export function ingress(name: string, spec: Record<string, unknown>, annotations: Record<string, string> = {}, namespace = 'default'): KubeObject {
  clock++;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace, annotations, creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, clock)).toISOString() },
    spec: { ingressClassName: 'nginx', ...spec },
  };
}

export function backend(service: string, port: number | string = 80): Record<string, unknown> {
  return { service: { name: service, port: typeof port === 'number' ? { number: port } : { name: port } } };
}

/** A rule: host (or undefined) with [path, pathType, service] triples. */
export function rule(host: string | undefined, ...paths: [string, string, string][]): Record<string, unknown> {
  return {
    ...(host !== undefined ? { host } : {}),
    http: { paths: paths.map(([path, pathType, svc]) => ({ path, pathType, backend: backend(svc) })) },
  };
}

export function service(name: string, ports: { port: number; name?: string; appProtocol?: string }[] = [{ port: 80, name: 'http' }], namespace = 'default'): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { clusterIP: '10.96.0.50', ports: ports.map((p) => ({ protocol: 'TCP', targetPort: 8080, ...p })) } };
}

export function slice(svc: string, endpoints: { ip: string; ready?: boolean; serving?: boolean; terminating?: boolean }[], ports: { name?: string; port: number }[] = [{ name: 'http', port: 8080 }], namespace = 'default'): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${svc}-${String(++clock).padStart(5, '0')}`, namespace, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports: ports.map((p) => ({ protocol: 'TCP', ...p })),
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false } })),
  };
}

/** Services named in `names`, each with one ready endpoint 10.244.1.<i>:8080. */
export function servicesWithEndpoints(...names: string[]): { services: KubeObject[]; endpointSlices: KubeObject[] } {
  return {
    services: names.map((n) => service(n)),
    endpointSlices: names.map((n, i) => slice(n, [{ ip: `10.244.1.${i + 1}` }])),
  };
}

export function world(parts: Partial<IngressWorld>): IngressWorld {
  return { ingresses: [], ingressClasses: [], services: [], endpointSlices: [], secrets: [], addresses: [], ...parts };
}

export function tlsSecret(name: string, hosts: string[], namespace = 'default'): KubeObject {
  const pair = selfSignedCertificate(hosts, { notBefore: new Date(Date.UTC(2026, 0, 1)), notAfter: new Date(Date.UTC(2036, 0, 1)) });
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name, namespace },
    data: { 'tls.crt': b64(pair.certPem), 'tls.key': b64(pair.keyPem) },
  };
}

export interface Routed {
  entry: HttpRouteEntry;
  /** `namespace/name:port` of the backend with the most weight, or 'redirect', or 'none'. */
  to: string;
}

/** The entry the proxy would pick for a request, or undefined (404). */
export function route(config: ProxyConfig, req: { port?: number; host?: string; path: string; headers?: Record<string, string> }): Routed | undefined {
  const port = config.ports.find((p): p is HttpPortConfig => p.kind === 'http' && p.port === (req.port ?? 80));
  if (!port) throw new Error(`no HTTP port ${req.port ?? 80}`);
  const vhost = selectVirtualHost(port.hosts, normalizeHost(req.host ?? 'example.test'));
  if (!vhost) return undefined;
  const compiled = vhost.entries.map((entry, i) => ({ entry, match: compileMatch(entry.match, `entries[${i}]`) }));
  const [path, query = ''] = req.path.split('?');
  const headers = Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const hit = selectEntry(compiled, { method: 'GET', path: path!, query, header: (n) => headers[n] });
  if (!hit) return undefined;
  const e = hit.entry;
  const to = e.filters.some((f) => f.type === 'RequestRedirect') ? 'redirect' : e.backends.length === 0 ? 'none' : [...e.backends].sort((a, b) => b.weight - a.weight)[0]!.name;
  return { entry: e, to };
}

/** Applies a RegexReplace the way nginx's rewrite does: the whole path becomes the replacement. */
export function applyRegexReplace(pattern: string, replacement: string, path: string): string | undefined {
  const re = new RegExp(`^(?:${pattern})$`);
  const m = re.exec(path);
  if (!m) return undefined;
  return replacement.replace(/\$(\d)/g, (_, d: string) => m[Number(d)] ?? '');
}
