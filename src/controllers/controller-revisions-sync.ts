// Writes what planRevisions decides for one StatefulSet or DaemonSet: the thin, API-touching half
// of controller-revisions.ts, shared by both controllers.
import { R } from '../api/resources.js';
import { isAlreadyExists, isNotFound } from '../client/client.js';
import type { ControllerContext } from './context.js';
import { planRevisions, type ControllerRevision, type RevisionOwner } from './controller-revisions.js';
import type { NamespaceIndex } from '../client/shared-informers.js';
import { isOwnedBy } from './replicaset-plan.js';

/** Brings the owner's ControllerRevisions in line; answers the owner's revisions as the cache shows them. */
export async function syncRevisions(
  ctx: ControllerContext,
  revisions: NamespaceIndex<ControllerRevision>,
  owner: RevisionOwner,
  updateName: string,
  hash: string,
  live: Set<string>,
): Promise<ControllerRevision[]> {
  const owned = revisions.list(owner.metadata.namespace).filter((r) => isOwnedBy(r, owner.metadata.uid));
  if (owner.metadata.deletionTimestamp) return owned;
  const plan = planRevisions(owner, owned, updateName, hash, live);
  if (plan.create) {
    try {
      await ctx.client.create(R.controllerrevisions, plan.create);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err; // the cache will show it
    }
  }
  if (plan.renumber) await ctx.client.update(R.controllerrevisions, plan.renumber);
  for (const r of plan.delete) {
    try {
      await ctx.client.delete(R.controllerrevisions, r.metadata.namespace, r.metadata.name!);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  return owned;
}
