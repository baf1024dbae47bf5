// The gateway controller, run by `flatnet server`: on any change to the Gateway API objects,
// Ingresses or what they reference it rebuilds the models' worlds from the shared informer caches,
// provisions a proxy (Deployment, LoadBalancer Service, token Secret) per Gateway of our classes
// and one ingress proxy while any Ingress is served, and writes only the statuses that changed.
// Changes arriving together are coalesced into one pass; one failing write never stops the others
// (the pass is retried with backoff afterwards).
import { R, type ResourceInfo } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import type { SharedInformer } from '../../client/shared-informers.js';
import type { Controller, ControllerContext } from '../../controllers/context.js';
import { WorkQueue } from '../../controllers/queue.js';
import { GatewayModel } from '../model/state.js';
import { computeIngressState } from '../ingress/state.js';
import { GATEWAY_CONTROLLER_NAME, type GatewayState, type ModelEvent, type RouteParentStatus } from '../model/types.js';
import type { IngressState } from '../ingress/types.js';
import { nowTimestamp } from './conditions.js';
import { EventDedup } from './event-dedup.js';
import { gatewayProxyObjects, ingressProxyObjects, type ApiServiceAddress } from './infra-plan.js';
import { GATEWAY_NAME_LABEL, INGRESS_NAMESPACE, MANAGED_BY, MANAGED_BY_LABEL, tokenSecretName } from './names.js';
import { modelEvents, provisionedProxies, statusWrites } from './metrics.js';
import { Provisioner } from './provisioner.js';
import { gatewayClassStatus, gatewayStatus, ingressStatus, routeStatus } from './status-plan.js';
import { writeStatus, type StatusOf, type WriteOutcome } from './status-writer.js';
import { gatewayWorld, ingressWorld, ourClassOf, ourGatewayClasses, TlsSecretsFilter, type Caches } from './world.js';

export interface GatewayControllerOptions {
  /** The server's data directory: the proxy token signing key lives there. */
  dataDir: string;
  /** The cluster CA (PEM) the proxies trust the API server with. */
  caPem: string;
  /** The `kubernetes` Service address the proxies reach the API server at. */
  apiService: ApiServiceAddress;
  /** Coalescing delay for bursts of changes (default 5 ms). */
  debounceMs?: number;
}

const SYNC_KEY = 'all';
/** How long a cache that does not show our last status write is trusted to catch up before it is written over anyway. */
const STALE_CACHE_GRACE_MS = 10_000;

const ROUTE_RESOURCES: { kind: string; r: ResourceInfo; cache: keyof Caches }[] = [
  { kind: 'HTTPRoute', r: R.httproutes, cache: 'httpRoutes' },
  { kind: 'GRPCRoute', r: R.grpcroutes, cache: 'grpcRoutes' },
  { kind: 'TLSRoute', r: R.tlsroutes, cache: 'tlsRoutes' },
  { kind: 'TCPRoute', r: R.tcproutes, cache: 'tcpRoutes' },
  { kind: 'UDPRoute', r: R.udproutes, cache: 'udpRoutes' },
];

const WATCHED: [keyof Caches, ResourceInfo][] = [
  ['gatewayClasses', R.gatewayclasses],
  ['gateways', R.gateways],
  ['httpRoutes', R.httproutes],
  ['grpcRoutes', R.grpcroutes],
  ['tlsRoutes', R.tlsroutes],
  ['tcpRoutes', R.tcproutes],
  ['udpRoutes', R.udproutes],
  ['referenceGrants', R.referencegrants],
  ['services', R.services],
  ['endpointSlices', R.endpointslices],
  ['secrets', R.secrets],
  ['namespaces', R.namespaces],
  ['deployments', R.deployments],
  ['ingresses', R.ingresses],
  ['ingressClasses', R.ingressclasses],
];

const objectKey = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
/** The model's entries for a route it has none for (one array, so that it compares by identity). */
const NO_PARENTS: readonly RouteParentStatus[] = Object.freeze([]);

/** A route whose status was found up to date: the cached object and the model's entries it was checked against. */
interface CheckedRouteStatus {
  obj: KubeObject;
  wanted: readonly RouteParentStatus[];
  pass: number;
}

