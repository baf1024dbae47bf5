// `flatnet server` flags that reach the controllers: the LoadBalancer pool gives addresses, and
// the controllers' metrics are served on the API server's /metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../../support/server.js';
import { R } from '../../../src/api/resources.js';

test('--load-balancer-pool and controller metrics', async (t) => {
  const server = await startTestServer({ store: 'memory', controllers: true, args: ['--load-balancer-pool', '172.18.255.0/24'] });
  t.after(() => server.stop());
  const created = await server.kubectl(['create', 'service', 'loadbalancer', 'lb', '--tcp=80:8080']);
  assert.equal(created.code, 0, created.stderr);
  let ip: string | undefined;
  for (let i = 0; i < 200 && !ip; i++) {
    const svc = await server.client.get(R.services, 'default', 'lb');
    ip = (svc?.status as { loadBalancer?: { ingress?: { ip: string }[] } } | undefined)?.loadBalancer?.ingress?.[0]?.ip;
    if (!ip) await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(ip ?? '', /^172\.18\.255\.\d+$/);
  const metrics = await server.client.request<string>('GET', '/metrics');
  assert.match(metrics, /^workqueue_adds_total\{name="[a-z-]+"\} \d+/m);
  assert.match(metrics, /^apiserver_request_total\{/m);
});

test('kubectl apply changes a LoadBalancer Service to ClusterIP, as with kube-apiserver', async (t) => {
  const server = await startTestServer({ store: 'memory', controllers: true, args: ['--load-balancer-pool', '172.18.255.0/24'] });
  t.after(() => server.stop());
  const svc = (type: string) => `apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: ${type}
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`;
  let r = await server.kubectl(['apply', '-f', '-'], svc('LoadBalancer'));
  assert.equal(r.code, 0, r.stderr);
  const nodePort = (await server.kubectl(['get', 'svc', 'web', '-o', 'jsonpath={.spec.ports[0].nodePort}'])).stdout;
  assert.match(nodePort, /^3\d{4}$/);
  r = await server.kubectl(['apply', '-f', '-'], svc('ClusterIP'));
  assert.equal(r.code, 0, `LoadBalancer -> ClusterIP: ${r.stderr}`);
  const after = await server.client.get(R.services, 'default', 'web');
  const spec = after?.spec as { type: string; ports: { nodePort?: number }[]; externalTrafficPolicy?: string; allocateLoadBalancerNodePorts?: boolean };
  assert.equal(spec.type, 'ClusterIP');
  assert.equal(spec.ports[0].nodePort, undefined);
  assert.equal(spec.externalTrafficPolicy, undefined);
  assert.equal(spec.allocateLoadBalancerNodePorts, undefined);
  // The node port went back to the pool: another Service may ask for it.
  r = await server.kubectl(['create', 'service', 'nodeport', 'other', '--tcp=80:8080', `--node-port=${nodePort}`]);
  assert.equal(r.code, 0, `node port ${nodePort} must be free again: ${r.stderr}`);
});
