// Server-side apply (application/apply-patch+yaml): merge the applied configuration into the live
// object by the schema's list types and keys, remove what this manager applied before and no longer
// applies, report conflicts with other managers' differing fields (or take them over with force),
// and record the manager's Apply entry in metadata.managedFields.
import { apiVersionOf, type ResourceInfo } from '../resources.js';
import { type FieldType, schemaFor } from '../schema/index.js';
import type { KubeObject } from '../types.js';
import type { ApplyConflict, ApplyResult } from './index.js';
import { FieldSet, childType, formatPath, itemMatches, keyValues, missingKeyError, removeAt, valueAt } from './fieldset.js';
import { type JsonObject, clone, deepEqual, isObject } from './json-value.js';
import { type ManagerEntry, nowTimestamp, ownedFieldSet, parseManagedFields, serializeManagedFields } from './managed-fields.js';
import { PatchError } from './errors.js';
import { applyDefaults } from '../validation/index.js';

/** Merges an applied value into a live one the way structured-merge-diff does. */
function mergeApplied(live: unknown, applied: unknown, ft: FieldType | undefined): unknown {
  if (applied === null || applied === undefined) return live;
  if (ft?.t === 'list' && Array.isArray(applied)) {
    const liveList = Array.isArray(live) ? live.map(clone) : [];
    if (ft.listType === 'map' && ft.mapKeys) {
      const keys = ft.mapKeys;
      for (const item of applied) {
        if (!isObject(item)) continue;
        const wanted = keyValues(item, keys);
        const idx = liveList.findIndex((l) => itemMatches(l, keys, wanted));
        if (idx >= 0) liveList[idx] = mergeApplied(liveList[idx], item, ft.item);
        else liveList.push(clone(item));
      }
      return liveList;
    }
    if (ft.listType === 'set') {
      for (const v of applied) if (!liveList.some((l) => deepEqual(l, v))) liveList.push(clone(v));
      return liveList;
    }
    return clone(applied);
  }
  if (isObject(applied) && isObject(live) && (ft?.t === 'map' || (ft?.t === 'object' && !ft.atomic))) {
    const out: JsonObject = clone(live);
    for (const [k, v] of Object.entries(applied)) {
      if (v === null) continue;
      out[k] = mergeApplied(out[k], v, childType(ft, k));
    }
    return out;
  }
  return clone(applied);
}

function sortDeepestFirst(paths: string[][]): string[][] {
  return [...paths].sort((a, b) => b.length - a.length);
}

/**
 * What an apply may set: the main resource ignores `status`; the status subresource takes only
 * `status` (its identity aside), as upstream's status strategies reset every other field; a CSR's
 * approval subresource takes `status` without `status.certificate` (upstream's reset fields there).
 */
function appliedConfig(applied: KubeObject, subresource: 'status' | 'approval' | undefined): JsonObject {
  const config = clone(applied) as JsonObject;
  if (isObject(config.metadata)) delete (config.metadata as JsonObject).managedFields;
  if (subresource === undefined) {
    delete config.status;
    return config;
  }
  if (subresource === 'approval' && isObject(config.status)) delete (config.status as JsonObject).certificate;
  const meta = isObject(config.metadata) ? (config.metadata as JsonObject) : {};
  const identity: JsonObject = {};
  for (const k of ['name', 'namespace']) if (meta[k] !== undefined) identity[k] = meta[k];
  const out: JsonObject = { apiVersion: config.apiVersion, kind: config.kind, metadata: identity };
  if (config.status !== undefined) out.status = config.status;
  return out;
}

