// The EndpointSlice mirroring controller: EndpointSlices for Services without a selector whose
// Endpoints the user wrote (endpointslice-mirroring-plan.ts), managed by
// endpointslicemirroring-controller.k8s.io.
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import type { Controller, ControllerContext } from './context.js';
import { splitKey } from './context.js';
import type { Endpoints } from './endpoints-plan.js';
import { MANAGED_BY_LABEL, MIRROR_MANAGED_BY, SERVICE_NAME_LABEL, planSlices, type EndpointSlice } from './endpointslice-plan.js';
import { mirroredGroups, shouldMirror } from './endpointslice-mirroring-plan.js';
import { Expectations } from './expectations.js';
import { generatedName } from './names.js';
import { WorkQueue } from './queue.js';
import { applySlicePlan, deleteSlice } from './slice-writer.js';
import type { Service } from './types.js';

export class EndpointSliceMirroringController implements Controller {
  readonly name = 'endpointslice-mirroring-controller';
  private readonly queue: WorkQueue;
  private readonly expectations = new Expectations();
  private readonly services;
  private readonly endpoints;
  private readonly slices;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(this.name, (key) => this.sync(key), ctx.log.child({ controller: this.name }));
    this.services = ctx.informers.byNamespace<Service>(R.services);
    this.endpoints = ctx.informers.byNamespace<Endpoints>(R.endpoints);
    this.slices = ctx.informers.byNamespace<EndpointSlice>(R.endpointslices);
    const enqueue = (o: KubeObject) => this.queue.add(`${o.metadata.namespace}/${o.metadata.name}`);
    this.services.informer.addHandlers({ add: enqueue, update: enqueue, delete: enqueue });
    this.endpoints.informer.addHandlers({ add: enqueue, update: enqueue, delete: enqueue });
    const sliceChanged = (s: EndpointSlice) => {
      const labels = s.metadata.labels ?? {};
      if (labels[MANAGED_BY_LABEL] === MIRROR_MANAGED_BY && labels[SERVICE_NAME_LABEL]) this.queue.add(`${s.metadata.namespace}/${labels[SERVICE_NAME_LABEL]}`);
    };
    this.slices.informer.addHandlers({ add: sliceChanged, update: sliceChanged, delete: sliceChanged });
  }

  start(): void {
    this.queue.start();
  }

  stop(): void {
    this.queue.stop();
  }

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    if (!this.expectations.satisfied(key, (k) => this.slices.getByKey(k))) {
      this.queue.addAfter(key, 50);
      return;
    }
    const svc = this.services.get(namespace, name);
    const ep = this.endpoints.get(namespace, name);
    const mirrored = this.slices
      .list(namespace)
      .filter((s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === name && s.metadata.labels?.[MANAGED_BY_LABEL] === MIRROR_MANAGED_BY);
    if (!shouldMirror(svc, ep)) {
      for (const s of mirrored) await deleteSlice(this.ctx, this.expectations, key, s);
      return;
    }
    const groups = mirroredGroups(ep!);
    if (groups.size === 0) {
      // No addresses: no mirrored slices (no placeholder either).
      for (const s of mirrored) await deleteSlice(this.ctx, this.expectations, key, s);
      return;
    }
    const plan = planSlices(svc!, groups, mirrored, () => generatedName(name), MIRROR_MANAGED_BY);
    await applySlicePlan(this.ctx, this.expectations, key, plan, this.slices);
  }
}
