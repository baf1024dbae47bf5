// Validation ratcheting (CRDValidationRatcheting, KEP-4008, on by default since 1.30): on update, a
// part of a custom resource that is unchanged from the stored object does not fail validation that
// it already failed. The new object's parts are correlated with the old one's as upstream does:
// object properties by name, additionalProperties by key, items of x-kubernetes-list-type map by
// their keys, items of lists without a list type by index; items of set and atomic lists are not
// correlated (an error inside them ratchets only if an enclosing correlated part is unchanged).
// A part is unchanged when it deep-equals its correlated old value, compared through the same
// correlation (so a set or atomic list with items never counts as unchanged, as upstream).
import type { JSONSchemaProps } from './types.js';

/**
 * The old value correlated with a part of the new object (value may be null, but is present).
 * `changed`: the part counts as changed whatever its value (the object's root, when its metadata,
 * which upstream compares too but validation here does not see, changed).
 */
export interface Correlated {
  value: unknown;
  changed?: boolean;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function fieldSchema(s: JSONSchemaProps | undefined, key: string): JSONSchemaProps | undefined {
  return s?.properties?.[key] ?? (typeof s?.additionalProperties === 'object' && s.additionalProperties !== null ? s.additionalProperties : undefined);
}

function itemSchema(s: JSONSchemaProps | undefined): JSONSchemaProps | undefined {
  return s && typeof s.items === 'object' && s.items !== null && !Array.isArray(s.items) ? s.items : undefined;
}

function keyOf(item: unknown, keys: string[]): string | undefined {
  if (!isObject(item)) return undefined;
  return JSON.stringify(keys.map((k) => item[k] ?? null), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** The old value of property `key`, when the old value is an object that has it. */
export function correlateField(old: Correlated | undefined, key: string): Correlated | undefined {
  if (!old || !isObject(old.value) || !Object.hasOwn(old.value, key)) return undefined;
  return { value: old.value[key] };
}

/** A lookup of the old item correlated with each item of a new list under schema `s`. */
export function itemCorrelator(s: JSONSchemaProps | undefined, old: Correlated | undefined): (item: unknown, index: number) => Correlated | undefined {
  if (!old || !Array.isArray(old.value)) return () => undefined;
  const oldList = old.value as unknown[];
  const listType = s?.['x-kubernetes-list-type'];
  if (listType === 'map') {
    const keys = s?.['x-kubernetes-list-map-keys'];
    if (!Array.isArray(keys)) return () => undefined;
    const byKey = new Map<string, unknown>();
    for (const o of oldList) {
      const k = keyOf(o, keys);
      if (k !== undefined && !byKey.has(k)) byKey.set(k, o);
    }
    return (item) => {
      const k = keyOf(item, keys);
      return k !== undefined && byKey.has(k) ? { value: byKey.get(k) } : undefined;
    };
  }
  if (listType === 'set' || listType === 'atomic') return () => undefined;
  return (_item, i) => (i < oldList.length ? { value: oldList[i] } : undefined);
}

function scalarEqual(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if ((typeof a === 'bigint' || typeof a === 'number') && (typeof b === 'bigint' || typeof b === 'number')) return typeof a === typeof b && a === b;
  return a === b;
}

/** Whether `value` is unchanged from its correlated old value under schema `s`. */
export function unchanged(s: JSONSchemaProps | undefined, value: unknown, old: unknown): boolean {
  if (value === undefined || value === null || old === undefined || old === null) return (value ?? null) === (old ?? null);
  if (Array.isArray(value) || Array.isArray(old)) {
    if (!Array.isArray(value) || !Array.isArray(old) || value.length !== old.length) return false;
    const correlate = itemCorrelator(s, { value: old });
    const items = itemSchema(s);
    return value.every((item, i) => {
      const o = correlate(item, i);
      return o !== undefined && unchanged(items, item, o.value);
    });
  }
  if (isObject(value) || isObject(old)) {
    if (!isObject(value) || !isObject(old)) return false;
    const keys = Object.keys(old);
    if (keys.length !== Object.keys(value).length) return false;
    return keys.every((k) => Object.hasOwn(value, k) && unchanged(fieldSchema(s, k), value[k], old[k]));
  }
  return scalarEqual(value, old);
}
