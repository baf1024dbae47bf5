// computeGatewayState: the whole Gateway API model as one pure function of a snapshot. A bad
// object never stops the others: each Gateway and each route is computed inside its own
// try/catch and gets a condition and a Warning event instead.
//
// GatewayModel is the same computation kept up to date between snapshots. It remembers what it
// serves: each route's translation (valid while the route object, the Service ports it resolved
// and the ReferenceGrants are unchanged), its attachments and status entries, the listeners it
// counts on, and one HttpPortState per HTTP(S)/TLS port (the port's virtual hosts, see hosts.ts).
// A computation finds the routes that changed (identity and resourceVersion checks over the
// lists, no allocation per unchanged route), withdraws what their old versions contributed and
// places the new versions: only the virtual hosts their hostnames cover, their own status and
// the counts of the listeners they attach to are computed again; every other virtual host, entry
// list, port config and status entry is the object handed out before (the proxy compares and
// compiles by identity). A changed Service or EndpointSlice re-translates only the routes whose
// backend lookups it changes. A changed Gateway, listener set, Secret or Namespace places every
// route again from the remembered translations; a changed ReferenceGrant also translates every
// route again (any cross-namespace reference may be allowed or revoked).
// computeGatewayState(world) is a GatewayModel with nothing remembered: the reference.
import type { KubeObject } from '../../api/types.js';
import type { Labels } from '../../api/label-selector.js';
import type { PortConfig, ProxyConfig, TcpPortConfig, UdpPortConfig } from '../config.js';
import { loadBalancerHolders, requestedAddresses, unusableAddresses, type RequestedAddresses } from './addresses.js';
import { attachRoute, gatewayParentRef, type Attachment, type ParentRefView } from './attach.js';
import { BackendResolver, LookupStore, ServiceIndexCache, stampMatches, stampOf, type LookupDependency, type ObjectStamp } from './backends.js';
import { condition, type Problem } from './conditions.js';
import { computeGatewayClasses } from './gatewayclass.js';
import { translateGrpcRoute } from './grpcroute.js';
import { HttpPortState, type ServedRoute } from './hosts.js';
import { translateHttpRoute, type RouteTranslation } from './httproute.js';
import { translateL4Route, type L4Translation } from './l4routes.js';
import { buildListeners, listenerServes, listenerStatus, type ListenerModel, type RouteKind } from './listeners.js';
import { asArray, asString, createdOf, errorText, generationOf, keyOf, nameOf, namespaceOf, sameValue, specOf } from './objects.js';
import { sortRouteEntries, type SortedEntries } from './precedence.js';
import { ReferenceGrantIndex } from './referencegrant.js';
import {
  GATEWAY_CONTROLLER_NAME,
  type Condition,
  type GatewayState,
  type GatewayStatus,
  type GatewayWorld,
  type ModelEvent,
  type RouteParentStatus,
} from './types.js';

interface GatewayView {
  object: KubeObject;
  key: string;
  listeners: ListenerModel[];
  /** spec.addresses as asked for. */
  addresses: RequestedAddresses;
  /** Accepted=False reason for the whole Gateway. */
  rejected?: Problem;
}

/** A route after translation, independent of its parents. */
interface RouteModel {
  kind: RouteKind;
  object: KubeObject;
  key: string;
  created: string;
  hostnames: string[];
  http?: RouteTranslation;
  /** http's entries sorted by precedence once (HTTPRoute, GRPCRoute). */
  sorted: SortedEntries;
  l4?: L4Translation;
  /** Translation threw: the route cannot be used at all. */
  broken?: Problem;
}

interface PendingParent {
  route: RouteModel;
  ref: ParentRefView;
  gateway: GatewayView;
  attachments: Attachment[];
  problem?: Problem;
}

const ROUTE_LISTS: [RouteKind, keyof GatewayWorld][] = [
  ['HTTPRoute', 'httpRoutes'],
  ['GRPCRoute', 'grpcRoutes'],
  ['TLSRoute', 'tlsRoutes'],
  ['TCPRoute', 'tcpRoutes'],
  ['UDPRoute', 'udpRoutes'],
];
const KIND_ORDER = new Map<string, number>(ROUTE_LISTS.map(([kind], i) => [kind, i]));

/** A route as served on one listener: the record a port's virtual hosts and passthrough read. */
interface ServedRecord extends ServedRoute {
  route: RouteModel;
}

/** A route's attachments to its parents, valid while the route, the parents' views and the namespaces are. */
interface CachedAttachment {
  route: RouteModel;
  views: GatewayView[];
  namespacesVersion: number;
  results: { attachments: Attachment[]; problem?: Problem }[];
  /** The status entries for exactly these results (unset until computed). */
  statuses?: RouteParentStatus[];
}

