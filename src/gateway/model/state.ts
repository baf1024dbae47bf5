// computeGatewayState: the whole Gateway API model as one pure function of a snapshot. Objects
// are indexed once per call (Gateways by key, routes translated once, Services and slices by
// Service), so the cost grows with the number of objects, not with routes x listeners.
// A bad object never stops the others: each Gateway and each route is computed inside its own
// try/catch and gets a condition and a Warning event instead.
//
// GatewayModel is the same computation with memory: it keeps each route's translation (keyed by
// the route object, valid while the Service ports it resolved give the same result and the
// ReferenceGrants are unchanged), each Service port's resolution (valid while the Service and its
// EndpointSlices are the same objects) and the merged route groups and virtual hosts (and the
// hostname order), so a computation after one changed object redoes only what that object
// affects. It still visits every route and virtual host once (identity checks and lookups), and
// returns every route's status, so its cost grows with the route count, with a small constant.
// computeGatewayState(world) is a GatewayModel with nothing remembered: the reference.
import type { KubeObject } from '../../api/types.js';
import type { Labels } from '../../api/label-selector.js';
import type { HttpPortConfig, PassthroughRoute, PortConfig, ProxyConfig, TcpPortConfig, UdpPortConfig, WeightedBackend } from '../config.js';
import { loadBalancerHolders, requestedAddresses, unusableAddresses, type RequestedAddresses } from './addresses.js';
import { attachRoute, gatewayParentRef, type Attachment, type ParentRefView } from './attach.js';
import { BackendResolver, LookupStore, ServiceIndexCache, stampMatches, stampOf, type LookupDependency, type ObjectStamp } from './backends.js';
import { condition, type Problem } from './conditions.js';
import { computeGatewayClasses } from './gatewayclass.js';
import { translateGrpcRoute } from './grpcroute.js';
import { compareHostnameSpecificity } from './hostnames.js';
import { buildVirtualHosts, VirtualHostCache, type ServedListener, type ServedRoute } from './hosts.js';
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

