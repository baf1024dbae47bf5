// metadata.managedFields bookkeeping: parsing and writing entries, the fields a manager owns, and
// the Update operation (recordUpdate) that takes ownership of the fields a write changed.
import { apiVersionOf, type ResourceInfo } from '../resources.js';
import { nowSecondTimestamp } from '../meta-time.js';
import { schemaFor } from '../schema/index.js';
import type { KubeObject } from '../types.js';
import { FieldSet, type FieldPathElements, changedFieldSet, childType, fieldSetOf, fieldsV1Of, removedFieldSet, sortFieldKeys } from './fieldset.js';
import { type JsonObject, isObject } from './json-value.js';

export interface ManagerEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  subresource?: string;
  set: FieldSet;
}

/** metav1.Time: RFC 3339 with whole seconds. */
export function nowTimestamp(): string {
  return nowSecondTimestamp();
}

export function parseManagedFields(raw: unknown): ManagerEntry[] {
  if (!Array.isArray(raw)) return [];
  const out: ManagerEntry[] = [];
  for (const e of raw) {
    if (!isObject(e) || typeof e.manager !== 'string') continue;
    out.push({
      manager: e.manager,
      operation: e.operation === 'Apply' ? 'Apply' : 'Update',
      apiVersion: typeof e.apiVersion === 'string' ? e.apiVersion : '',
      time: typeof e.time === 'string' ? e.time : undefined,
      subresource: typeof e.subresource === 'string' && e.subresource !== '' ? e.subresource : undefined,
      set: FieldSet.fromFieldsV1(e.fieldsV1),
    });
  }
  return out;
}

export function serializeManagedFields(entries: ManagerEntry[]): JsonObject[] {
  return entries
    .filter((e) => e.set.size > 0)
    .map((e) => {
      const out: JsonObject = { manager: e.manager, operation: e.operation, apiVersion: e.apiVersion };
      if (e.time) out.time = e.time;
      out.fieldsType = 'FieldsV1';
      out.fieldsV1 = e.set.toFieldsV1();
      if (e.subresource) out.subresource = e.subresource;
      return out;
    });
}

/** Fields no manager owns: identity and bookkeeping metadata (upstream's stripSet). */
const STRIPPED: FieldPathElements[] = [
  ['f:apiVersion'],
  ['f:kind'],
  ['f:metadata', 'f:name'],
  ['f:metadata', 'f:namespace'],
  ['f:metadata', 'f:uid'],
  ['f:metadata', 'f:resourceVersion'],
  ['f:metadata', 'f:generation'],
  ['f:metadata', 'f:creationTimestamp'],
  ['f:metadata', 'f:deletionTimestamp'],
  ['f:metadata', 'f:deletionGracePeriodSeconds'],
  ['f:metadata', 'f:managedFields'],
  ['f:metadata', 'f:selfLink'],
  ['f:metadata', 'f:generateName'],
];

function stripped(path: FieldPathElements): boolean {
  return STRIPPED.some((s) => s.length <= path.length && s.every((e, i) => path[i] === e));
}

/** The fields of an object that managers can own. */
export function ownedFieldSet(r: Pick<ResourceInfo, 'kind'>, obj: unknown, opts: { includeStatus: boolean }): FieldSet {
  const all = fieldSetOf(obj, schemaFor(r));
  return all.filter((p) => !stripped(p) && !(p.length === 1 && p[0] === 'f:metadata') && (opts.includeStatus || p[0] !== 'f:status'));
}

function ownable(set: FieldSet): FieldSet {
  return set.filter((p) => !stripped(p) && !(p.length === 1 && p[0] === 'f:metadata'));
}

/** The metadata fields of STRIPPED (they all lie under f:metadata). */
const STRIPPED_METADATA_KEYS = new Set(STRIPPED.filter((p) => p.length === 2 && p[0] === 'f:metadata').map((p) => p[1]));

/**
 * The fieldsV1 of everything `obj` sets that a manager can own: ownable(fieldSetOf(obj)) written
 * as fieldsV1, built in one walk (a create's whole managedFields entry). `withoutStatus` leaves
 * status out (the main resource of a kind with a status subresource, whose status the write resets).
 */
