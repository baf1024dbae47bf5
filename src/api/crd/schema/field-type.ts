// The field-type graph (src/api/schema) of a custom resource, derived from its openAPIV3Schema, so
// server-side apply and managed fields treat it as upstream's structured-merge-diff does: lists are
// atomic unless x-kubernetes-list-type says set or map (with x-kubernetes-list-map-keys), objects
// with additionalProperties are maps (atomic with x-kubernetes-map-type: atomic), objects that
// preserve unknown fields are granular maps, and metadata is ObjectMeta.
import { modelType } from '../../schema/builtin.js';
import { ANY, SCALAR, type FieldType, type ObjectSchema } from '../../schema/types.js';
import type { JSONSchemaProps } from '../types.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function convert(s: JSONSchemaProps | undefined): FieldType {
  if (!s) return ANY;
  if (s['x-kubernetes-int-or-string']) return { t: 'scalar', kind: 'intOrString' };
  if (s.type === 'array') {
    const item = isObject(s.items) ? convert(s.items as JSONSchemaProps) : ANY;
    const listType = s['x-kubernetes-list-type'];
    const keys = s['x-kubernetes-list-map-keys'];
    if (listType === 'map' && keys && keys.length > 0) return { t: 'list', item, listType: 'map', mapKeys: keys, merge: true, mergeKey: keys[0] };
    if (listType === 'set') return { t: 'list', item, listType: 'set', merge: true };
    return { t: 'list', item, listType: 'atomic' };
  }
  if (s.type === 'object' || s.properties || s.additionalProperties || s['x-kubernetes-preserve-unknown-fields']) {
    if (s['x-kubernetes-embedded-resource'] && !s.properties) return { t: 'map', value: ANY };
    if (s['x-kubernetes-map-type'] === 'atomic') return ANY;
    if (s.properties) {
      const schema: ObjectSchema = { fields: {} };
      for (const [k, p] of Object.entries(s.properties)) schema.fields[k] = convert(p);
      if (s['x-kubernetes-embedded-resource']) {
        schema.fields.apiVersion ??= SCALAR;
        schema.fields.kind ??= SCALAR;
        schema.fields.metadata ??= { t: 'map', value: ANY };
      }
      return { t: 'object', ref: () => schema };
    }
    if (isObject(s.additionalProperties)) return { t: 'map', value: convert(s.additionalProperties as JSONSchemaProps) };
    return { t: 'map', value: ANY };
  }
  return SCALAR;
}

/** The field type of a whole custom resource whose version has this schema. */
export function customResourceFieldType(schema: JSONSchemaProps | undefined): FieldType {
  const root = convert(schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
  const fields: Record<string, FieldType> = root.t === 'object' ? { ...root.ref().fields } : {};
  fields.apiVersion = SCALAR;
  fields.kind = SCALAR;
  fields.metadata = modelType('V1ObjectMeta');
  const rootSchema: ObjectSchema = { fields };
  return { t: 'object', ref: () => rootSchema };
}
