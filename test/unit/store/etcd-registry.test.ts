// The registry's awaited writes on etcd, with two API servers' registries on one real etcd member:
// many writes in flight, writes that lose a race to the other server decided again from the new
// state (patches and unconditional updates succeed), and preconditions a request carries still
// answered 409, as kube-apiserver's GuaranteedUpdate does.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { ApiStatusError } from '../../../src/apiserver/errors.js';
import { Registry, type WriteContext, storeKey } from '../../../src/apiserver/registry.js';
import { type EtcdStore, openEtcdStore } from '../../../src/store/index.js';
import { startEtcd, type EtcdMember } from './etcd-member.js';

let member: EtcdMember;
let servers: { a: Registry; b: Registry; stores: EtcdStore[] };
let prefixes = 0;

function ctx(): WriteContext {
  return { dryRun: false, fieldValidation: 'Strict', fieldManager: 'test', warnings: [] };
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

async function twoServers(): Promise<{ a: Registry; b: Registry; stores: EtcdStore[] }> {
  const prefix = `/r${process.pid}-${++prefixes}/registry`;
  const stores = [await openEtcdStore({ endpoints: [member.url], prefix }), await openEtcdStore({ endpoints: [member.url], prefix })];
  const [a, b] = stores.map((s) => new Registry(s));
  await a.createAsync(R.namespaces, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }, ctx());
  await until('the second server to see the namespace', () => stores[1].get(storeKey(R.namespaces), '', 'default') !== undefined);
  return { a, b, stores };
}

async function codeOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiStatusError) return err.code;
    throw err;
  }
  return 200;
}

const configMap = (name: string, data: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data });

before(async () => {
  member = await startEtcd();
  servers = await twoServers();
});
after(async () => {
  for (const s of servers?.stores ?? []) s.close();
  await member?.stop();
});

test('patches without a resourceVersion racing on two servers all land: the losers are applied again to the new state', async () => {
  const { a, b, stores } = servers;
  const created = await a.createAsync(R.configmaps, 'default', configMap('raced'), ctx());
  assert.equal(created.code, 201);
  await until('server b to see the ConfigMap', () => stores[1].get(storeKey(R.configmaps), 'default', 'raced') !== undefined);
  const results = await Promise.all(
    Array.from({ length: 24 }, (_, i) => (i % 2 ? b : a).patchAsync(R.configmaps, 'default', 'raced', 'merge', { data: { [`k${i}`]: String(i) } }, ctx())),
  );
  assert.ok(results.every((r) => r.code === 200));
  const revs = results.map((r) => r.entry.rev);
  assert.equal(new Set(revs).size, revs.length, 'each patch is its own write');
  const newest = Math.max(...revs);
  await until('both servers to hold the last patch', () => stores.every((s) => s.get(storeKey(R.configmaps), 'default', 'raced')?.rev === newest));
  const data = stores[1].get(storeKey(R.configmaps), 'default', 'raced')!.obj.data as Record<string, string>;
  assert.deepEqual(Object.keys(data).sort(), Array.from({ length: 24 }, (_, i) => `k${i}`).sort(), 'no patch was lost');
});

test('a precondition the request carries still answers 409 when another server wrote first', async () => {
  const { a, b, stores } = servers;
  const first = await a.createAsync(R.configmaps, 'default', configMap('guarded', { v: '1' }), ctx());
  await until('server b to see the ConfigMap', () => stores[1].get(storeKey(R.configmaps), 'default', 'guarded') !== undefined);
  const rv = first.entry.obj.metadata.resourceVersion;
  await b.updateAsync(R.configmaps, 'default', 'guarded', { ...configMap('guarded', { v: '2' }), metadata: { name: 'guarded', namespace: 'default', resourceVersion: rv } }, ctx());
  // Server a may not have seen b's write yet: etcd's revision compare refuses it either way.
  assert.equal(await codeOf(a.updateAsync(R.configmaps, 'default', 'guarded', { ...configMap('guarded', { v: '3' }), metadata: { name: 'guarded', namespace: 'default', resourceVersion: rv } }, ctx())), 409);
  assert.equal(await codeOf(a.patchAsync(R.configmaps, 'default', 'guarded', 'merge', { metadata: { resourceVersion: rv }, data: { v: '4' } }, ctx())), 409);
  assert.equal(await codeOf(a.deleteAsync(R.configmaps, 'default', 'guarded', { preconditions: { resourceVersion: rv } }, ctx())), 409);
  await until('server a to see the update', () => stores[0].get(storeKey(R.configmaps), 'default', 'guarded')!.rev > first.entry.rev);
  assert.deepEqual(stores[0].get(storeKey(R.configmaps), 'default', 'guarded')!.obj.data, { v: '2' });
  // An update without a resourceVersion is unconditional: it lands whoever wrote before.
  const unconditional = await a.updateAsync(R.configmaps, 'default', 'guarded', configMap('guarded', { v: '5' }), ctx());
  assert.deepEqual(unconditional.entry.obj.data, { v: '5' });
});

test('the same name created on both servers at once: one 201, the other 409 AlreadyExists', async () => {
  const { a, b } = servers;
  const [x, y] = await Promise.allSettled([a.createAsync(R.configmaps, 'default', configMap('twice'), ctx()), b.createAsync(R.configmaps, 'default', configMap('twice'), ctx())]);
  const outcomes = [x, y].map((r) => (r.status === 'fulfilled' ? r.value.code : (r.reason as ApiStatusError).code)).sort();
  assert.deepEqual(outcomes, [201, 409]);
});

test('many creates in flight on one server each get their own revision, and deletes after them remove them', async () => {
  const { a, stores } = servers;
  const created = await Promise.all(Array.from({ length: 50 }, (_, i) => a.createAsync(R.configmaps, 'default', configMap(`many-${i}`), ctx())));
  assert.equal(new Set(created.map((r) => r.entry.rev)).size, 50);
  for (const r of created) assert.equal(r.entry.obj.metadata.resourceVersion, String(r.entry.rev));
  const deleted = await Promise.all(created.map((r) => a.deleteAsync(R.configmaps, 'default', r.entry.name, {}, ctx())));
  assert.ok(deleted.every((r) => r.removed));
  for (const r of created) assert.equal(stores[0].get(storeKey(R.configmaps), 'default', r.entry.name), undefined);
});
