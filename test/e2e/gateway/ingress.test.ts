// Ingress in a real lab: the ingress-controller-conformance scenarios (default backend, host rules
// with TLS, ingress class, load balancing over 10 replicas, path rules), the 18-row path table of
// the Kubernetes docs, and the seeds' Ingress and Gateway manifests applied as printed, reached
// from flatnet-ext with curl as the texts do. One lab for the file.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { curlFromExt, eventually, requestFromExt, selfSignedCert, startLab, tlsSecretYaml, type Lab } from '../../support/lab.js';
import { ECHO_IMAGE, compareRoundTrip, type ExpectedResponse, type KubeObject } from './suite.js';

const NS = 'ingress-e2e';
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

let lab: Lab;

function echo(name: string, namespace: string, replicas = 1): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - name: echo
        image: ${ECHO_IMAGE}
        env:
        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  selector: {app: ${name}}
  ports: [{name: http, port: 80, targetPort: 3000}]`;
}

const BACKENDS = ['ing-a', 'ing-b', 'ing-c', 'ing-default'];

before(async () => {
  lab = await startLab({ nodes: 2 });
  await lab.apply([`apiVersion: v1\nkind: Namespace\nmetadata: {name: ${NS}}`, ...BACKENDS.map((b) => echo(b, NS)), echo('ing-lb', NS, 10), echo('api-service', 'default'), echo('web-service', 'default')].join('\n---\n'));
  for (const d of [...BACKENDS, 'ing-lb']) await lab.ok(['-n', NS, 'rollout', 'status', `deployment/${d}`, '--timeout=300s']);
  for (const d of ['api-service', 'web-service']) await lab.ok(['-n', 'default', 'rollout', 'status', `deployment/${d}`, '--timeout=300s']);
}, { timeout: 900_000 });

after(async () => {
  await lab?.down();
}, { timeout: 300_000 });

async function manifests(t: TestContext, yaml: string, namespace = NS): Promise<void> {
  t.after(() => lab.kubectl(['-n', namespace, 'delete', '--ignore-not-found', '--wait=false', '-f', '-'], yaml));
  await lab.ok(['-n', namespace, 'apply', '-f', '-'], yaml);
}

/** The address in the Ingress's status (the shared flatnet-ingress proxy's LoadBalancer IP). */
async function ingressAddress(name: string, namespace = NS): Promise<string> {
  return eventually(`an address in the status of Ingress ${namespace}/${name}`, async () => {
    const ing = await lab.getJson<KubeObject>('ingress', name, namespace);
    const lb = (ing?.status?.loadBalancer as { ingress?: { ip?: string; hostname?: string }[] } | undefined)?.ingress ?? [];
    const a = lb.find((x) => x.ip)?.ip;
    if (!a) throw new Error(`status: ${JSON.stringify(ing?.status ?? {})}`);
    return a;
  }, 180_000, 500);
}

/** 3 consecutive correct answers within 30 s, as the Gateway suite checks. */
async function expectEventually(address: string, exp: ExpectedResponse & { ca?: string }): Promise<void> {
  let streak = 0;
  await eventually(`${exp.request.method ?? 'GET'} ${exp.request.scheme ?? 'http'}://${exp.request.host}${exp.request.path}`, async () => {
    const ans = await requestFromExt({ address, host: exp.request.host, path: exp.request.path, method: exp.request.method, scheme: exp.request.scheme, port: exp.request.port, headers: exp.request.headers, ca: exp.ca });
    const mismatch = compareRoundTrip(exp, ans);
    if (mismatch) {
      streak = 0;
      throw new Error(mismatch);
    }
    return ++streak >= 3;
  }, 30_000, 100);
}

const ingress = (name: string, spec: string, annotations = '') => `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: ${name}, namespace: ${NS}${annotations}}\nspec:\n${spec}`;
const svc = (name: string) => `{service: {name: ${name}, port: {number: 80}}}`;

test('default_backend: an Ingress with only a default backend serves every host, path and method', { timeout: 240_000 }, async (t) => {
  await manifests(t, ingress('default-backend', `  defaultBackend: ${svc('ing-default')}`));
  const a = await ingressAddress('default-backend');
  const cases: [string, string, string][] = [
    ['GET', 'ingress.example', '/'],
    ['GET', 'ingress.example', '/some/path'],
    ['POST', 'ingress.example', '/'],
    ['PUT', 'other.example', '/path?query=1'],
    ['DELETE', 'sub.ingress.example', '/a/b/c'],
    ['PATCH', a, '/'],
  ];
  await Promise.all(cases.map(([method, host, path]) => expectEventually(a, { request: { method, host, path }, backend: 'ing-default', namespace: NS })));
});

