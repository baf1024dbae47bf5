// The store contract: the same tests run on every store (memory, SQLite, and etcd on a real
// single-member etcd started here), then what only the durable stores and etcd promise.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../../src/api/types.js';
import { MemoryStore, openEtcdStore, openSqliteStore, type Store, StoreError, type StoreEvent } from '../../../src/store/index.js';
import { startEtcd, type EtcdMember } from './etcd-member.js';

const PODS = '/pods';

function pod(ns: string, name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: ns, name, labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
}

interface Opened {
  store: Store;
  reopen(): Promise<Store>;
  cleanup(): void;
}

interface Impl {
  name: string;
  open(historyLimit?: number): Promise<Opened>;
}

let etcd: Promise<EtcdMember> | undefined;
after(async () => {
  await (await etcd?.catch(() => undefined))?.stop();
});

/** Each opening gets its own key prefix on the one etcd member of this file. */
let prefixes = 0;

const impls: Impl[] = [
  {
    name: 'memory',
    async open(historyLimit) {
      const store = new MemoryStore({ historyLimit });
      return { store, reopen: async () => store, cleanup: () => store.close() };
    },
  },
  {
    name: 'sqlite',
    async open(historyLimit) {
      const dir = mkdtempSync(join(tmpdir(), 'flatnet-store-'));
      const path = join(dir, 'state.db');
      let store = openSqliteStore(path, { historyLimit });
      return {
        store,
        async reopen() {
          store.close();
          store = openSqliteStore(path, { historyLimit });
          return store;
        },
        cleanup() {
          try {
            store.close();
          } catch {
            // already closed
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'etcd',
    async open(historyLimit) {
      etcd ??= startEtcd();
      const member = await etcd;
      const opts = { endpoints: [member.url], prefix: `/t${process.pid}-${++prefixes}/registry`, historyLimit };
      let store = await openEtcdStore(opts);
      return {
        store,
        async reopen() {
          store.close();
          store = await openEtcdStore(opts);
          return store;
        },
        cleanup: () => store.close(),
      };
    },
  },
];

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof StoreError) return err.reason;
    throw err;
  }
  return undefined;
}

for (const impl of impls) {
  test(`${impl.name}: create assigns increasing revisions and rejects duplicates`, async () => {
    const { store, cleanup } = await impl.open();
    try {
      const a = store.create(PODS, pod('default', 'a'));
      const b = store.create(PODS, pod('default', 'b'));
      assert.ok(b.rev > a.rev);
      assert.equal(a.obj.metadata.resourceVersion, String(a.rev));
      assert.equal(JSON.parse(a.json).metadata.name, 'a');
      assert.equal(store.revision, b.rev);
      assert.equal(reasonOf(() => store.create(PODS, pod('default', 'a'))), 'AlreadyExists');
      assert.equal(store.get(PODS, 'default', 'a')?.rev, a.rev);
    } finally {
      cleanup();
    }
  });

  test(`${impl.name}: update and delete check the expected revision`, async () => {
    const { store, cleanup } = await impl.open();
    try {
      const a = store.create(PODS, pod('default', 'a'));
      const updated = store.update(PODS, { ...pod('default', 'a', { v: '2' }) }, a.rev);
      assert.ok(updated.rev > a.rev);
      assert.equal(reasonOf(() => store.update(PODS, pod('default', 'a'), a.rev)), 'Conflict');
      assert.equal(reasonOf(() => store.update(PODS, pod('default', 'missing'))), 'NotFound');
      assert.equal(reasonOf(() => store.delete(PODS, 'default', 'a', a.rev)), 'Conflict');
      const deleted = store.delete(PODS, 'default', 'a', updated.rev);
      assert.ok(deleted.rev > updated.rev);
      assert.equal(deleted.obj.metadata.resourceVersion, String(deleted.rev));
      assert.equal(store.get(PODS, 'default', 'a'), undefined);
      assert.equal(reasonOf(() => store.delete(PODS, 'default', 'a')), 'NotFound');
    } finally {
      cleanup();
    }
  });

  test(`${impl.name}: list is sorted by namespace and name, filters by namespace, pages with after/limit`, async () => {
    const { store, cleanup } = await impl.open();
    try {
      for (const [ns, name] of [['b', 'x'], ['a', 'z'], ['a', 'y'], ['c', 'w']]) store.create(PODS, pod(ns, name));
      const all = store.list(PODS);
      assert.deepEqual(all.entries.map((e) => `${e.ns}/${e.name}`), ['a/y', 'a/z', 'b/x', 'c/w']);
      assert.equal(all.revision, store.revision);
      assert.deepEqual(store.list(PODS, { ns: 'a' }).entries.map((e) => e.name), ['y', 'z']);
      assert.deepEqual(store.list(PODS, { ns: 'nope' }).entries, []);
      const page1 = store.list(PODS, { limit: 3 });
      assert.deepEqual(page1.entries.map((e) => e.name), ['y', 'z', 'x']);
      assert.equal(page1.remaining, 1);
      const page2 = store.list(PODS, { after: 'b/x', limit: 3 });
      assert.deepEqual(page2.entries.map((e) => e.name), ['w']);
      assert.equal(page2.remaining, 0);
      const filtered = store.list(PODS, { filter: (e) => e.name !== 'z' });
      assert.deepEqual(filtered.entries.map((e) => e.name), ['y', 'x', 'w']);
    } finally {
      cleanup();
    }
  });

  test(`${impl.name}: a list at a past revision is the snapshot of that moment`, async () => {
    const { store, cleanup } = await impl.open();
    try {
      store.create(PODS, pod('default', 'a'));
      const b = store.create(PODS, pod('default', 'b'));
      const snapshotRev = store.revision;
      store.update(PODS, pod('default', 'b', { changed: 'yes' }), b.rev);
      store.delete(PODS, 'default', 'a');
      store.create(PODS, pod('default', 'c'));
      const then = store.list(PODS, { atRevision: snapshotRev });
      assert.deepEqual(then.entries.map((e) => e.name), ['a', 'b']);
      assert.deepEqual(then.entries[1].obj.metadata.labels, {});
      assert.equal(then.revision, snapshotRev);
      const page = store.list(PODS, { atRevision: snapshotRev, after: 'default/a' });
      assert.deepEqual(page.entries.map((e) => e.name), ['b']);
    } finally {
      cleanup();
    }
  });

  test(`${impl.name}: watch replays history after a revision, then live changes`, async () => {
    const { store, cleanup } = await impl.open();
    try {
      const a = store.create(PODS, pod('default', 'a'));
      store.update(PODS, pod('default', 'a', { v: '2' }), a.rev);
      const seen: StoreEvent[] = [];
      const stop = store.watch(PODS, a.rev, (ev) => seen.push(ev));
      assert.deepEqual(seen.map((e) => e.type), ['MODIFIED']);
      assert.equal(seen[0].prev?.rev, a.rev);
      store.delete(PODS, 'default', 'a');
      store.create('/services', { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name: 's' } });
      assert.deepEqual(seen.map((e) => e.type), ['MODIFIED', 'DELETED']);
      assert.equal(store.watcherCount(), 1);
      stop();
      store.create(PODS, pod('default', 'b'));
      assert.equal(seen.length, 2);
      assert.equal(store.watcherCount(), 0);
    } finally {
      cleanup();
    }
  });

  test(`${impl.name}: history is bounded per resource and older watches and snapshots are Expired`, async () => {
    const { store, cleanup } = await impl.open(10);
    try {
      const first = store.create(PODS, pod('default', 'p0'));
      for (let i = 1; i < 30; i++) store.create(PODS, pod('default', `p${i}`));
      // Another resource's history is not trimmed by pod writes.
      const svc = store.create('/services', { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name: 's' } });
      assert.equal(reasonOf(() => store.watch(PODS, first.rev, () => {})), 'Expired');
      assert.equal(reasonOf(() => store.list(PODS, { atRevision: first.rev })), 'Expired');
      const recent: StoreEvent[] = [];
      store.watch(PODS, store.revision - 3, (ev) => recent.push(ev))();
      assert.equal(recent.length, 2);
      assert.equal(reasonOf(() => store.watch('/services', svc.rev - 1, () => {})), undefined);
    } finally {
      cleanup();
    }
  });

  test(`${impl.name}: asynchronous writes, many in flight, answer as the synchronous ones and are watched in revision order`, async () => {
    const { store, cleanup } = await impl.open();
    try {
      const seen: StoreEvent[] = [];
      const stop = store.watch(PODS, store.revision, (ev) => seen.push(ev));
      const created = await Promise.all(Array.from({ length: 40 }, (_, i) => store.createAsync(PODS, pod('default', `a${i}`))));
      const revs = created.map((e) => e.rev);
      assert.equal(new Set(revs).size, 40, 'every write has its own revision');
      for (const e of created) {
        assert.equal(e.obj.metadata.resourceVersion, String(e.rev));
        assert.equal(store.get(PODS, 'default', e.name)?.rev, e.rev);
      }
      assert.equal(seen.length, 40);
      assert.deepEqual(
        seen.map((ev) => ev.rev),
        [...revs].sort((x, y) => x - y),
        'the watch sees the writes in revision order',
      );
      assert.ok(seen.every((ev) => ev.type === 'ADDED'));

      // Racing updates of one object from the same revision: exactly one wins, the others Conflict.
      const base = created[0];
      const raced = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => store.updateAsync(PODS, pod('default', base.name, { v: String(i) }), base.rev)));
      assert.equal(raced.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of raced) if (r.status === 'rejected') assert.equal((r.reason as StoreError).reason, 'Conflict');

      await assert.rejects(store.createAsync(PODS, pod('default', 'a1')), (err: unknown) => err instanceof StoreError && err.reason === 'AlreadyExists');
      await assert.rejects(store.updateAsync(PODS, pod('default', 'missing')), (err: unknown) => err instanceof StoreError && err.reason === 'NotFound');
      await assert.rejects(store.deleteAsync(PODS, 'default', 'a2', created[3].rev), (err: unknown) => err instanceof StoreError && err.reason === 'Conflict');
      const huge = pod('default', 'huge', { big: 'x'.repeat(2 * 1024 * 1024) });
      await assert.rejects(store.createAsync(PODS, huge), (err: unknown) => err instanceof StoreError && err.reason === 'TooLarge');
      const deleted = await store.deleteAsync(PODS, 'default', 'a2', created[2].rev);
      assert.ok(deleted.rev > store.get(PODS, 'default', 'a1')!.rev);
      assert.equal(store.get(PODS, 'default', 'a2'), undefined);
      assert.equal(seen[seen.length - 1].type, 'DELETED');
      assert.equal(seen[seen.length - 1].rev, deleted.rev);
      stop();
    } finally {
      cleanup();
    }
  });
}

