// The API server's calls into the api-semantics modules (defaults, validation) and the Service
// address allocator, behind one small surface the registry uses.
import type { ResourceInfo } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import * as validation from '../api/validation/index.js';
import type { FieldError } from '../api/validation/index.js';
import { ServiceAllocator } from './service-allocation.js';

export function applyDefaults(r: ResourceInfo, obj: KubeObject): void {
  validation.applyDefaults(r, obj);
}

export function prepareForUpdate(r: ResourceInfo, obj: KubeObject, old: KubeObject): void {
  validation.prepareForUpdate(r, obj, old);
}

export function validateCreate(r: ResourceInfo, obj: KubeObject): FieldError[] {
  return validation.validateCreate(r, obj);
}

export function validateUpdate(r: ResourceInfo, obj: KubeObject, old: KubeObject): FieldError[] {
  return validation.validateUpdate(r, obj, old);
}

export function findUnknownFields(r: ResourceInfo, obj: KubeObject): string[] {
  return validation.findUnknownFields(r, obj);
}

/** What the registry needs of src/apiserver/service-allocation.ts (written by the controllers work). */
export interface ServiceAllocatorLike {
  load(existing: KubeObject[]): void;
  allocate(svc: KubeObject, old?: KubeObject, opts?: { dryRun?: boolean }): FieldError[];
  release(svc: KubeObject): void;
}

/** The Service address allocator (cluster IPs, node ports) for this server's ranges. */
export function createServiceAllocator(opts: { serviceCIDR: string; nodePortRange: string }): ServiceAllocatorLike {
  return new ServiceAllocator(opts);
}