/** A route's translation as remembered between computations. */
interface CachedRoute {
  /** `Kind/namespace/name`. */
  routeId: string;
  stamp: ObjectStamp;
  /** The computation that last saw this route, and the route object it saw. */
  seen: number;
  current?: KubeObject;
  kind: RouteKind;
  /** Every spec.parentRefs entry that names a Gateway (de-duplicated), in order. */
  refs: ParentRefView[];
  route?: RouteModel;
  events?: ModelEvent[];
  lookups?: LookupDependency[];
  attach?: CachedAttachment;
}

/** A Gateway's view (listeners, certificates) as remembered between computations. */
interface CachedGateway {
  stamp: ObjectStamp;
  view: GatewayView;
  events: ModelEvent[];
}

/** A route that names at least one of our Gateways, as it is placed now. */
interface RouteSlot {
  routeId: string;
  cached: CachedRoute;
  route: RouteModel;
  parents: PendingParent[];
  statuses: RouteParentStatus[];
  /** Listeners whose attachedRoutes count this route. */
  attachedOn: ListenerModel[];
  /** The records handed to the ports (HTTP, GRPC and TLS routes on served listeners). */
  served: { listener: ListenerModel; record: ServedRecord }[];
  /** Listeners this TCP/UDP route is the route of. */
  l4On: ListenerModel[];
}

/** One port of a Gateway as the proxy serves it: the HTTP(S)/TLS table, and the TCP/UDP listeners. */
interface PortPlan {
  http?: HttpPortState;
  l4: ListenerModel[];
}

/**
 * The objects of a list that came, went or changed (another resourceVersion) since the last call:
 * what lies between the longest unchanged head and tail of the two lists (an informer keeps its
 * objects in place, so one change is one short middle; objects that only moved are reported too).
 */
class ObjectsSeen {
  private objects: KubeObject[] = [];
  private versions: (string | undefined)[] = [];

  changes(list: KubeObject[]): KubeObject[] {
    const prev = this.objects;
    const versions = this.versions;
    const same = (i: number, j: number) => list[i] === prev[j] && list[i].metadata?.resourceVersion === versions[j];
    const n = Math.min(prev.length, list.length);
    let head = 0;
    while (head < n && same(head, head)) head++;
    let tail = 0;
    while (tail < n - head && same(list.length - 1 - tail, prev.length - 1 - tail)) tail++;
    const out = [...list.slice(head, list.length - tail), ...prev.slice(head, prev.length - tail)];
    this.objects = list;
    this.versions = list.map((o) => o.metadata?.resourceVersion);
    return out;
  }
}

/** Tells whether a list of objects changed since the last call (other objects, order, or resourceVersions). */
class ListVersion {
  private objects: KubeObject[] | undefined;
  private versions: (string | undefined)[] = [];
  /** Bumped on every change. */
  version = 0;

  update(list: KubeObject[]): boolean {
    const same = this.objects !== undefined && this.objects.length === list.length && this.objects.every((o, i) => o === list[i] && this.versions[i] === o.metadata?.resourceVersion);
    if (same) return false;
    this.objects = list.slice();
    this.versions = list.map((o) => o.metadata?.resourceVersion);
    this.version += 1;
    return true;
  }
}

/**
 * The Gateway API model kept up to date between computations. `compute(world)` returns exactly
 * what computeGatewayState(world) returns, redoing only what the changed objects affect. Objects
 * are compared by identity (informers hand over a new object for every change) and
 * resourceVersion; an object edited in place without a new resourceVersion is not noticed, so do
 * not do that. The Service and EndpointSlice lists are compared by identity too (their index is
 * kept while world.services and world.endpointSlices are the same arrays): hand over a new array
 * when a list changes, never push into the last one. The state handed out is never changed
 * afterwards (later computations return new maps and share the unchanged objects). One instance
 * per caller; not for concurrent use.
 */
export interface GatewayModelOptions {
  /**
   * Build each Gateway's ProxyConfig (default true). The status controller reads statuses only and
   * turns this off: every Gateway's config is then empty, everything else is the same.
   */
  proxyConfigs?: boolean;
}

export class GatewayModel {
  /** By route id, and by route object (the fast path: no key to build). */
  // Both kept across computations and swept only when some route was not seen (removed or
  // replaced), so that a computation does not rebuild them route by route.
  private readonly routeCache = new Map<string, CachedRoute>();
  private readonly routesByObject = new Map<KubeObject, CachedRoute>();
  /** Each route list as last seen, with its routes' cache records at the same positions. */
  private readonly lastLists = new Map<string, { objects: KubeObject[]; cached: CachedRoute[] }>();
  private serial = 0;
  private gatewayCache = new Map<string, CachedGateway>();
  private readonly lookups = new LookupStore();
  private readonly serviceIndex = new ServiceIndexCache();
  private readonly grantsVersion = new ListVersion();
  private readonly secretsVersion = new ListVersion();
  private readonly namespacesVersion = new ListVersion();
  private readonly serviceObjects = new ObjectsSeen();
  private readonly sliceObjects = new ObjectsSeen();
  private lastServices: KubeObject[] | undefined;
  private lastSlices: KubeObject[] | undefined;
  private rotateLookups = false;

