// backendRefs -> WeightedBackend: a core Service (kind Service, group ''), its port by number, and
// the endpoints of its EndpointSlices (label kubernetes.io/service-name) whose port entry has the
// Service port's name. Ready endpoints; serving-and-terminating ones when none is ready. The
// ClusterIP is never used, so headless and selector-less Services work the same way.
// ExternalName Services are refused (InvalidKind): following one would let a route owner send
// traffic anywhere, as the Gateway API security notes warn.
import type { KubeObject } from '../../api/types.js';
import type { Endpoint, WeightedBackend } from '../config.js';
import type { Problem } from './conditions.js';
import { GATEWAY_GROUP, asArray, asNumber, asRecord, asString, indexBy, keyOf, namespaceOf, specOf } from './objects.js';
import type { ReferenceGrantIndex } from './referencegrant.js';

export type BackendProtocol = WeightedBackend['protocol'];

export interface ResolvedBackend {
  backend: WeightedBackend;
  /** ResolvedRefs=False reason when the reference is invalid. */
  problem?: Problem;
}

interface ServicePortView {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/** What a Service port resolves to (shared by every backendRef to it in one computation). */
export interface LookupResult {
  endpoints: Endpoint[];
  problem?: Problem;
  protocol?: BackendProtocol;
}

/** One Service port lookup a translation made: it stays valid while the lookup gives the same result. */
export interface LookupDependency {
  /** `namespace/name:port/transport`, made once (a string used again hashes for free). */
  memoKey: string;
  serviceKey: string;
  namespace: string;
  name: string;
  port: number;
  transport: 'TCP' | 'UDP';
  result: LookupResult;
}

/** An object as it was seen: a later object is the same when it is this one, or has its uid and resourceVersion. */
export interface ObjectStamp {
  object: KubeObject;
  resourceVersion?: string;
}

export function stampOf(object: KubeObject): ObjectStamp {
  return { object, resourceVersion: object.metadata?.resourceVersion };
}

/** Whether `object` is unchanged since `stamp` (objects are replaced, not edited, by informers). */
export function stampMatches(stamp: ObjectStamp, object: KubeObject): boolean {
  const rv = object.metadata?.resourceVersion;
  if (stamp.object === object) return stamp.resourceVersion === rv;
  const uid = object.metadata?.uid;
  return uid !== undefined && rv !== undefined && uid === stamp.object.metadata?.uid && rv === stamp.resourceVersion;
}

interface StoredLookup {
  service?: ObjectStamp;
  slices: ObjectStamp[];
  result: LookupResult;
}

/**
 * Service port lookups kept between computations (GatewayModel): a lookup is reused, as the same
 * LookupResult object, while its Service and that Service's EndpointSlices are the same objects.
 */
export class LookupStore {
  private current = new Map<string, StoredLookup>();
  private next = new Map<string, StoredLookup>();

  get(key: string, service: KubeObject | undefined, slices: KubeObject[]): LookupResult | undefined {
    // Also what was stored since the last rotation (a caller may go several computations without one).
    const s = this.current.get(key) ?? this.next.get(key);
    if (!s) return undefined;
    if (service === undefined ? s.service !== undefined : s.service === undefined || !stampMatches(s.service, service)) return undefined;
    if (s.slices.length !== slices.length) return undefined;
    for (let i = 0; i < slices.length; i++) if (!stampMatches(s.slices[i], slices[i])) return undefined;
    this.next.set(key, s);
    return s.result;
  }

  set(key: string, service: KubeObject | undefined, slices: KubeObject[], result: LookupResult): void {
    this.next.set(key, { service: service && stampOf(service), slices: slices.map(stampOf), result });
  }

  /** Ends a computation: lookups it did not make are forgotten. */
  rotate(): void {
    this.current = this.next;
    this.next = new Map();
  }
}

const NO_SLICES: KubeObject[] = [];

/** Services by `namespace/name` and EndpointSlices by the Service they belong to. */
export interface ServiceIndex {
  services: Map<string, KubeObject>;
  slicesByService: Map<string, KubeObject[]>;
}

export function indexServices(services: KubeObject[], endpointSlices: KubeObject[]): ServiceIndex {
  const byKey = new Map<string, KubeObject>();
  for (const s of services) byKey.set(keyOf(s), s);
  const slicesByService = indexBy(endpointSlices, (s) => {
    const svc = s.metadata?.labels?.['kubernetes.io/service-name'];
    return svc ? `${namespaceOf(s)}/${svc}` : undefined;
  });
  return { services: byKey, slicesByService };
}

/**
 * The ServiceIndex of the last lists seen, built again only when a list is another array than
 * last time (an informer-fed caller hands over the same array while that kind is unchanged).
 */
export class ServiceIndexCache {
  private services: KubeObject[] | undefined;
  private slices: KubeObject[] | undefined;
  private index: ServiceIndex | undefined;

