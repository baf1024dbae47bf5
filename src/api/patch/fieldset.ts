// Field sets as server-side apply keeps them (fieldsV1): paths of elements `f:<field>`,
// `k:{"name":"x"}` (list-map item), `v:<json>` (set member), `i:<n>` (index), and `.` (the node itself
// is owned, for maps and list items that also have owned children).
import { type FieldType, fieldsOf } from '../schema/index.js';
import { type JsonObject, isObject } from './json-value.js';

export type FieldPathElements = string[];

export class FieldSet {
  private readonly paths = new Map<string, FieldPathElements>();

  static of(paths: Iterable<FieldPathElements>): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.add(p);
    return s;
  }

  add(path: FieldPathElements): void {
    if (path.length > 0) this.paths.set(JSON.stringify(path), path);
  }

  has(path: FieldPathElements): boolean {
    return this.paths.has(JSON.stringify(path));
  }

  delete(path: FieldPathElements): void {
    this.paths.delete(JSON.stringify(path));
  }

  get size(): number {
    return this.paths.size;
  }

  list(): FieldPathElements[] {
    return [...this.paths.values()];
  }

  union(other: FieldSet): FieldSet {
    const s = new FieldSet();
    for (const [k, v] of this.paths) s.paths.set(k, v);
    for (const [k, v] of other.paths) s.paths.set(k, v);
    return s;
  }

  /** The members `keep` accepts (their keys are not computed again). */
  filter(keep: (path: FieldPathElements) => boolean): FieldSet {
    const s = new FieldSet();
    for (const [k, v] of this.paths) if (keep(v)) s.paths.set(k, v);
    return s;
  }

  difference(other: FieldSet): FieldSet {
    const s = new FieldSet();
    for (const [k, v] of this.paths) if (!other.paths.has(k)) s.paths.set(k, v);
    return s;
  }

  intersection(other: FieldSet): FieldSet {
    const s = new FieldSet();
    for (const [k, v] of this.paths) if (other.paths.has(k)) s.paths.set(k, v);
    return s;
  }

  /** Whether any member lies at or below `prefix`. */
  hasPrefix(prefix: FieldPathElements): boolean {
    for (const p of this.paths.values()) if (p.length >= prefix.length && prefix.every((e, i) => p[i] === e)) return true;
    return false;
  }

  toFieldsV1(): JsonObject {
    const root: JsonObject = {};
    // sortTree orders every level, so the paths are inserted in any order.
    for (const path of this.paths.values()) {
      let node = root;
      for (const el of path) {
        if (!isObject(node[el])) node[el] = {};
        node = node[el] as JsonObject;
      }
    }
    return sortTree(root);
  }

  static fromFieldsV1(fields: unknown): FieldSet {
    const s = new FieldSet();
    const walk = (node: unknown, prefix: FieldPathElements) => {
      if (!isObject(node)) return;
      for (const [k, child] of Object.entries(node)) {
        if (k === '.') s.add([...prefix, '.']);
        else if (isObject(child) && Object.keys(child).length === 0) s.add([...prefix, k]);
        else walk(child, [...prefix, k]);
      }
    };
    walk(fields, []);
    return s;
  }
}

function sortTree(node: JsonObject): JsonObject {
  const out: JsonObject = {};
  const keys = Object.keys(node).sort((a, b) => (a === '.' ? -1 : b === '.' ? 1 : a < b ? -1 : a > b ? 1 : 0));
  for (const k of keys) out[k] = sortTree(node[k] as JsonObject);
  return out;
}

/** Defaults of list-map keys, so an applied item without `protocol` matches the stored TCP one. */
const KEY_DEFAULTS: Record<string, unknown> = { protocol: 'TCP' };

