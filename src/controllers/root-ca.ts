// The root-ca-cert-publisher: keeps the ConfigMap `kube-root-ca.crt` (ca.crt: the cluster CA)
// in every namespace, recreating or correcting it when it is deleted or edited (plan in
// root-ca-plan.ts).
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { isAlreadyExists, isConflict, isNotFound } from '../client/client.js';
import type { Controller, ControllerContext } from './context.js';
import { WorkQueue } from './queue.js';
import { ROOT_CA_CONFIGMAP, rootCAWrite } from './root-ca-plan.js';

export class RootCAController implements Controller {
  readonly name = 'root-ca-cert-publisher';
  private readonly queue: WorkQueue;
  private readonly namespaces;
  private readonly configmaps;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly caPem: string,
  ) {
    this.queue = new WorkQueue(this.name, (ns) => this.sync(ns), ctx.log.child({ controller: this.name }), { maxDelayMs: 5000 });
    this.namespaces = ctx.informers.for(R.namespaces);
    this.configmaps = ctx.informers.for(R.configmaps);
    const byNamespace = (ns: KubeObject) => this.queue.add(ns.metadata.name!);
    this.namespaces.addHandlers({ add: byNamespace, update: byNamespace });
    const byConfigMap = (cm: KubeObject) => {
      if (cm.metadata.name === ROOT_CA_CONFIGMAP) this.queue.add(cm.metadata.namespace!);
    };
    this.configmaps.addHandlers({ update: byConfigMap, delete: byConfigMap });
  }

  start(): void {
    this.queue.start();
  }

  stop(): void {
    this.queue.stop();
  }

  private async sync(namespace: string): Promise<void> {
    const write = rootCAWrite(this.namespaces.get(undefined, namespace), this.configmaps.get(namespace, ROOT_CA_CONFIGMAP), this.caPem);
    try {
      if (write.create) await this.ctx.client.create(R.configmaps, write.create);
      if (write.update) await this.ctx.client.update(R.configmaps, write.update);
    } catch (err) {
      // The informer is behind: the next event brings the current object.
      if (isAlreadyExists(err) || isConflict(err) || isNotFound(err)) return;
      throw err;
    }
  }
}
