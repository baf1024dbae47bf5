// application/strategic-merge-patch+json: a JSON merge patch that merges lists by their patch merge
// key (containers by name, service ports by port...), with the directives $patch (replace|delete|merge),
// $setElementOrder/<list>, $retainKeys and $deleteFromPrimitiveList/<list>. Lists without a merge
// strategy are replaced whole. The strategies come from the kind's schema (src/api/schema).
import { type FieldType, fieldsOf } from '../schema/index.js';
import { PatchError } from './errors.js';
import { type JsonObject, clone, deepEqual, isObject } from './json-value.js';

const PATCH = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ELEMENT_ORDER = '$setElementOrder/';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList/';

function childType(ft: FieldType | undefined, key: string): FieldType | undefined {
  if (!ft) return undefined;
  if (ft.t === 'map') return ft.value;
  if (ft.t === 'object') return fieldsOf(ft)[key];
  return undefined;
}

function isDirectiveKey(key: string): boolean {
  return key === PATCH || key === RETAIN_KEYS || key.startsWith(SET_ELEMENT_ORDER) || key.startsWith(DELETE_FROM_PRIMITIVE_LIST);
}

/** Removes every directive from a value that is stored as-is (a new key or an atomic replacement). */
function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => !(isObject(v) && v[PATCH] !== undefined && Object.keys(v).length === 1)).map(stripDirectives);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    if (isDirectiveKey(k)) continue;
    if (v === null) continue;
    out[k] = stripDirectives(v);
  }
  return out;
}

function goMapString(m: JsonObject): string {
  return `map[${Object.entries(m)
    .map(([k, v]) => `${k}:${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ')}]`;
}

export function mergeMap(original: JsonObject | undefined, patch: JsonObject, ft: FieldType | undefined): JsonObject | undefined {
  const directive = patch[PATCH];
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return stripDirectives(patch) as JsonObject;
  if (directive !== undefined && directive !== 'merge') throw new PatchError(`Unknown patch type: ${String(directive)} in map: ${goMapString(patch)}`, 422);

  const result: JsonObject = isObject(original) ? clone(original) : {};

  const retain = patch[RETAIN_KEYS];
  if (retain !== undefined) {
    if (!Array.isArray(retain)) throw new PatchError(`invalid patch: ${RETAIN_KEYS} must be a list of field names`, 422);
    const keep = new Set(retain.map(String));
    for (const k of Object.keys(result)) if (!keep.has(k)) delete result[k];
  }

  for (const [key, values] of Object.entries(patch)) {
    if (!key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) continue;
    const field = key.slice(DELETE_FROM_PRIMITIVE_LIST.length);
    if (!Array.isArray(values)) throw new PatchError(`invalid patch: ${key} must be a list`, 422);
    const current = result[field];
    if (Array.isArray(current)) result[field] = current.filter((v) => !values.some((d) => deepEqual(d, v)));
  }

  for (const [key, value] of Object.entries(patch)) {
    if (isDirectiveKey(key)) continue;
    if (value === null) {
      delete result[key];
      continue;
    }
    const sub = childType(ft, key);
    if (isObject(value)) {
      const merged = mergeMap(isObject(result[key]) ? (result[key] as JsonObject) : undefined, value, sub);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else if (Array.isArray(value)) {
      result[key] = mergeList(Array.isArray(result[key]) ? (result[key] as unknown[]) : [], value, sub, key);
    } else {
      result[key] = value;
    }
  }

  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const field = key.slice(SET_ELEMENT_ORDER.length);
    if (!Array.isArray(order)) throw new PatchError(`invalid patch: ${key} must be a list`, 422);
    const current = result[field];
    if (Array.isArray(current)) {
      const listType = childType(ft, field);
      const mergeKey = listType && listType.t === 'list' ? listType.mergeKey : undefined;
      result[field] = applyElementOrder(current, order, mergeKey);
    }
  }
  return result;
}

function keyOf(item: unknown, mergeKey: string | undefined): unknown {
  return mergeKey && isObject(item) ? item[mergeKey] : item;
}

/** Items named in `order` come in that order; items it does not name keep their places after them. */
function applyElementOrder(items: unknown[], order: unknown[], mergeKey: string | undefined): unknown[] {
  const rank = (item: unknown) => order.findIndex((o) => deepEqual(keyOf(o, mergeKey), keyOf(item, mergeKey)));
  const named = items.filter((i) => rank(i) >= 0).sort((a, b) => rank(a) - rank(b));
  const unnamed = items.filter((i) => rank(i) < 0);
  return [...named, ...unnamed];
}

function mergeList(original: unknown[], patch: unknown[], ft: FieldType | undefined, field: string): unknown[] {
  const meta = ft && ft.t === 'list' ? ft : undefined;
  if (!meta?.merge) {
    return stripDirectives(patch) as unknown[];
  }
  if (patch.some((p) => isObject(p) && p[PATCH] === 'replace')) {
    return stripDirectives(patch.filter((p) => !(isObject(p) && p[PATCH] === 'replace'))) as unknown[];
  }
  const mergeKey = meta.mergeKey;
  if (!mergeKey) {
    // a set of scalars (finalizers, podCIDRs): union, original order first
    const out = [...original];
    for (const p of patch) if (!out.some((o) => deepEqual(o, p))) out.push(clone(p));
    return out;
  }
  const out = original.map((o) => clone(o));
  for (const p of patch) {
    if (!isObject(p)) throw new PatchError(`invalid patch: the items of ${field} must be objects with merge key ${mergeKey}`, 422);
    if (!Object.prototype.hasOwnProperty.call(p, mergeKey)) {
      throw new PatchError(`map: ${goMapString(p)} does not contain declared merge key: ${mergeKey}`, 422);
    }
    const idx = out.findIndex((o) => isObject(o) && deepEqual(o[mergeKey], p[mergeKey]));
    if (p[PATCH] === 'delete') {
      // upstream deletes every item with that key
      for (let i = out.length - 1; i >= 0; i--) if (isObject(out[i]) && deepEqual((out[i] as JsonObject)[mergeKey], p[mergeKey])) out.splice(i, 1);
      continue;
    }
    if (idx >= 0) {
      const merged = mergeMap(out[idx] as JsonObject, p, meta.item);
      if (merged === undefined) out.splice(idx, 1);
      else out[idx] = merged;
    } else {
      const created = mergeMap(undefined, p, meta.item);
      if (created !== undefined) out.push(created);
    }
  }
  return out;
}

/** Applies a strategic merge patch to a whole object of a kind with field type `root`. */
export function strategicMergePatch(original: JsonObject, patch: unknown, root: FieldType | undefined): JsonObject {
  if (!isObject(patch)) throw new PatchError('strategic merge patch must be a JSON object', 400);
  const result = mergeMap(original, patch, root);
  if (result === undefined) throw new PatchError('the patch deletes the whole object ($patch: delete at the top level)', 422);
  return result;
}