  // What is placed now; started over when a Gateway view or the namespaces change.
  private views = new Map<string, GatewayView>();
  private placedNamespaces = -1;
  private slots = new Map<string, RouteSlot>();
  private l4Slots = new Set<RouteSlot>();
  private l4Winner = new Map<ListenerModel, RouteModel>();
  /** The Gateway each listener belongs to, and its port's table (with proxy configs). */
  private homes = new Map<ListenerModel, { gatewayKey: string; port?: HttpPortState }>();
  private plans = new Map<string, PortPlan[]>();
  private configs = new Map<string, ProxyConfig>();
  private readonly dirtyGateways = new Set<string>();
  private routeStatuses = new Map<string, RouteParentStatus[]>();
  private routeEvents = new Map<string, ModelEvent[]>();
  /** The placed routes that looked up each Service (`namespace/name`), by route id. */
  private dependents = new Map<string, Set<string>>();
  /** What the last computation handed out, while still true. */
  private routesOut: Map<string, RouteParentStatus[]> | undefined;
  private routeEventsOut: ModelEvent[] | undefined;

  constructor(private readonly options: GatewayModelOptions = {}) {}

  compute(world: GatewayWorld): GatewayState {
    try {
      return this.run(world);
    } finally {
      // Lookups are forgotten only when every placed route has just checked its own again.
      if (this.rotateLookups) this.lookups.rotate();
    }
  }

