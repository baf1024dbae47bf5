// Keeps the system namespaces and the `kubernetes` Service, Endpoints and EndpointSlices in
// `default` as kubernetes-service-plan.ts says, listing every API server whose endpoint Lease is
// live (apiserver-endpoints-plan.ts; each server renews its own: src/apiserver/apiserver-lease.ts),
// at start, on any change to them or to those Leases, when the next Lease would expire, and every 30 s.
import { R, type ResourceInfo } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { isAlreadyExists, isNotFound } from '../client/client.js';
import type { Controller, ControllerContext } from './context.js';
import {
  APISERVER_LEASE_LABEL,
  APISERVER_LEASE_NAMESPACE,
  desiredKubernetesEndpoints,
  desiredKubernetesSlices,
  kubernetesTargetPort,
  liveApiServers,
  type ApiServerAddress,
} from './apiserver-endpoints-plan.js';
import {
  desiredKubernetesService,
  kubernetesObjectUpdate,
  SYSTEM_NAMESPACES,
  type ApiServerEndpoint,
} from './kubernetes-service-plan.js';
import { WorkQueue } from './queue.js';

const RESYNC_MS = 30_000;

export class KubernetesServiceController implements Controller {
  readonly name = 'kubernetes-service-controller';
  private readonly queue: WorkQueue;
  private timer: NodeJS.Timeout | undefined;
  private expiry: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly endpoint: ApiServerEndpoint,
  ) {
    this.queue = new WorkQueue(this.name, () => this.sync(), ctx.log.child({ controller: this.name }), { workers: 1 });
    const watch = (r: ResourceInfo) =>
      ctx.informers.for(r).addHandlers({
        update: (o) => this.mine(o) && this.queue.add('sync'),
        delete: (o) => this.mine(o) && this.queue.add('sync'),
      });
    watch(R.services);
    watch(R.endpoints);
    watch(R.endpointslices);
    ctx.informers.for(R.leases).addHandlers({
      add: (o) => this.isApiServerLease(o) && this.queue.add('sync'),
      update: (o) => this.isApiServerLease(o) && this.queue.add('sync'),
      delete: (o) => this.isApiServerLease(o) && this.queue.add('sync'),
    });
  }

  private isApiServerLease(o: KubeObject): boolean {
    return o.metadata.namespace === APISERVER_LEASE_NAMESPACE && o.metadata.labels?.[APISERVER_LEASE_LABEL] === 'true';
  }

  private mine(o: KubeObject): boolean {
    return o.metadata.namespace === 'default' && (o.metadata.name === 'kubernetes' || o.metadata.labels?.['kubernetes.io/service-name'] === 'kubernetes');
  }

  start(): void {
    this.queue.start();
    this.queue.add('sync');
    this.timer = setInterval(() => this.queue.add('sync'), RESYNC_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.expiry) clearTimeout(this.expiry);
    this.queue.stop();
  }

  private async sync(): Promise<void> {
    for (const ns of SYSTEM_NAMESPACES) {
      if (this.ctx.informers.for(R.namespaces).get(undefined, ns)) continue;
      try {
        await this.ctx.client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
    }
    const { live, nextExpiryMs } = liveApiServers(this.ctx.informers.for(R.leases).list(), Date.now());
    // This server runs the controllers, so it is alive whether or not its Lease is written yet.
    const self: ApiServerAddress = { ip: this.endpoint.advertiseAddress, port: this.endpoint.advertisePort };
    if (!live.some((a) => a.ip === self.ip && a.port === self.port)) live.push(self);
    await this.ensure(R.services, desiredKubernetesService(this.endpoint, kubernetesTargetPort(live)));
    await this.ensure(R.endpoints, desiredKubernetesEndpoints(live));
    const slices = desiredKubernetesSlices(live);
    for (const slice of slices) await this.ensure(R.endpointslices, slice);
    await this.removeStaleSlices(new Set(slices.map((s) => s.metadata.name!)));
    if (this.expiry) clearTimeout(this.expiry);
    this.expiry = undefined;
    if (nextExpiryMs !== undefined) {
      this.expiry = setTimeout(() => this.queue.add('sync'), Math.max(nextExpiryMs - Date.now(), 0) + 100);
      this.expiry.unref();
    }
  }

  /** Slices of the kubernetes Service for a port no live API server has any more. */
  private async removeStaleSlices(wanted: Set<string>): Promise<void> {
    for (const slice of this.ctx.informers.for(R.endpointslices).list()) {
      const name = slice.metadata.name!;
      if (slice.metadata.namespace !== 'default' || slice.metadata.labels?.['kubernetes.io/service-name'] !== 'kubernetes' || wanted.has(name)) continue;
      if (!/^kubernetes(-\d+)?$/.test(name)) continue;
      try {
        await this.ctx.client.delete(R.endpointslices, 'default', name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  private async ensure(r: ResourceInfo, desired: KubeObject): Promise<void> {
    const client = this.ctx.client;
    const name = desired.metadata.name!;
    const current = await client.get(r, 'default', name);
    if (!current) {
      try {
        await client.create(r, desired);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
      return;
    }
    const update = kubernetesObjectUpdate(desired, current);
    if (update === 'recreate') {
      this.ctx.log.warn('the kubernetes Service has the wrong cluster IP; recreating it', { want: (desired.spec as { clusterIP: string }).clusterIP });
      try {
        await client.delete(r, 'default', name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      await client.create(r, desired);
    } else if (update) {
      await client.update(r, update);
    }
  }
}
