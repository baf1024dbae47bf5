import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serviceView } from '../../../src/ui/service-view.js';
import { slimEndpointSlice, slimService, type SlimEndpointSlice } from '../../../src/proxy/model.js';
import type { KubeObject } from '../../../src/api/types.js';

function service(spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...spec } };
}

function slice(endpoints: { ip: string; node: string; ready?: boolean }[], name = 'web-1', serviceName = 'web'): SlimEndpointSlice {
  return slimEndpointSlice({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'shop', labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], nodeName: e.node, conditions: { ready: e.ready ?? true, serving: e.ready ?? true, terminating: false } })),
  } as KubeObject)!;
}

const pods: Record<string, string> = { '10.244.1.5': 'shop/web-a', '10.244.2.5': 'shop/web-b' };

test('endpoints with their pods and nodes, and each node\'s rules from the proxy model', () => {
  const view = serviceView(
    slimService(service({ type: 'NodePort', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }], externalTrafficPolicy: 'Local' })),
    [slice([{ ip: '10.244.2.5', node: 'n2' }, { ip: '10.244.1.5', node: 'n1' }, { ip: '10.244.1.9', node: 'n1', ready: false }]), slice([{ ip: '10.244.9.9', node: 'n1' }], 'other-1', 'other')],
    ['n2', 'n1', 'n3'],
    (ip) => pods[ip],
  );
  assert.deepEqual(
    view.endpoints.map((e) => [e.ip, e.pod, e.node, e.ready, e.ports]),
    [
      ['10.244.1.5', 'shop/web-a', 'n1', true, ['8080/TCP (http)']],
      ['10.244.1.9', undefined, 'n1', false, ['8080/TCP (http)']],
      ['10.244.2.5', 'shop/web-b', 'n2', true, ['8080/TCP (http)']],
    ],
    'other Services\' slices are left out',
  );
  const rules = (node: string) => view.nodes.find((n) => n.node === node)!.rules.map((r) => `${r.match} ${r.verdict} ${r.endpoints.join(',')} ${r.policy}`);
  assert.deepEqual(view.nodes.map((n) => n.node), ['n1', 'n2', 'n3']);
  assert.deepEqual(rules('n1'), ['10.96.0.20:80/TCP dnat 10.244.1.5:8080,10.244.2.5:8080 Cluster', 'node port 30080/TCP dnat 10.244.1.5:8080 Local']);
  assert.deepEqual(rules('n3'), ['10.96.0.20:80/TCP dnat 10.244.1.5:8080,10.244.2.5:8080 Cluster', 'node port 30080/TCP reject  Local'], 'Local with no local endpoint');
});

test('a Service without endpoints is rejected on every node; a headless one has no rules', () => {
  const empty = serviceView(slimService(service({})), [], ['n1'], () => undefined);
  assert.deepEqual(empty.endpoints, []);
  assert.deepEqual(empty.nodes[0].rules, [{ match: '10.96.0.20:80/TCP', endpoints: [], policy: 'Cluster', verdict: 'reject' }]);
  const headless = serviceView(slimService(service({ clusterIP: 'None' })), [slice([{ ip: '10.244.1.5', node: 'n1' }])], ['n1'], () => undefined);
  assert.equal(headless.proxied, false);
  assert.deepEqual(headless.nodes[0].rules, []);
  assert.equal(headless.endpoints.length, 1);
});