function ownedFieldsV1(obj: KubeObject, ft: ReturnType<typeof schemaFor>, withoutStatus: boolean): JsonObject {
  // The top level and metadata are walked here, so the fields nobody owns are never visited (nor
  // deleted afterwards: deleting keys turns the objects into slow dictionaries for the JSON
  // encoding that follows).
  // A root or metadata that is not a plain object type owns nothing below it (fieldsV1Of's answer).
  if (ft?.t !== 'object' || ft.atomic) return {};
  const tree: JsonObject = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === null || v === undefined || k === 'apiVersion' || k === 'kind' || (withoutStatus && k === 'status')) continue;
    const child = k === 'metadata' ? ownedMetadataFieldsV1(v, childType(ft, k)) : fieldsV1Of(v, childType(ft, k));
    if (child) tree[`f:${k}`] = child;
  }
  return sortFieldKeys(tree);
}

/** The ownable fields of metadata as fieldsV1 (undefined when there are none). */
function ownedMetadataFieldsV1(meta: unknown, ft: ReturnType<typeof schemaFor>): JsonObject | undefined {
  if (!isObject(meta) || ft?.t !== 'object' || ft.atomic) return undefined;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(meta)) {
    if (v === null || v === undefined || STRIPPED_METADATA_KEYS.has(`f:${k}`)) continue;
    const child = fieldsV1Of(v, childType(ft, k));
    if (child) out[`f:${k}`] = child;
  }
  return Object.keys(out).length === 0 ? undefined : sortFieldKeys(out);
}

/**
 * Records an Update by `manager`; writes through a subresource (status) get their own entry, as
 * upstream. `withoutStatus`: status is not the write's to own (see ownedFieldsV1).
 */
export function recordUpdateOperation(r: ResourceInfo, old: KubeObject | undefined, obj: KubeObject, manager: string, subresource?: string, withoutStatus = false): KubeObject {
  if (!manager) return obj;
  const managedFields = managedFieldsAfterUpdate(r, old, obj, manager, subresource, withoutStatus);
  const out: KubeObject = { ...obj, metadata: { ...obj.metadata } };
  if (managedFields === undefined) delete out.metadata.managedFields;
  else out.metadata.managedFields = managedFields;
  return out;
}

/**
 * The managedFields recordUpdateOperation gives `obj` (undefined: none), without copying the
 * object: the write path sets it on the object it owns.
 */
export function managedFieldsAfterUpdate(r: ResourceInfo, old: KubeObject | undefined, obj: KubeObject, manager: string, subresource?: string, withoutStatus = false): JsonObject[] | undefined {
  const incoming = obj.metadata?.managedFields;
  const ft = schemaFor(r);
  if (old === undefined && (!Array.isArray(incoming) || incoming.length === 0)) {
    // A create with no managedFields of its own: one entry, everything the object sets.
    const fieldsV1 = ownedFieldsV1(obj, ft, withoutStatus);
    if (Object.keys(fieldsV1).length === 0) return undefined;
    const entry: JsonObject = { manager, operation: 'Update', apiVersion: apiVersionOf(r), time: nowTimestamp(), fieldsType: 'FieldsV1', fieldsV1 };
    if (subresource) entry.subresource = subresource;
    return [entry];
  }
  const entries = parseManagedFields(Array.isArray(incoming) ? incoming : old?.metadata?.managedFields);
  const all = ownable(changedFieldSet(old, obj, ft));
  const changed = withoutStatus ? all.filter((p) => p[0] !== 'f:status') : all;
  const removed = old ? ownable(removedFieldSet(old, obj, ft)) : new FieldSet();
  const apiVersion = apiVersionOf(r);
  for (const e of entries) {
    for (const p of removed.list()) e.set.delete(p);
    if (e.manager === manager && e.operation === 'Update' && e.subresource === subresource) continue;
    for (const p of changed.list()) e.set.delete(p);
  }
  if (changed.size > 0) {
    let mine = entries.find((e) => e.manager === manager && e.operation === 'Update' && e.subresource === subresource);
    if (!mine) {
      mine = { manager, operation: 'Update', apiVersion, set: new FieldSet(), ...(subresource ? { subresource } : {}) };
      entries.push(mine);
    }
    mine.set = mine.set.union(changed);
    mine.time = nowTimestamp();
    mine.apiVersion = apiVersion;
  }
  const serialized = serializeManagedFields(entries);
  return serialized.length > 0 ? serialized : undefined;
}
