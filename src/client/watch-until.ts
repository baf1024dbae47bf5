// Waiting for API objects to reach a state by watching them instead of polling: lists what the
// selector matches, then watches from that list's resourceVersion and asks `decide` after every
// change. A watch that ends (timeout, server restart, 410 Gone) is started again from a fresh list,
// so no change is missed and the wait ends the moment the state is reached.
import type { ResourceInfo } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import type { KubeClient, ListOptions, WatchHandle } from './client.js';

export interface WatchUntilOptions extends Pick<ListOptions, 'namespace' | 'labelSelector' | 'fieldSelector'> {
  /** Give up after this long (rejects with an Error naming `what`). */
  timeoutMs: number;
  /** What is waited for, for the timeout's message. */
  what: string;
  /** Ends the wait (rejecting with the signal's reason). */
  signal?: AbortSignal;
}

/** The wait ran out of time. */
export class WatchUntilTimeout extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WatchUntilTimeout';
  }
}

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
const RELIST_DELAY_MS = 100;

/**
 * Resolves with the first value `decide` returns (not undefined) for the objects the options
 * select, keyed `namespace/name`; `decide` is called once after the first list and after each
 * watch event. An error `decide` throws rejects the wait.
 */
export function watchUntil<T extends KubeObject, R>(client: KubeClient, r: ResourceInfo, opts: WatchUntilOptions, decide: (objects: ReadonlyMap<string, T>) => R | undefined): Promise<R> {
  const selection = { namespace: opts.namespace, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector };
  return new Promise<R>((resolve, reject) => {
    let settled = false;
    let handle: WatchHandle | undefined;
    let lastError = '';
    const onAbort = () => finish(() => reject(opts.signal?.reason instanceof Error ? opts.signal.reason : new Error(`stopped waiting for ${opts.what}`)));
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      handle?.stop();
      fn();
    };
    const timer = setTimeout(() => finish(() => reject(new WatchUntilTimeout(`${opts.what} did not happen within ${Math.round(opts.timeoutMs / 1000)}s${lastError ? ` (last error: ${lastError})` : ''}`))), opts.timeoutMs);
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const check = (objects: Map<string, T>): boolean => {
      let value: R | undefined;
      try {
        value = decide(objects);
      } catch (err) {
        finish(() => reject(err as Error));
        return true;
      }
      if (value === undefined) return false;
      finish(() => resolve(value as R));
      return true;
    };
    const round = async (): Promise<void> => {
      while (!settled) {
        const objects = new Map<string, T>();
        let resourceVersion: string | undefined;
        try {
          const list = await client.list<T>(r, selection);
          for (const o of list.items) objects.set(keyOf(o), o);
          resourceVersion = list.metadata.resourceVersion;
        } catch (err) {
          lastError = (err as Error).message;
        }
        if (settled) return;
        if (resourceVersion !== undefined) {
          if (check(objects)) return;
          handle = client.watch<T>(r, { ...selection, resourceVersion }, (ev) => {
            if (settled) return;
            if (ev.type === 'ADDED' || ev.type === 'MODIFIED') objects.set(keyOf(ev.object), ev.object);
            else if (ev.type === 'DELETED') objects.delete(keyOf(ev.object));
            else if (ev.type === 'ERROR') {
              lastError = (ev.object as { message?: string }).message ?? 'watch error';
              handle?.stop(); // a new list follows
              return;
            } else return; // BOOKMARK
            check(objects);
          });
          const ended = await handle.done;
          if (ended) lastError = ended.message;
        }
        if (!settled) await new Promise((res) => setTimeout(res, RELIST_DELAY_MS));
      }
    };
    void round();
  });
}
