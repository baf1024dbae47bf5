// Endpoints (upstream pkg/registry/core/endpoint): `subsets` is omitempty, so an Endpoints with
// no addresses has no `subsets` at all, never `subsets: []`; a PUT of a missing Endpoints creates it.
import type { KubeObject } from '../../api/types.js';
import { defaultStrategy } from './default.js';
import type { ResourceStrategy } from './types.js';

export function omitEmptySubsets(obj: KubeObject): void {
  const o = obj as { subsets?: unknown };
  if (Array.isArray(o.subsets) && o.subsets.length === 0) delete o.subsets;
}

export const endpointsStrategy: ResourceStrategy = {
  ...defaultStrategy,
  allowCreateOnUpdate: true,
  canonicalize: omitEmptySubsets,
};