test('host_rules: exact and one-label wildcard hosts; TLS to foo.bar.com verifies the host name', { timeout: 240_000 }, async (t) => {
  const pem = await selfSignedCert(['foo.bar.com']);
  await manifests(
    t,
    `${tlsSecretYaml('foo-bar-tls', NS, pem)}\n---\n` +
      ingress('host-rules', `  tls: [{hosts: [foo.bar.com], secretName: foo-bar-tls}]\n  rules:\n  - host: foo.bar.com\n    http: {paths: [{path: /, pathType: Prefix, backend: ${svc('ing-a')}}]}\n  - host: "*.foo.com"\n    http: {paths: [{path: /, pathType: Prefix, backend: ${svc('ing-b')}}]}`),
  );
  const a = await ingressAddress('host-rules');
  await Promise.all([
    expectEventually(a, { request: { host: 'foo.bar.com', path: '/', scheme: 'https' }, ca: pem.cert, backend: 'ing-a', namespace: NS }),
    expectEventually(a, { request: { host: 'foo.bar.com', path: '/' }, backend: 'ing-a', namespace: NS, response: { statusCode: [200, 308] } }),
    expectEventually(a, { request: { host: 'subdomain.bar.com', path: '/' }, response: { statusCode: 404 } }),
    expectEventually(a, { request: { host: 'bar.foo.com', path: '/' }, backend: 'ing-b', namespace: NS }),
    expectEventually(a, { request: { host: 'baz.bar.foo.com', path: '/' }, response: { statusCode: 404 } }),
    expectEventually(a, { request: { host: 'foo.com', path: '/' }, response: { statusCode: 404 } }),
  ]);
  // The certificate is checked against foo.bar.com: a client asking for another name is refused.
  await assert.rejects(requestFromExt({ address: a, scheme: 'https', host: 'foo.bar.com', servername: 'not-foo.bar.com', ca: pem.cert }), /altnames|Hostname|certificate/i);
});

test('ingress_class: an Ingress of an unknown class gets no address; one of a served class does', { timeout: 240_000 }, async (t) => {
  await manifests(t, ingress('unknown-class', `  ingressClassName: not-served-here\n  rules: [{host: unknown.example, http: {paths: [{path: /, pathType: Prefix, backend: ${svc('ing-a')}}]}}]`));
  // Created after the unknown one: once it has its address, the controller has seen both.
  await manifests(t, ingress('known-class', `  ingressClassName: flatnet\n  rules: [{host: known.example, http: {paths: [{path: /, pathType: Prefix, backend: ${svc('ing-a')}}]}}]`));
  const a = await ingressAddress('known-class');
  const unknown = await lab.getJson<KubeObject>('ingress', 'unknown-class', NS);
  assert.deepEqual((unknown?.status?.loadBalancer as { ingress?: unknown[] } | undefined)?.ingress ?? [], [], 'the unknown class has no address');
  await expectEventually(a, { request: { host: 'unknown.example', path: '/' }, response: { statusCode: 404 } });
  await expectEventually(a, { request: { host: 'known.example', path: '/' }, backend: 'ing-a', namespace: NS });
});

test('load_balancing: 100 requests reach all 10 replicas', { timeout: 240_000 }, async (t) => {
  await manifests(t, ingress('load-balancing', `  rules: [{host: lb.example, http: {paths: [{path: /, pathType: Prefix, backend: ${svc('ing-lb')}}]}}]`));
  const a = await ingressAddress('load-balancing');
  await expectEventually(a, { request: { host: 'lb.example', path: '/' }, backend: 'ing-lb', namespace: NS });
  const pods = new Set((await lab.ok(['-n', NS, 'get', 'pods', '-l', 'app=ing-lb', '-o', 'jsonpath={.items[*].metadata.name}'])).trim().split(/\s+/));
  assert.equal(pods.size, 10);
  await eventually('10 endpoints in the proxy (every replica answers within 100 requests)', async () => {
    const seen = new Set<string>();
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        for (let i = 0; i < 10; i++) {
          const ans = await requestFromExt({ address: a, host: 'lb.example', path: '/' });
          assert.equal(ans.status, 200);
          seen.add((JSON.parse(ans.body) as { pod: string }).pod);
        }
      }),
    );
    const missing = [...pods].filter((p) => !seen.has(p));
    if (missing.length > 0) throw new Error(`not reached: ${missing.join(', ')}`);
    return true;
  }, 60_000, 500);
});