  private run(world: GatewayWorld): GatewayState {
    const events: ModelEvent[] = [];
    const classes = computeGatewayClasses(world.gatewayClasses);
    const grants = new ReferenceGrantIndex(world.referenceGrants);
    // A grant change can change any cross-namespace reference: translate everything again.
    const grantsChanged = this.grantsVersion.update(world.referenceGrants);
    if (grantsChanged) {
      this.routeCache.clear();
      this.routesByObject.clear();
      this.lastLists.clear();
    }
    const secretsChanged = this.secretsVersion.update(world.secrets);
    if (grantsChanged || secretsChanged) this.gatewayCache.clear();
    this.namespacesVersion.update(world.namespaces);
    const namespacesVersion = this.namespacesVersion.version;
    // The Services whose object, or one of whose EndpointSlices, came, went or changed.
    const changedServices = new Set<string>();
    if (world.services !== this.lastServices) for (const o of this.serviceObjects.changes(world.services)) changedServices.add(keyOf(o));
    if (world.endpointSlices !== this.lastSlices) {
      for (const o of this.sliceObjects.changes(world.endpointSlices)) {
        const svc = o.metadata?.labels?.['kubernetes.io/service-name'];
        if (svc) changedServices.add(`${namespaceOf(o)}/${svc}`);
      }
    }
    this.lastServices = world.services;
    this.lastSlices = world.endpointSlices;
    const resolver = new BackendResolver(world.services, world.endpointSlices, grants, this.lookups, this.serviceIndex.get(world.services, world.endpointSlices));
    let secrets: Map<string, KubeObject> | undefined;
    const tlsSecrets = (): Map<string, KubeObject> => {
      if (secrets) return secrets;
      secrets = new Map();
      for (const s of world.secrets) if (s.type === undefined || s.type === 'kubernetes.io/tls') secrets.set(keyOf(s), s);
      return secrets;
    };
    let nsLabels: Map<string, Labels> | undefined;
    const namespaceLabels = (ns: string): Labels => {
      if (!nsLabels) {
        nsLabels = new Map();
        for (const n of world.namespaces) nsLabels.set(nameOf(n), n.metadata?.labels ?? {});
      }
      return { ...(nsLabels.get(ns) ?? {}), 'kubernetes.io/metadata.name': ns };
    };

    // Gateways of our accepted classes.
    const gateways = new Map<string, GatewayView>();
    const nextGateways = new Map<string, CachedGateway>();
    for (const gw of world.gateways) {
      const className = asString(specOf(gw).gatewayClassName);
      if (!className || !classes.accepted.has(className)) continue;
      const key = keyOf(gw);
      let cached = this.gatewayCache.get(key);
      if (!cached || !(stampMatches(cached.stamp, gw) || sameGatewayInputs(cached.view.object, gw))) {
        const gwEvents: ModelEvent[] = [];
        cached = { stamp: stampOf(gw), view: buildGatewayView(gw, tlsSecrets(), grants, gwEvents), events: gwEvents };
      }
      nextGateways.set(key, cached);
      for (const e of cached.events) events.push(e);
      gateways.set(key, cached.view);
    }
    this.gatewayCache = nextGateways;
    let full = this.placedNamespaces !== namespacesVersion || gateways.size !== this.views.size;
    for (const [key, view] of gateways) if (!full && this.views.get(key) !== view) full = true;
    if (full) this.startOver(gateways, namespacesVersion);
    // Lookups are forgotten only when every placed route has just made its own again.
    this.rotateLookups = full;

    // The routes that changed: new, replaced or removed objects.
    const changed = new Set<string>();
    const serial = ++this.serial;
    let seenRoutes = 0;
    for (const [kind, field] of ROUTE_LISTS) {
      const list = world[field] as KubeObject[];
      const last = this.lastLists.get(field);
      const cachedList = new Array<CachedRoute>(list.length);
      for (let i = 0; i < list.length; i++) {
        const obj = list[i];
        let cached = last !== undefined && last.objects[i] === obj ? last.cached[i] : this.routesByObject.get(obj);
        if (!cached || cached.kind !== kind || !stampMatches(cached.stamp, obj)) {
          const routeId = `${kind}/${keyOf(obj)}`;
          cached = this.routeCache.get(routeId);
          if (!cached || cached.kind !== kind || !stampMatches(cached.stamp, obj)) {
            cached = { routeId, stamp: stampOf(obj), seen: 0, kind, refs: parentRefsOf(obj) };
            changed.add(routeId);
          }
          this.routeCache.set(routeId, cached);
          this.routesByObject.set(obj, cached);
        }
        if (cached.seen !== serial) {
          cached.seen = serial;
          seenRoutes += 1;
        }
        cached.current = obj;
        cachedList[i] = cached;
      }
      this.lastLists.set(field, { objects: list, cached: cachedList });
    }
    // Routes removed, or replaced by another object, since the last computation.
    if (this.routeCache.size !== seenRoutes || this.routesByObject.size !== seenRoutes) {
      for (const [id, c] of this.routeCache) {
        if (c.seen !== serial || c.routeId !== id) {
          this.routeCache.delete(id);
          changed.add(id);
        }
      }
      for (const [obj, c] of this.routesByObject) if (c.seen !== serial || c.current !== obj || this.routeCache.get(c.routeId) !== c) this.routesByObject.delete(obj);
    }
    // Routes whose backends resolve differently now: only those that looked up a changed Service.
    if (!full) {
      for (const key of changedServices) {
        for (const routeId of this.dependents.get(key) ?? []) {
          const slot = this.slots.get(routeId);
          if (slot && !changed.has(routeId) && !resolver.stillResolves(slot.cached.lookups!)) changed.add(routeId);
        }
      }
    }

    // Withdraw the old versions, place the new ones.
    let l4Changed = false;
    const place = (routeId: string) => {
      const old = this.slots.get(routeId);
      if (old) {
        this.withdraw(old);
        this.depend(old, false);
        this.slots.delete(routeId);
        this.routeStatuses.delete(routeId);
        if (this.routeEvents.delete(routeId)) this.routeEventsOut = undefined;
        this.routesOut = undefined;
        if (this.l4Slots.delete(old)) l4Changed = true;
      }
      const cached = this.routeCache.get(routeId);
      const slot = cached && this.placeRoute(cached, gateways, resolver, namespacesVersion, namespaceLabels);
      if (!slot) return;
      this.slots.set(routeId, slot);
      this.depend(slot, true);
      if (cached.events!.length > 0) {
        this.routeEvents.set(routeId, cached.events!);
        this.routeEventsOut = undefined;
      }
      this.routesOut = undefined;
      if (slot.route.kind === 'TCPRoute' || slot.route.kind === 'UDPRoute') {
        this.l4Slots.add(slot);
        l4Changed = true;
        return;
      }
      this.settle(slot);
      this.routeStatuses.set(routeId, slot.statuses);
    };
    if (full) for (const routeId of this.routeCache.keys()) place(routeId);
    else for (const routeId of changed) place(routeId);
    if (l4Changed) this.settleL4();

    // Route statuses and events, as handed out (new objects only when something changed).
    this.routesOut ??= new Map(this.routeStatuses);
    if (!this.routeEventsOut) {
      const ids = [...this.routeEvents.keys()].sort(compareRouteIds);
      this.routeEventsOut = ids.flatMap((id) => this.routeEvents.get(id)!);
    }
    for (const e of this.routeEventsOut) events.push(e);

    // Gateway statuses and proxy configs.
    const outGateways: GatewayState['gateways'] = new Map();
    let holders: Map<string, string> | undefined;
    for (const gw of gateways.values()) {
      const gen = generationOf(gw.object);
      const infra = world.infra.get(gw.key);
      let status: GatewayStatus;
      let config: ProxyConfig = { ports: [] };
      try {
        const accepted = gatewayAccepted(gw);
        if (accepted.ok && this.options.proxyConfigs !== false) {
          const kept = this.dirtyGateways.has(gw.key) ? undefined : this.configs.get(gw.key);
          config = kept ?? buildProxyConfig(this.plans.get(gw.key) ?? [], this.l4Winner);
          this.configs.set(gw.key, config);
        }
        status = {
          addresses: (infra?.addresses ?? []).map((value) => ({ type: 'IPAddress' as const, value })),
          conditions: [
            condition('Accepted', accepted.ok, accepted.reason, accepted.message, gen),
            programmed(accepted.ok, infra, gw.addresses.ips, gw.addresses.ips.length > 0 ? (holders ??= loadBalancerHolders(world.services)) : undefined, gen),
          ],
          listeners: gw.listeners.map((l) => listenerStatus(l, gen)),
        };
      } catch (err) {
        events.push({ kind: 'Gateway', namespace: namespaceOf(gw.object), name: nameOf(gw.object), reason: 'Invalid', message: errorText(err) });
        status = {
          addresses: [],
          conditions: [condition('Accepted', false, 'Invalid', errorText(err), gen), condition('Programmed', false, 'Invalid', errorText(err), gen)],
          listeners: [],
        };
        config = { ports: [] };
        this.configs.delete(gw.key);
      }
      outGateways.set(gw.key, { status, config });
    }
    this.dirtyGateways.clear();
    return { gatewayClasses: classes.conditions, gateways: outGateways, routes: this.routesOut, events };
  }

