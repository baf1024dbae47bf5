// Small helpers for defaulting functions working on plain JSON objects.

export type Obj = Record<string, any>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Sets obj[key] = value when the key is absent (or null). */
export function setDefault(obj: Obj, key: string, value: unknown): void {
  if (obj[key] === undefined || obj[key] === null) obj[key] = value;
}

/** Returns obj[key] as an object, creating it when absent. */
export function ensureObj(obj: Obj, key: string): Obj {
  if (!isObj(obj[key])) obj[key] = {};
  return obj[key] as Obj;
}

/** The object items of obj[key] when it is a list. */
export function objItems(obj: Obj | undefined, key: string): Obj[] {
  const v = obj?.[key];
  return Array.isArray(v) ? v.filter(isObj) : [];
}
