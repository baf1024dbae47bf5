// Namespaces (upstream pkg/registry/core/namespace): every namespace carries the
// kubernetes.io/metadata.name label, starts Active with the `kubernetes` finalizer in its spec
// (changed only through /finalize), is deleted by turning Terminating until the namespace
// controller empties spec.finalizers, and a DELETE answers with it. default, kube-system and
// kube-public are never deleted.
import type { KubeObject } from '../../api/types.js';
import { errors } from '../errors.js';
import { defaultStrategy } from './default.js';
import type { ResourceStrategy } from './types.js';

/** The label upstream keeps on every namespace, naming it (namespaceSelectors rely on it). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

function specFinalizers(obj: KubeObject): string[] | undefined {
  return (obj.spec as { finalizers?: string[] } | undefined)?.finalizers;
}

function labelWithName(obj: KubeObject): void {
  obj.metadata.labels = { ...(obj.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: obj.metadata.name ?? '' };
}

export const namespaceStrategy: ResourceStrategy = {
  ...defaultStrategy,
  nameFormat: 'label',
  returnsDeletedObject: true,
  // The namespace controller deletes the contents; no orphan/foreground finalizers on the namespace.
  propagationFinalizers: false,
  prepareForCreate(_r, obj) {
    labelWithName(obj);
    const spec = (obj.spec ??= {}) as { finalizers?: string[] };
    spec.finalizers ??= ['kubernetes'];
    obj.status = { phase: 'Active' };
  },
  prepareForUpdate(r, next, old) {
    defaultStrategy.prepareForUpdate(r, next, old);
    labelWithName(next);
    const spec = (next.spec ??= {}) as { finalizers?: string[] };
    const oldFinalizers = specFinalizers(old);
    if (oldFinalizers) spec.finalizers = oldFinalizers.slice();
    else delete spec.finalizers;
  },
  checkDelete(r, obj) {
    const name = obj.metadata.name ?? '';
    if (IMMORTAL_NAMESPACES.has(name)) throw errors.forbidden(r, name, 'this namespace may not be deleted');
  },
  prepareForDelete(obj) {
    obj.status = { ...((obj.status as object | undefined) ?? {}), phase: 'Terminating' };
  },
  deletionComplete(obj) {
    return (specFinalizers(obj) ?? []).length === 0;
  },
};
