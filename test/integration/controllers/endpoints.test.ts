// EndpointSlices, Endpoints, the kubernetes Service and namespace deletion against a real
// `flatnet server` with its controllers; a fake kubelet plays the nodes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../support/server.js';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import type { EndpointSlice } from '../../../src/controllers/endpointslice-plan.js';
import type { Endpoints } from '../../../src/controllers/endpoints-plan.js';
import { FakeKubelet, eventually } from './fake-kubelet.js';

let server: TestServer;
let kubelet: FakeKubelet;

before(async () => {
  server = await startTestServer({ controllers: true, store: 'sqlite' });
  kubelet = new FakeKubelet(server.client, ['n1', 'n2']);
  await kubelet.start();
});

after(async () => {
  kubelet?.stop();
  await server?.stop();
});

function pod(name: string, namespace: string, labels: Record<string, string>, node: string, ports: { name: string; containerPort: number }[] = []): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'nginx', ports }] },
  };
}

async function ensureNamespace(name: string): Promise<void> {
  if (!(await server.client.get(R.namespaces, undefined, name))) await server.client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

async function slicesOf(namespace: string, service: string): Promise<EndpointSlice[]> {
  const list = await server.client.list<EndpointSlice>(R.endpointslices, { namespace, labelSelector: `kubernetes.io/service-name=${service}` });
  return list.items;
}

test('a Service with a selector gets EndpointSlices and Endpoints that follow readiness', async () => {
  await ensureNamespace('ep-basic');
  for (let i = 0; i < 3; i++) await server.client.create(R.pods, pod(`web-${i}`, 'ep-basic', { app: 'web' }, i % 2 ? 'n2' : 'n1', [{ name: 'http', containerPort: 8080 }]));
  const svc = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: ep-basic}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
`;
  const r = await server.kubectl(['apply', '-f', '-'], svc);
  assert.equal(r.code, 0, r.stderr);
  const slices = await eventually('3 ready endpoints', async () => {
    const s = await slicesOf('ep-basic', 'web');
    const ready = s.flatMap((x) => x.endpoints ?? []).filter((e) => e.conditions.ready);
    return ready.length === 3 && s;
  });
  assert.equal(slices.length, 1);
  const slice = slices[0]!;
  assert.match(slice.metadata.name!, /^web-[a-z0-9]{5}$/);
  assert.equal(slice.metadata.labels!['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
  assert.equal(slice.metadata.ownerReferences![0]!.kind, 'Service');
  assert.deepEqual(slice.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.deepEqual(new Set(slice.endpoints!.map((e) => e.nodeName)), new Set(['n1', 'n2']));
  const ep = await eventually('Endpoints with 3 addresses', async () => {
    const e = await server.client.get<Endpoints>(R.endpoints, 'ep-basic', 'web');
    return e?.subsets?.[0]?.addresses?.length === 3 && e;
  });
  assert.deepEqual(ep.subsets![0]!.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  const get = await server.kubectl(['get', 'endpoints', 'web', '-n', 'ep-basic']);
  assert.match(get.stdout, /:8080/);

  await kubelet.setReady('ep-basic', 'web-1', false);
  await eventually('web-1 not ready in the slice and under notReadyAddresses', async () => {
    const [s] = await slicesOf('ep-basic', 'web');
    const e = s?.endpoints?.find((x) => x.targetRef?.name === 'web-1');
    const eps = await server.client.get<Endpoints>(R.endpoints, 'ep-basic', 'web');
    return e?.conditions.ready === false && e.conditions.serving === false && eps?.subsets?.[0]?.notReadyAddresses?.[0]?.targetRef?.name === 'web-1';
  });

  // Deleting a pod: terminating first (ready false, terminating true), then gone.
  await server.client.delete(R.pods, 'ep-basic', 'web-0');
  await eventually('web-0 gone from the slice', async () => {
    const [s] = await slicesOf('ep-basic', 'web');
    return s && !s.endpoints!.some((x) => x.targetRef?.name === 'web-0');
  });

  // A selector-less Service's Endpoints are left to the user ...
  await server.client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'manual', namespace: 'ep-basic' }, spec: { ports: [{ port: 80 }] } });
  await server.client.create(R.endpoints, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'manual', namespace: 'ep-basic' }, subsets: [{ addresses: [{ ip: '192.0.2.1' }], ports: [{ port: 80 }] }] });
  // ... and mirrored into an EndpointSlice for EndpointSlice readers, as upstream does.
  const mirrored = await eventually('mirrored slice', async () => {
    const s = await slicesOf('ep-basic', 'manual');
    return s.length === 1 && s[0]!.endpoints?.[0]?.addresses[0] === '192.0.2.1' && s[0]!;
  });
  assert.equal(mirrored.metadata.labels!['endpointslice.kubernetes.io/managed-by'], 'endpointslicemirroring-controller.k8s.io');
  assert.deepEqual(mirrored.ports, [{ name: '', port: 80, protocol: 'TCP' }]);
  const manual = await server.client.get<Endpoints>(R.endpoints, 'ep-basic', 'manual');
  assert.equal(manual!.subsets![0]!.addresses![0]!.ip, '192.0.2.1');
});

test('250 pods make 3 slices; one pod change rewrites exactly one slice', async () => {
  await ensureNamespace('ep-many');
  await server.client.create(R.services, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'many', namespace: 'ep-many' },
    spec: { selector: { app: 'many' }, ports: [{ port: 80, targetPort: 8080 }] },
  });
  const names = Array.from({ length: 250 }, (_, i) => `many-${i}`);
  for (let i = 0; i < names.length; i += 25) {
    await Promise.all(names.slice(i, i + 25).map((n, j) => server.client.create(R.pods, pod(n, 'ep-many', { app: 'many' }, (i + j) % 2 ? 'n2' : 'n1'))));
  }
  const slices = await eventually(
    '250 ready endpoints',
    async () => {
      const s = await slicesOf('ep-many', 'many');
      return s.flatMap((x) => x.endpoints ?? []).filter((e) => e.conditions.ready).length === 250 && s;
    },
    60_000,
  );
  assert.equal(slices.length, 3);
  // Pods turn ready in batches, so how full each slice is depends on timing; none holds more than 100.
  assert.ok(slices.every((s) => s.endpoints!.length <= 100));
  // kubectl shows the same three slices; its ENDPOINTS column names the first three and "+ N more...".
  const shown = await server.kubectl(['get', 'endpointslices', '-n', 'ep-many', '-l', 'kubernetes.io/service-name=many']);
  assert.equal(shown.code, 0, shown.stderr);
  const rows = shown.stdout.split('\n').filter((l) => l.startsWith('many-'));
  assert.deepEqual(rows.map((l) => l.split(/\s+/)[0]).sort(), slices.map((s) => s.metadata.name).sort());
  for (const s of slices) {
    const row = rows.find((l) => l.startsWith(`${s.metadata.name} `))!;
    assert.match(row, new RegExp(`\\sIPv4\\s+8080\\s+\\S+,\\S+,\\S+ \\+ ${s.endpoints!.length - 3} more\\.\\.\\.`), row);
  }
  const versions = new Map(slices.map((s) => [s.metadata.name!, s.metadata.resourceVersion]));
  const holder = slices.find((s) => s.endpoints!.some((e) => e.targetRef?.name === 'many-137'))!;

  await kubelet.setReady('ep-many', 'many-137', false);
  const changed = await eventually('many-137 not ready', async () => {
    const s = await slicesOf('ep-many', 'many');
    return s.some((x) => x.endpoints!.some((e) => e.targetRef?.name === 'many-137' && !e.conditions.ready)) && s;
  });
  // A marker change to a pod of another slice: the controller syncs a Service's slices one sync
  // at a time, so once the marker shows, every write the first change caused has landed.
  const other = slices.find((s) => s !== holder)!;
  const marker = other.endpoints![0]!.targetRef!.name;
  await kubelet.setReady('ep-many', marker, false);
  const settled = await eventually(`${marker} not ready`, async () => {
    const s = await slicesOf('ep-many', 'many');
    return s.some((x) => x.endpoints!.some((e) => e.targetRef?.name === marker && !e.conditions.ready)) && s;
  });
  assert.deepEqual(settled.map((s) => s.metadata.name).sort(), [...versions.keys()].sort());
  const rewritten = settled.filter((s) => s.metadata.resourceVersion !== versions.get(s.metadata.name!)).map((s) => s.metadata.name);
  assert.deepEqual(rewritten.sort(), [holder.metadata.name, other.metadata.name].sort(), 'only the two slices holding a changed pod were rewritten');
  assert.ok(changed.length === 3);
});

test('deleting a namespace deletes its contents and then the namespace', async () => {
  await ensureNamespace('ep-doomed');
  await server.client.create(R.pods, pod('p', 'ep-doomed', { app: 'x' }, 'n1'));
  await server.client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x', namespace: 'ep-doomed' }, spec: { selector: { app: 'x' }, ports: [{ port: 80 }] } });
  await server.client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'ep-doomed' }, data: { a: 'b' } });
  await eventually('slice for x', async () => (await slicesOf('ep-doomed', 'x')).length > 0);
  const r = await server.kubectl(['delete', 'namespace', 'ep-doomed', '--timeout=60s']);
  assert.equal(r.code, 0, r.stderr);
  const get = await server.kubectl(['get', 'namespace', 'ep-doomed']);
  assert.match(get.stderr, /NotFound/);
  assert.equal((await server.client.list(R.configmaps, { namespace: 'ep-doomed' })).items.length, 0);
});

test('the kubernetes Service points at the API server and survives a restart', async () => {
  const check = async () => {
    const svc = await eventually('kubernetes Service', () => server.client.get(R.services, 'default', 'kubernetes'));
    const spec = svc.spec as { clusterIP: string; ports: { name: string; port: number; targetPort: number }[]; selector?: unknown };
    assert.equal(spec.clusterIP, '10.96.0.1');
    assert.equal(spec.selector, undefined);
    assert.deepEqual([spec.ports[0]!.name, spec.ports[0]!.port, spec.ports[0]!.targetPort], ['https', 443, Number(new URL(server.url).port)]);
    const ep = await eventually('kubernetes Endpoints', () => server.client.get<Endpoints>(R.endpoints, 'default', 'kubernetes'));
    assert.deepEqual(ep.subsets![0]!.addresses!.map((a) => a.ip), ['127.0.0.1']);
    const slice = await eventually('kubernetes EndpointSlice', () => server.client.get<EndpointSlice>(R.endpointslices, 'default', 'kubernetes'));
    assert.equal(slice.ports![0]!.port, Number(new URL(server.url).port));
    return svc;
  };
  const before = await check();
  kubelet.stop(); // it holds the old connection
  await server.restart();
  const afterRestart = await check();
  assert.equal(afterRestart.metadata.uid, before.metadata.uid);
});
