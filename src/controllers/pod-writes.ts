// Creating and deleting an owner's pods as one step of a sync: every write is recorded in the
// owner's expectations (so the next sync waits for the cache to show it) and as the owner's event,
// as upstream's controllers do; the first failure is rethrown once all writes have settled.
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { isNotFound } from '../client/client.js';
import { objectKey } from '../client/informer.js';
import type { ControllerContext } from './context.js';
import type { Expectations } from './expectations.js';
import type { Pod } from './types.js';

export async function writeOwnedPods(ctx: ControllerContext, expectations: Expectations, key: string, owner: KubeObject, create: Pod[], remove: Pod[]): Promise<void> {
  const creates = create.map(async (pod) => {
    try {
      const made = await ctx.client.create(R.pods, pod);
      expectations.expect(key, objectKey(made), 'create');
      ctx.events.record(owner, 'Normal', 'SuccessfulCreate', `Created pod: ${made.metadata.name}`);
    } catch (err) {
      ctx.events.record(owner, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
      throw err;
    }
  });
  const deletes = remove.map(async (pod) => {
    try {
      await ctx.client.delete(R.pods, pod.metadata.namespace!, pod.metadata.name!);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    expectations.expect(key, objectKey(pod), 'delete');
    ctx.events.record(owner, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
  });
  const failed = (await Promise.allSettled([...creates, ...deletes])).find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}
