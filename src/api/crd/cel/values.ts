// A custom resource's JSON as the CEL values its schema declares, as kube-apiserver binds them:
// integer fields (and whole numbers under int-or-string or unknown fields) as CEL int, number
// fields as double, date-time strings as timestamps, objects as maps and arrays as lists.
import type { JSONSchemaProps } from '../types.js';

/** The schema of a field or map key below `s`, if the schema declares it. */
export function childSchema(s: JSONSchemaProps | undefined, key: string): JSONSchemaProps | undefined {
  return s?.properties?.[key] ?? (typeof s?.additionalProperties === 'object' ? s.additionalProperties : undefined);
}

function itemSchema(s: JSONSchemaProps | undefined): JSONSchemaProps | undefined {
  return s && typeof s.items === 'object' && !Array.isArray(s.items) ? s.items : undefined;
}

/** `value` converted for CEL under schema `s` (undefined: a field the schema does not describe). */
export function toCelValue(value: unknown, s: JSONSchemaProps | undefined): unknown {
  if (typeof value === 'number') {
    if (s?.type === 'number') return value;
    return Number.isInteger(value) ? BigInt(value) : value;
  }
  if (typeof value === 'string') {
    if (s?.type === 'string' && s.format === 'date-time') {
      const t = new Date(value);
      return Number.isNaN(t.getTime()) ? value : t;
    }
    return value;
  }
  if (Array.isArray(value)) {
    const items = itemSchema(s);
    return value.map((v) => toCelValue(v, items));
  }
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toCelValue(v, childSchema(s, k));
    return out;
  }
  return value;
}
