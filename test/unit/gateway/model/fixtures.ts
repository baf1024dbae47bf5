// World builders for the route model tests: Kubernetes objects as the API would hand them over.
import { selfSignedCertificate } from '../../../support/certificates.js';
import type { KubeObject } from '../../../../src/api/types.js';
import type { Condition, GatewayWorld } from '../../../../src/gateway/model/types.js';
import { GATEWAY_CONTROLLER_NAME } from '../../../../src/gateway/model/types.js';

export const INFRA = 'gateway-conformance-infra';
export const CLASS = 'flatnet';
let clock = 0;

/** A creation timestamp later than every earlier call's. */
function nextTimestamp(): string {
  clock += 1;
  return new Date(Date.UTC(2026, 0, 1, 0, 0, clock)).toISOString().replace('.000Z', 'Z');
}

export function meta(name: string, namespace?: string, extra: Record<string, unknown> = {}) {
  return { name, ...(namespace ? { namespace } : {}), generation: 1, creationTimestamp: nextTimestamp(), ...extra };
}

export function gatewayClass(name = CLASS, spec: Record<string, unknown> = {}): KubeObject {
  return { kind: 'GatewayClass', metadata: meta(name), spec: { controllerName: GATEWAY_CONTROLLER_NAME, ...spec } };
}

export function gateway(name: string, listeners: unknown[], opts: { namespace?: string; spec?: Record<string, unknown>; generation?: number } = {}): KubeObject {
  return {
    kind: 'Gateway',
    metadata: { ...meta(name, opts.namespace ?? INFRA), generation: opts.generation ?? 1 },
    spec: { gatewayClassName: CLASS, listeners, ...(opts.spec ?? {}) },
  };
}

export function route(kind: string, name: string, spec: Record<string, unknown>, namespace = INFRA, extraMeta: Record<string, unknown> = {}): KubeObject {
  return { kind, metadata: { ...meta(name, namespace), ...extraMeta }, spec };
}

export const httpRoute = (name: string, spec: Record<string, unknown>, namespace = INFRA, extraMeta: Record<string, unknown> = {}) =>
  route('HTTPRoute', name, spec, namespace, extraMeta);

export function namespace(name: string, labels: Record<string, string> = {}): KubeObject {
  return { kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } } };
}

/** A Service with one port (8080 unless told) and a slice with the given pod IPs (target 3000). */
export function backend(
  name: string,
  ips: string[],
  opts: { namespace?: string; port?: number; targetPort?: number; portName?: string; appProtocol?: string; type?: string; protocol?: string } = {},
): KubeObject[] {
  const ns = opts.namespace ?? INFRA;
  const port = opts.port ?? 8080;
  const protocol = opts.protocol ?? 'TCP';
  const svc: KubeObject = {
    kind: 'Service',
    metadata: meta(name, ns),
    spec: {
      ...(opts.type ? { type: opts.type } : {}),
      clusterIP: '10.96.0.99',
      ports: [{ ...(opts.portName !== undefined ? { name: opts.portName } : {}), port, protocol, ...(opts.appProtocol ? { appProtocol: opts.appProtocol } : {}) }],
    },
  };
  const slice: KubeObject = {
    kind: 'EndpointSlice',
    metadata: { ...meta(`${name}-abc`, ns), labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    ports: [{ name: opts.portName ?? '', port: opts.targetPort ?? 3000, protocol }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  };
  return [svc, slice];
}

let cachedPair: { cert: string; key: string } | undefined;

/** A self-signed certificate and key (PEM), made once per test process. */
export function certificatePem(): { cert: string; key: string } {
  if (cachedPair) return cachedPair;
  const pair = selfSignedCertificate(['example.org'], { notBefore: new Date(Date.UTC(2026, 0, 1)), notAfter: new Date(Date.UTC(2036, 0, 1)) });
  cachedPair = { cert: pair.certPem, key: pair.keyPem };
  return cachedPair;
}

export function tlsSecret(name: string, namespace = INFRA, data?: { cert: string; key: string }): KubeObject {
  const pair = data ?? certificatePem();
  return {
    kind: 'Secret',
    metadata: meta(name, namespace),
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': Buffer.from(pair.cert).toString('base64'), 'tls.key': Buffer.from(pair.key).toString('base64') },
  };
}

export function referenceGrant(name: string, namespace: string, from: unknown[], to: unknown[]): KubeObject {
  return { kind: 'ReferenceGrant', metadata: meta(name, namespace), spec: { from, to } };
}

/** A world with our GatewayClass, the conformance namespaces and the infra backends. */
export function world(objects: KubeObject[], infra: Record<string, { addresses: string[]; readyReplicas: number }> = {}): GatewayWorld {
  const w: GatewayWorld = {
    gatewayClasses: [],
    gateways: [],
    httpRoutes: [],
    grpcRoutes: [],
    tlsRoutes: [],
    tcpRoutes: [],
    udpRoutes: [],
    referenceGrants: [],
    services: [],
    endpointSlices: [],
    secrets: [],
    namespaces: [],
    infra: new Map(Object.entries(infra)),
  };
  const field: Record<string, keyof GatewayWorld> = {
    GatewayClass: 'gatewayClasses',
    Gateway: 'gateways',
    HTTPRoute: 'httpRoutes',
    GRPCRoute: 'grpcRoutes',
    TLSRoute: 'tlsRoutes',
    TCPRoute: 'tcpRoutes',
    UDPRoute: 'udpRoutes',
    ReferenceGrant: 'referenceGrants',
    Service: 'services',
    EndpointSlice: 'endpointSlices',
    Secret: 'secrets',
    Namespace: 'namespaces',
  };
  const all = [
    gatewayClass(),
    namespace(INFRA, { 'gateway-conformance': 'infra' }),
    namespace('gateway-conformance-web-backend', { 'gateway-conformance': 'web-backend' }),
    namespace('gateway-conformance-app-backend', { 'gateway-conformance': 'app-backend' }),
    ...backend('infra-backend-v1', ['10.244.1.11']),
    ...backend('infra-backend-v2', ['10.244.1.12']),
    ...backend('infra-backend-v3', ['10.244.1.13']),
    ...backend('web-backend', ['10.244.2.11'], { namespace: 'gateway-conformance-web-backend' }),
    ...backend('app-backend-v1', ['10.244.2.21'], { namespace: 'gateway-conformance-app-backend' }),
    ...backend('app-backend-v2', ['10.244.2.22'], { namespace: 'gateway-conformance-app-backend' }),
    ...objects,
  ];
  for (const o of all) {
    const f = field[o.kind ?? ''];
    if (!f) throw new Error(`fixture: unknown kind ${o.kind}`);
    (w[f] as KubeObject[]).push(o);
  }
  return w;
}

/** Conditions as `Type: Status/Reason`. */
export function conds(list: Condition[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of list ?? []) out[c.type] = `${c.status}/${c.reason}`;
  return out;
}

export const http = (name: string, port = 80, extra: Record<string, unknown> = {}) => ({ name, port, protocol: 'HTTP', ...extra });
export const parent = (name: string, extra: Record<string, unknown> = {}) => ({ name, ...extra });
export const backendRef = (name: string, extra: Record<string, unknown> = {}) => ({ name, port: 8080, ...extra });
