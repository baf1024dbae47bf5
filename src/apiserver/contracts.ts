// The API server's calls into the api-semantics modules (defaults, validation) and the service
// allocator. While a module is still a contract placeholder that throws "not implemented yet",
// its step is skipped and logged once, so the rest of the server keeps working.
import type { ResourceInfo } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import * as validation from '../api/validation/index.js';
import type { FieldError } from '../api/validation/index.js';
import { createLogger } from '../util/log.js';

const log = createLogger('apiserver');
const skipped = new Set<string>();

function notImplemented(err: unknown): boolean {
  return err instanceof Error && /not implemented yet/.test(err.message);
}

function tolerate<T>(name: string, fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch (err) {
    if (!notImplemented(err)) throw err;
    if (!skipped.has(name)) {
      skipped.add(name);
      log.warn(`${name} is not implemented yet; skipping it`);
    }
    return fallback;
  }
}

export function applyDefaults(r: ResourceInfo, obj: KubeObject): void {
  tolerate('applyDefaults', () => validation.applyDefaults(r, obj), undefined);
}

export function validateCreate(r: ResourceInfo, obj: KubeObject): FieldError[] {
  return tolerate('validateCreate', () => validation.validateCreate(r, obj), []);
}

export function validateUpdate(r: ResourceInfo, obj: KubeObject, old: KubeObject): FieldError[] {
  return tolerate('validateUpdate', () => validation.validateUpdate(r, obj, old), []);
}

export function findUnknownFields(r: ResourceInfo, obj: KubeObject): string[] {
  return tolerate('findUnknownFields', () => validation.findUnknownFields(r, obj), []);
}

/** What src/apiserver/service-allocation.ts exports (written by the controllers work). */
export interface ServiceAllocatorLike {
  load(existing: KubeObject[]): void;
  allocate(svc: KubeObject, old?: KubeObject): FieldError[];
  release(svc: KubeObject): void;
}

type AllocatorModule = { ServiceAllocator: new (opts: { serviceCIDR: string; nodePortRange: string }) => ServiceAllocatorLike };

/** The service allocator, or undefined while its module does not exist yet. */
export async function loadServiceAllocator(opts: { serviceCIDR: string; nodePortRange: string }): Promise<ServiceAllocatorLike | undefined> {
  const specifier = './service-allocation.js';
  let mod: AllocatorModule;
  try {
    mod = (await import(specifier)) as AllocatorModule;
  } catch (err) {
    log.warn('service allocation is not available; Services get no cluster IPs or node ports', { err: (err as Error).message });
    return undefined;
  }
  return new mod.ServiceAllocator(opts);
}
