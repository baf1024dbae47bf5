// What the etcd store adds to the store contract (store.test.ts runs that on etcd too), against a
// real single-member etcd: several stores on one etcd share one API (writes seen in each other's
// watches, optimistic concurrency across them), etcd compaction answered with Expired, the key
// layout, the size limit and a clear error when etcd cannot be reached.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import type { KubeObject } from '../../../src/api/types.js';
import { openEtcdStore, parseEtcdServers, StoreError, type StoreEntry, type StoreEvent } from '../../../src/store/index.js';
import { etcdKey, parseEtcdKey } from '../../../src/store/etcd-keys.js';
import { startEtcd, type EtcdMember } from './etcd-member.js';

const PODS = '/pods';
const pod = (name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'default', name, labels } });

let member: EtcdMember;
let prefixes = 0;
const nextPrefix = () => `/e${process.pid}-${++prefixes}/registry`;

before(async () => {
  member = await startEtcd();
});
after(async () => {
  await member?.stop();
});

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof StoreError) return err.reason;
    throw err;
  }
  return undefined;
}

function until(what: string, check: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (check()) resolve();
      else if (Date.now() - started > 10_000) reject(new Error(`gave up waiting for ${what}`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

test('keys are laid out as kube-apiserver does and parse back', () => {
  assert.equal(etcdKey('/registry', '/pods', 'default', 'a'), '/registry/core/pods/default/a');
  assert.equal(etcdKey('/registry', 'apps/deployments', 'ns1', 'web'), '/registry/apps/deployments/ns1/web');
  assert.equal(etcdKey('/registry', '/namespaces', '', 'kube-system'), '/registry/core/namespaces/kube-system');
  assert.deepEqual(parseEtcdKey('/registry', '/registry/core/pods/default/a'), { resource: '/pods', ns: 'default', name: 'a' });
  assert.deepEqual(parseEtcdKey('/registry', '/registry/example.com/widgets/w'), { resource: 'example.com/widgets', ns: '', name: 'w' });
  assert.equal(parseEtcdKey('/registry', '/registry/core/pods'), undefined);
  assert.equal(parseEtcdKey('/registry', '/other/core/pods/a/b'), undefined);
});

test('--etcd-servers takes a comma-separated list of http URLs and names what is wrong', () => {
  assert.deepEqual(parseEtcdServers('http://10.0.0.1:2379, http://10.0.0.2:2379'), ['http://10.0.0.1:2379', 'http://10.0.0.2:2379']);
  assert.throws(() => parseEtcdServers(''), /--etcd-servers must list at least one URL/);
  assert.throws(() => parseEtcdServers('10.0.0.1:2379'), /--etcd-servers: "10.0.0.1:2379" must be an http:\/\/ URL|is not a URL/);
  assert.throws(() => parseEtcdServers('http://10.0.0.1'), /needs a port/);
  assert.throws(() => parseEtcdServers('https://10.0.0.1:2379'), /TLS to etcd needs --etcd-cafile, --etcd-certfile and --etcd-keyfile/);
});

test('etcd holds each object under its key, without resourceVersion; the revision is the mod revision', async () => {
  const prefix = nextPrefix();
  const store = await openEtcdStore({ endpoints: [member.url], prefix });
  const client = new Etcd3({ hosts: member.url });
  try {
    const a = store.create(PODS, pod('a'));
    const res = await client.getAll().prefix(`${prefix}/`).exec();
    assert.deepEqual(res.kvs.map((kv) => kv.key.toString()), [`${prefix}/core/pods/default/a`]);
    assert.equal(Number(res.kvs[0].mod_revision), a.rev);
    const stored = JSON.parse(res.kvs[0].value.toString()) as KubeObject;
    assert.equal(stored.metadata.resourceVersion, undefined);
    assert.equal(stored.metadata.name, 'a');
    assert.equal(a.obj.metadata.resourceVersion, String(a.rev));
  } finally {
    client.close();
    store.close();
  }
});

test('a store caches its own writes (from the objects it sent) exactly as another store reads them back from etcd', async () => {
  const prefix = nextPrefix();
  const writer = await openEtcdStore({ endpoints: [member.url], prefix });
  const reader = await openEtcdStore({ endpoints: [member.url], prefix });
  try {
    const sent = pod('a', { v: '1' });
    const created = await writer.createAsync(PODS, sent);
    // The cache holds the entry the write answered, at the write's revision.
    assert.equal(writer.get(PODS, 'default', 'a'), created);
    assert.equal(sent.metadata.resourceVersion, String(created.rev));
    const updated = await writer.updateAsync(PODS, pod('a', { v: '2' }), created.rev);
    const synced = writer.update(PODS, pod('a', { v: '3' }), updated.rev);
    const writes = [created, updated, synced];
    // Many in flight at once, each its own revision.
    writes.push(...(await Promise.all(Array.from({ length: 20 }, (_, i) => writer.createAsync(PODS, pod(`m${i}`, { i: String(i) }))))));
    const last = Math.max(...writes.map((w) => w.rev));
    await until('the reader at the last write', () => reader.revision >= last);
    for (const name of ['a', ...Array.from({ length: 20 }, (_, i) => `m${i}`)]) {
      const mine = writer.get(PODS, 'default', name)!;
      const theirs = reader.get(PODS, 'default', name)!;
      assert.equal(mine.rev, theirs.rev, name);
      assert.equal(mine.obj.metadata.resourceVersion, String(mine.rev), name);
      assert.deepEqual(JSON.parse(mine.json), JSON.parse(theirs.json), name);
      assert.deepEqual(mine.obj, theirs.obj, name);
    }
    assert.deepEqual(writer.get(PODS, 'default', 'a')?.obj.metadata.labels, { v: '3' });
    // The writer's watch history holds the same events as the reader's.
    const history = (store: typeof writer) => {
      const seen: string[] = [];
      store.watch(PODS, created.rev - 1, (ev) => seen.push(`${ev.type} ${ev.rev} ${ev.entry.json}`))();
      return seen;
    };
    assert.deepEqual(history(writer).map((l) => l.replace(/ \{.*/, '')), history(reader).map((l) => l.replace(/ \{.*/, '')));
  } finally {
    writer.close();
    reader.close();
  }
});

test('with a full watch history and revisions taken by writes outside the prefix, each entry keeps its etcd revision and the history its last events', async () => {
  const prefix = nextPrefix();
  const store = await openEtcdStore({ endpoints: [member.url], prefix, historyLimit: 4 });
  const client = new Etcd3({ hosts: member.url });
  try {
    const writes: StoreEntry[] = [];
    for (let i = 0; i < 12; i++) {
      // Every other write leaves a gap: etcd's revision moves on under another prefix.
      if (i % 2 === 1) await client.put(`${prefix}-elsewhere/${i}`).value('x');
      writes.push(i % 3 === 0 ? store.create(PODS, pod(`p${i}`)) : await store.createAsync(PODS, pod(`p${i}`)));
    }
    const res = await client.getAll().prefix(`${prefix}/`).exec();
    const etcdRevs = new Map(res.kvs.map((kv) => [kv.key.toString(), Number(kv.mod_revision)]));
    for (const [i, w] of writes.entries()) {
      assert.equal(w.rev, etcdRevs.get(`${prefix}/core/pods/default/p${i}`), `p${i}`);
      assert.equal(store.get(PODS, 'default', `p${i}`)?.rev, w.rev, `p${i}`);
    }
    assert.equal(store.revision, writes[11].rev);
    // The history holds at least the last 4 events (it is trimmed a quarter at a time) and at most 5.
    const seen: number[] = [];
    store.watch(PODS, writes[7].rev, (ev) => seen.push(ev.rev))();
    assert.deepEqual(seen, writes.slice(8).map((w) => w.rev));
    assert.equal(reasonOf(() => store.watch(PODS, writes[5].rev, () => undefined)), 'Expired');
  } finally {
    client.close();
    store.close();
  }
});

test('two stores on one etcd: writes through one reach the other\'s watches; conflicts are real', async () => {
  const prefix = nextPrefix();
  const one = await openEtcdStore({ endpoints: [member.url], prefix });
  const two = await openEtcdStore({ endpoints: [member.url], prefix });
  try {
    const seenByTwo: StoreEvent[] = [];
    const stop = two.watch(PODS, two.revision, (ev) => seenByTwo.push(ev));
    const a = one.create(PODS, pod('a'));
    await until('the ADDED event on the second store', () => seenByTwo.length === 1);
    assert.equal(seenByTwo[0].type, 'ADDED');
    assert.equal(seenByTwo[0].rev, a.rev);
    assert.equal(two.get(PODS, 'default', 'a')?.rev, a.rev);
    // Both start from revision a.rev: the first update wins, the second is a Conflict.
    const won = one.update(PODS, pod('a', { by: 'one' }), a.rev);
    assert.equal(reasonOf(() => two.update(PODS, pod('a', { by: 'two' }), a.rev)), 'Conflict');
    // After the conflict the second store's cache holds the winner, so a retry can succeed.
    assert.equal(two.get(PODS, 'default', 'a')?.rev, won.rev);
    const retried = two.update(PODS, pod('a', { by: 'two' }), won.rev);
    assert.deepEqual(retried.obj.metadata.labels, { by: 'two' });
    await until('the update on the first store', () => one.get(PODS, 'default', 'a')?.rev === retried.rev);
    // A name taken through one store is taken for the other too, and a delete reaches both.
    assert.equal(reasonOf(() => two.create(PODS, pod('a'))), 'AlreadyExists');
    const deleted = one.delete(PODS, 'default', 'a', retried.rev);
    await until('the DELETED event on the second store', () => seenByTwo.some((e) => e.type === 'DELETED'));
    assert.deepEqual(seenByTwo.map((e) => `${e.type} ${e.rev}`), [`ADDED ${a.rev}`, `MODIFIED ${won.rev}`, `MODIFIED ${retried.rev}`, `DELETED ${deleted.rev}`]);
    assert.equal(two.get(PODS, 'default', 'a'), undefined);
    stop();
  } finally {
    one.close();
    two.close();
  }
});

test('a synchronous write among asynchronous ones in flight and another store\'s writes: each event reaches the cache once, in revision order, and each answer is what the cache holds', async () => {
  const prefix = nextPrefix();
  const one = await openEtcdStore({ endpoints: [member.url], prefix });
  const two = await openEtcdStore({ endpoints: [member.url], prefix });
  try {
    const seen: StoreEvent[] = [];
    const stop = one.watch(PODS, one.revision, (ev) => seen.push(ev));
    // No turn of the event loop between the other store's writes and this one's synchronous
    // write: only the write's catch-up can bring them into this store's cache before it answers.
    const theirs = Array.from({ length: 5 }, (_, i) => two.create(PODS, pod(`theirs-${i}`)));
    const inFlight = Array.from({ length: 10 }, (_, i) => one.createAsync(PODS, pod(`async-${i}`)));
    const sync = one.create(PODS, pod('sync'));
    for (const t of theirs) assert.equal(one.get(PODS, 'default', t.name)?.rev, t.rev, 'the other store\'s writes before the synchronous one are in the cache when it answers');
    assert.equal(one.get(PODS, 'default', 'sync')?.rev, sync.rev);
    const answers = await Promise.all(inFlight);
    for (const a of answers) assert.equal(one.get(PODS, 'default', a.name)?.rev, a.rev);
    const updated = await one.updateAsync(PODS, pod('async-0', { v: '2' }), answers[0].rev);
    assert.deepEqual(one.get(PODS, 'default', 'async-0')?.obj.metadata.labels, { v: '2' });
    await until('every event on the watch', () => seen.length === 17);
    const revs = seen.map((e) => e.rev);
    assert.deepEqual(revs, [...revs].sort((a, b) => a - b), 'events in revision order');
    assert.equal(new Set(revs).size, revs.length, 'no event twice');
    assert.deepEqual(new Set(revs), new Set([...theirs, ...answers, sync, updated].map((e) => e.rev)));
    stop();
  } finally {
    one.close();
    two.close();
  }
});

test('after etcd compacts, resuming from a compacted revision is Expired; newer revisions still resume', async () => {
  const prefix = nextPrefix();
  const opts = { endpoints: [member.url], prefix };
  let store = await openEtcdStore(opts);
  const client = new Etcd3({ hosts: member.url });
  try {
    const old = store.create(PODS, pod('old'));
    store.create(PODS, pod('b'));
    // Without compaction a reopened store replays etcd's history: resuming works.
    store.close();
    store = await openEtcdStore(opts);
    const replayed: StoreEvent[] = [];
    store.watch(PODS, old.rev, (ev) => replayed.push(ev))();
    assert.deepEqual(replayed.map((e) => e.entry.name), ['b']);
    const compactAt = store.revision;
    await client.kv.compact({ revision: String(compactAt), physical: true });
    const later = store.create(PODS, pod('later'));
    store.close();
    store = await openEtcdStore(opts);
    assert.equal(reasonOf(() => store.watch(PODS, old.rev, () => {})), 'Expired');
    assert.equal(reasonOf(() => store.list(PODS, { atRevision: old.rev })), 'Expired');
    assert.deepEqual(store.list(PODS).entries.map((e) => e.name), ['b', 'later', 'old']);
    assert.equal(store.get(PODS, 'default', 'later')?.rev, later.rev);
  } finally {
    client.close();
    store.close();
  }
});

test('an object over the size limit is refused with TooLarge and etcd is not written', async () => {
  const store = await openEtcdStore({ endpoints: [member.url], prefix: nextPrefix(), maxObjectBytes: 10_000 });
  try {
    const rev = store.revision;
    const big: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'default', name: 'big' }, data: { v: 'x'.repeat(20_000) } };
    assert.equal(reasonOf(() => store.create('/configmaps', big)), 'TooLarge');
    assert.equal(store.revision, rev);
    assert.equal(store.get('/configmaps', 'default', 'big'), undefined);
  } finally {
    store.close();
  }
});

test('an unreachable etcd fails the open with an error naming the endpoint', async () => {
  await assert.rejects(
    openEtcdStore({ endpoints: ['http://127.0.0.1:9'], prefix: nextPrefix(), timeoutMs: 1500, onFatal: () => {} }),
    /cannot start on etcd http:\/\/127\.0\.0\.1:9/,
  );
});

test('with several endpoints, calls move past a member that refuses connections to one that answers', async () => {
  // Port 9 (discard) is closed on loopback: the first endpoint refuses every connection.
  const store = await openEtcdStore({ endpoints: ['http://127.0.0.1:9', member.url], prefix: nextPrefix(), timeoutMs: 5000, onFatal: () => {} });
  try {
    const created = await store.createAsync(PODS, pod('failover'));
    assert.equal(store.get(PODS, 'default', 'failover')?.rev, created.rev);
    const updated = await store.updateAsync(PODS, { ...pod('failover', { a: 'b' }) }, created.rev);
    assert.ok(updated.rev > created.rev);
    await store.deleteAsync(PODS, 'default', 'failover');
    assert.equal(store.get(PODS, 'default', 'failover'), undefined);
  } finally {
    store.close();
  }
});

test('a write etcd does not answer fails with an error naming it, and writes go through again once etcd answers', async () => {
  const store = await openEtcdStore({ endpoints: [member.url], prefix: nextPrefix(), timeoutMs: 1500, onFatal: () => {} });
  process.kill(member.pid, 'SIGSTOP');
  try {
    await assert.rejects(store.createAsync(PODS, pod('frozen')), /etcd did not answer a create of \S+\/frozen within 1500 ms/);
  } finally {
    process.kill(member.pid, 'SIGCONT');
  }
  try {
    // Under load a write may still miss the short deadline: retry until one is answered (a create
    // whose answer was late may have been applied: AlreadyExists also means etcd answered).
    const started = Date.now();
    for (;;) {
      const outcome = await store.createAsync(PODS, pod('thawed')).then(
        () => 'created',
        (err: Error) => (err instanceof StoreError && err.reason === 'AlreadyExists' ? 'created' : err.message),
      );
      if (outcome === 'created') break;
      assert.ok(Date.now() - started < 60_000, `no write was answered after etcd resumed: ${outcome}`);
    }
    await until('the created pod in the cache', () => store.get(PODS, 'default', 'thawed') !== undefined);
  } finally {
    store.close();
  }
});
