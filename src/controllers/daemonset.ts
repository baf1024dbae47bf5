// The DaemonSet controller: one pod per eligible node, rolling updates and status, as
// daemonset-plan.ts decides; the scheduler binds each pod by its node-name affinity.
import { R } from '../api/resources.js';
import { objectKey } from '../client/informer.js';
import type { ControllerContext } from './context.js';
import { daemonPod, daemonSetRevision, planDaemonSet, REVISION_LABEL, type DaemonSet } from './daemonset-plan.js';
import type { ControllerRevision } from './controller-revisions.js';
import { syncRevisions } from './controller-revisions-sync.js';
import { isOwnedBy } from './replicaset-plan.js';
import { semanticJSON } from './names.js';
import { PodOwnerController } from './pod-owner.js';
import { writeOwnedPods } from './pod-writes.js';
import type { Node } from './types.js';

export class DaemonSetController extends PodOwnerController<DaemonSet> {
  private readonly nodes;
  private readonly revisions;

  constructor(ctx: ControllerContext) {
    super(ctx, { name: 'daemonset-controller', resource: R.daemonsets, workers: 4 });
    this.nodes = ctx.informers.for<Node>(R.nodes);
    this.revisions = ctx.informers.byNamespace<ControllerRevision>(R.controllerrevisions);
    const everySet = () => {
      for (const s of this.owners.informer.list()) this.queue.add(objectKey(s));
    };
    this.nodes.addHandlers({ add: everySet, update: (n, old) => void (semanticJSON(nodeFacts(n)) !== semanticJSON(nodeFacts(old)) && everySet()), delete: everySet });
  }

  protected async reconcile(key: string, ds: DaemonSet): Promise<void> {
    const name = ds.metadata.name!;
    const pods = this.pods.list(ds.metadata.namespace);
    const hash = daemonSetRevision(ds);
    const live = new Set([`${name}-${hash}`]);
    for (const p of pods) if (isOwnedBy(p, ds.metadata.uid)) live.add(`${name}-${p.metadata.labels?.[REVISION_LABEL] ?? ''}`);
    await syncRevisions(this.ctx, this.revisions, this.typed(ds), `${name}-${hash}`, hash, live);
    const plan = planDaemonSet(ds, this.nodes.list(), pods, Date.now());
    await writeOwnedPods(this.ctx, this.expectations, key, ds, plan.create.map((node) => daemonPod(ds, node)), plan.delete);
    await this.writeStatus(ds, plan.status);
    this.recheckAfter(key, plan.recheckAfterMs);
  }
}

/** What of a node decides where daemon pods run. */
function nodeFacts(n: Node): unknown {
  return { labels: n.metadata.labels, spec: n.spec, ready: n.status?.conditions?.find((c) => c.type === 'Ready')?.status };
}
