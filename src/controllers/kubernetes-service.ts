// Keeps the system namespaces and the `kubernetes` Service, Endpoints and EndpointSlice in
// `default` as kubernetes-service-plan.ts says, at start, on any change to them, and every 30 s.
import { R, type ResourceInfo } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { isAlreadyExists, isNotFound } from '../client/client.js';
import type { Controller, ControllerContext } from './context.js';
import {
  desiredKubernetesEndpoints,
  desiredKubernetesService,
  desiredKubernetesSlice,
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
  }

  private mine(o: KubeObject): boolean {
    return o.metadata.namespace === 'default' && o.metadata.name === 'kubernetes';
  }

  start(): void {
    this.queue.start();
    this.queue.add('sync');
    this.timer = setInterval(() => this.queue.add('sync'), RESYNC_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
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
    await this.ensure(R.services, desiredKubernetesService(this.endpoint));
    await this.ensure(R.endpoints, desiredKubernetesEndpoints(this.endpoint));
    await this.ensure(R.endpointslices, desiredKubernetesSlice(this.endpoint));
  }

  private async ensure(r: ResourceInfo, desired: KubeObject): Promise<void> {
    const client = this.ctx.client;
    const current = await client.get(r, 'default', 'kubernetes');
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
        await client.delete(r, 'default', 'kubernetes');
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      await client.create(r, desired);
    } else if (update) {
      await client.update(r, update);
    }
  }
}