export function keyValues(item: JsonObject, keys: string[]): JsonObject {
  const out: JsonObject = {};
  for (const k of keys) {
    const v = item[k] ?? KEY_DEFAULTS[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export function keyElement(item: JsonObject, keys: string[]): string {
  return `k:${JSON.stringify(keyValues(item, keys))}`;
}

export function itemMatches(item: unknown, keys: string[], wanted: JsonObject): boolean {
  if (!isObject(item)) return false;
  const kv = keyValues(item, keys);
  return keys.every((k) => JSON.stringify(kv[k]) === JSON.stringify(wanted[k]));
}

export function childType(ft: FieldType | undefined, key: string): FieldType | undefined {
  if (!ft) return undefined;
  if (ft.t === 'map') return ft.value;
  if (ft.t === 'object') return fieldsOf(ft)[key];
  return undefined;
}

/** The set of fields a value sets, as SSA counts ownership. */
export function fieldSetOf(value: unknown, ft: FieldType | undefined, prefix: FieldPathElements = [], out: FieldSet = new FieldSet()): FieldSet {
  if (value === null || value === undefined) return out;
  if (!ft || ft.t === 'scalar' || ft.t === 'any') {
    out.add(prefix);
    return out;
  }
  if (ft.t === 'list') {
    if (!Array.isArray(value)) {
      out.add(prefix);
    } else if (ft.listType === 'map' && ft.mapKeys) {
      for (const item of value) {
        if (!isObject(item)) continue;
        const p = [...prefix, keyElement(item, ft.mapKeys)];
        out.add([...p, '.']);
        for (const [k, v] of Object.entries(item)) fieldSetOf(v, childType(ft.item, k), [...p, `f:${k}`], out);
      }
    } else if (ft.listType === 'set') {
      for (const item of value) out.add([...prefix, `v:${JSON.stringify(item)}`]);
    } else {
      out.add(prefix);
    }
    return out;
  }
  if (!isObject(value)) {
    out.add(prefix);
    return out;
  }
  if (ft.t === 'map') {
    out.add([...prefix, '.']);
    for (const [k, v] of Object.entries(value)) fieldSetOf(v, ft.value, [...prefix, `f:${k}`], out);
    return out;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== null && v !== undefined);
  if (ft.atomic || entries.length === 0) {
    out.add(prefix);
    return out;
  }
  for (const [k, v] of entries) fieldSetOf(v, childType(ft, k), [...prefix, `f:${k}`], out);
  return out;
}

/**
 * fieldSetOf(value, ft) written as a fieldsV1 tree (keys sorted, `.` first), built in one walk
 * without the path list; undefined when the value sets nothing.
 */
export function fieldsV1Of(value: unknown, ft: FieldType | undefined): JsonObject | undefined {
  if (value === null || value === undefined) return undefined;
  if (!ft || ft.t === 'scalar' || ft.t === 'any') return {};
  if (ft.t === 'list') {
    if (!Array.isArray(value)) return {};
    if (ft.listType === 'map' && ft.mapKeys) {
      const out: JsonObject = {};
      for (const item of value) {
        if (!isObject(item)) continue;
        const key = keyElement(item, ft.mapKeys);
        const node = (isObject(out[key]) ? out[key] : (out[key] = {})) as JsonObject;
        node['.'] = {};
        for (const [k, v] of Object.entries(item)) addChild(node, `f:${k}`, fieldsV1Of(v, childType(ft.item, k)));
        out[key] = sortFieldKeys(node);
      }
      return nonEmptySorted(out);
    }
    if (ft.listType === 'set') {
      const out: JsonObject = {};
      for (const item of value) out[`v:${JSON.stringify(item)}`] = {};
      return nonEmptySorted(out);
    }
    return {};
  }
  if (!isObject(value)) return {};
  if (ft.t === 'map') {
    const out: JsonObject = { '.': {} };
    for (const [k, v] of Object.entries(value)) addChild(out, `f:${k}`, fieldsV1Of(v, ft.value));
    return sortFieldKeys(out);
  }
  let any = false;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    any = true;
    if (!ft.atomic) addChild(out, `f:${k}`, fieldsV1Of(v, childType(ft, k)));
  }
  if (!any || ft.atomic) return {};
  return nonEmptySorted(out);
}

/** Puts `child` at `key` of a fieldsV1 node, merging with what is there (list-map items with equal keys). */
function addChild(node: JsonObject, key: string, child: JsonObject | undefined): void {
  if (child === undefined) return;
  const there = node[key];
  node[key] = isObject(there) ? mergeTrees(there, child) : child;
}

function mergeTrees(a: JsonObject, b: JsonObject): JsonObject {
  const out: JsonObject = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isObject(out[k]) ? mergeTrees(out[k] as JsonObject, v as JsonObject) : v;
  return sortFieldKeys(out);
}

function nonEmptySorted(node: JsonObject): JsonObject | undefined {
  return Object.keys(node).length === 0 ? undefined : sortFieldKeys(node);
}

/** fieldsV1 order: `.` first, then by key; one level (the children are sorted already). */
export function sortFieldKeys(node: JsonObject): JsonObject {
  const keys = Object.keys(node);
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) sorted = compareFieldKeys(keys[i - 1], keys[i]) < 0;
  if (sorted) return node;
  const out: JsonObject = {};
  for (const k of keys.sort(compareFieldKeys)) out[k] = node[k];
  return out;
}

function compareFieldKeys(a: string, b: string): number {
  return a === '.' ? -1 : b === '.' ? 1 : a < b ? -1 : a > b ? 1 : 0;
}

export interface Found {
  found: boolean;
  value?: unknown;
}

/** The value a field path points at in an object. */
export function valueAt(root: unknown, path: FieldPathElements, ft?: FieldType): Found {
  let cur: unknown = root;
  let type = ft;
  for (const el of path) {
    if (el === '.') break;
    if (el.startsWith('f:')) {
      const k = el.slice(2);
      if (!isObject(cur) || !Object.prototype.hasOwnProperty.call(cur, k)) return { found: false };
      cur = cur[k];
      type = childType(type, k);
    } else if (el.startsWith('k:')) {
      const wanted = JSON.parse(el.slice(2)) as JsonObject;
      if (!Array.isArray(cur)) return { found: false };
      const keys = Object.keys(wanted);
      cur = cur.find((i) => itemMatches(i, keys, wanted));
      if (cur === undefined) return { found: false };
      type = type && type.t === 'list' ? type.item : undefined;
    } else if (el.startsWith('v:')) {
      const wanted = el.slice(2);
      if (!Array.isArray(cur)) return { found: false };
      cur = cur.find((i) => JSON.stringify(i) === wanted);
      if (cur === undefined) return { found: false };
    } else if (el.startsWith('i:')) {
      if (!Array.isArray(cur)) return { found: false };
      cur = cur[Number(el.slice(2))];
      if (cur === undefined) return { found: false };
    }
  }
  return { found: cur !== undefined, value: cur };
}

/** Removes the field (or list item / set member) a path points at; prunes maps it leaves empty. */
export function removeAt(root: JsonObject, path: FieldPathElements): void {
  const elems = path[path.length - 1] === '.' ? path.slice(0, -1) : path;
  if (elems.length === 0) return;
  const chain: unknown[] = [root];
  let cur: unknown = root;
  for (const el of elems.slice(0, -1)) {
    const next = valueAt(cur, [el]);
    if (!next.found) return;
    cur = next.value;
    chain.push(cur);
  }
  const last = elems[elems.length - 1];
  if (last.startsWith('f:')) {
    if (isObject(cur)) delete cur[last.slice(2)];
  } else if (Array.isArray(cur)) {
    const target = valueAt(cur, [last]);
    if (target.found) cur.splice(cur.indexOf(target.value), 1);
  }
  // prune containers the removal left empty (never the root or metadata)
  for (let i = chain.length - 1; i >= 2; i--) {
    const node = chain[i];
    const empty = (isObject(node) && Object.keys(node).length === 0) || (Array.isArray(node) && node.length === 0);
    if (!empty) break;
    const parent = chain[i - 1];
    const el = elems[i - 1];
    if (el.startsWith('f:') && isObject(parent)) delete parent[el.slice(2)];
    else if (Array.isArray(parent)) parent.splice(parent.indexOf(node), 1);
  }
}

/** Upstream's printing of a field path: .spec.containers[name="nginx"].image */
export function formatPath(path: FieldPathElements): string {
  let s = '';
  for (const el of path) {
    if (el === '.') continue;
    if (el.startsWith('f:')) s += `.${el.slice(2)}`;
    else if (el.startsWith('k:')) {
      const kv = JSON.parse(el.slice(2)) as JsonObject;
      s += `[${Object.entries(kv)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}]`;
    } else if (el.startsWith('v:')) s += `[=${el.slice(2)}]`;
    else if (el.startsWith('i:')) s += `[${el.slice(2)}]`;
  }
  return s;
}

function isAtomicLike(ft: FieldType | undefined, value: unknown): boolean {
  if (!ft || ft.t === 'scalar' || ft.t === 'any') return true;
  if (ft.t === 'list') return !Array.isArray(value) || !(ft.listType === 'set' || (ft.listType === 'map' && ft.mapKeys));
  if (!isObject(value)) return true;
  if (ft.t === 'object') return !!ft.atomic || Object.values(value).every((v) => v === null || v === undefined);
  return false;
}

/** The fields `now` sets with a value different from (or absent in) `before`: what an update changed. */
export function changedFieldSet(before: unknown, now: unknown, ft: FieldType | undefined, prefix: FieldPathElements = [], out: FieldSet = new FieldSet()): FieldSet {
  if (now === null || now === undefined) return out;
  if (before === undefined || before === null) return fieldSetOf(now, ft, prefix, out);
  if (isAtomicLike(ft, now)) {
    if (prefix.length > 0 && (isAtomicLike(ft, before) ? !deepEqualJson(before, now) : true)) out.add(prefix);
    return out;
  }
  if (ft!.t === 'list') {
    const prev = Array.isArray(before) ? before : [];
    if (ft!.listType === 'set') {
      for (const v of now as unknown[]) if (!prev.some((p) => deepEqualJson(p, v))) out.add([...prefix, `v:${JSON.stringify(v)}`]);
      return out;
    }
    const keys = ft!.mapKeys!;
    for (const item of now as unknown[]) {
      if (!isObject(item)) continue;
      const kv = keyValues(item, keys);
      const p = [...prefix, `k:${JSON.stringify(kv)}`];
      const old = prev.find((o) => itemMatches(o, keys, kv));
      if (old === undefined) {
        out.add([...p, '.']);
        for (const [k, v] of Object.entries(item)) fieldSetOf(v, childType(ft!.item, k), [...p, `f:${k}`], out);
      } else {
        for (const [k, v] of Object.entries(item)) changedFieldSet((old as JsonObject)[k], v, childType(ft!.item, k), [...p, `f:${k}`], out);
      }
    }
    return out;
  }
  const prevObj = isObject(before) ? before : undefined;
  if (ft!.t === 'map' && !prevObj) out.add([...prefix, '.']);
  for (const [k, v] of Object.entries(now as JsonObject)) changedFieldSet(prevObj?.[k], v, childType(ft, k), [...prefix, `f:${k}`], out);
  return out;
}

/** The fields `before` set that `now` no longer sets at all. */
export function removedFieldSet(before: unknown, now: unknown, ft: FieldType | undefined, prefix: FieldPathElements = [], out: FieldSet = new FieldSet()): FieldSet {
  if (before === null || before === undefined) return out;
  if (now === null || now === undefined) return fieldSetOf(before, ft, prefix, out);
  if (isAtomicLike(ft, before)) {
    if (prefix.length > 0 && !isAtomicLike(ft, now)) out.add(prefix);
    return out;
  }
  if (ft!.t === 'list') {
    const next = Array.isArray(now) ? now : [];
    if (ft!.listType === 'set') {
      for (const v of before as unknown[]) if (!next.some((n) => deepEqualJson(n, v))) out.add([...prefix, `v:${JSON.stringify(v)}`]);
      return out;
    }
    const keys = ft!.mapKeys!;
    for (const item of before as unknown[]) {
      if (!isObject(item)) continue;
      const kv = keyValues(item, keys);
      const p = [...prefix, `k:${JSON.stringify(kv)}`];
      const cur = next.find((n) => itemMatches(n, keys, kv));
      if (cur === undefined) {
        out.add([...p, '.']);
        for (const [k, v] of Object.entries(item)) fieldSetOf(v, childType(ft!.item, k), [...p, `f:${k}`], out);
      } else {
        for (const [k, v] of Object.entries(item)) removedFieldSet(v, (cur as JsonObject)[k], childType(ft!.item, k), [...p, `f:${k}`], out);
      }
    }
    return out;
  }
  const nowObj = isObject(now) ? now : undefined;
  if (ft!.t === 'map' && !nowObj) out.add([...prefix, '.']);
  for (const [k, v] of Object.entries(before as JsonObject)) removedFieldSet(v, nowObj?.[k], childType(ft, k), [...prefix, `f:${k}`], out);
  return out;
}

function deepEqualJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b) || deepEqualLoose(a, b);
}

