import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../../src/api/resources.js';
import type { KubeObject } from '../../../../src/api/types.js';
import { strategyFor } from '../../../../src/apiserver/strategy/index.js';
import { podGracePeriod, podStrategy } from '../../../../src/apiserver/strategy/pods.js';
import { ctx, setup, statusOf } from './support.js';

const pod = (name: string, spec: Record<string, unknown> = {}, status?: Record<string, unknown>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
  ...(status ? { status } : {}),
});

test('pods are looked up to the pod strategy, which answers a DELETE with the pod', () => {
  assert.equal(strategyFor(R.pods), podStrategy);
  assert.equal(podStrategy.returnsDeletedObject, true);
  assert.equal(podStrategy.generation, undefined, 'Kubernetes 1.32 sets no metadata.generation on pods');
});

test('grace period: the DELETE option, else the spec, else 30; unscheduled or finished pods go at once; negative is 1', () => {
  const scheduled = pod('p', { nodeName: 'n1', terminationGracePeriodSeconds: 10 });
  assert.equal(podGracePeriod(scheduled, {}), 10);
  assert.equal(podGracePeriod(scheduled, { gracePeriodSeconds: 3 }), 3);
  assert.equal(podGracePeriod(scheduled, { gracePeriodSeconds: 0 }), 0);
  assert.equal(podGracePeriod(pod('p', { nodeName: 'n1' }), {}), 30);
  assert.equal(podGracePeriod(scheduled, { gracePeriodSeconds: -5 }), 1, 'upstream turns a negative period into 1 second');
  assert.equal(podGracePeriod(pod('p', { nodeName: 'n1', terminationGracePeriodSeconds: -1 }), {}), 1);
  assert.equal(podGracePeriod(pod('p', { terminationGracePeriodSeconds: 10 }), {}), 0, 'not scheduled');
  assert.equal(podGracePeriod(pod('p', { terminationGracePeriodSeconds: 10 }), { gracePeriodSeconds: -1 }), 0, 'not scheduled wins over negative');
  assert.equal(podGracePeriod(pod('p', { nodeName: 'n1' }, { phase: 'Succeeded' }), {}), 0);
  assert.equal(podGracePeriod(pod('p', { nodeName: 'n1' }, { phase: 'Failed' }), { gracePeriodSeconds: 20 }), 0);
});

test('create: status reset to Pending, no generation (even one the client sent), default ServiceAccount admitted', () => {
  const reg = setup();
  const body = pod('a', {}, { phase: 'Running', podIP: '10.0.0.1' });
  body.metadata.generation = 7;
  const created = reg.create(R.pods, 'default', body, ctx()).entry.obj;
  assert.deepEqual(created.status, { phase: 'Pending', qosClass: 'BestEffort' }, 'the client-sent status is gone; the QoS class is the server\'s');
  assert.equal(created.metadata.generation, undefined);
  assert.ok(reg.store.get('/serviceaccounts', 'default', 'default'), 'the default ServiceAccount was created for the pod');
  assert.equal(statusOf(() => reg.create(R.pods, 'default', pod('b', { serviceAccountName: 'missing' }), ctx())).code, 403);
});

test('updates: the main endpoint keeps status, /status keeps spec; neither gives a pod a generation', () => {
  const reg = setup();
  const created = reg.create(R.pods, 'default', pod('a'), ctx()).entry.obj;
  const labelled = structuredClone(created);
  labelled.metadata.labels = { app: 'x' };
  labelled.status = { phase: 'Running' };
  const afterMain = reg.update(R.pods, 'default', 'a', labelled, ctx()).entry.obj;
  assert.equal((afterMain.status as { phase: string }).phase, 'Pending');
  assert.deepEqual(afterMain.metadata.labels, { app: 'x' });
  assert.equal(afterMain.metadata.generation, undefined);
  const statusWrite = structuredClone(afterMain);
  statusWrite.status = { phase: 'Running' };
  (statusWrite.spec as { nodeName?: string }).nodeName = 'sneaky';
  const afterStatus = reg.update(R.pods, 'default', 'a', statusWrite, ctx(), 'status').entry.obj;
  assert.equal((afterStatus.status as { phase: string }).phase, 'Running');
  assert.equal((afterStatus.spec as { nodeName?: string }).nodeName, undefined, 'spec is reset on a status update');
  assert.equal(afterStatus.metadata.generation, undefined);
});

test('delete: a scheduled pod is marked with its grace period, a negative one as 1 second; an unscheduled pod goes at once', () => {
  const reg = setup();
  reg.create(R.pods, 'default', pod('s', { nodeName: 'n1' }), ctx());
  const marked = reg.delete(R.pods, 'default', 's', { gracePeriodSeconds: -3 }, ctx());
  assert.equal(marked.removed, undefined);
  assert.equal(marked.entry.obj.metadata.deletionGracePeriodSeconds, 1);
  assert.ok(marked.entry.obj.metadata.deletionTimestamp);
  const forced = reg.delete(R.pods, 'default', 's', { gracePeriodSeconds: 0 }, ctx());
  assert.equal(forced.removed, true, 'a shorter grace period of 0 removes it');
  reg.create(R.pods, 'default', pod('u'), ctx());
  assert.equal(reg.delete(R.pods, 'default', 'u', {}, ctx()).removed, true);
});
