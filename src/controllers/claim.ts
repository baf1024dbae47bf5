// Adoption and release, as upstream's controller-ref manager does them: an owner adopts objects
// that match its selector and have no controller; it releases objects it controls that no
// longer match. Objects being deleted are left alone.
import type { KubeObject, OwnerReference } from '../api/types.js';
import { matchesSelector, type LabelSelector } from './selector.js';

export interface ClaimPlan<T extends KubeObject> {
  adopt: T[];
  release: T[];
}

export function planClaims<T extends KubeObject>(owner: KubeObject, selector: LabelSelector, candidates: T[]): ClaimPlan<T> {
  const plan: ClaimPlan<T> = { adopt: [], release: [] };
  if (owner.metadata.deletionTimestamp) return plan;
  for (const obj of candidates) {
    if (obj.metadata.deletionTimestamp || obj.metadata.namespace !== owner.metadata.namespace) continue;
    const controller = obj.metadata.ownerReferences?.find((r) => r.controller);
    const matches = matchesSelector(selector, obj.metadata.labels);
    if (!controller && matches) plan.adopt.push(obj);
    else if (controller?.uid === owner.metadata.uid && !matches) plan.release.push(obj);
  }
  return plan;
}

export function controllerRefTo(owner: KubeObject): OwnerReference {
  return { apiVersion: owner.apiVersion ?? '', kind: owner.kind ?? '', name: owner.metadata.name ?? '', uid: owner.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

/** The object with `owner` added as its controller. */
export function adopted<T extends KubeObject>(obj: T, owner: KubeObject): T {
  return { ...obj, metadata: { ...obj.metadata, ownerReferences: [...(obj.metadata.ownerReferences ?? []), controllerRefTo(owner)] } };
}

/** The object without its reference to `owner`. */
export function released<T extends KubeObject>(obj: T, owner: KubeObject): T {
  const refs = (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== owner.metadata.uid);
  const metadata: KubeObject['metadata'] = { ...obj.metadata, ownerReferences: refs };
  if (refs.length === 0) delete metadata.ownerReferences;
  return { ...obj, metadata };
}
