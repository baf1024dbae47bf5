// Writes an EndpointSlice change plan and records what the cache must show before the next
// plan for the same Service may be computed (shared by the EndpointSlice and mirroring controllers).
import { R } from '../api/resources.js';
import { isNotFound } from '../client/client.js';
import { objectKey } from '../client/informer.js';
import type { ControllerContext } from './context.js';
import type { EndpointSlice, SlicePlan } from './endpointslice-plan.js';
import type { Expectations } from './expectations.js';
import type { NamespaceIndex } from '../client/shared-informers.js';

export async function applySlicePlan(
  ctx: ControllerContext,
  expectations: Expectations,
  key: string,
  plan: SlicePlan,
  cache: NamespaceIndex<EndpointSlice>,
): Promise<void> {
  for (const s of plan.delete) await deleteSlice(ctx, expectations, key, s);
  for (const s of plan.update) {
    const replaced = cache.get(s.metadata.namespace, s.metadata.name!)?.metadata.resourceVersion;
    await ctx.client.update(R.endpointslices, s);
    expectations.expect(key, objectKey(s), 'update', replaced);
  }
  for (const s of plan.create) {
    await ctx.client.create(R.endpointslices, s);
    expectations.expect(key, objectKey(s), 'create');
  }
}

export async function deleteSlice(ctx: ControllerContext, expectations: Expectations, key: string, s: EndpointSlice): Promise<void> {
  try {
    await ctx.client.delete(R.endpointslices, s.metadata.namespace, s.metadata.name!);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  expectations.expect(key, objectKey(s), 'delete');
}