  /** Forgets what is placed: the Gateways (or the namespaces) changed, every route is placed again. */
  private startOver(gateways: Map<string, GatewayView>, namespacesVersion: number): void {
    this.views = gateways;
    this.placedNamespaces = namespacesVersion;
    this.slots = new Map();
    this.l4Slots = new Set();
    this.l4Winner = new Map();
    this.homes = new Map();
    this.plans = new Map();
    this.configs = new Map();
    this.routeStatuses = new Map();
    this.routeEvents = new Map();
    this.dependents = new Map();
    this.routesOut = undefined;
    this.routeEventsOut = undefined;
    for (const gw of gateways.values()) {
      for (const l of gw.listeners) {
        l.attachedRoutes.clear();
        this.homes.set(l, { gatewayKey: gw.key });
      }
      if (this.options.proxyConfigs === false) continue;
      const byPort = new Map<number, ListenerModel[]>();
      for (const l of gw.listeners) {
        if (!listenerServes(l)) continue;
        const list = byPort.get(l.port) ?? [];
        if (list.length === 0) byPort.set(l.port, list);
        list.push(l);
      }
      const plans: PortPlan[] = [];
      for (const [port, listeners] of byPort) {
        const httpLike = listeners.filter((l) => l.protocol === 'HTTP' || l.protocol === 'HTTPS' || l.protocol === 'TLS');
        const http = httpLike.length > 0 ? new HttpPortState(port, httpLike) : undefined;
        if (http) for (const l of httpLike) this.homes.set(l, { gatewayKey: gw.key, port: http });
        plans.push({ http, l4: listeners.filter((l) => l.protocol === 'TCP' || l.protocol === 'UDP') });
      }
      this.plans.set(gw.key, plans);
    }
  }

  /** A route's parents and attachments now (undefined: it names none of our Gateways). */
  private placeRoute(
    cached: CachedRoute,
    gateways: Map<string, GatewayView>,
    resolver: BackendResolver,
    namespacesVersion: number,
    namespaceLabels: (ns: string) => Labels,
  ): RouteSlot | undefined {
    const refs: ParentRefView[] = [];
    for (const ref of cached.refs) if (gateways.has(ref.gatewayKey)) refs.push(ref);
    if (refs.length === 0) return undefined;
    const obj = cached.current!;
    const kind = cached.kind;
    if (!cached.route || !cached.events || !cached.lookups || !resolver.stillResolves(cached.lookups)) {
      const routeEvents: ModelEvent[] = [];
      const t = resolver.recordLookups(() => translateRoute(kind, obj, resolver, routeEvents));
      cached.route = t.result;
      cached.events = routeEvents;
      cached.lookups = t.lookups;
    }
    const route = cached.route;
    const views: GatewayView[] = refs.map((ref) => gateways.get(ref.gatewayKey)!);
    let attach = cached.attach;
    if (!attach || attach.route !== route || attach.namespacesVersion !== namespacesVersion || !sameViews(attach.views, views)) {
      const results: CachedAttachment['results'] = [];
      for (const [i, ref] of refs.entries()) {
        const gateway = views[i];
        try {
          results.push(
            attachRoute({ kind, routeNamespace: namespaceOf(obj), hostnames: route.hostnames, gatewayNamespace: namespaceOf(gateway.object), listeners: gateway.listeners, namespaceLabels }, ref),
          );
        } catch (err) {
          results.push({ attachments: [], problem: { reason: 'UnsupportedValue', message: `cannot attach: ${errorText(err)}` } });
        }
      }
      attach = { route, views, namespacesVersion, results };
      cached.attach = attach;
    }
    const parents = refs.map((ref, i): PendingParent => ({ route, ref, gateway: views[i], attachments: attach.results[i].attachments, problem: attach.results[i].problem }));
    return { routeId: cached.routeId, cached, route, parents, statuses: [], attachedOn: [], served: [], l4On: [] };
  }

  /** Records (or forgets) which Services a placed route's translation looked up. */
  private depend(slot: RouteSlot, on: boolean): void {
    for (const d of slot.cached.lookups!) {
      let set = this.dependents.get(d.serviceKey);
      if (on) {
        if (!set) this.dependents.set(d.serviceKey, (set = new Set()));
        set.add(slot.routeId);
      } else if (set) {
        set.delete(slot.routeId);
        if (set.size === 0) this.dependents.delete(d.serviceKey);
      }
    }
  }