export class GatewayController implements Controller {
  readonly name = 'gateway-controller';
  private readonly queue: WorkQueue;
  private readonly informers = new Map<keyof Caches, SharedInformer>();
  private readonly provisioner: Provisioner;
  private readonly gatewayEvents = new EventDedup();
  private readonly ingressEvents = new EventDedup();
  private timer: NodeJS.Timeout | undefined;
  /** Status writes the cache may not show yet: object -> the resourceVersion the write replaced. */
  private readonly replacedVersions = new Map<string, { rv: string; at: number }>();
  private stopped = false;
  private readonly log;
  /** Each kind's objects as handed to the models, re-read from its informer only after it changed. */
  private readonly lists = new Map<keyof Caches, KubeObject[]>();
  private readonly changedKinds = new Set<keyof Caches>();
  private readonly tlsSecrets = new TlsSecretsFilter();
  /**
   * Routes whose status matched the model's entries, by `Kind/namespace/name`. While the informer
   * hands over the same object and the model the same entries (it keeps them for an unchanged
   * route), the answer is the same, so the route is not planned again: a pass after one change
   * plans the routes that change, not all of them.
   */
  private readonly routeStatusChecked = new Map<string, CheckedRouteStatus>();
  private pass = 0;
  /** The Gateway API model, remembering its work between passes; statuses only (the proxies build their own routing tables). */
  private readonly gatewayModel = new GatewayModel({ proxyConfigs: false });

  constructor(
    private readonly ctx: ControllerContext,
    private readonly opts: GatewayControllerOptions,
  ) {
    this.log = ctx.log.child({ controller: this.name });
    this.queue = new WorkQueue(this.name, () => this.sync(), this.log, { workers: 1, maxDelayMs: 5000 });
    for (const [cache, r] of WATCHED) {
      const inf = ctx.informers.for(r);
      this.informers.set(cache, inf);
      const changed = () => {
        this.changedKinds.add(cache);
        this.schedule();
      };
      inf.addHandlers({ add: changed, update: changed, delete: changed });
    }
    this.provisioner = new Provisioner(ctx.client, (r, ns, name) => this.lookup(r, ns, name), { dataDir: opts.dataDir, caPem: opts.caPem });
  }