/** A route as served on one listener: the record the virtual hosts and passthrough read. */
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
 * The Gateway API model with memory between computations. `compute(world)` returns exactly what
 * computeGatewayState(world) returns, reusing the work of earlier calls for the objects that did
 * not change. Objects are compared by identity (informers hand over a new object for every
 * change) and resourceVersion; an object edited in place without a new resourceVersion is not
 * noticed, so do not do that. Lists are compared by identity too (the Service/EndpointSlice index
 * is kept while world.services and world.endpointSlices are the same arrays): hand over a new
 * array when a list changes, never push into the last one. One instance per caller; not for
 * concurrent use.
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
  private serial = 0;
  private gatewayCache = new Map<string, CachedGateway>();
  private readonly lookups = new LookupStore();
  private readonly serviceIndex = new ServiceIndexCache();
  private readonly hostCache = new VirtualHostCache();
  private readonly grantsVersion = new ListVersion();
  private readonly secretsVersion = new ListVersion();
  private readonly namespacesVersion = new ListVersion();

  constructor(private readonly options: GatewayModelOptions = {}) {}

  compute(world: GatewayWorld): GatewayState {
    try {
      return this.run(world);
    } finally {
      this.lookups.rotate();
      this.hostCache.rotate();
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
    }
    const secretsChanged = this.secretsVersion.update(world.secrets);
    if (grantsChanged || secretsChanged) this.gatewayCache.clear();
    this.namespacesVersion.update(world.namespaces);
    const namespacesVersion = this.namespacesVersion.version;
    const resolver = new BackendResolver(world.services, world.endpointSlices, grants, this.lookups, this.serviceIndex.get(world.services, world.endpointSlices));
    const secrets = new Map<string, KubeObject>();
    for (const s of world.secrets) if (s.type === undefined || s.type === 'kubernetes.io/tls') secrets.set(keyOf(s), s);
    const nsLabels = new Map<string, Labels>();
    for (const ns of world.namespaces) nsLabels.set(nameOf(ns), ns.metadata?.labels ?? {});
    const namespaceLabels = (ns: string): Labels => ({ ...(nsLabels.get(ns) ?? {}), 'kubernetes.io/metadata.name': ns });

    // Gateways of our accepted classes.
    const gateways = new Map<string, GatewayView>();
    const nextGateways = new Map<string, CachedGateway>();
    for (const gw of world.gateways) {
      const className = asString(specOf(gw).gatewayClassName);
      if (!className || !classes.accepted.has(className)) continue;
      const key = keyOf(gw);
      let cached = this.gatewayCache.get(key);
      if (cached && (stampMatches(cached.stamp, gw) || sameGatewayInputs(cached.view.object, gw))) {
        for (const l of cached.view.listeners) l.attachedRoutes.clear();
      } else {
        const gwEvents: ModelEvent[] = [];
        cached = { stamp: stampOf(gw), view: buildGatewayView(gw, secrets, grants, gwEvents), events: gwEvents };
      }
      nextGateways.set(key, cached);
      for (const e of cached.events) events.push(e);
      gateways.set(key, cached.view);
    }
    this.gatewayCache = nextGateways;

    // Routes that name at least one of those Gateways.
    const pending: PendingParent[] = [];
    const routeParents: { routeId: string; cached: CachedRoute; parents: PendingParent[] }[] = [];
    const serial = ++this.serial;
    let seenRoutes = 0;
    for (const [kind, field] of ROUTE_LISTS) {
      for (const obj of world[field] as KubeObject[]) {
        let cached = this.routesByObject.get(obj);
        if (!cached || cached.kind !== kind || !stampMatches(cached.stamp, obj)) {
          const routeId = `${kind}/${keyOf(obj)}`;
          cached = this.routeCache.get(routeId);
          if (!cached || cached.kind !== kind || !stampMatches(cached.stamp, obj)) cached = { routeId, stamp: stampOf(obj), seen: 0, kind, refs: parentRefsOf(obj) };
          this.routeCache.set(routeId, cached);
          this.routesByObject.set(obj, cached);
        }
        if (cached.seen !== serial) {
          cached.seen = serial;
          seenRoutes += 1;
        }
        cached.current = obj;
        const routeId = cached.routeId;
        const refs: ParentRefView[] = [];
        for (const ref of cached.refs) if (gateways.has(ref.gatewayKey)) refs.push(ref);
        if (refs.length === 0) continue;
        if (!cached.route || !cached.events || !cached.lookups || !resolver.stillResolves(cached.lookups)) {
          const routeEvents: ModelEvent[] = [];
          const t = resolver.recordLookups(() => translateRoute(kind, obj, resolver, routeEvents));
          cached.route = t.result;
          cached.events = routeEvents;
          cached.lookups = t.lookups;
        }
        const route = cached.route;
        for (const e of cached.events) events.push(e);
        const views: GatewayView[] = refs.map((ref) => gateways.get(ref.gatewayKey)!);
        let attach = cached.attach;
        if (!attach || attach.route !== route || attach.namespacesVersion !== namespacesVersion || !sameViews(attach.views, views)) {
          const results: CachedAttachment['results'] = [];
          for (const [i, ref] of refs.entries()) {
            const gateway = views[i];
            try {
              results.push(
                attachRoute(
                  { kind, routeNamespace: namespaceOf(obj), hostnames: route.hostnames, gatewayNamespace: namespaceOf(gateway.object), listeners: gateway.listeners, namespaceLabels },
                  ref,
                ),
              );
            } catch (err) {
              results.push({ attachments: [], problem: { reason: 'UnsupportedValue', message: `cannot attach: ${errorText(err)}` } });
            }
          }
          attach = { route, views, namespacesVersion, results };
          cached.attach = attach;
        }
        const parents: PendingParent[] = [];
        for (const [i, ref] of refs.entries()) {
          const r = attach.results[i];
          const p: PendingParent = { route, ref, gateway: views[i], attachments: r.attachments, problem: r.problem };
          parents.push(p);
          pending.push(p);
        }
        routeParents.push({ routeId, cached, parents });
      }
    }
    // Routes removed, or replaced by another object, since the last computation.
    if (this.routeCache.size !== seenRoutes || this.routesByObject.size !== seenRoutes) {
      for (const [id, c] of this.routeCache) if (c.seen !== serial || c.routeId !== id) this.routeCache.delete(id);
      for (const [obj, c] of this.routesByObject) if (c.seen !== serial || c.current !== obj || this.routeCache.get(c.routeId) !== c) this.routesByObject.delete(obj);
    }

    resolveL4Conflicts(pending);

    // Route statuses, and attachments of accepted parents.
    const served = new Map<ListenerModel, ServedRecord[]>();
    const servedIndex = new Map<ListenerModel, Map<string, ServedRecord>>();
    const l4Winner = new Map<ListenerModel, RouteModel>();
    const routes = new Map<string, RouteParentStatus[]>();
    for (const { routeId, cached, parents } of routeParents) {
      const attach = cached.attach!;
      // The status entries depend on the route and the attachment results only; an L4 conflict
      // (resolveL4Conflicts) replaces a parent's results, and then they are computed afresh.
      let unaltered = true;
      for (let i = 0; i < parents.length && unaltered; i++) unaltered = parents[i].attachments === attach.results[i].attachments && parents[i].problem === attach.results[i].problem;
      // Only a route with several parents can reach one listener twice.
      const index = parents.length > 1 ? servedIndex : undefined;
      const statuses: RouteParentStatus[] = unaltered && attach.statuses ? attach.statuses : [];
      const fresh = statuses.length === 0;
      for (const p of parents) {
        const { route } = p;
        if (!fresh) {
          if (!routeRejection(route) && p.attachments.length > 0) this.serve(routeId, route, p.attachments, served, index, l4Winner);
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
        this.serve(routeId, route, p.attachments, served, index, l4Winner);
      }
      if (fresh && unaltered) attach.statuses = statuses;
      routes.set(routeId, statuses);
    }

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
        if (accepted.ok && this.options.proxyConfigs !== false) config = buildProxyConfig(gw, served, l4Winner, this.hostCache);
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
      }
      outGateways.set(gw.key, { status, config });
    }
    return { gatewayClasses: classes.conditions, gateways: outGateways, routes, events };
  }

  /** Records an accepted parent's attachments: listener counts, L4 winners, served HTTP/TLS routes. */
  private serve(
    routeId: string,
    route: RouteModel,
    attachments: Attachment[],
    served: Map<ListenerModel, ServedRecord[]>,
    servedIndex: Map<ListenerModel, Map<string, ServedRecord>> | undefined,
    l4Winner: Map<ListenerModel, RouteModel>,
  ): void {
    for (const a of attachments) {
      a.listener.attachedRoutes.add(routeId);
      if (route.kind === 'TCPRoute' || route.kind === 'UDPRoute') {
        l4Winner.set(a.listener, route);
        continue;
      }
      let list = served.get(a.listener);
      if (!list) {
        list = [];
        served.set(a.listener, list);
      }
      const record: ServedRecord = { hostnames: a.hostnames, sorted: route.sorted, created: route.created, routeKey: route.key, route };
      if (!servedIndex) {
        list.push(record);
        continue;
      }
      // The same route through two parentRefs to one listener is served once.
      let seenOnListener = servedIndex.get(a.listener);
      if (!seenOnListener) {
        seenOnListener = new Map<string, ServedRecord>();
        servedIndex.set(a.listener, seenOnListener);
      }
      const already = seenOnListener.get(routeId);
      if (already) {
        // Copied before growing: attachment hostnames are shared with the cache.
        let merged: string[] | undefined;
        for (const h of a.hostnames) {
          if (already.hostnames.includes(h)) continue;
          merged ??= already.hostnames.slice();
          merged.push(h);
        }
        if (merged) already.hostnames = merged;
        continue;
      }
      seenOnListener.set(routeId, record);
      list.push(record);
    }
  }
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

