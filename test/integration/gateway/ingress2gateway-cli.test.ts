// `flatnet ingress2gateway` against the real `flatnet server`: Ingresses applied with the real
// kubectl, the command run as a process, its YAML parsed back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { startTestServer, type TestServer } from '../../support/server.js';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
let s: TestServer;

before(async () => {
  s = await startTestServer({ store: 'memory', controllers: false });
});
after(async () => {
  await s?.stop();
});

function flatnet(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
  });
}

const MANIFESTS = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Service
metadata: {name: api-service, namespace: shop}
spec:
  ports: [{name: web, port: 8080, targetPort: 80}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: app-ingress
  namespace: shop
  annotations:
    nginx.ingress.kubernetes.io/rewrite-target: /
    nginx.ingress.kubernetes.io/ssl-redirect: "true"
    nginx.ingress.kubernetes.io/proxy-body-size: 8m
spec:
  ingressClassName: nginx
  tls:
  - hosts: [app.example.com]
    secretName: app-tls
  rules:
  - host: app.example.com
    http:
      paths:
      - path: /api
        pathType: Prefix
        backend:
          service:
            name: api-service
            port: {name: web}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: plain, namespace: default}
spec:
  ingressClassName: nginx
  rules:
  - http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
`;

test('ingress2gateway -A prints Gateways and HTTPRoutes for the cluster\'s Ingresses; -n limits to one namespace', async () => {
  const applied = await s.kubectl(['apply', '-f', '-'], MANIFESTS);
  assert.equal(applied.code, 0, applied.stderr);

  const all = await flatnet(['ingress2gateway', '-A', '--kubeconfig', s.kubeconfig, '--gateway-class', 'my-class']);
  assert.equal(all.code, 0, all.stderr);
  const docs = parseAllDocuments(all.stdout);
  for (const d of docs) assert.deepEqual(d.errors, []);
  const objects = docs.map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace: string }; spec: any });
  assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`).sort(), [
    'Gateway/default/nginx',
    'Gateway/shop/nginx',
    'HTTPRoute/default/plain',
    'HTTPRoute/shop/app-ingress',
    'HTTPRoute/shop/app-ingress-https-redirect',
  ]);
  for (const g of objects.filter((o) => o.kind === 'Gateway')) assert.equal(g.spec.gatewayClassName, 'my-class');
  const route = objects.find((o) => o.metadata.name === 'app-ingress')!;
  assert.deepEqual(route.spec.rules[0].backendRefs, [{ name: 'api-service', port: 8080 }], 'the named port resolved through the Service');
  assert.match(all.stdout, /^# Gateway API objects for the 2 Ingress\(es\) of all namespaces/);
  assert.match(all.stdout, /# annotation nginx.ingress.kubernetes.io\/proxy-body-size: no Gateway API equivalent/);

  const one = await flatnet(['ingress2gateway', '-n', 'shop', '--kubeconfig', s.kubeconfig]);
  assert.equal(one.code, 0, one.stderr);
  const names = parseAllDocuments(one.stdout).map((d) => (d.toJS() as { metadata: { namespace: string } }).metadata.namespace);
  assert.deepEqual([...new Set(names)], ['shop']);
});

test('ingress2gateway names a missing kubeconfig and bad flags', async () => {
  const missing = await flatnet(['ingress2gateway', '--kubeconfig', '/nonexistent/kubeconfig']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /kubeconfig \/nonexistent\/kubeconfig does not exist/);
  const both = await flatnet(['ingress2gateway', '-A', '-n', 'x', '--kubeconfig', s.kubeconfig]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /-n and -A exclude each other/);
});