export function applyConfiguration(r: ResourceInfo, live: KubeObject | undefined, applied: KubeObject, manager: string, force: boolean, subresource?: 'status' | 'approval'): ApplyResult {
  if (!manager) throw new PatchError('PATCH, application/apply-patch+yaml requires fieldManager', 400);
  if (!isObject(applied)) throw new PatchError('the applied configuration must be an object', 400);
  const ft = schemaFor(r);
  const config = appliedConfig(applied, subresource);
  const keyError = missingKeyError(config, ft);
  if (keyError) throw new PatchError(`failed to create typed patch object (${apiVersionOf(r)}, Kind=${r.kind}): ${keyError}`, 422);
  const appliedSet = ownedFieldSet(r, config, { includeStatus: subresource !== undefined });

  const entries = parseManagedFields(live?.metadata?.managedFields);
  let mine = entries.find((e) => e.manager === manager && e.operation === 'Apply' && e.subresource === subresource);

  // Conflicts: another manager owns a field this apply would change. The outcome is compared after
  // defaulting, so an applied item that only omits defaulted fields (a parentRef without its
  // group) does not count as a change.
  const conflicts: ApplyConflict[] = [];
  const lostByManager = new Map<ManagerEntry, string[][]>();
  if (live) {
    const outcome = mergeApplied(clone(live), config, ft) as KubeObject;
    applyDefaults(r, outcome);
    for (const e of entries) {
      // managers are (name, operation) pairs: the applier's own Update entry can conflict too
      if (e === mine) continue;
      for (const p of e.set.intersection(appliedSet).list()) {
        if (p[p.length - 1] === '.') continue;
        const now = valueAt(live, p, ft);
        const wanted = valueAt(outcome, p, ft);
        if (now.found && !deepEqual(now.value, wanted.value)) {
          conflicts.push({ manager: e.manager, field: formatPath(p), operation: e.operation, apiVersion: e.apiVersion, time: e.time, subresource: e.subresource });
          lostByManager.set(e, [...(lostByManager.get(e) ?? []), p]);
        }
      }
    }
  }
  if (conflicts.length > 0 && !force) return { conflicts };
  for (const [e, paths] of lostByManager) for (const p of paths) e.set.delete(p);

  // Start from the live object, minus what this manager applied before and dropped now.
  const obj = (live ? clone(live) : { apiVersion: config.apiVersion, kind: config.kind, metadata: {} }) as JsonObject;
  if (mine) {
    const others = entries.filter((e) => e !== mine).reduce((acc, e) => acc.union(e.set), new FieldSet());
    const dropped = mine.set.difference(appliedSet);
    for (const p of sortDeepestFirst(dropped.list())) {
      const base = p[p.length - 1] === '.' ? p.slice(0, -1) : p;
      if (others.hasPrefix(base)) continue;
      removeAt(obj, p);
    }
  }
  const merged = mergeApplied(obj, config, ft) as KubeObject;
  if (live) {
    merged.apiVersion = live.apiVersion;
    merged.kind = live.kind;
  }

  if (!mine) {
    mine = { manager, operation: 'Apply', apiVersion: apiVersionOf(r), set: new FieldSet(), ...(subresource ? { subresource } : {}) };
    entries.push(mine);
  }
  mine.set = appliedSet;
  mine.time = nowTimestamp();
  mine.apiVersion = apiVersionOf(r);
  merged.metadata = { ...(merged.metadata ?? {}) };
  const serialized = serializeManagedFields(entries);
  if (serialized.length > 0) merged.metadata.managedFields = serialized;
  else delete merged.metadata.managedFields;
  return { object: merged };
}

function printManager(c: ApplyConflict): string {
  let s = JSON.stringify(c.manager);
  if (c.subresource) s += ` with subresource ${JSON.stringify(c.subresource)}`;
  if (c.operation === 'Update') s += c.time ? ` using ${c.apiVersion} at ${c.time}` : ` using ${c.apiVersion}`;
  return s;
}

/** Upstream's 409 message for apply conflicts (apimachinery managedfields/internal/conflict.go). */
export function applyConflictMessage(conflicts: ApplyConflict[]): string {
  if (conflicts.length === 1) return `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0])}: ${conflicts[0].field}`;
  const byManager = new Map<string, { c: ApplyConflict; fields: string[] }>();
  for (const c of conflicts) {
    const key = c.manager;
    const cur = byManager.get(key) ?? { c, fields: [] };
    cur.fields.push(c.field);
    byManager.set(key, cur);
  }
  const lines: string[] = [];
  for (const key of [...byManager.keys()].sort()) {
    const { c, fields } = byManager.get(key)!;
    lines.push(`conflicts with ${printManager(c)}:`);
    for (const f of fields) lines.push(`- ${f}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}
