// Structural defaulting of custom resources, as kube-apiserver applies `default` from the
// openAPIV3Schema: a missing property with a default gets a copy of it; a null in a non-nullable
// property becomes its default, or is dropped when it has none.
import type { JSONSchemaProps } from '../types.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function copy<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

function fill(value: unknown, s: JSONSchemaProps, skipMetadata: boolean): void {
  if (Array.isArray(value)) {
    const items = s.items;
    if (items && !Array.isArray(items)) {
      for (let i = 0; i < value.length; i++) {
        if (value[i] === null && !items.nullable && items.default !== undefined) value[i] = copy(items.default);
        fill(value[i], items, false);
      }
    }
    return;
  }
  if (!isObject(value)) return;
  for (const [key, child] of Object.entries(s.properties ?? {})) {
    if (skipMetadata && key === 'metadata') continue;
    if (value[key] === null && !child.nullable) {
      if (child.default !== undefined) value[key] = copy(child.default);
      else delete value[key];
    } else if (value[key] === undefined && child.default !== undefined) {
      value[key] = copy(child.default);
    }
    if (value[key] !== undefined) fill(value[key], child, false);
  }
  const additional = s.additionalProperties;
  if (isObject(additional)) {
    const props = s.properties ?? {};
    for (const key of Object.keys(value)) {
      if (props[key]) continue;
      if (value[key] === null && !additional.nullable) {
        if (additional.default !== undefined) value[key] = copy(additional.default);
        else delete value[key];
      }
      if (value[key] !== undefined) fill(value[key], additional as JSONSchemaProps, false);
    }
  }
}

/** Applies the schema's defaults to `obj` in place (never to its metadata). */
export function applySchemaDefaults(obj: Record<string, unknown>, schema: JSONSchemaProps): void {
  fill(obj, schema, true);
}
