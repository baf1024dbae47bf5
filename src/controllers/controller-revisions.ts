// ControllerRevisions of StatefulSets and DaemonSets, as upstream's history package keeps them:
// one per distinct pod template, named `<owner>-<hash>`, carrying the patch that restores the
// template (`{"spec":{"template":{…,"$patch":"replace"}}}`, what `kubectl rollout undo` applies)
// and a revision number; the newest template gets the highest number (a rollback renumbers the
// old revision), and revisions no pod uses are deleted past revisionHistoryLimit.
import type { KubeObject } from '../api/types.js';
import type { PodTemplate } from './types.js';

export const REVISION_HASH_LABEL = 'controller.kubernetes.io/hash';

export interface ControllerRevision extends KubeObject {
  data?: { spec?: { template?: PodTemplate & { $patch?: string } } };
  revision: number;
}

export interface RevisionOwner extends KubeObject {
  spec: { template: PodTemplate; revisionHistoryLimit?: number };
}

export interface RevisionPlan {
  create?: ControllerRevision;
  /** An existing revision that must become the newest (its template came back). */
  renumber?: ControllerRevision;
  delete: ControllerRevision[];
}

/** The revision's template as the pods get it (without the patch directive). */
export function revisionTemplate(cr: ControllerRevision | undefined): PodTemplate | undefined {
  const t = cr?.data?.spec?.template;
  if (!t) return undefined;
  const { $patch: _patch, ...template } = t;
  return template;
}

export function newRevision(owner: RevisionOwner, name: string, hash: string, revision: number): ControllerRevision {
  const template = structuredClone(owner.spec.template ?? {});
  const metadata: ControllerRevision['metadata'] = {
    name,
    namespace: owner.metadata.namespace,
    labels: { ...(template.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: hash },
    ownerReferences: [{ apiVersion: owner.apiVersion ?? 'apps/v1', kind: owner.kind ?? '', name: owner.metadata.name ?? '', uid: owner.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
  };
  if (owner.metadata.annotations && Object.keys(owner.metadata.annotations).length > 0) metadata.annotations = { ...owner.metadata.annotations };
  return { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata, data: { spec: { template: { ...template, $patch: 'replace' } } }, revision };
}

/**
 * `owned`: the owner's revisions; `updateName`/`hash`: the revision of its current template;
 * `live`: revision names still in use (current and update revisions, pods' labels).
 */
export function planRevisions(owner: RevisionOwner, owned: ControllerRevision[], updateName: string, hash: string, live: Set<string>): RevisionPlan {
  const plan: RevisionPlan = { delete: [] };
  const max = owned.reduce((m, r) => Math.max(m, r.revision ?? 0), 0);
  const existing = owned.find((r) => r.metadata.name === updateName);
  if (!existing) plan.create = newRevision(owner, updateName, hash, max + 1);
  else if ((existing.revision ?? 0) < max) plan.renumber = { ...existing, revision: max + 1 };
  const limit = owner.spec.revisionHistoryLimit ?? 10;
  const unused = owned.filter((r) => r.metadata.name !== updateName && !live.has(r.metadata.name ?? '')).sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
  plan.delete = unused.slice(0, Math.max(0, unused.length - limit));
  return plan;
}