for (const impl of impls.filter((i) => i.name !== 'memory')) {
  test(`${impl.name}: objects, revision and watch history survive a reopen`, async () => {
    const { store, reopen, cleanup } = await impl.open(100);
    try {
      const a = store.create(PODS, pod('default', 'a'));
      const b = store.create(PODS, pod('default', 'b'));
      store.update(PODS, pod('default', 'a', { v: '2' }), a.rev);
      store.delete(PODS, 'default', 'b', b.rev);
      const revBefore = store.revision;
      const again = await reopen();
      assert.equal(again.revision, revBefore);
      assert.deepEqual(again.list(PODS).entries.map((e) => e.name), ['a']);
      assert.deepEqual(again.get(PODS, 'default', 'a')?.obj.metadata.labels, { v: '2' });
      const seen: StoreEvent[] = [];
      again.watch(PODS, b.rev, (ev) => seen.push(ev))();
      assert.deepEqual(seen.map((e) => `${e.type} ${e.entry.name}`), ['MODIFIED a', 'DELETED b']);
      assert.equal(seen[0].prev?.rev, a.rev);
      const c = again.create(PODS, pod('default', 'c'));
      assert.equal(c.rev, revBefore + 1);
      // A snapshot reaching before the reopen still works while history holds it.
      assert.deepEqual(again.list(PODS, { atRevision: b.rev }).entries.map((e) => e.name), ['a', 'b']);
    } finally {
      cleanup();
    }
  });

  test(`${impl.name}: compaction marks survive a reopen`, async () => {
    const { store, reopen, cleanup } = await impl.open(5);
    try {
      const first = store.create(PODS, pod('default', 'p0'));
      for (let i = 1; i < 20; i++) store.create(PODS, pod('default', `p${i}`));
      const again = await reopen();
      assert.equal(reasonOf(() => again.watch(PODS, first.rev, () => {})), 'Expired');
      assert.equal(again.list(PODS).entries.length, 20);
    } finally {
      cleanup();
    }
  });

}

for (const impl of impls.filter((i) => i.name !== 'etcd')) {
  test(`${impl.name}: an asynchronous write is done when the call returns (local stores keep each write one step)`, async () => {
    const { store, cleanup } = await impl.open();
    try {
      const before = store.revision;
      const pending = store.createAsync(PODS, pod('default', 'now'));
      assert.equal(store.revision, before + 1);
      assert.equal(store.get(PODS, 'default', 'now')?.rev, before + 1);
      const rejected = store.updateAsync(PODS, pod('default', 'now'), before);
      assert.equal(store.revision, before + 1, 'a refused write changes nothing');
      await assert.rejects(rejected, (err: unknown) => err instanceof StoreError && err.reason === 'Conflict');
      assert.equal((await pending).rev, before + 1);
    } finally {
      cleanup();
    }
  });
}

test('sqlite: a second opener of the same store is refused with a clear message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-store-'));
  const first = openSqliteStore(join(dir, 'state.db'));
  try {
    assert.throws(() => openSqliteStore(join(dir, 'state.db')), /in use by another process/);
  } finally {
    first.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
