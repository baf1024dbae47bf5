// The store's size limits: retained watch history is bounded in bytes across resources (the
// oldest events of the largest history go first, and watches from before them get Expired), an
// object over the size limit is refused before anything is written, and the SQLite files are
// private from their first byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../../src/api/types.js';
import { MemoryStore, openSqliteStore, StoreError } from '../../../src/store/index.js';

const cm = (name: string, size: number): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'default', name }, data: { v: 'x'.repeat(size) } });

test('history is bounded in bytes: 100 updates of a 900 KB ConfigMap keep at most the byte budget', () => {
  const budget = 8 * 1024 * 1024;
  const store = new MemoryStore({ historyBytes: budget });
  const first = store.create('/configmaps', cm('big', 900_000));
  for (let i = 0; i < 100; i++) {
    const cur = store.get('/configmaps', 'default', 'big')!;
    const next = JSON.parse(cur.json) as KubeObject;
    (next as unknown as { data: Record<string, string> }).data.v = `${i}`.padEnd(900_000, 'y');
    store.update('/configmaps', next);
  }
  const retained: number[] = [];
  store.watch('/configmaps', store.revision - 3, (ev) => retained.push(ev.entry.json.length))();
  assert.equal(retained.length, 3, 'the newest events are still there to resume from');
  assert.throws(() => store.watch('/configmaps', first.rev, () => 0), (e: unknown) => e instanceof StoreError && e.reason === 'Expired');
  // What history still holds: replay from the oldest revision a watch can start at.
  let oldest = first.rev;
  for (;;) {
    try {
      store.watch('/configmaps', oldest, () => 0)();
      break;
    } catch {
      oldest++;
    }
  }
  let total = 0;
  store.watch('/configmaps', oldest, (ev) => (total += ev.entry.json.length))();
  assert.ok(total <= budget, `history holds ${total} bytes, over the ${budget}-byte budget`);
  assert.ok(total >= budget / 2, `history holds ${total} bytes: trimming keeps most of the budget`);
  store.close();
});

test('an object over the size limit is refused with TooLarge and nothing changes', () => {
  const store = new MemoryStore({ maxObjectBytes: 10_000 });
  store.create('/configmaps', cm('small', 100));
  const rev = store.revision;
  assert.throws(() => store.create('/configmaps', cm('huge', 20_000)), (e: unknown) => e instanceof StoreError && e.reason === 'TooLarge' && /over the store's limit of 10000 bytes/.test(e.message));
  const grown = cm('small', 20_000);
  assert.throws(() => store.update('/configmaps', grown), (e: unknown) => e instanceof StoreError && e.reason === 'TooLarge');
  assert.equal(store.revision, rev);
  assert.equal(store.get('/configmaps', 'default', 'huge'), undefined);
  assert.equal(store.get('/configmaps', 'default', 'small')!.json.length < 1000, true);
  store.close();
});

test('the SQLite store and its -wal/-shm files are 0600 from the first byte, even with a lax umask', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-store-mode-'));
  const old = process.umask(0o022);
  try {
    const store = openSqliteStore(join(dir, 'data', 'state.db'));
    store.create('/configmaps', cm('a', 10));
    // The store runs WAL in exclusive locking mode: SQLite keeps the -shm index in memory.
    for (const f of ['state.db', 'state.db-wal', 'state.db-shm']) {
      if (f === 'state.db-shm' && !existsSync(join(dir, 'data', f))) continue;
      assert.equal((statSync(join(dir, 'data', f)).mode & 0o777).toString(8), '600', f);
    }
    assert.equal((statSync(join(dir, 'data')).mode & 0o777).toString(8), '700');
    store.close();
  } finally {
    process.umask(old);
    rmSync(dir, { recursive: true, force: true });
  }
});