  get(services: KubeObject[], endpointSlices: KubeObject[]): ServiceIndex {
    if (!this.index || services !== this.services || endpointSlices !== this.slices) {
      this.index = indexServices(services, endpointSlices);
      this.services = services;
      this.slices = endpointSlices;
    }
    return this.index;
  }
}

export class BackendResolver {
  private readonly services: Map<string, KubeObject>;
  private readonly slicesByService: Map<string, KubeObject[]>;
  private readonly memo = new Map<string, LookupResult>();
  private recording: LookupDependency[] | undefined;

  constructor(
    services: KubeObject[],
    endpointSlices: KubeObject[],
    private readonly grants: ReferenceGrantIndex,
    private readonly store?: LookupStore,
    /** The index of exactly these lists, when the caller keeps one (else built here). */
    index?: ServiceIndex,
  ) {
    const i = index ?? indexServices(services, endpointSlices);
    this.services = i.services;
    this.slicesByService = i.slicesByService;
  }

  /**
   * Resolves one backendRef written in a route of `fromKind` in `fromNamespace`. The result
   * always has a backend (invalid ones carry `invalid`, so their weight share gets 500).
   */
  resolve(
    fromKind: string,
    fromNamespace: string,
    rawRef: unknown,
    opts: { protocol?: BackendProtocol; transport?: 'TCP' | 'UDP' } = {},
  ): ResolvedBackend {
    const forced = opts.protocol;
    const transport = opts.transport ?? 'TCP';
    const ref = asRecord(rawRef);
    const group = asString(ref.group) ?? '';
    const kind = asString(ref.kind) ?? 'Service';
    const name = asString(ref.name) ?? '';
    const namespace = asString(ref.namespace) ?? fromNamespace;
    const port = asNumber(ref.port);
    const weightRaw = asNumber(ref.weight);
    const weight = weightRaw === undefined ? 1 : Math.max(0, Math.floor(weightRaw));
    const label = `${namespace}/${name}:${port ?? '?'}`;
    const invalid = (problem: Problem): ResolvedBackend => ({
      backend: { weight, name: label, invalid: problem.message, protocol: forced ?? 'http', endpoints: [], filters: [] },
      problem,
    });
    if (group !== '' || kind !== 'Service') {
      return invalid({ reason: 'InvalidKind', message: `backendRef ${group ? `${group}/` : ''}${kind} ${name}: only core Services are supported` });
    }
    if (!this.grants.permits({ group: GATEWAY_GROUP, kind: fromKind, namespace: fromNamespace }, { group: '', kind: 'Service', namespace, name })) {
      return invalid({ reason: 'RefNotPermitted', message: `backendRef Service ${namespace}/${name} is in another namespace and no ReferenceGrant there allows ${fromKind}s from ${fromNamespace}` });
    }
    if (port === undefined) return invalid({ reason: 'BackendNotFound', message: `backendRef Service ${namespace}/${name} needs a port` });
    const serviceKey = `${namespace}/${name}`;
    const memoKey = `${serviceKey}:${port}/${transport}`;
    const found = this.lookupMemo(memoKey, serviceKey, namespace, name, port, transport);
    this.recording?.push({ memoKey, serviceKey, namespace, name, port, transport, result: found });
    if (found.problem) return invalid(found.problem);
    let protocol: BackendProtocol = forced ?? found.protocol ?? 'http';
    if (forced === undefined && found.protocol === undefined) {
      return invalid({ reason: 'UnsupportedProtocol', message: `Service ${namespace}/${name} port ${port} has an appProtocol flatnet cannot speak to (use kubernetes.io/h2c, kubernetes.io/ws or none)` });
    }
    if (forced === 'grpc') protocol = 'grpc';
    return { backend: { weight, name: label, protocol, endpoints: found.endpoints, filters: [] } };
  }

  /** Runs `fn` and returns the Service port lookups it made (what its result depends on, grants aside). */
  recordLookups<T>(fn: () => T): { result: T; lookups: LookupDependency[] } {
    const outer = this.recording;
    const lookups: LookupDependency[] = [];
    this.recording = lookups;
    try {
      return { result: fn(), lookups };
    } finally {
      this.recording = outer;
    }
  }

