// The strategy of a resource with no behaviour of its own, and the pieces other strategies share.
import type { ResourceInfo } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import * as validation from '../../api/validation/index.js';
import { clone, deepEqual, equalExcept } from '../objects.js';
import { specResetStatusUpdate } from './status.js';
import type { GenerationRule, ResourceStrategy } from './types.js';

export function hasStatusSubresource(r: ResourceInfo): boolean {
  return r.subresources.some((s) => s.name === 'status');
}

/** Upstream's usual rule: a change of anything but metadata and status (spec, for most kinds). */
export const SPEC_GENERATION: GenerationRule = { ignores: ['metadata', 'status', 'apiVersion', 'kind'] };

/** Whether `next` differs from `old` in what `rule` counts. */
export function generationChanged(rule: GenerationRule, next: KubeObject, old: KubeObject): boolean {
  if (!equalExcept(next, old, rule.ignores)) return true;
  return (rule.metadata ?? []).some((field) => !deepEqual(next.metadata[field] ?? {}, old.metadata[field] ?? {}));
}

/**
 * No metadata.generation, status (when the kind has the subresource) cleared on create and kept on
 * updates of the object, the kind's defaults and validation, an immediate delete answered with a
 * Status.
 */
export const defaultStrategy: ResourceStrategy = {
  nameFormat: 'subdomain',
  allowCreateOnUpdate: false,
  returnsDeletedObject: false,
  generation: undefined,
  strategicMerge: 'strategic',
  deletionFinalizers: [],
  propagationFinalizers: true,
  prepareForCreate(r, obj) {
    if (hasStatusSubresource(r)) obj.status = {};
  },
  prepareForUpdate(r, next, old) {
    if (!hasStatusSubresource(r)) return;
    if (old.status === undefined) delete next.status;
    else next.status = clone(old.status);
  },
  prepareForStatusUpdate: specResetStatusUpdate,
  applyDefaults(r, obj) {
    validation.applyDefaults(r, obj);
  },
  canonicalize() {},
  validateCreate(r, obj) {
    return validation.validateCreate(r, obj);
  },
  validateUpdate(r, next, old) {
    return validation.validateUpdate(r, next, old);
  },
  gracePeriod() {
    return 0;
  },
  deletionComplete(obj) {
    return (obj.metadata.deletionGracePeriodSeconds ?? 0) === 0;
  },
};

/** A strategy that tracks metadata.generation by `rule` and is otherwise the default. */
export function withGeneration(rule: GenerationRule = SPEC_GENERATION): ResourceStrategy {
  return { ...defaultStrategy, generation: rule };
}
