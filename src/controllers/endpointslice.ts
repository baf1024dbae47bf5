// The EndpointSlice controller: for every Service with a selector, the discovery.k8s.io/v1
// EndpointSlices listing its pods (see endpointslice-plan.ts for what it writes).
import { R } from '../api/resources.js';
import { objectKey } from '../client/informer.js';
import type { ControllerContext, Controller } from './context.js';
import { splitKey } from './context.js';
import { Expectations } from './expectations.js';
import { isManagedSliceOf, planEndpointSlices, SERVICE_NAME_LABEL, MANAGED_BY, MANAGED_BY_LABEL, type EndpointSlice } from './endpointslice-plan.js';
import { hasManagedEndpoints } from './pod-endpoints.js';
import { generatedName } from './names.js';
import { WorkQueue } from './queue.js';
import { applySlicePlan, deleteSlice } from './slice-writer.js';
import { matchesMap } from './selector.js';
import type { Pod, Service } from './types.js';

export class EndpointSliceController implements Controller {
  readonly name = 'endpointslice-controller';
  private readonly queue: WorkQueue;
  private readonly expectations = new Expectations();
  private readonly services;
  private readonly pods;
  private readonly slices;

  constructor(private readonly ctx: ControllerContext) {
    const log = ctx.log.child({ controller: this.name });
    this.queue = new WorkQueue(this.name, (key) => this.sync(key), log);
    this.services = ctx.informers.byNamespace<Service>(R.services);
    this.pods = ctx.informers.byNamespace<Pod>(R.pods);
    this.slices = ctx.informers.byNamespace<EndpointSlice>(R.endpointslices);
    this.services.informer.addHandlers({
      add: (s) => this.queue.add(objectKey(s)),
      update: (s) => this.queue.add(objectKey(s)),
      delete: (s) => this.queue.add(objectKey(s)),
    });
    this.pods.informer.addHandlers({
      add: (p) => this.podChanged(p),
      update: (p, old) => this.podChanged(p, old),
      delete: (p) => this.podChanged(p),
    });
    const sliceChanged = (s: EndpointSlice) => {
      const labels = s.metadata.labels ?? {};
      if (labels[MANAGED_BY_LABEL] === MANAGED_BY && labels[SERVICE_NAME_LABEL]) this.queue.add(`${s.metadata.namespace}/${labels[SERVICE_NAME_LABEL]}`);
    };
    this.slices.informer.addHandlers({ add: sliceChanged, update: sliceChanged, delete: sliceChanged });
  }

  start(): void {
    this.queue.start();
  }

  stop(): void {
    this.queue.stop();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  private podChanged(pod: Pod, old?: Pod): void {
    for (const svc of this.services.list(pod.metadata.namespace)) {
      if (matchesMap(svc.spec.selector, pod.metadata.labels) || (old && matchesMap(svc.spec.selector, old.metadata.labels))) {
        this.queue.add(objectKey(svc));
      }
    }
  }

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    if (!this.expectations.satisfied(key, (k) => this.slices.getByKey(k))) {
      this.queue.addAfter(key, 50);
      return;
    }
    const svc = this.services.get(namespace, name);
    const managed = this.slices
      .list(namespace)
      .filter((s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === name && s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY);
    if (!svc || svc.metadata.deletionTimestamp || !hasManagedEndpoints(svc)) {
      for (const s of managed) await deleteSlice(this.ctx, this.expectations, key, s);
      return;
    }
    const existing = managed.filter((s) => isManagedSliceOf(s, svc));
    const plan = planEndpointSlices(svc, this.pods.list(namespace), existing, () => generatedName(name));
    await applySlicePlan(this.ctx, this.expectations, key, plan, this.slices);
  }
}