  /** Takes back what a placed route contributes: listener counts, port records, TCP/UDP listeners. */
  private withdraw(slot: RouteSlot): void {
    for (const l of slot.attachedOn) l.attachedRoutes.delete(slot.routeId);
    for (const { listener, record } of slot.served) {
      const home = this.homes.get(listener)!;
      home.port!.remove(listener, record);
      this.dirtyGateways.add(home.gatewayKey);
    }
    for (const l of slot.l4On) {
      if (this.l4Winner.get(l) === slot.route) this.l4Winner.delete(l);
      const home = this.homes.get(l);
      if (home) this.dirtyGateways.add(home.gatewayKey);
    }
    slot.attachedOn = [];
    slot.served = [];
    slot.l4On = [];
  }

  /** One TCP/UDP route per listener: every TCP/UDP route is settled again when one changed. */
  private settleL4(): void {
    const slots = [...this.l4Slots].sort((a, b) => compareRouteIds(a.routeId, b.routeId));
    for (const slot of slots) {
      this.withdraw(slot);
      const results = slot.cached.attach!.results;
      slot.parents = slot.parents.map((p, i) => ({ ...p, attachments: results[i].attachments, problem: results[i].problem }));
    }
    resolveL4Conflicts(slots.flatMap((s) => s.parents));
    for (const slot of slots) {
      this.settle(slot);
      this.routeStatuses.set(slot.routeId, slot.statuses);
    }
    this.routesOut = undefined;
  }

  /** A placed route's status entries, and its attachments of accepted parents served. */
  private settle(slot: RouteSlot): void {
    const { route, parents } = slot;
    const attach = slot.cached.attach!;
    // The status entries depend on the route and the attachment results only; an L4 conflict
    // (resolveL4Conflicts) replaces a parent's results, and then they are computed afresh.
    let unaltered = true;
    for (let i = 0; i < parents.length && unaltered; i++) unaltered = parents[i].attachments === attach.results[i].attachments && parents[i].problem === attach.results[i].problem;
    const statuses: RouteParentStatus[] = unaltered && attach.statuses ? attach.statuses : [];
    const fresh = statuses.length === 0;
    const records = new Map<ListenerModel, ServedRecord>();
    for (const p of parents) {
      if (!fresh) {
        if (!routeRejection(route) && p.attachments.length > 0) this.serve(slot, p.attachments, records);
        continue;
      }
      const gen = generationOf(route.object);
      const rejected = routeRejection(route) ?? (p.attachments.length === 0 ? p.problem : undefined);
      const conditions: Condition[] = [
        rejected ? condition('Accepted', false, rejected.reason, rejected.message, gen) : condition('Accepted', true, 'Accepted', 'route accepted', gen),
      ];
      const refProblem = route.http?.refProblem ?? route.l4?.refProblem;
      conditions.push(
        refProblem
          ? condition('ResolvedRefs', false, refProblem.reason, refProblem.message, gen)
          : condition('ResolvedRefs', true, 'ResolvedRefs', 'all references resolved', gen),
      );
      const dropped = route.http?.ruleProblems ?? [];
      if (!rejected && dropped.length > 0) {
        conditions.push(condition('PartiallyInvalid', true, 'UnsupportedValue', `Dropped Rule(s): ${dropped.map((d) => d.message).join('; ')}`, gen));
      }
      statuses.push({ parentRef: p.ref.echo, controllerName: GATEWAY_CONTROLLER_NAME, conditions });
      if (rejected) continue;
      this.serve(slot, p.attachments, records);
    }
    if (fresh && unaltered) attach.statuses = statuses;
    slot.statuses = statuses;
    // Handed to the ports once the route's hostnames on each listener are complete.
    for (const [listener, record] of records) {
      const home = this.homes.get(listener);
      if (!home?.port) continue;
      home.port.add(listener, record);
      this.dirtyGateways.add(home.gatewayKey);
      slot.served.push({ listener, record });
    }
  }

  /** Records an accepted parent's attachments: listener counts, TCP/UDP listeners, served HTTP/TLS records. */
  private serve(slot: RouteSlot, attachments: Attachment[], records: Map<ListenerModel, ServedRecord>): void {
    const route = slot.route;
    for (const a of attachments) {
      if (!a.listener.attachedRoutes.has(slot.routeId)) {
        a.listener.attachedRoutes.add(slot.routeId);
        slot.attachedOn.push(a.listener);
      }
      if (route.kind === 'TCPRoute' || route.kind === 'UDPRoute') {
        this.l4Winner.set(a.listener, route);
        slot.l4On.push(a.listener);
        const home = this.homes.get(a.listener);
        if (home) this.dirtyGateways.add(home.gatewayKey);
        continue;
      }
      const already = records.get(a.listener);
      if (!already) {
        records.set(a.listener, {
          hostnames: a.hostnames,
          sorted: route.sorted,
          created: route.created,
          routeKey: route.key,
          route,
          ...(route.kind === 'TLSRoute' ? { passthrough: { namespace: namespaceOf(route.object), name: nameOf(route.object), backends: route.l4?.backends ?? [] } } : {}),
        });
        continue;
      }
      // The same route through two parentRefs to one listener is served once. Copied before
      // growing: attachment hostnames are shared with the cache.
      let merged: string[] | undefined;
      for (const h of a.hostnames) {
        if (already.hostnames.includes(h)) continue;
        merged ??= already.hostnames.slice();
        merged.push(h);
      }
      if (merged) already.hostnames = merged;
    }
  }
}

