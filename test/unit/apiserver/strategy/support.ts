// A registry over a memory store with the default namespaces, as the strategy tests drive it.
import assert from 'node:assert/strict';
import { R } from '../../../../src/api/resources.js';
import { MemoryStore } from '../../../../src/store/index.js';
import { ApiStatusError } from '../../../../src/apiserver/errors.js';
import { DEFAULT_NAMESPACES, Registry, type WriteContext } from '../../../../src/apiserver/registry.js';
import { ServiceAllocator } from '../../../../src/apiserver/service-allocation.js';

export function ctx(over: Partial<WriteContext> = {}): WriteContext {
  return { dryRun: false, fieldValidation: 'Strict', fieldManager: 'test', warnings: [], ...over };
}

export function setup(): Registry {
  const reg = new Registry(new MemoryStore(), new ServiceAllocator({ serviceCIDR: '10.96.0.0/16', nodePortRange: '30000-32767' }));
  for (const name of DEFAULT_NAMESPACES) reg.create(R.namespaces, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, ctx());
  return reg;
}

export function statusOf(fn: () => unknown): { code: number; reason?: string; message?: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiStatusError) return { code: err.code, reason: err.status.reason, message: err.status.message };
    throw err;
  }
  assert.fail('expected an API error');
}
