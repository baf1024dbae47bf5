import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desiredKubernetesService, kubernetesObjectUpdate } from '../../../src/controllers/kubernetes-service-plan.js';
import { desiredKubernetesEndpoints, desiredKubernetesSlices } from '../../../src/controllers/apiserver-endpoints-plan.js';

const o = { serviceCIDR: '10.96.0.0/16', advertiseAddress: '172.18.0.1', advertisePort: 6443 };

test('the kubernetes Service is .1 port 443 https -> advertisePort, without selector', () => {
  const svc = desiredKubernetesService(o);
  const spec = svc.spec as Record<string, any>;
  assert.equal(spec.clusterIP, '10.96.0.1');
  assert.deepEqual(spec.ports, [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }]);
  assert.equal(spec.selector, undefined);
  const self = [{ ip: '172.18.0.1', port: 6443 }];
  assert.deepEqual((desiredKubernetesEndpoints(self).subsets as any[])[0], { addresses: [{ ip: '172.18.0.1' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] });
  assert.deepEqual((desiredKubernetesSlices(self)[0].endpoints as any[])[0].addresses, ['172.18.0.1']);
});

test('updates only what differs; a wrong cluster IP asks to recreate', () => {
  const svc = desiredKubernetesService(o);
  const stored = structuredClone(svc);
  (stored.spec as any).sessionAffinity = 'None';
  (stored.spec as any).ipFamilies = ['IPv4'];
  stored.metadata.resourceVersion = '7';
  assert.equal(kubernetesObjectUpdate(svc, stored), undefined);
  const moved = structuredClone(stored);
  (moved.spec as any).ports[0].targetPort = 8443;
  const upd = kubernetesObjectUpdate(svc, moved) as any;
  assert.equal(upd.spec.ports[0].targetPort, 6443);
  assert.deepEqual(upd.spec.ipFamilies, ['IPv4']);
  assert.equal(upd.metadata.resourceVersion, '7');
  const wrongIP = structuredClone(stored);
  (wrongIP.spec as any).clusterIP = '10.96.0.7';
  assert.equal(kubernetesObjectUpdate(svc, wrongIP), 'recreate');
  const ep = desiredKubernetesEndpoints([{ ip: '172.18.0.1', port: 6443 }]);
  const oldEp = { ...structuredClone(ep), subsets: [{ addresses: [{ ip: '1.2.3.4' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }] };
  assert.deepEqual((kubernetesObjectUpdate(ep, oldEp) as any).subsets, ep.subsets);
});