/** Route ids (`Kind/namespace/name`) in route-list order, then by namespace and name. */
function compareRouteIds(a: string, b: string): number {
  const ka = KIND_ORDER.get(a.slice(0, a.indexOf('/'))) ?? 9;
  const kb = KIND_ORDER.get(b.slice(0, b.indexOf('/'))) ?? 9;
  return ka - kb || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * Whether a new version of a Gateway gives the same view: a view reads only the Gateway's spec,
 * name, namespace and generation (with the Secrets and grants, whose changes clear the cache), so
 * a status write (attachedRoutes changes with every route) keeps the view, and with it every
 * route's attachment and status and the virtual hosts.
 */
function sameGatewayInputs(viewed: KubeObject, gw: KubeObject): boolean {
  const a = viewed.metadata ?? {};
  const b = gw.metadata ?? {};
  return a.uid !== undefined && a.uid === b.uid && a.name === b.name && a.namespace === b.namespace && generationOf(viewed) === generationOf(gw) && sameValue(viewed.spec, gw.spec);
}

function sameViews(a: GatewayView[], b: GatewayView[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The whole model of one snapshot, computed from scratch (the reference GatewayModel agrees with). */
export function computeGatewayState(world: GatewayWorld): GatewayState {
  return new GatewayModel().compute(world);
}

/** The parentRefs of a route that name a Gateway, without repeats. */
function parentRefsOf(obj: KubeObject): ParentRefView[] {
  const refs: ParentRefView[] = [];
  const seen = new Set<string>();
  for (const raw of asArray(specOf(obj).parentRefs)) {
    const ref = gatewayParentRef(raw, namespaceOf(obj));
    if (!ref) continue;
    const id = JSON.stringify(ref.echo);
    if (seen.has(id)) continue;
    seen.add(id);
    refs.push(ref);
  }
  return refs;
}


function buildGatewayView(gw: KubeObject, secrets: Map<string, KubeObject>, grants: ReferenceGrantIndex, events: ModelEvent[]): GatewayView {
  const model: GatewayView = { object: gw, key: keyOf(gw), listeners: [], addresses: { ips: [] } };
  const event = (reason: string, message: string) => events.push({ kind: 'Gateway', namespace: namespaceOf(gw), name: nameOf(gw), reason, message });
  try {
    const infra = specOf(gw).infrastructure as Record<string, unknown> | undefined;
    if (infra && infra.parametersRef !== undefined && infra.parametersRef !== null) {
      model.rejected = { reason: 'InvalidParameters', message: 'flatnet Gateways take no spec.infrastructure.parametersRef' };
      event('InvalidParameters', model.rejected.message);
    }
    model.addresses = requestedAddresses(gw);
    if (model.addresses.unsupported) {
      model.rejected ??= model.addresses.unsupported;
      event(model.addresses.unsupported.reason, model.addresses.unsupported.message);
    }
    model.listeners = buildListeners(gw, secrets, grants);
    for (const l of model.listeners) {
      for (const p of [l.notAccepted, l.conflicted, l.unresolved]) if (p) event(p.reason, `listener ${l.name}: ${p.message}`);
    }
  } catch (err) {
    model.rejected = { reason: 'Invalid', message: errorText(err) };
    event('Invalid', errorText(err));
  }
  return model;
}

const NO_ENTRIES: SortedEntries = sortRouteEntries([]);

function translateRoute(kind: RouteKind, obj: KubeObject, resolver: BackendResolver, events: ModelEvent[]): RouteModel {
  const route: RouteModel = {
    kind,
    object: obj,
    key: keyOf(obj),
    created: createdOf(obj),
    hostnames: kind === 'TCPRoute' || kind === 'UDPRoute' ? [] : asArray(specOf(obj).hostnames).filter((h): h is string => typeof h === 'string').map((h) => h.toLowerCase()),
    sorted: NO_ENTRIES,
  };
  const event = (reason: string, message: string) => events.push({ kind, namespace: namespaceOf(obj), name: nameOf(obj), reason, message });
  try {
    if (kind === 'HTTPRoute') route.http = translateHttpRoute(obj, resolver);
    else if (kind === 'GRPCRoute') route.http = translateGrpcRoute(obj, resolver);
    else route.l4 = translateL4Route(kind, obj, resolver);
    if (route.http) route.sorted = sortRouteEntries(route.http.entries);
    for (const p of route.http?.ruleProblems ?? []) event(p.reason, p.message);
    const ref = route.http?.refProblem ?? route.l4?.refProblem;
    if (ref && ref.reason !== 'BackendNotFound') event(ref.reason, ref.message);
  } catch (err) {
    route.broken = { reason: 'UnsupportedValue', message: `cannot translate: ${errorText(err)}` };
    event('UnsupportedValue', route.broken.message);
  }
  return route;
}

/** Why the route cannot be accepted by any parent, regardless of attachment. */
function routeRejection(route: RouteModel): Problem | undefined {
  if (route.broken) return route.broken;
  const t = route.http;
  if (t && t.ruleCount > 0 && t.ruleProblems.length === t.ruleCount) {
    return { reason: t.ruleProblems[0].reason, message: `no valid rule: ${t.ruleProblems.map((p) => p.message).join('; ')}` };
  }
  return undefined;
}

/** One TCPRoute or UDPRoute per listener: the oldest (then by name) wins, the others are not attached. */
function resolveL4Conflicts(pending: PendingParent[]): void {
  const byListener = new Map<ListenerModel, PendingParent[]>();
  for (const p of pending) {
    if (p.route.kind !== 'TCPRoute' && p.route.kind !== 'UDPRoute') continue;
    if (routeRejection(p.route)) continue;
    for (const a of p.attachments) {
      const list = byListener.get(a.listener) ?? [];
      if (list.length === 0) byListener.set(a.listener, list);
      list.push(p);
    }
  }
  for (const [listener, list] of byListener) {
    if (list.length < 2) continue;
    const sorted = [...list].sort((a, b) => (a.route.created < b.route.created ? -1 : a.route.created > b.route.created ? 1 : a.route.key < b.route.key ? -1 : a.route.key > b.route.key ? 1 : 0));
    const winner = sorted[0].route;
    for (const p of sorted) {
      if (p.route === winner) continue;
      p.attachments = p.attachments.filter((a) => a.listener !== listener);
      p.problem = { reason: 'NotAllowedByListeners', message: `listener ${listener.name} already serves ${winner.kind} ${winner.key} (older); one ${winner.kind} per listener` };
    }
  }
}

function gatewayAccepted(gw: GatewayView): { ok: boolean; reason: string; message: string } {
  if (gw.rejected) return { ok: false, ...gw.rejected };
  const invalid = gw.listeners.filter((l) => l.notAccepted || l.conflicted);
  if (gw.listeners.length === 0) return { ok: false, reason: 'ListenersNotValid', message: 'the Gateway has no listeners' };
  if (invalid.length === gw.listeners.length) {
    return { ok: false, reason: 'ListenersNotValid', message: `no listener is valid: ${invalid.map((l) => l.name).join(', ')}` };
  }
  if (invalid.length > 0) {
    return { ok: true, reason: 'ListenersNotValid', message: `listeners not accepted: ${invalid.map((l) => l.name).join(', ')}; the others are served` };
  }
  return { ok: true, reason: 'Accepted', message: 'Gateway accepted' };
}

function programmed(
  accepted: boolean,
  infra: { addresses: string[]; readyReplicas: number } | undefined,
  requested: string[],
  holders: ReadonlyMap<string, string> | undefined,
  gen: number,
): Condition {
  if (!accepted) return condition('Programmed', false, 'Invalid', 'the Gateway is not accepted', gen);
  const unusable = unusableAddresses(requested, infra?.addresses ?? [], holders);
  if (unusable) return condition('Programmed', false, unusable.reason, unusable.message, gen);
  if (!infra || infra.addresses.length === 0) return condition('Programmed', false, 'AddressNotAssigned', 'no address assigned to the Gateway yet', gen);
  if (infra.readyReplicas <= 0) return condition('Programmed', false, 'Pending', 'no gateway proxy pod is ready yet', gen);
  return condition('Programmed', true, 'Programmed', `served by ${infra.readyReplicas} proxy pod(s)`, gen);
}

function buildProxyConfig(plans: PortPlan[], l4Winner: Map<ListenerModel, RouteModel>): ProxyConfig {
  const ports: PortConfig[] = [];
  for (const plan of plans) {
    if (plan.http) ports.push(plan.http.config());
    for (const l of plan.l4) {
      const route = l4Winner.get(l);
      const cfg: TcpPortConfig | UdpPortConfig = {
        kind: l.protocol === 'TCP' ? 'tcp' : 'udp',
        port: l.port,
        ...(route ? { source: { kind: route.kind, namespace: namespaceOf(route.object), name: nameOf(route.object), rule: 0, match: 0 } } : {}),
        backends: route?.l4?.backends ?? [],
      } as TcpPortConfig | UdpPortConfig;
      ports.push(cfg);
    }
  }
  const kindOrder = { http: 0, tcp: 1, udp: 2 };
  ports.sort((a, b) => a.port - b.port || kindOrder[a.kind] - kindOrder[b.kind]);
  return { ports };
}