function buildProxyConfig(gw: GatewayView, served: Map<ListenerModel, ServedRecord[]>, l4Winner: Map<ListenerModel, RouteModel>, cache: VirtualHostCache): ProxyConfig {
  const ports: PortConfig[] = [];
  const byPort = new Map<number, ListenerModel[]>();
  for (const l of gw.listeners) {
    if (!listenerServes(l)) continue;
    const list = byPort.get(l.port) ?? [];
    if (list.length === 0) byPort.set(l.port, list);
    list.push(l);
  }
  for (const [port, listeners] of byPort) {
    const httpLike = listeners.filter((l) => l.protocol === 'HTTP' || l.protocol === 'HTTPS' || l.protocol === 'TLS');
    if (httpLike.length > 0) ports.push(httpPort(`${gw.key}:${port}`, port, httpLike, served, cache));
    for (const l of listeners) {
      if (l.protocol !== 'TCP' && l.protocol !== 'UDP') continue;
      const route = l4Winner.get(l);
      const cfg: TcpPortConfig | UdpPortConfig = {
        kind: l.protocol === 'TCP' ? 'tcp' : 'udp',
        port,
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

function httpPort(scope: string, port: number, listeners: ListenerModel[], served: Map<ListenerModel, ServedRecord[]>, cache: VirtualHostCache): HttpPortConfig {
  const web = listeners.filter((l) => l.protocol !== 'TLS');
  const sl: ServedListener[] = web.map((listener) => ({ listener, routes: served.get(listener) ?? [] }));
  const cfg: HttpPortConfig = { kind: 'http', port, hosts: web.length > 0 ? buildVirtualHosts(sl, cache, scope) : [] };
  const https = listeners.filter((l) => l.protocol === 'HTTPS');
  const tlsListeners = listeners.filter((l) => l.protocol === 'TLS');
  if (https.length > 0 || tlsListeners.length > 0) {
    const certificates = https
      .sort((a, b) => compareHostnameSpecificity(a.hostname ?? '*', b.hostname ?? '*'))
      .flatMap((l) => l.certificates.map((c) => ({ hostnames: [l.hostname ?? '*'], certPem: c.certPem, keyPem: c.keyPem })));
    const passthrough: (PassthroughRoute & { created: string; key: string })[] = [];
    for (const l of tlsListeners) {
      for (const r of served.get(l) ?? []) {
        const route = r.route;
        const backends: WeightedBackend[] = route.l4?.backends ?? [];
        for (const h of r.hostnames) {
          passthrough.push({
            source: { kind: 'TLSRoute', namespace: namespaceOf(route.object), name: nameOf(route.object), rule: 0, match: 0 },
            hostnames: [h],
            backends,
            created: route.created,
            key: route.key,
          });
        }
      }
    }
    passthrough.sort(
      (a, b) =>
        compareHostnameSpecificity(a.hostnames[0], b.hostnames[0]) ||
        (a.created < b.created ? -1 : a.created > b.created ? 1 : 0) ||
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
    cfg.tls = {
      certificates,
      passthrough: passthrough.map(({ source, hostnames, backends }) => ({ source, hostnames, backends })),
      ...(https.length > 0 ? { listenerHostnames: https.map((l) => l.hostname ?? '*') } : {}),
    };
  }
  return cfg;
}
