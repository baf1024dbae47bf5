import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceChangeTracker } from '../../../src/proxy/change-tracker.js';
import { eps, svc } from './fixtures.js';

test('only Services that changed are handed over, once', () => {
  const t = new ServiceChangeTracker('node-a');
  let notified = 0;
  t.onChange(() => notified++);
  t.serviceUpdated(svc('a', { clusterIP: '10.96.0.1', ports: [{ name: 'http', port: 80 }] }));
  t.serviceUpdated(svc('b', { clusterIP: '10.96.0.2', ports: [{ name: 'http', port: 80 }] }));
  t.sliceUpdated(eps('a', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.2' }]));
  const first = t.takeChanges();
  assert.deepEqual([...first.keys()].sort(), ['default/a', 'default/b']);
  assert.deepEqual(first.get('default/a')![0].endpoints.map((e) => e.ip), ['10.244.1.2']);
  assert.equal(t.takeChanges().size, 0);
  assert.equal(notified, 3);
  // The same object again (e.g. a resync or a status-only update) is no change.
  t.serviceUpdated(svc('b', { clusterIP: '10.96.0.2', ports: [{ name: 'http', port: 80 }] }));
  assert.equal(t.takeChanges().size, 0);
});

test('deleting a slice or a Service reports the Service with what is left', () => {
  const t = new ServiceChangeTracker('node-a');
  t.serviceUpdated(svc('a', { clusterIP: '10.96.0.1', ports: [{ name: 'http', port: 80 }] }));
  const s1 = eps('a', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.2' }], 'a-1');
  const s2 = eps('a', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.3' }], 'a-2');
  t.sliceUpdated(s1);
  t.sliceUpdated(s2);
  t.takeChanges();
  t.sliceDeleted(s1);
  assert.deepEqual(t.takeChanges().get('default/a')![0].endpoints.map((e) => e.ip), ['10.244.1.3']);
  t.serviceDeleted(svc('a', {}));
  assert.deepEqual(t.takeChanges().get('default/a'), []);
});

test('a slice moving to another Service marks both', () => {
  const t = new ServiceChangeTracker('node-a');
  t.sliceUpdated(eps('a', [{ port: 80 }], [{ ip: '10.244.1.2' }], 's'));
  t.takeChanges();
  t.sliceUpdated(eps('b', [{ port: 80 }], [{ ip: '10.244.1.2' }], 's'));
  assert.deepEqual([...t.takeChanges().keys()].sort(), ['default/a', 'default/b']);
});

test('takeAll returns every Service and clears pending changes; requeue brings one back', () => {
  const t = new ServiceChangeTracker('node-a');
  t.serviceUpdated(svc('a', { clusterIP: '10.96.0.1', ports: [{ port: 80 }] }));
  assert.equal(t.takeAll().size, 1);
  assert.equal(t.pendingChanges, 0);
  t.requeue('default/a');
  assert.deepEqual([...t.takeChanges().keys()], ['default/a']);
});