// The Kubernetes docs' path table: [row, kind, paths, request, matching path index (-1 = none)].
type PathRow = [number, string, [string, 'Prefix' | 'Exact'][], string, number];
const PATH_TABLE: PathRow[] = [
  [1, 'Prefix', [['/', 'Prefix']], '/anything/at/all', 0],
  [2, 'Exact', [['/foo', 'Exact']], '/foo', 0],
  [3, 'Exact', [['/foo', 'Exact']], '/bar', -1],
  [4, 'Exact', [['/foo', 'Exact']], '/foo/', -1],
  [5, 'Exact', [['/foo/', 'Exact']], '/foo', -1],
  [6, 'Prefix', [['/foo', 'Prefix']], '/foo', 0],
  [6, 'Prefix', [['/foo', 'Prefix']], '/foo/', 0],
  [7, 'Prefix', [['/foo/', 'Prefix']], '/foo', 0],
  [7, 'Prefix', [['/foo/', 'Prefix']], '/foo/', 0],
  [8, 'Prefix', [['/aaa/bb', 'Prefix']], '/aaa/bbb', -1],
  [9, 'Prefix', [['/aaa/bbb', 'Prefix']], '/aaa/bbb', 0],
  [10, 'Prefix', [['/aaa/bbb/', 'Prefix']], '/aaa/bbb', 0],
  [11, 'Prefix', [['/aaa/bbb', 'Prefix']], '/aaa/bbb/', 0],
  [12, 'Prefix', [['/aaa/bbb', 'Prefix']], '/aaa/bbb/ccc', 0],
  [13, 'Prefix', [['/aaa/bbb', 'Prefix']], '/aaa/bbbxyz', -1],
  [14, 'Prefix', [['/', 'Prefix'], ['/aaa', 'Prefix']], '/aaa/ccc', 1],
  [15, 'Prefix', [['/', 'Prefix'], ['/aaa', 'Prefix'], ['/aaa/bbb', 'Prefix']], '/aaa/bbb', 2],
  [16, 'Prefix', [['/', 'Prefix'], ['/aaa', 'Prefix'], ['/aaa/bbb', 'Prefix']], '/ccc', 0],
  [17, 'Prefix', [['/aaa', 'Prefix']], '/ccc', -1],
  [18, 'Mixed', [['/foo', 'Prefix'], ['/foo', 'Exact']], '/foo', 1],
];

test('path_rules: the 18 rows of the Ingress path table', { timeout: 300_000 }, async (t) => {
  const rows = [...new Set(PATH_TABLE.map((r) => r[0]))];
  const yaml = rows
    .map((n) => {
      const paths = PATH_TABLE.find((r) => r[0] === n)![2];
      return ingress(`path-row-${n}`, `  rules:\n  - host: row${n}.paths.example\n    http:\n      paths:\n${paths.map(([p, type], i) => `      - {path: "${p}", pathType: ${type}, backend: ${svc(BACKENDS[i])}}`).join('\n')}`);
    })
    .join('\n---\n');
  await manifests(t, yaml);
  const a = await ingressAddress('path-row-18');
  for (const n of rows) await ingressAddress(`path-row-${n}`);
  const results = await Promise.allSettled(
    PATH_TABLE.map(([n, kind, paths, request, match]) =>
      expectEventually(a, match === -1 ? { request: { host: `row${n}.paths.example`, path: request }, response: { statusCode: 404 } } : { request: { host: `row${n}.paths.example`, path: request }, backend: BACKENDS[match], namespace: NS }).catch((err: Error) => {
        throw new Error(`row ${n} (${kind} ${paths.map((p) => p.join(':')).join(', ')}; request ${request}; ${match === -1 ? 'no match' : `match ${paths[match][0]}`}): ${err.message}`);
      }),
    ),
  );
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
  assert.deepEqual(failed, []);
  // Row 17 says more: with no matching path the default backend answers.
  await manifests(t, ingress('path-row-17-default', `  defaultBackend: ${svc('ing-default')}`));
  await expectEventually(a, { request: { host: 'row17.paths.example', path: '/ccc' }, backend: 'ing-default', namespace: NS });
});

