// The real kubectl 1.32 against discovery, OpenAPI and Tables from the present/ module.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RESOURCES, findResource, type ResourceInfo } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { toTable } from '../../../src/apiserver/present/index.js';
import { sendJson, startHarness, type Harness, type Recorded } from './kubectl-harness.js';


let h: Harness;
/** Objects the fake server holds, by URL path of the object. */
const objects = new Map<string, KubeObject>();

function created(ago: number): string {
  return new Date(Date.now() - ago).toISOString();
}

/** Parse /api/v1/namespaces/ns/pods[/name] and /apis/g/v/... into resource, namespace, name. */
function route(path: string): { r: ResourceInfo; ns?: string; name?: string } | undefined {
  const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?$/.exec(path);
  if (!m) return undefined;
  const group = m[2] ?? '';
  const version = m[1] ?? m[3];
  const r = findResource(group, version, m[5]);
  return r ? { r, ns: m[4], name: m[6] } : undefined;
}

function serve(req: Recorded, res: Parameters<Harness['handler']>[1]): boolean {
  const path = req.url.split('?')[0];
  const target = route(path);
  if (!target) return false;
  if (req.method === 'GET' && target.name === undefined) {
    const items = [...objects.entries()].filter(([p]) => p.startsWith(path + '/') || (target.ns === undefined && p.includes(`/${target.r.plural}/`))).map(([, o]) => o);
    if (String(req.headers.accept).includes('as=Table')) {
      const include = (new URLSearchParams(req.url.split('?')[1]).get('includeObject') ?? 'Metadata') as 'Metadata';
      sendJson(res, 200, toTable(target.r, items, { includeObject: include, listMeta: { resourceVersion: '10' } }));
    } else {
      sendJson(res, 200, { kind: target.r.listKind, apiVersion: 'v1', metadata: { resourceVersion: '10' }, items });
    }
    return true;
  }
  const obj = objects.get(path);
  if (req.method === 'GET' && obj) {
    const table = String(req.headers.accept).includes('as=Table');
    sendJson(res, 200, table ? toTable(target.r, [obj], { includeObject: 'Metadata' }) : obj);
    return true;
  }
  if (req.method === 'PATCH' && obj) {
    sendJson(res, 200, obj);
    return true;
  }
  if (req.method === 'POST') {
    sendJson(res, 201, JSON.parse(req.body.toString()));
    return true;
  }
  return false;
}

before(async () => {
  h = await startHarness();
  h.handler = serve;
});
after(() => h.close());

function lastRequest(method: string): Recorded {
  const r = [...h.requests].reverse().find((x) => x.method === method);
  assert.ok(r, `no ${method} request`);
  return r;
}

test('kubectl explain uses the published schemas', async () => {
  const pods = await h.kubectl(['explain', 'pods']);
  assert.equal(pods.code, 0, pods.stderr);
  assert.match(pods.stdout, /KIND:\s+Pod\nVERSION:\s+v1/);
  assert.match(pods.stdout, /spec\t<PodSpec>/);
  const ports = await h.kubectl(['explain', 'svc.spec.ports']);
  assert.equal(ports.code, 0, ports.stderr);
  assert.match(ports.stdout, /FIELD: ports <\[\]ServicePort>/);
  assert.match(ports.stdout, /targetPort\t<IntOrString>/);
  assert.match(ports.stdout, /port\t<integer> -required-/);
  const deploy = await h.kubectl(['explain', 'deployment.spec.strategy']);
  assert.match(deploy.stdout, /rollingUpdate\t<RollingUpdateDeployment>/);
  const listeners = await h.kubectl(['explain', 'gateways.spec.listeners']);
  assert.equal(listeners.code, 0, listeners.stderr);
  assert.match(listeners.stdout, /GROUP:\s+gateway.networking.k8s.io/);
  assert.match(listeners.stdout, /protocol\t<string> -required-/);
  const fields = await h.kubectl(['explain', 'ingress.spec.rules.http.paths.backend.service.port']);
  assert.match(fields.stdout, /number\t<integer>/);
});

