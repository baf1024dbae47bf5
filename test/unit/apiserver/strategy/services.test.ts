import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../../src/api/resources.js';
import type { KubeObject } from '../../../../src/api/types.js';
import { strategyFor } from '../../../../src/apiserver/strategy/index.js';
import { serviceStrategy } from '../../../../src/apiserver/strategy/services.js';
import { ctx, setup, statusOf } from './support.js';

const svc = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec },
});

test('services: DNS-1035 names, no generation, a DELETE answers with the Service', () => {
  assert.equal(strategyFor(R.services), serviceStrategy);
  assert.equal(serviceStrategy.nameFormat, 'dns1035');
  assert.equal(serviceStrategy.returnsDeletedObject, true);
  assert.equal(serviceStrategy.generation, undefined);
  const reg = setup();
  const bad = statusOf(() => reg.create(R.services, 'default', svc('1web'), ctx()));
  assert.equal(bad.code, 422);
  assert.match(bad.message!, /a DNS-1035 label must consist of/);
});

test('create: status is an empty loadBalancer whatever the client sent, a cluster IP is allocated, no generation', () => {
  const reg = setup();
  const body = svc('web');
  body.status = { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } };
  const created = reg.create(R.services, 'default', body, ctx()).entry.obj;
  assert.deepEqual(created.status, { loadBalancer: {} });
  assert.match((created.spec as { clusterIP: string }).clusterIP, /^10\.96\.\d+\.\d+$/);
  assert.equal(created.metadata.generation, undefined);
});

test('update: a type change drops the fields the new type does not use; node ports are released on delete', () => {
  const reg = setup();
  const created = reg.create(R.services, 'default', svc('np', { type: 'NodePort' }), ctx()).entry.obj;
  const nodePort = (created.spec as { ports: { nodePort: number }[] }).ports[0].nodePort;
  assert.ok(nodePort >= 30000 && nodePort <= 32767);
  const toClusterIP = structuredClone(created);
  (toClusterIP.spec as { type: string }).type = 'ClusterIP';
  const updated = reg.update(R.services, 'default', 'np', toClusterIP, ctx()).entry.obj;
  assert.equal((updated.spec as { ports: { nodePort?: number }[] }).ports[0].nodePort, undefined, 'a ClusterIP Service holds no node port');
  assert.equal(updated.metadata.generation, undefined);
  const deleted = reg.delete(R.services, 'default', 'np', {}, ctx());
  assert.equal(deleted.removed, true);
  // The port the Service gave up can be asked for again.
  const again = reg.create(R.services, 'default', svc('again', { type: 'NodePort', ports: [{ port: 80, nodePort }] }), ctx()).entry.obj;
  assert.equal((again.spec as { ports: { nodePort: number }[] }).ports[0].nodePort, nodePort);
});