  /** Whether every lookup still gives the same result (the same object) as when it was recorded. */
  stillResolves(lookups: LookupDependency[]): boolean {
    for (const d of lookups) if (this.lookupMemo(d.memoKey, d.serviceKey, d.namespace, d.name, d.port, d.transport) !== d.result) return false;
    return true;
  }

  private lookupMemo(memoKey: string, serviceKey: string, namespace: string, name: string, port: number, transport: 'TCP' | 'UDP'): LookupResult {
    let found = this.memo.get(memoKey);
    if (found) return found;
    if (this.store) {
      const service = this.services.get(serviceKey);
      const slices = this.slicesByService.get(serviceKey) ?? NO_SLICES;
      found = this.store.get(memoKey, service, slices);
      if (!found) {
        found = this.lookup(namespace, name, port, transport);
        this.store.set(memoKey, service, slices, found);
      }
    } else found = this.lookup(namespace, name, port, transport);
    this.memo.set(memoKey, found);
    return found;
  }

  private lookup(namespace: string, name: string, port: number, transport: 'TCP' | 'UDP'): LookupResult {
    const svc = this.services.get(`${namespace}/${name}`);
    if (!svc) return { endpoints: [], problem: { reason: 'BackendNotFound', message: `Service ${namespace}/${name} not found` } };
    const spec = specOf(svc);
    if (spec.type === 'ExternalName') {
      return { endpoints: [], problem: { reason: 'InvalidKind', message: `Service ${namespace}/${name} is of type ExternalName, which flatnet does not route to` } };
    }
    const ports: ServicePortView[] = asArray(spec.ports).map((p) => {
      const r = asRecord(p);
      return { name: asString(r.name) ?? '', port: asNumber(r.port) ?? 0, protocol: asString(r.protocol) ?? 'TCP', appProtocol: asString(r.appProtocol) };
    });
    const sp = ports.find((p) => p.port === port && p.protocol === transport);
    if (!sp) return { endpoints: [], problem: { reason: 'BackendNotFound', message: `Service ${namespace}/${name} has no ${transport} port ${port}` } };
    return { endpoints: this.endpointsOf(namespace, name, sp), protocol: protocolOf(sp.appProtocol) };
  }

  /** Endpoints of a Service port from its EndpointSlices. */
  private endpointsOf(namespace: string, name: string, sp: ServicePortView): Endpoint[] {
    const ready: Endpoint[] = [];
    const terminating: Endpoint[] = [];
    const seen = new Set<string>();
    for (const slice of this.slicesByService.get(`${namespace}/${name}`) ?? []) {
      const addressType = asString(slice.addressType);
      if (addressType === 'FQDN') continue;
      const slicePort = asArray(slice.ports)
        .map(asRecord)
        .find((p) => (asString(p.name) ?? '') === sp.name && (asString(p.protocol) ?? 'TCP') === sp.protocol);
      const portNumber = slicePort ? asNumber(slicePort.port) : undefined;
      if (portNumber === undefined) continue;
      for (const raw of asArray(slice.endpoints)) {
        const ep = asRecord(raw);
        const cond = asRecord(ep.conditions);
        const address = asString(asArray(ep.addresses)[0]);
        if (!address) continue;
        const key = `${address}|${portNumber}`;
        if (seen.has(key)) continue;
        seen.add(key);
        if (cond.ready !== false) ready.push({ address, port: portNumber });
        else if (cond.serving !== false && cond.terminating === true) terminating.push({ address, port: portNumber });
      }
    }
    const out = ready.length > 0 ? ready : terminating;
    return out.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port));
  }
}

/** appProtocol -> how the proxy talks to the backend; undefined = one we cannot speak. */
function protocolOf(appProtocol: string | undefined): BackendProtocol | undefined {
  switch (appProtocol) {
    case undefined:
    case '':
    case 'http':
    case 'HTTP':
    case 'kubernetes.io/http':
      return 'http';
    case 'kubernetes.io/h2c':
      return 'h2c';
    case 'kubernetes.io/ws':
      return 'ws';
    case 'kubernetes.io/wss':
    case 'https':
    case 'HTTPS':
      return undefined;
    default:
      // Other names (tcp, grpc, vendor ones) say nothing we can act on: plain HTTP/1.1.
      return 'http';
  }
}
