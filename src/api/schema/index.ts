// The root field type of each served kind.
import type { ResourceInfo } from '../resources.js';
import { BUILTIN_ROOTS, modelType } from './builtin.js';
import { GATEWAY_ROOTS } from './gateway.js';
import type { FieldType } from './types.js';

export type { FieldType, ListMeta, ObjectSchema } from './types.js';
export { fieldsOf } from './types.js';

const cache = new Map<string, FieldType>();

/** The field type of a whole object of this kind, or undefined for a kind we have no schema of. */
export function schemaFor(r: Pick<ResourceInfo, 'kind'> & { fieldType?: FieldType }): FieldType | undefined {
  // A custom resource carries the field type its CRD's schema gives it (src/apiserver/crd/resource.ts).
  if (r.fieldType) return r.fieldType;
  let ft = cache.get(r.kind);
  if (ft) return ft;
  const model = BUILTIN_ROOTS[r.kind];
  ft = model ? modelType(model) : GATEWAY_ROOTS[r.kind];
  if (ft) cache.set(r.kind, ft);
  return ft;
}
