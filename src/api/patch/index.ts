// CONTRACT (owned by the api-semantics work): the four patch types and server-side apply.
import type { ResourceInfo } from '../resources.js';
import type { KubeObject } from '../types.js';

/** A patch that cannot be applied; the API server answers 422 (or 400 for malformed patches) with this message. */
export class PatchError extends Error {
  constructor(
    message: string,
    readonly code: 400 | 409 | 415 | 422 = 422,
  ) {
    super(message);
    this.name = 'PatchError';
  }
}

/** application/merge-patch+json (RFC 7386). */
export function applyMergePatch(_original: unknown, _patch: unknown): unknown {
  throw new Error('applyMergePatch: not implemented yet');
}

/** application/json-patch+json (RFC 6902): add, remove, replace, move, copy, test. */
export function applyJsonPatch(_original: unknown, _operations: unknown): unknown {
  throw new Error('applyJsonPatch: not implemented yet');
}

/** application/strategic-merge-patch+json with the kind's merge keys and directives. */
export function applyStrategicMergePatch(_r: ResourceInfo, _original: KubeObject, _patch: unknown): KubeObject {
  throw new Error('applyStrategicMergePatch: not implemented yet');
}

export interface ApplyConflict {
  manager: string;
  /** .spec.replicas */
  field: string;
}

export type ApplyResult = { object: KubeObject; conflicts?: undefined } | { object?: undefined; conflicts: ApplyConflict[] };

/**
 * application/apply-patch+yaml: merges `applied` into `live` (undefined = create), owned by
 * `manager`, recording metadata.managedFields. Conflicts with other managers unless `force`.
 */
export function serverSideApply(_r: ResourceInfo, _live: KubeObject | undefined, _applied: KubeObject, _manager: string, _force: boolean): ApplyResult {
  throw new Error('serverSideApply: not implemented yet');
}

/**
 * Records an Update operation by `manager` in managedFields (for non-apply writes), so later
 * applies see who owns which field.
 */
export function recordUpdate(_r: ResourceInfo, _old: KubeObject | undefined, obj: KubeObject, _manager: string): KubeObject {
  return obj;
}