test('kubectl explain finds every served kind', async () => {
  const results = await Promise.all(
    RESOURCES.map(async (r) => ({ r, out: await h.kubectl(['explain', r.plural, `--api-version=${r.group ? `${r.group}/` : ''}${r.version}`]) })),
  );
  for (const { r, out } of results) {
    assert.equal(out.code, 0, `${r.plural}: ${out.stderr}`);
    assert.match(out.stdout, new RegExp(`KIND:\\s+${r.kind}\\n`), r.plural);
  }
});

test('kubectl api-resources shows short names, scope and kinds from discovery', async () => {
  const r = await h.kubectl(['api-resources']);
  assert.equal(r.code, 0, r.stderr);
  const line = (name: string) => r.stdout.split('\n').find((l) => l.startsWith(name + ' '))?.trim().split(/\s+/);
  assert.deepEqual(line('pods'), ['pods', 'po', 'v1', 'true', 'Pod']);
  assert.deepEqual(line('deployments'), ['deployments', 'deploy', 'apps/v1', 'true', 'Deployment']);
  assert.deepEqual(line('gateways'), ['gateways', 'gtw', 'gateway.networking.k8s.io/v1', 'true', 'Gateway']);
  assert.deepEqual(line('tcproutes'), ['tcproutes', 'gateway.networking.k8s.io/v1', 'true', 'TCPRoute']);
  assert.deepEqual(line('nodes'), ['nodes', 'no', 'v1', 'false', 'Node']);
});

test('kubectl falls back to legacy discovery and sees the same resources', async () => {
  const legacy = await startHarness();
  legacy.legacyDiscoveryOnly = true;
  try {
    const r = await legacy.kubectl(['api-resources', '-o', 'wide']);
    assert.equal(r.code, 0, r.stderr);
    const fetched = legacy.requests.map((x) => x.url.split('?')[0]);
    for (const p of ['/api/v1', '/apis/apps/v1', '/apis/networking.k8s.io/v1', '/apis/gateway.networking.k8s.io/v1']) assert.ok(fetched.includes(p), p);
    assert.match(r.stdout, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment\s+create,delete,deletecollection,get,list,patch,update,watch\s+all$/m);
    assert.match(r.stdout, /^httproutes\s+gateway.networking.k8s.io\/v1\s+true\s+HTTPRoute\s+\S+\s+gateway-api$/m);
    const agg = await h.kubectl(['api-resources', '-o', 'wide']);
    assert.equal(agg.stdout, r.stdout);
  } finally {
    await legacy.close();
  }
});

test('kubectl create -f validates on the server (fieldValidation=Strict) without --validate=false', async () => {
  const manifest = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app' }, data: { a: '1' } };
  const r = await h.kubectl(['create', '-f', '-'], JSON.stringify(manifest));
  assert.equal(r.code, 0, r.stderr);
  const post = lastRequest('POST');
  assert.match(post.url, /^\/api\/v1\/namespaces\/default\/configmaps\?fieldManager=kubectl-create&fieldValidation=Strict$/);
  assert.equal(post.headers['content-type'], 'application/json');
  const gw = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r' }, spec: { hostnames: ['a.example'] } };
  const r2 = await h.kubectl(['create', '-f', '-'], JSON.stringify(gw));
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(lastRequest('POST').url, /httproutes\?fieldManager=kubectl-create&fieldValidation=Strict$/);
});

function lastApplied(o: KubeObject): KubeObject {
  return { ...o, metadata: { ...o.metadata, uid: 'u-' + o.metadata.name, resourceVersion: '7', creationTimestamp: created(60_000), annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(o) + '\n' } } };
}

test('kubectl apply computes strategic merge patches from the published schemas', async () => {
  const deploy = (containers: unknown[]): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers } } },
  });
  objects.set(
    '/apis/apps/v1/namespaces/default/deployments/web',
    lastApplied(deploy([{ name: 'nginx', image: 'nginx:1.27', env: [{ name: 'A', value: '1' }] }, { name: 'sidecar', image: 'busybox' }])),
  );
  const r = await h.kubectl(['apply', '-f', '-'], JSON.stringify(deploy([{ name: 'nginx', image: 'nginx:1.28', env: [{ name: 'A', value: '2' }, { name: 'B', value: 'b' }] }])));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const patch = lastRequest('PATCH');
  assert.match(patch.url, /fieldManager=kubectl-client-side-apply&fieldValidation=Strict/);
  assert.equal(patch.headers['content-type'], 'application/strategic-merge-patch+json');
  const body = JSON.parse(patch.body.toString());
  assert.deepEqual(body.spec, {
    template: {
      spec: {
        '$setElementOrder/containers': [{ name: 'nginx' }],
        containers: [
          { '$setElementOrder/env': [{ name: 'A' }, { name: 'B' }], env: [{ name: 'A', value: '2' }, { name: 'B', value: 'b' }], image: 'nginx:1.28', name: 'nginx' },
          { $patch: 'delete', name: 'sidecar' },
        ],
      },
    },
  });
});

