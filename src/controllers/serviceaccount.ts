// The serviceaccount controller: creates the `default` ServiceAccount in every namespace, and
// again when someone deletes it (plan in serviceaccount-plan.ts).
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { isAlreadyExists } from '../client/client.js';
import type { Controller, ControllerContext } from './context.js';
import { WorkQueue } from './queue.js';
import { DEFAULT_SERVICE_ACCOUNT_NAME, missingDefaultServiceAccount } from './serviceaccount-plan.js';

export class ServiceAccountController implements Controller {
  readonly name = 'serviceaccount-controller';
  private readonly queue: WorkQueue;
  private readonly namespaces;
  private readonly accounts;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(this.name, (ns) => this.sync(ns), ctx.log.child({ controller: this.name }), { maxDelayMs: 5000 });
    this.namespaces = ctx.informers.for(R.namespaces);
    this.accounts = ctx.informers.for(R.serviceaccounts);
    const byNamespace = (ns: KubeObject) => this.queue.add(ns.metadata.name!);
    this.namespaces.addHandlers({ add: byNamespace, update: byNamespace });
    this.accounts.addHandlers({
      delete: (sa: KubeObject) => {
        if (sa.metadata.name === DEFAULT_SERVICE_ACCOUNT_NAME) this.queue.add(sa.metadata.namespace!);
      },
    });
  }

  start(): void {
    this.queue.start();
  }

  stop(): void {
    this.queue.stop();
  }

  private async sync(namespace: string): Promise<void> {
    const create = missingDefaultServiceAccount(this.namespaces.get(undefined, namespace), this.accounts.get(namespace, DEFAULT_SERVICE_ACCOUNT_NAME));
    if (!create) return;
    try {
      await this.ctx.client.create(R.serviceaccounts, create);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
}
