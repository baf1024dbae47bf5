// The Endpoints controller: the legacy core/v1 Endpoints of every Service with a selector
// (see endpoints-plan.ts). Endpoints of Services without a selector belong to the user.
import { R } from '../api/resources.js';
import { isAlreadyExists, isNotFound } from '../client/client.js';
import { objectKey } from '../client/informer.js';
import type { Controller, ControllerContext } from './context.js';
import { splitKey } from './context.js';
import { desiredEndpointsObject, endpointsUpdate, SKIP_MIRROR_LABEL, type Endpoints } from './endpoints-plan.js';
import { Expectations } from './expectations.js';
import { hasManagedEndpoints } from './pod-endpoints.js';
import { WorkQueue } from './queue.js';
import { matchesMap } from './selector.js';
import type { Pod, Service } from './types.js';

export class EndpointsController implements Controller {
  readonly name = 'endpoints-controller';
  private readonly queue: WorkQueue;
  private readonly expectations = new Expectations();
  private readonly services;
  private readonly pods;
  private readonly endpoints;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(this.name, (key) => this.sync(key), ctx.log.child({ controller: this.name }));
    this.services = ctx.informers.byNamespace<Service>(R.services);
    this.pods = ctx.informers.byNamespace<Pod>(R.pods);
    this.endpoints = ctx.informers.byNamespace<Endpoints>(R.endpoints);
    const enqueue = (o: { metadata: { namespace?: string; name?: string } }) => this.queue.add(`${o.metadata.namespace}/${o.metadata.name}`);
    this.services.informer.addHandlers({ add: enqueue, update: enqueue, delete: enqueue });
    this.endpoints.informer.addHandlers({ update: enqueue, delete: enqueue });
    const podChanged = (pod: Pod, old?: Pod) => {
      for (const svc of this.services.list(pod.metadata.namespace)) {
        if (matchesMap(svc.spec.selector, pod.metadata.labels) || (old && matchesMap(svc.spec.selector, old.metadata.labels))) enqueue(svc);
      }
    };
    this.pods.informer.addHandlers({ add: (p) => podChanged(p), update: podChanged, delete: (p) => podChanged(p) });
  }

  start(): void {
    this.queue.start();
  }

  stop(): void {
    this.queue.stop();
  }

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    if (!this.expectations.satisfied(key, () => this.endpoints.get(namespace, name))) {
      this.queue.addAfter(key, 50);
      return;
    }
    const svc = this.services.get(namespace, name);
    const current = this.endpoints.get(namespace, name);
    if (!svc) {
      // The Service is gone: remove the Endpoints this controller wrote for it.
      if (current?.metadata.labels?.[SKIP_MIRROR_LABEL] === 'true') {
        await this.ctx.client.delete(R.endpoints, namespace, name);
        this.expectations.expect(key, key, 'delete');
      }
      return;
    }
    if (!hasManagedEndpoints(svc)) return;
    const desired = desiredEndpointsObject(svc, this.pods.list(namespace));
    if (!current) {
      try {
        await this.ctx.client.create(R.endpoints, desired);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
      this.expectations.expect(key, objectKey(desired), 'create');
      return;
    }
    const update = endpointsUpdate(desired, current);
    if (!update) return;
    try {
      await this.ctx.client.update(R.endpoints, update);
    } catch (err) {
      if (isNotFound(err)) return this.queue.add(key);
      throw err;
    }
    this.expectations.expect(key, key, 'update', current.metadata.resourceVersion);
  }
}
