// WatchStream's writes wait for the store's sync(): the watchers one event reaches share one
// wait, and a write made after that wait was asked for never goes out on it.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { test } from 'node:test';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { WatchStream } from '../../../src/apiserver/watch.js';
import { storeKey } from '../../../src/apiserver/registry.js';
import { MemoryStore } from '../../../src/store/memory.js';

/** A response that records what is written to it. */
class FakeResponse extends EventEmitter {
  readonly written: string[] = [];
  writableLength = 0;
  writeHead(): this {
    return this;
  }
  flushHeaders(): void {}
  write(chunk: string | Buffer): boolean {
    this.written.push(chunk.toString());
    return true;
  }
  end(): void {}
  destroy(): void {}
}

const httpReq = { socket: { setNoDelay() {} } } as unknown as IncomingMessage;

function configMap(ns: string, name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { x: 'y' } } as KubeObject;
}

function watcher(store: MemoryStore, namespace: string): FakeResponse {
  const res = new FakeResponse();
  const stream = new WatchStream(
    store,
    { r: R.configmaps, namespace, resourceVersion: String(store.revision), allowBookmarks: false, bookmarkIntervalMs: 60_000 },
    res as unknown as ServerResponse,
    () => undefined,
  );
  stream.start(httpReq);
  return res;
}

const names = (res: FakeResponse) => res.written.flatMap((w) => w.trim().split('\n')).map((l) => (JSON.parse(l) as { object: KubeObject }).object.metadata.name);

test('the watchers of one event share one sync(), and a later write waits for a sync() asked after it', async () => {
  const store = new MemoryStore();
  const syncs: (() => void)[] = [];
  store.sync = () => new Promise<void>((resolve) => syncs.push(resolve));
  const a1 = watcher(store, 'a');
  const a2 = watcher(store, 'a');
  const b = watcher(store, 'b');
  const key = storeKey(R.configmaps);

  store.create(key, configMap('a', 'first'));
  assert.equal(syncs.length, 1, 'both watchers of namespace a wait on one sync()');
  store.create(key, configMap('b', 'second'));
  assert.equal(syncs.length, 2, 'the watcher of namespace b waits on a sync() asked after its event was written');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual([a1.written, a2.written, b.written], [[], [], []], 'nothing goes out before the store is durable');

  syncs[0]();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual([names(a1), names(a2), names(b)], [['first'], ['first'], []]);
  syncs[1]();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(names(b), ['second']);
});
