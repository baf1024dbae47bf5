// `flatnet server --store etcd`: two real API servers on one real etcd behave as one API (a write
// through one is seen by watches and reads on the other, a stale resourceVersion through either is
// a 409), and after etcd compacts, a watch resuming from a compacted resourceVersion gets 410.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { R } from '../../../src/api/resources.js';
import type { KubeObject, WatchEvent } from '../../../src/api/types.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { startEtcd, type EtcdMember } from '../../unit/store/etcd-member.js';

let etcd: EtcdMember;

before(async () => {
  etcd = await startEtcd();
});
after(async () => {
  await etcd?.stop();
});

function cm(name: string, value: string): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { v: value } };
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const onEtcd = () => ({ controllers: false, args: ['--store', 'etcd', '--etcd-servers', etcd.url] });

test('two API servers on one etcd see each other\'s writes in watches and reads', async () => {
  const one: TestServer = await startTestServer(onEtcd());
  let two: TestServer | undefined;
  try {
    two = await startTestServer(onEtcd());
    const listed = await two.client.list(R.configmaps, { namespace: 'default' });
    const onTwo: WatchEvent[] = [];
    const onOne: WatchEvent[] = [];
    const w2 = two.client.watch(R.configmaps, { namespace: 'default', resourceVersion: listed.metadata.resourceVersion }, (ev) => onTwo.push(ev));
    const w1 = one.client.watch(R.configmaps, { namespace: 'default', resourceVersion: listed.metadata.resourceVersion }, (ev) => onOne.push(ev));
    const created = await one.client.create(R.configmaps, cm('shared', '1'));
    await until('the ADDED event on the second server', () => onTwo.length >= 1);
    assert.equal(onTwo[0].type, 'ADDED');
    assert.equal(onTwo[0].object.metadata.resourceVersion, created.metadata.resourceVersion);
    // The second server updates what the first created; the first server's watch sees it.
    const fromTwo = await two.client.get(R.configmaps, 'default', 'shared');
    assert.equal(fromTwo?.metadata.resourceVersion, created.metadata.resourceVersion);
    const updated = await two.client.update(R.configmaps, { ...fromTwo!, data: { v: '2' } });
    await until('the MODIFIED event on the first server', () => onOne.some((e) => e.type === 'MODIFIED'));
    // Writing the old version through the first server is a conflict: the versions are etcd's.
    await assert.rejects(one.client.update(R.configmaps, { ...created, data: { v: 'stale' } }), (err: Error & { status?: { code?: number; reason?: string } }) => {
      assert.equal(err.status?.code, 409, err.message);
      assert.equal(err.status?.reason, 'Conflict');
      return true;
    });
    const kubectl = await one.kubectl(['get', 'configmap', 'shared', '-o', 'jsonpath={.data.v} {.metadata.resourceVersion}']);
    assert.equal(kubectl.stdout, `2 ${updated.metadata.resourceVersion}`, kubectl.stderr);
    await one.client.delete(R.configmaps, 'default', 'shared');
    await until('the DELETED events on both servers', () => onTwo.some((e) => e.type === 'DELETED') && onOne.some((e) => e.type === 'DELETED'));
    assert.deepEqual(onTwo.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED shared', 'MODIFIED shared', 'DELETED shared']);
    assert.deepEqual(onOne.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED shared', 'MODIFIED shared', 'DELETED shared']);
    w1.stop();
    w2.stop();
  } finally {
    await two?.stop();
    await one.stop();
  }
});

test('after etcd compacts, a restarted server answers a watch from a compacted resourceVersion with 410 Expired', async () => {
  const s = await startTestServer(onEtcd());
  const client = new Etcd3({ hosts: etcd.url });
  try {
    const before = await s.client.create(R.configmaps, cm('before-compaction', '1'));
    await s.client.create(R.configmaps, cm('next', '1'));
    // Without compaction, a restarted server replays etcd's history: the watch resumes.
    await s.restart();
    const resumed: WatchEvent[] = [];
    const h = s.client.watch(R.configmaps, { namespace: 'default', resourceVersion: before.metadata.resourceVersion, timeoutSeconds: 1 }, (ev) => resumed.push(ev));
    await h.done;
    assert.deepEqual(resumed.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED next']);
    const status = await client.getAll().prefix('/registry/').exec();
    await client.kv.compact({ revision: status.header.revision, physical: true });
    await s.restart();
    const gone: WatchEvent[] = [];
    const h2 = s.client.watch(R.configmaps, { namespace: 'default', resourceVersion: before.metadata.resourceVersion }, (ev) => gone.push(ev));
    await h2.done;
    assert.equal(gone[0]?.type, 'ERROR', JSON.stringify(gone));
    const st = gone[0].object as unknown as { code: number; reason: string };
    assert.equal(st.code, 410);
    assert.equal(st.reason, 'Expired');
  } finally {
    client.close();
    await s.stop();
  }
});

test('events.k8s.io/v1 Events are created, replaced, patched and deleted through awaited etcd writes', async () => {
  const s = await startTestServer(onEtcd());
  try {
    const event = (series?: number) =>
      JSON.stringify({
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: 'ev-v1', namespace: 'default' },
        eventTime: '2026-12-07T00:00:00.000000Z',
        reportingController: 'flatnet.test/etcd',
        reportingInstance: 'etcd-servers-test',
        action: 'Testing',
        reason: 'Tested',
        regarding: { kind: 'Pod', namespace: 'default', name: 'p' },
        note: 'tested',
        type: 'Normal',
        ...(series ? { series: { count: series, lastObservedTime: '2026-12-07T00:00:01.000000Z' } } : {}),
      });
    const created = await s.kubectl(['create', '-f', '-', '-o', 'jsonpath={.note} {.metadata.resourceVersion}'], event());
    assert.equal(created.code, 0, created.stderr);
    const [note, rv] = created.stdout.split(' ');
    assert.equal(note, 'tested');
    // The core/v1 view of the same stored Event carries etcd's revision.
    const core = await s.client.get(R.events, 'default', 'ev-v1');
    assert.equal(core?.metadata.resourceVersion, rv);
    const replaced = await s.kubectl(['replace', '-f', '-', '-o', 'jsonpath={.series.count}'], event(2));
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.equal(replaced.stdout, '2');
    const patched = await s.kubectl(['patch', 'events.v1.events.k8s.io', 'ev-v1', '--type', 'merge', '-p', '{"series":{"count":3}}', '-o', 'jsonpath={.series.count} {.metadata.resourceVersion}']);
    assert.equal(patched.code, 0, patched.stderr);
    const [count, patchedRv] = patched.stdout.split(' ');
    assert.equal(count, '3');
    assert.equal((await s.client.get(R.events, 'default', 'ev-v1'))?.metadata.resourceVersion, patchedRv);
    const deleted = await s.kubectl(['delete', 'events.v1.events.k8s.io', 'ev-v1']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(await s.client.get(R.events, 'default', 'ev-v1'), undefined);
  } finally {
    await s.stop();
  }
});
