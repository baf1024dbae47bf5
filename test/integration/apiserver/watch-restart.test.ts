// Watches across a server restart with the SQLite store: a raw watch resumes from a
// resourceVersion taken before the restart, and an informer of @kubernetes/client-node sees every
// change made before, during and after the restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { R } from '../../../src/api/resources.js';
import type { KubeObject, WatchEvent } from '../../../src/api/types.js';
import { startTestServer } from '../../support/server.js';

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

test('a watch resumes from a resourceVersion across a restart (sqlite)', async () => {
  const s = await startTestServer({ store: 'sqlite', controllers: false });
  try {
    const list = await s.client.list(R.configmaps, { namespace: 'default' });
    await s.client.create(R.configmaps, cm('before-restart', '1'));
    await s.restart();
    await s.client.create(R.configmaps, cm('after-restart', '1'));
    const events: WatchEvent[] = [];
    // The server ends the stream after timeoutSeconds.
    const h = s.client.watch(R.configmaps, { namespace: 'default', resourceVersion: list.metadata.resourceVersion, timeoutSeconds: 2 }, (ev) => events.push(ev));
    await until('both ADDED events', () => events.length >= 2);
    await h.done;
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.object.metadata.name}`),
      ['ADDED before-restart', 'ADDED after-restart'],
    );
    // A version the server never issued (newer than its revision) is an ERROR event with 504 Too
    // large resource version, as upstream's watch cache answers after waiting for it; clients relist.
    const gone: WatchEvent[] = [];
    const h2 = s.client.watch(R.configmaps, { namespace: 'default', resourceVersion: '999999999' }, (ev) => gone.push(ev));
    await h2.done;
    assert.equal(gone[0]?.type, 'ERROR');
    const st = gone[0].object as unknown as { code: number; details: { causes: { reason: string }[] } };
    assert.equal(st.code, 504);
    assert.equal(st.details.causes[0].reason, 'ResourceVersionTooLarge');
  } finally {
    await s.stop();
  }
});

test('a @kubernetes/client-node informer sees every change across a restart', async () => {
  const s = await startTestServer({ store: 'sqlite', controllers: false });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(s.kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
  const seen: string[] = [];
  let running = true;
  informer.on('add', (o) => seen.push(`add ${o.metadata?.name} ${o.data?.v}`));
  informer.on('update', (o) => seen.push(`update ${o.metadata?.name} ${o.data?.v}`));
  informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
  // client-node stops an informer on errors; its users restart it, as here.
  informer.on('error', () => {
    if (running) setTimeout(() => running && void informer.start().catch(() => {}), 200);
  });
  try {
    await informer.start();
    await s.client.create(R.configmaps, cm('one', '1'));
    await until('add one', () => seen.includes('add one 1'));
    await s.restart();
    await s.client.create(R.configmaps, cm('two', '1'));
    const one = await s.client.get(R.configmaps, 'default', 'one');
    await s.client.update(R.configmaps, { ...one!, data: { v: '2' } });
    await s.client.delete(R.configmaps, 'default', 'two');
    await until('every change after the restart', () => seen.includes('add two 1') && seen.includes('update one 2') && seen.includes('delete two'));
    assert.deepEqual(
      seen.filter((e) => !e.startsWith('add kube-root')),
      ['add one 1', 'add two 1', 'update one 2', 'delete two'],
    );
  } finally {
    running = false;
    await informer.stop();
    await s.stop();
  }
});