test('kubectl apply patches Service ports by port and Gateway API kinds with merge patches', async () => {
  const svc = (port: number): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default' },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port, targetPort: 80 }] },
  });
  objects.set('/api/v1/namespaces/default/services/web', lastApplied(svc(80)));
  const r = await h.kubectl(['apply', '-f', '-'], JSON.stringify(svc(8080)));
  assert.equal(r.code, 0, r.stderr);
  const patch = lastRequest('PATCH');
  assert.equal(patch.headers['content-type'], 'application/strategic-merge-patch+json');
  assert.deepEqual(JSON.parse(patch.body.toString()).spec, {
    '$setElementOrder/ports': [{ port: 8080 }],
    ports: [{ name: 'http', port: 8080, targetPort: 80 }, { $patch: 'delete', port: 80 }],
  });

  const route = (hosts: string[]): KubeObject => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'r', namespace: 'default' },
    spec: { hostnames: hosts, parentRefs: [{ name: 'gw' }] },
  });
  objects.set('/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/r', lastApplied(route(['a.example'])));
  const r2 = await h.kubectl(['apply', '-f', '-'], JSON.stringify(route(['b.example'])));
  assert.equal(r2.code, 0, r2.stderr);
  const p2 = lastRequest('PATCH');
  assert.equal(p2.headers['content-type'], 'application/merge-patch+json');
  assert.deepEqual(JSON.parse(p2.body.toString()).spec, { hostnames: ['b.example'] });
});

test('kubectl get prints the server Table columns, -o wide, -A and --show-labels', async () => {
  objects.set('/api/v1/namespaces/default/pods/web-1', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'default', labels: { app: 'web' }, creationTimestamp: created(5 * 60_000 + 30_000) },
    spec: { nodeName: 'node-1', containers: [{ name: 'nginx', image: 'nginx' }] },
    status: { phase: 'Running', podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }], containerStatuses: [{ name: 'nginx', ready: true, restartCount: 0, state: { running: {} } }] },
  });
  const get = await h.kubectl(['get', 'pods']);
  assert.equal(get.code, 0, get.stderr);
  const lines = get.stdout.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
  assert.deepEqual(lines[0], ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
  assert.deepEqual(lines[1].slice(0, 4), ['web-1', '1/1', 'Running', '0']);
  assert.match(lines[1][4], /^5m3\ds$/);
  const wide = await h.kubectl(['get', 'po', '-o', 'wide']);
  assert.deepEqual(wide.stdout.split('\n')[0].trim().split(/\s{2,}/), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
  assert.match(wide.stdout, /10\.244\.1\.5\s+node-1\s+<none>\s+<none>/);
  const all = await h.kubectl(['get', 'pods', '-A', '--show-labels']);
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(all.stdout.split('\n')[0].trim().split(/\s{2,}/), ['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'LABELS']);
  assert.match(all.stdout.split('\n')[1], /^default\s+web-1\s.*app=web$/);

  objects.set('/api/v1/namespaces/default/services/lb', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'lb', namespace: 'default', creationTimestamp: created(3 * 3_600_000) },
    spec: { type: 'LoadBalancer', clusterIP: '10.96.0.30', clusterIPs: ['10.96.0.30'], ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }], selector: { app: 'web' } },
  });
  const svc = await h.kubectl(['get', 'svc', 'lb']);
  assert.equal(svc.code, 0, svc.stderr);
  assert.deepEqual(svc.stdout.trim().split('\n').map((l) => l.trim().split(/\s{2,}/)), [
    ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
    ['lb', 'LoadBalancer', '10.96.0.30', '<pending>', '80:30080/TCP', '3h'],
  ]);
});
