// Writes a status subresource with optimistic concurrency: PUT .../status from the cached object;
// on a conflict the object is read again and the new status computed from it, so a write never
// overwrites what another writer (another controller's route parents, a newer spec) put there.
import type { ResourceInfo } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import { type KubeClient, isConflict, isNotFound } from '../../client/client.js';

export type StatusOf = (status: Record<string, unknown> | undefined, obj: KubeObject) => Record<string, unknown> | undefined;
export type WriteOutcome = 'written' | 'unchanged' | 'gone';

const MAX_ATTEMPTS = 5;

/** What a write did; `resourceVersion` is the written object's (the watch event that echoes the write carries it). */
export interface WriteResult {
  outcome: WriteOutcome;
  resourceVersion?: string;
}

export async function writeStatus(client: KubeClient, r: ResourceInfo, cached: KubeObject, statusOf: StatusOf): Promise<WriteResult> {
  let obj = cached;
  for (let attempt = 1; ; attempt++) {
    const status = statusOf(obj.status as Record<string, unknown> | undefined, obj);
    if (!status) return { outcome: 'unchanged' };
    try {
      const written = await client.updateStatus(r, { ...obj, status });
      return { outcome: 'written', resourceVersion: written?.metadata?.resourceVersion };
    } catch (err) {
      if (isNotFound(err)) return { outcome: 'gone' };
      if (!isConflict(err) || attempt >= MAX_ATTEMPTS) throw err;
    }
    const fresh = await client.get(r, obj.metadata.namespace, obj.metadata.name ?? '');
    if (!fresh) return { outcome: 'gone' };
    obj = fresh;
  }
}
