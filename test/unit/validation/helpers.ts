// Shared by the validation tests: objects in, kubectl-style "field: message" lines out.
import type { ResourceInfo } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { applyDefaults, validateCreate, validateUpdate } from '../../../src/api/validation/index.js';

export function lines(errs: { field: string; message: string }[]): string[] {
  return errs.map((e) => `${e.field}: ${e.message}`);
}

/** Defaults then validates a new object the way the API server does on create. */
export function createErrors(r: ResourceInfo, obj: Record<string, unknown>): string[] {
  const o = structuredClone(obj) as KubeObject;
  applyDefaults(r, o);
  return lines(validateCreate(r, o));
}

export function updateErrors(r: ResourceInfo, obj: Record<string, unknown>, old: Record<string, unknown>): string[] {
  const o = structuredClone(obj) as KubeObject;
  const before = structuredClone(old) as KubeObject;
  applyDefaults(r, o);
  applyDefaults(r, before);
  return lines(validateUpdate(r, o, before));
}

export function defaulted<T extends Record<string, unknown>>(r: ResourceInfo, obj: T): any {
  const o = structuredClone(obj) as unknown as KubeObject;
  applyDefaults(r, o);
  return o;
}
