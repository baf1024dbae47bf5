// The namespace controller: when a Namespace is being deleted, deletes everything namespaced
// in it, waits until nothing is left, then removes the `kubernetes` finalizer through
// PUT /api/v1/namespaces/<ns>/finalize so the API server can delete the Namespace.
import { R, RESOURCES, type ResourceInfo } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { isNotFound } from '../client/client.js';
import type { Controller, ControllerContext } from './context.js';
import { WorkQueue } from './queue.js';

export const NAMESPACE_FINALIZER = 'kubernetes';

/** Every resource that lives in namespaces and can be listed and deleted. */
export function namespacedResources(): ResourceInfo[] {
  return RESOURCES.filter((r) => r.namespaced && r.verbs.includes('list') && r.verbs.includes('delete'));
}

/** The Namespace as PUT to /finalize: spec.finalizers without `kubernetes`. */
export function finalizedNamespace(ns: KubeObject): KubeObject {
  const spec = { ...((ns.spec as Record<string, unknown>) ?? {}) };
  spec.finalizers = ((spec.finalizers as string[] | undefined) ?? []).filter((f) => f !== NAMESPACE_FINALIZER);
  return { ...ns, spec };
}

export class NamespaceController implements Controller {
  readonly name = 'namespace-controller';
  private readonly queue: WorkQueue;
  private readonly namespaces;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(this.name, (key) => this.sync(key), ctx.log.child({ controller: this.name }), { maxDelayMs: 5000 });
    this.namespaces = ctx.informers.for(R.namespaces);
    const enqueue = (ns: KubeObject) => {
      if (ns.metadata.deletionTimestamp) this.queue.add(ns.metadata.name!);
    };
    this.namespaces.addHandlers({ add: enqueue, update: enqueue });
  }

  start(): void {
    this.queue.start();
  }

  stop(): void {
    this.queue.stop();
  }

  private async sync(name: string): Promise<void> {
    const ns = this.namespaces.get(undefined, name);
    if (!ns || !ns.metadata.deletionTimestamp) return;
    const finalizers = ((ns.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []) as string[];
    if (!finalizers.includes(NAMESPACE_FINALIZER)) return;
    let remaining = 0;
    for (const r of namespacedResources()) {
      const list = await this.ctx.client.list(r, { namespace: name });
      for (const obj of list.items) {
        remaining++;
        if (obj.metadata.deletionTimestamp) continue;
        try {
          await this.ctx.client.delete(r, name, obj.metadata.name!, { propagationPolicy: 'Background' });
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
    }
    if (remaining > 0) {
      // Look again soon: deletions with grace periods or finalizers take a while.
      this.queue.addAfter(name, 500);
      return;
    }
    await this.ctx.client.update(R.namespaces, finalizedNamespace(ns), { subresource: 'finalize' });
    this.ctx.log.info('namespace emptied and finalized', { namespace: name });
  }
}
