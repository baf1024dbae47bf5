// An Ingress backend (service name + port by number or name) -> a WeightedBackend with the
// endpoints of the Service's EndpointSlices, by the same rules as the Gateway model: slices
// labelled kubernetes.io/service-name, the slice port whose name equals the Service port's name,
// ready endpoints (serving-and-terminating ones when none is ready), never the ClusterIP.
import type { KubeObject } from '../../api/types.js';
import type { Endpoint, WeightedBackend } from '../config.js';
import { asArray, asNumber, asRecord, asString, indexBy, keyOf, namespaceOf } from '../model/objects.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export type BackendProtocol = WeightedBackend['protocol'];

/** Services and their EndpointSlices, indexed once per computation. */
export class BackendIndex {
  private readonly services: Map<string, KubeObject>;
  private readonly slices: Map<string, KubeObject[]>;

  constructor(services: readonly KubeObject[], endpointSlices: readonly KubeObject[]) {
    this.services = new Map(services.map((s) => [keyOf(s), s]));
    this.slices = indexBy([...endpointSlices], (s) => {
      const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
      return svc ? `${namespaceOf(s)}/${svc}` : undefined;
    });
  }

  service(namespace: string, name: string): KubeObject | undefined {
    return this.services.get(`${namespace}/${name}`);
  }

  slicesOf(namespace: string, name: string): KubeObject[] {
    return this.slices.get(`${namespace}/${name}`) ?? [];
  }
}

export interface ResolvedBackend {
  backend: WeightedBackend;
  /** Why the backend has no endpoints by configuration (missing Service or port): a Warning. */
  problem?: string;
}

function protocolOfAppProtocol(appProtocol: string | undefined): BackendProtocol {
  switch (appProtocol) {
    case 'kubernetes.io/h2c':
      return 'h2c';
    case 'kubernetes.io/ws':
      return 'ws';
    case 'kubernetes.io/wss':
    case 'https':
      return 'https';
    default:
      return 'http';
  }
}

/** Ready endpoints of the slices for the Service port named `portName`; serving+terminating ones when none is ready. */
export function sliceEndpoints(slices: readonly KubeObject[], portName: string): Endpoint[] {
  const ready: Endpoint[] = [];
  const terminating: Endpoint[] = [];
  const seen = new Set<string>();
  const sorted = [...slices].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
  for (const slice of sorted) {
    const addressType = asString(slice.addressType);
    if (addressType !== undefined && addressType !== 'IPv4' && addressType !== 'IPv6') continue;
    const port = asArray(slice.ports)
      .map(asRecord)
      .find((p) => (asString(p.name) ?? '') === portName);
    const number = port ? asNumber(port.port) : undefined;
    if (number === undefined) continue;
    for (const ep of asArray(slice.endpoints).map(asRecord)) {
      const cond = asRecord(ep.conditions);
      const isReady = cond.ready !== false;
      const isServing = typeof cond.serving === 'boolean' ? cond.serving : isReady;
      const isTerminating = cond.terminating === true;
      for (const address of asArray(ep.addresses)) {
        if (typeof address !== 'string') continue;
        const key = `${address}:${number}`;
        if (seen.has(key)) continue;
        if (isReady && !isTerminating) {
          seen.add(key);
          ready.push({ address, port: number });
        } else if (isServing && isTerminating) {
          terminating.push({ address, port: number });
        }
      }
    }
  }
  if (ready.length > 0) return ready;
  const unique = new Map(terminating.map((e) => [`${e.address}:${e.port}`, e]));
  return [...unique.values()];
}

/**
 * Resolves `backend.service` of an Ingress in `namespace`. A missing Service or port gives a
 * backend without endpoints (the proxy answers 503, as nginx does) and a problem to report; a
 * `resource` backend is invalid (500): flatnet serves only Services.
 */
export function resolveIngressBackend(index: BackendIndex, namespace: string, backend: unknown, protocolOverride: BackendProtocol | undefined, weight = 1): ResolvedBackend {
  const b = asRecord(backend);
  const svcRef = asRecord(b.service);
  const name = asString(svcRef.name);
  if (!name) {
    const resource = asRecord(b.resource);
    const what = resource.kind ? `resource backend ${asString(resource.kind)}/${asString(resource.name) ?? ''}` : 'backend without a service';
    const problem = `${what} is not supported: flatnet routes Ingress traffic to Services only`;
    return { backend: { weight, name: `${namespace}/${asString(resource.name) ?? '?'}`, invalid: problem, protocol: 'http', endpoints: [], filters: [] }, problem };
  }
  const portRef = asRecord(svcRef.port);
  const portNumber = asNumber(portRef.number);
  const portName = asString(portRef.name);
  const label = `${namespace}/${name}:${portNumber ?? portName ?? '?'}`;
  const empty = (problem: string): ResolvedBackend => ({ backend: { weight, name: label, protocol: protocolOverride ?? 'http', endpoints: [], filters: [] }, problem });
  const svc = index.service(namespace, name);
  if (!svc) return empty(`Service ${namespace}/${name} does not exist`);
  const spec = asRecord(svc.spec);
  if (asString(spec.type) === 'ExternalName') return empty(`Service ${namespace}/${name} is of type ExternalName, which the ingress proxy does not resolve`);
  const ports = asArray(spec.ports).map(asRecord);
  const port = ports.find((p) => (portNumber !== undefined ? asNumber(p.port) === portNumber : portName !== undefined && asString(p.name) === portName));
  if (!port) return empty(`Service ${namespace}/${name} has no port ${portNumber ?? `named "${portName ?? ''}"`}`);
  const servicePort = asNumber(port.port) ?? 0;
  return {
    backend: {
      weight,
      name: `${namespace}/${name}:${servicePort}`,
      protocol: protocolOverride ?? protocolOfAppProtocol(asString(port.appProtocol)),
      endpoints: sliceEndpoints(index.slicesOf(namespace, name), asString(port.name) ?? ''),
      filters: [],
    },
  };
}