function deepEqualLoose(a: unknown, b: unknown): boolean {
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqualLoose(v, b[i]));
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqualLoose(a[k], b[k]));
  }
  return a === b;
}

/**
 * The first list-map item that omits one of its keys, worded as structured-merge-diff words it
 * (`.spec.containers: element 0: associative list with keys has an element that omits key field "name"`).
 */
export function missingKeyError(value: unknown, ft: FieldType | undefined, at = ''): string | undefined {
  if (value === null || value === undefined || !ft) return undefined;
  if (ft.t === 'list' && Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      if (ft.listType === 'map' && ft.mapKeys && isObject(item)) {
        const kv = keyValues(item, ft.mapKeys);
        const missing = ft.mapKeys.find((k) => kv[k] === undefined);
        if (missing) return `${at}: element ${i}: associative list with keys has an element that omits key field ${JSON.stringify(missing)} (and doesn't have default value)`;
      }
      const inner = missingKeyError(item, ft.item, `${at}[${i}]`);
      if (inner) return inner;
    }
    return undefined;
  }
  if (isObject(value) && (ft.t === 'object' || ft.t === 'map')) {
    for (const [k, v] of Object.entries(value)) {
      const inner = missingKeyError(v, childType(ft, k), `${at}.${k}`);
      if (inner) return inner;
    }
  }
  return undefined;
}