test("seed 000's Ingress (my-ingress, the default class): example.com /api and / from flatnet-ext", { timeout: 240_000 }, async (t) => {
  const yaml = fixture('seed-000-ingress.yaml');
  await manifests(t, yaml, 'default');
  const ing = await lab.getJson<KubeObject>('ingress', 'my-ingress', 'default');
  assert.equal((ing?.spec as { ingressClassName?: string }).ingressClassName, 'flatnet', 'the default IngressClass was set at admission');
  const a = await ingressAddress('my-ingress', 'default');
  await expectEventually(a, { request: { host: 'example.com', path: '/api' }, backend: 'api-service', namespace: 'default' });
  await expectEventually(a, { request: { host: 'example.com', path: '/' }, backend: 'web-service', namespace: 'default' });
  const curl = await curlFromExt(['-H', 'Host: example.com', `http://${a}/api/users`]);
  assert.equal(curl.code, 0, curl.stderr);
  assert.match((JSON.parse(curl.stdout) as { pod: string }).pod, /^api-service-/);
});

test("seed 003's app-ingress (class nginx, TLS app.example.com, rewrite-target /, ssl-redirect) with curl", { timeout: 240_000 }, async (t) => {
  const pem = await selfSignedCert(['app.example.com']);
  await manifests(t, tlsSecretYaml('app-tls', 'default', pem), 'default');
  await manifests(t, fixture('seed-003-ingress.yaml'), 'default');
  const a = await ingressAddress('app-ingress', 'default');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-e2e-ca-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'ca.pem'), pem.cert);
  const resolve = ['--resolve', `app.example.com:443:${a}`, '--resolve', `app.example.com:80:${a}`, '--cacert', join(dir, 'ca.pem')];
  await eventually('https://app.example.com/api/users reaches api-service, rewritten to /', async () => {
    const r = await curlFromExt([...resolve, 'https://app.example.com/api/users']);
    if (r.code !== 0) throw new Error(r.stderr);
    const body = JSON.parse(r.stdout) as { pod: string; path: string };
    assert.match(body.pod, /^api-service-/);
    assert.equal(body.path, '/');
    return true;
  }, 60_000, 500);
  const web = await curlFromExt([...resolve, 'https://app.example.com/']);
  assert.equal(web.code, 0, web.stderr);
  assert.match((JSON.parse(web.stdout) as { pod: string }).pod, /^web-service-/);
  const redirect = await curlFromExt([...resolve, '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', 'http://app.example.com/api']);
  assert.equal(redirect.code, 0, redirect.stderr);
  assert.match(redirect.stdout, /^308 https:\/\/app\.example\.com\/api$/, 'ssl-redirect sends http to https');
});

test("seed 000's Gateway (class nginx, HTTPS listener) and its HTTPRoute /api with curl", { timeout: 240_000 }, async (t) => {
  const pem = await selfSignedCert(['main-gateway.example']);
  await manifests(t, tlsSecretYaml('tls-cert', 'default', pem), 'default');
  await manifests(t, fixture('seed-000-gateway.yaml'), 'default');
  const a = await eventually('an address in the status of Gateway default/main-gateway', async () => {
    const g = await lab.getJson<KubeObject>('gateway', 'main-gateway', 'default');
    const v = ((g?.status?.addresses as { value: string }[] | undefined) ?? [])[0]?.value;
    if (!v) throw new Error(JSON.stringify(g?.status ?? {}));
    return v;
  }, 180_000, 500);
  await eventually('https://<gateway>/api reaches api-service', async () => {
    const r = await curlFromExt(['-k', `https://${a}/api`]);
    if (r.code !== 0) throw new Error(r.stderr);
    assert.match((JSON.parse(r.stdout) as { pod: string }).pod, /^api-service-/);
    return true;
  }, 60_000, 500);
  const other = await curlFromExt(['-k', '-o', '/dev/null', '-w', '%{http_code}', `https://${a}/other`]);
  assert.equal(other.stdout, '404', 'paths the route does not match get 404');
});
