// The four patch types and server-side apply.
import type { ResourceInfo } from '../resources.js';
import type { KubeObject } from '../types.js';
import { GATEWAY_API_GROUP } from '../resources.js';
import { schemaFor } from '../schema/index.js';
import { applyConfiguration } from './apply.js';
import { isObject } from './json-value.js';
import { jsonPatch } from './json.js';
import { recordUpdateOperation } from './managed-fields.js';
import { mergePatch } from './merge.js';
import { PatchError } from './errors.js';
import { strategicMergePatch } from './strategic.js';

export { PatchError } from './errors.js';
export { applyConflictMessage } from './apply.js';

/** application/merge-patch+json (RFC 7386). */
export function applyMergePatch(original: unknown, patch: unknown): unknown {
  return mergePatch(original, patch);
}

/** application/json-patch+json (RFC 6902): add, remove, replace, move, copy, test. */
export function applyJsonPatch(original: unknown, operations: unknown): unknown {
  return jsonPatch(original, operations);
}

/**
 * application/strategic-merge-patch+json with the kind's merge keys and directives. Gateway API kinds
 * (served like CRDs) take it as a JSON merge patch, as kubectl sends SMP to them by default.
 */
export function applyStrategicMergePatch(r: ResourceInfo, original: KubeObject, patch: unknown): KubeObject {
  if (!isObject(patch)) throw new PatchError('strategic merge patch must be a JSON object', 400);
  if (r.group === GATEWAY_API_GROUP || !schemaFor(r)) return mergePatch(original, patch) as KubeObject;
  return strategicMergePatch(original as Record<string, unknown>, patch, schemaFor(r)) as KubeObject;
}

export interface ApplyConflict {
  manager: string;
  /** .spec.replicas */
  field: string;
  /** The conflicting entry's operation, apiVersion and time (for upstream's wording of the manager). */
  operation?: 'Apply' | 'Update';
  apiVersion?: string;
  time?: string;
  subresource?: string;
}

export type ApplyResult = { object: KubeObject; conflicts?: undefined } | { object?: undefined; conflicts: ApplyConflict[] };

/**
 * application/apply-patch+yaml: merges `applied` into `live` (undefined = create), owned by
 * `manager`, recording metadata.managedFields. Conflicts with other managers unless `force`.
 */
export function serverSideApply(r: ResourceInfo, live: KubeObject | undefined, applied: KubeObject, manager: string, force: boolean, subresource?: 'status' | 'approval'): ApplyResult {
  return applyConfiguration(r, live, applied, manager, force, subresource);
}

/**
 * Records an Update operation by `manager` in managedFields (for non-apply writes), so later
 * applies see who owns which field.
 */
export function recordUpdate(r: ResourceInfo, old: KubeObject | undefined, obj: KubeObject, manager: string, subresource?: string, withoutStatus = false): KubeObject {
  return recordUpdateOperation(r, old, obj, manager, subresource, withoutStatus);
}

/** The managedFields recordUpdate gives `obj` (undefined: none), for a caller that sets them on `obj` itself. */
export { managedFieldsAfterUpdate } from './managed-fields.js';