  start(): void {
    this.queue.start();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.queue.stop();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.queue.add(SYNC_KEY);
    }, this.opts.debounceMs ?? 5);
    this.timer.unref();
  }

  private lookup(r: ResourceInfo, namespace: string, name: string): KubeObject | undefined {
    const entry = WATCHED.find(([, w]) => w === r);
    return entry ? this.informers.get(entry[0])?.get(r.namespaced ? namespace : undefined, name) : undefined;
  }

  /**
   * The informers' objects by kind. A kind's array is rebuilt only when one of its objects changed
   * since the last pass, so the models see the same arrays (and objects) for the kinds that did
   * not change and keep their indexes of them.
   */
  private caches(): Caches {
    const c = {} as Caches;
    for (const [cache] of WATCHED) {
      let list = this.lists.get(cache);
      if (!list || this.changedKinds.has(cache)) {
        list = this.informers.get(cache)!.list();
        this.lists.set(cache, list);
      }
      c[cache] = list;
    }
    this.changedKinds.clear();
    return c;
  }

  /** One pass over everything; every step runs even when another failed, then the failures are thrown (retried). */
  private async sync(): Promise<void> {
    const c = this.caches();
    const failures: string[] = [];
    for (const [k, v] of this.replacedVersions) if (Date.now() - v.at >= STALE_CACHE_GRACE_MS) this.replacedVersions.delete(k);
    const attempt = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (err) {
        failures.push(`${what}: ${(err as Error).message}`);
      }
    };
    const all = (what: string, jobs: [string, () => Promise<unknown>][]) => Promise.all(jobs.map(([name, fn]) => attempt(`${what} ${name}`, fn)));

    await all('provision', this.gatewayProxyJobs(c));

    let gatewayState: GatewayState | undefined;
    try {
      gatewayState = this.gatewayModel.compute(gatewayWorld(c, this.tlsSecrets));
    } catch (err) {
      failures.push(`gateway model: ${(err as Error).message}`);
    }
    if (gatewayState) {
      await all('status', this.gatewayStatusJobs(c, gatewayState));
      this.recordEvents(c, this.gatewayEvents.fresh(gatewayState.events), 'gateway');
    }

    let ingressState: IngressState | undefined;
    try {
      ingressState = computeIngressState(ingressWorld(c, this.tlsSecrets));
    } catch (err) {
      failures.push(`ingress model: ${(err as Error).message}`);
    }
    if (ingressState) {
      const wanted = ingressState.statuses.size > 0;
      provisionedProxies.set({ kind: 'ingress' }, wanted ? 1 : 0);
      await attempt('ingress proxy', () => this.ingressProxy(wanted));
      await all('status', this.ingressStatusJobs(c, ingressState));
      this.recordEvents(c, this.ingressEvents.fresh(ingressState.events), 'ingress');
    }

    if (failures.length > 0) throw new Error(failures.join('; '));
  }

  private gatewayProxyJobs(c: Caches): [string, () => Promise<unknown>][] {
    const ours = ourGatewayClasses(c.gatewayClasses);
    const jobs: [string, () => Promise<unknown>][] = [];
    const wanted = new Map<string, string>(); // gateway uid -> provisioned name
    for (const gw of c.gateways) {
      const cls = ourClassOf(gw, ours);
      if (!cls || gw.metadata.deletionTimestamp) continue;
      const objs = gatewayProxyObjects(gw, cls, this.opts.apiService);
      wanted.set(gw.metadata.uid ?? '', objs.name);
      jobs.push([
        `Gateway ${objectKey(gw)}`,
        async () => {
          const problem = await this.provisioner.ensure(objs, gw.metadata.uid);
          this.provisioningProblem(gw, problem);
        },
      ]);
    }
    provisionedProxies.set({ kind: 'gateway' }, wanted.size);
    // Proxies of Gateways that changed class or left our classes (a deleted Gateway's go with the garbage collector).
    const gatewayUids = new Set(c.gateways.map((g) => g.metadata.uid));
    for (const uid of this.provisionProblems.keys()) if (!wanted.has(uid)) this.provisionProblems.delete(uid);
    for (const dep of c.deployments) {
      if (dep.metadata.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY || dep.metadata.labels?.[GATEWAY_NAME_LABEL] === undefined) continue;
      const owner = dep.metadata.ownerReferences?.find((o) => o.controller && o.kind === 'Gateway');
      if (!owner || !gatewayUids.has(owner.uid) || wanted.get(owner.uid) === dep.metadata.name) continue;
      const ns = dep.metadata.namespace ?? '';
      const name = dep.metadata.name ?? '';
      jobs.push([`stale proxy ${ns}/${name}`, () => this.provisioner.remove(ns, name, tokenSecretName(name))]);
    }
    return jobs;
  }

  /** The provisioning problem last reported per Gateway uid: a Warning is recorded when it appears or changes. */
  private readonly provisionProblems = new Map<string, string>();

  private provisioningProblem(gw: KubeObject, problem: string | undefined): void {
    const uid = gw.metadata.uid ?? '';
    if (!problem) {
      this.provisionProblems.delete(uid);
      return;
    }
    if (this.provisionProblems.get(uid) === problem) return;
    this.provisionProblems.set(uid, problem);
    this.ctx.events.record(gw, 'Warning', 'ProvisioningFailed', problem);
  }

  /**
   * Writes a status unless the cache still shows the version this controller replaced with its
   * last write (the informer has not delivered that write yet and will trigger another pass).
   */
  private async status(r: ResourceInfo, obj: KubeObject, statusOf: StatusOf): Promise<WriteOutcome | 'pending'> {
    const key = `${r.plural}/${objectKey(obj)}`;
    const pending = this.replacedVersions.get(key);
    if (pending && pending.rv === obj.metadata.resourceVersion && Date.now() - pending.at < STALE_CACHE_GRACE_MS) return 'pending';
    this.replacedVersions.delete(key);
    const { outcome } = await writeStatus(this.ctx.client, r, obj, statusOf);
    if (outcome !== 'written') return outcome;
    statusWrites.inc({ kind: r.kind });
    if (obj.metadata.resourceVersion) this.replacedVersions.set(key, { rv: obj.metadata.resourceVersion, at: Date.now() });
    return outcome;
  }

  private gatewayStatusJobs(c: Caches, state: GatewayState): [string, () => Promise<unknown>][] {
    const jobs: [string, () => Promise<unknown>][] = [];
    const now = nowTimestamp();
    for (const cls of c.gatewayClasses) {
      const wanted = state.gatewayClasses.get(cls.metadata.name ?? '');
      if (!wanted) continue;
      jobs.push([`GatewayClass ${cls.metadata.name}`, () => this.status(R.gatewayclasses, cls, (s) => gatewayClassStatus(s, wanted, now))]);
    }
    for (const gw of c.gateways) {
      const wanted = state.gateways.get(objectKey(gw));
      if (!wanted) continue;
      jobs.push([`Gateway ${objectKey(gw)}`, () => this.status(R.gateways, gw, (s) => gatewayStatus(s, wanted.status, now))]);
    }
    const pass = ++this.pass;
    let routes = 0;
    for (const { kind, r, cache } of ROUTE_RESOURCES) {
      for (const route of c[cache]) {
        routes += 1;
        const id = `${kind}/${objectKey(route)}`;
        const wanted = state.routes.get(id) ?? NO_PARENTS;
        const checked = this.routeStatusChecked.get(id);
        if (checked && checked.obj === route && checked.wanted === wanted) {
          checked.pass = pass;
          continue;
        }
        this.routeStatusChecked.delete(id);
        jobs.push([
          `${kind} ${objectKey(route)}`,
          async () => {
            const outcome = await this.status(r, route, (s) => routeStatus(s, GATEWAY_CONTROLLER_NAME, wanted, now));
            // Written, gone or pending: the informer brings a new object (or a delete) and it is planned again.
            if (outcome === 'unchanged') this.routeStatusChecked.set(id, { obj: route, wanted, pass });
          },
        ]);
      }
    }
    // Routes deleted since: their entries go.
    if (this.routeStatusChecked.size > routes) for (const [id, checked] of this.routeStatusChecked) if (checked.pass !== pass) this.routeStatusChecked.delete(id);
    return jobs;
  }

  private async ingressProxy(wanted: boolean): Promise<void> {
    const objs = ingressProxyObjects(this.opts.apiService);
    if (!wanted) return this.provisioner.remove(objs.namespace, objs.name, objs.secretName);
    await this.provisioner.ensureNamespace(INGRESS_NAMESPACE);
    const problem = await this.provisioner.ensure(objs);
    if (problem) this.log.warn('ingress proxy not provisioned', { problem });
  }

  private ingressStatusJobs(c: Caches, state: IngressState): [string, () => Promise<unknown>][] {
    const jobs: [string, () => Promise<unknown>][] = [];
    for (const ing of c.ingresses) {
      const wanted = state.statuses.get(objectKey(ing));
      if (!wanted) continue;
      jobs.push([`Ingress ${objectKey(ing)}`, () => this.status(R.ingresses, ing, (s) => ingressStatus(s, wanted))]);
    }
    return jobs;
  }

  private recordEvents(c: Caches, events: ModelEvent[], model: 'gateway' | 'ingress'): void {
    for (const e of events) {
      modelEvents.inc({ model });
      const obj = findObject(c, e) ?? { apiVersion: undefined, kind: e.kind, metadata: { name: e.name, namespace: e.namespace } };
      this.ctx.events.record(obj, 'Warning', e.reason, e.message);
    }
  }
}

const CACHE_OF_KIND: Record<string, keyof Caches> = {
  GatewayClass: 'gatewayClasses',
  Gateway: 'gateways',
  HTTPRoute: 'httpRoutes',
  GRPCRoute: 'grpcRoutes',
  TLSRoute: 'tlsRoutes',
  TCPRoute: 'tcpRoutes',
  UDPRoute: 'udpRoutes',
  ReferenceGrant: 'referenceGrants',
  Ingress: 'ingresses',
  IngressClass: 'ingressClasses',
  Service: 'services',
  Secret: 'secrets',
};

function findObject(c: Caches, e: ModelEvent): KubeObject | undefined {
  const cache = CACHE_OF_KIND[e.kind];
  if (!cache) return undefined;
  return c[cache].find((o) => o.metadata.name === e.name && (o.metadata.namespace ?? undefined) === (e.namespace ?? undefined));
}
