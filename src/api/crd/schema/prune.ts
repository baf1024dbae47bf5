// Pruning of fields a structural schema does not specify, as kube-apiserver does for custom
// resources: dropped unless a schema on the way says x-kubernetes-preserve-unknown-fields.
// apiVersion, kind and metadata survive at the root and in embedded resources. The pruned paths
// are what fieldValidation Warn reports and Strict rejects.
import type { JSONSchemaProps } from '../types.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const TYPE_META = new Set(['apiVersion', 'kind', 'metadata']);

function prune(value: unknown, s: JSONSchemaProps, at: string, keepTypeMeta: boolean, out: string[]): void {
  if (s['x-kubernetes-int-or-string']) return;
  if (Array.isArray(value)) {
    const items = s.items;
    if (items && !Array.isArray(items)) value.forEach((item, i) => prune(item, items, `${at}[${i}]`, false, out));
    return;
  }
  if (!isObject(value)) return;
  const props = s.properties;
  const additional = s.additionalProperties;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const typeMeta = keepTypeMeta || s['x-kubernetes-embedded-resource'] === true;
  for (const key of Object.keys(value)) {
    const path = at === '' ? key : `${at}.${key}`;
    if (typeMeta && TYPE_META.has(key) && !(props && props[key] && key !== 'metadata')) continue;
    const child = props?.[key];
    if (child) {
      prune(value[key], child, path, false, out);
    } else if (isObject(additional)) {
      prune(value[key], additional, path, false, out);
    } else if (!preserve && additional !== true) {
      delete value[key];
      out.push(path);
    }
  }
}

/** Removes (in place) every field of `obj` its schema does not know; answers their paths. */
export function pruneUnknownFields(obj: Record<string, unknown>, schema: JSONSchemaProps): string[] {
  const out: string[] = [];
  prune(obj, schema, '', true, out);
  return out;
}
