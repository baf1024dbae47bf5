// The Gateway API kinds at the other versions Gateway API v1.6.1's standard bundle serves
// (GatewayClass, Gateway, HTTPRoute and ReferenceGrant at v1beta1), through the real kubectl: a
// v1beta1 apply is stored at v1, each version reads the same object with its own apiVersion, a
// v1beta1 watch sees v1 writes as v1beta1, managedFields name the version each manager used, and
// discovery and OpenAPI v3 list v1beta1 beside the preferred v1.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { ClientRequest } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../../support/server.js';

let s: TestServer;

before(async () => {
  s = await startTestServer({ controllers: false });
});
after(async () => {
  await s?.stop();
});

const GW = 'gateway.networking.k8s.io';

function request(method: string, path: string, body?: string): ClientRequest {
  const url = new URL(s.url);
  const ca = readFileSync(join(s.dataDir, 'ca.crt'));
  const tok = readFileSync(join(s.dataDir, 'admin.token'), 'utf8').trim();
  const req = https.request({ host: url.hostname, port: url.port, method, path, ca, headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' } });
  req.end(body);
  return req;
}

function raw(method: string, path: string, body?: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(method, path, body);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
  });
}

interface WatchEvent {
  type: string;
  object: { apiVersion: string; kind: string; metadata: { name: string; resourceVersion: string }; spec?: { hostnames?: string[] } };
}

/** Opens a watch and answers the first event `want` accepts (then closes the stream). */
function watchUntil(path: string, want: (e: WatchEvent) => boolean): { opened: Promise<void>; event: Promise<WatchEvent> } {
  const req = request('GET', path);
  let opened!: () => void;
  const openedP = new Promise<void>((r) => (opened = r));
  const event = new Promise<WatchEvent>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      if (res.statusCode !== 200) reject(new Error(`watch ${path} answered ${res.statusCode}`));
      opened();
      let buf = '';
      res.on('data', (c: Buffer) => {
        buf += c.toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const e = JSON.parse(buf.slice(0, nl)) as WatchEvent;
          buf = buf.slice(nl + 1);
          if (want(e)) {
            resolve(e);
            req.destroy();
            return;
          }
        }
      });
      res.on('end', () => reject(new Error(`watch ${path} ended before the awaited event`)));
    });
  });
  return { opened: openedP, event };
}

const v1beta1Route = `apiVersion: ${GW}/v1beta1
kind: HTTPRoute
metadata:
  name: legacy
  namespace: default
spec:
  parentRefs:
  - name: gw
  hostnames: [old.example.com]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /}
    backendRefs:
    - name: web
      port: 80
`;

const v1beta1Grant = `apiVersion: ${GW}/v1beta1
kind: ReferenceGrant
metadata:
  name: allow-routes
  namespace: default
spec:
  from:
  - group: ${GW}
    kind: HTTPRoute
    namespace: other
  to:
  - group: ""
    kind: Service
`;

test('kubectl apply at v1beta1 stores at v1; each version reads the same object with its own apiVersion', async () => {
  assert.match(await s.kubectlOk(['apply', '-f', '-'], v1beta1Route), /httproute.gateway.networking.k8s.io\/legacy created/);
  assert.match(await s.kubectlOk(['apply', '-f', '-'], v1beta1Grant), /referencegrant.gateway.networking.k8s.io\/allow-routes created/);

  const beta = await s.kubectlOk(['get', `httproutes.v1beta1.${GW}`, 'legacy', '-o', 'yaml']);
  assert.match(beta, new RegExp(`^apiVersion: ${GW.replace(/\./g, '\\.')}/v1beta1$`, 'm'));
  const v1 = JSON.parse(await s.kubectlOk(['get', `httproutes.v1.${GW}`, 'legacy', '-o', 'json', '--show-managed-fields'])) as { apiVersion: string; metadata: { uid: string; managedFields: { manager: string; apiVersion: string }[] } };
  assert.equal(v1.apiVersion, `${GW}/v1`);
  // One object: the same uid through both versions; the applying manager used v1beta1.
  assert.equal((JSON.parse(await s.kubectlOk(['get', `httproutes.v1beta1.${GW}`, 'legacy', '-o', 'json'])) as { metadata: { uid: string } }).metadata.uid, v1.metadata.uid);
  assert.deepEqual(v1.metadata.managedFields.map((m) => [m.manager, m.apiVersion]), [['kubectl-client-side-apply', `${GW}/v1beta1`]]);

  const grant = JSON.parse(await s.kubectlOk(['get', `referencegrants.v1beta1.${GW}`, 'allow-routes', '-o', 'json'])) as { apiVersion: string };
  assert.equal(grant.apiVersion, `${GW}/v1beta1`);
  assert.equal((JSON.parse(await s.kubectlOk(['get', 'referencegrants', 'allow-routes', '-o', 'json'])) as { apiVersion: string }).apiVersion, `${GW}/v1`);

  // Lists carry the version asked for, on the list and on every item; tables print from either.
  const list = JSON.parse((await raw('GET', `/apis/${GW}/v1beta1/namespaces/default/httproutes`)).body) as { apiVersion: string; kind: string; items: { apiVersion: string }[] };
  assert.deepEqual([list.kind, list.apiVersion, list.items.map((i) => i.apiVersion)], ['HTTPRouteList', `${GW}/v1beta1`, [`${GW}/v1beta1`]]);
  assert.match(await s.kubectlOk(['get', `httproutes.v1beta1.${GW}`]), /^NAME\s+HOSTNAMES\s+AGE\nlegacy\s+\["old\.example\.com"\]/);
});

test('writes at either version land on the one stored object; a v1beta1 body is refused at the v1 URL', async () => {
  // A server-side apply at v1beta1 over the object; then a merge patch through v1beta1.
  await s.kubectlOk(['apply', '--server-side', '--field-manager=beta-applier', '--force-conflicts', '-f', '-'], v1beta1Route.replace('old.example.com', 'ssa.example.com'));
  await s.kubectlOk(['patch', `httproutes.v1beta1.${GW}`, 'legacy', '--type=merge', '-p', '{"metadata":{"labels":{"via":"beta-patch"}}}']);
  const obj = JSON.parse(await s.kubectlOk(['get', `httproutes.v1.${GW}`, 'legacy', '-o', 'json', '--show-managed-fields'])) as { apiVersion: string; metadata: { labels?: Record<string, string>; managedFields: { manager: string; operation: string; apiVersion: string }[] }; spec: { hostnames: string[] } };
  assert.equal(obj.apiVersion, `${GW}/v1`);
  assert.deepEqual(obj.spec.hostnames, ['ssa.example.com']);
  assert.equal(obj.metadata.labels?.via, 'beta-patch');
  const beta = obj.metadata.managedFields.find((m) => m.manager === 'beta-applier');
  assert.deepEqual([beta?.operation, beta?.apiVersion], ['Apply', `${GW}/v1beta1`]);

  // Stored at v1: a raw v1beta1 PUT answers v1beta1, a v1 read answers v1.
  const current = JSON.parse((await raw('GET', `/apis/${GW}/v1beta1/namespaces/default/httproutes/legacy`)).body) as Record<string, unknown>;
  const put = await raw('PUT', `/apis/${GW}/v1beta1/namespaces/default/httproutes/legacy`, JSON.stringify(current));
  assert.equal(put.code, 200, put.body);
  assert.equal((JSON.parse(put.body) as { apiVersion: string }).apiVersion, `${GW}/v1beta1`);

  const wrong = await raw('POST', `/apis/${GW}/v1/namespaces/default/httproutes`, JSON.stringify({ ...current, metadata: { name: 'mixed' } }));
  assert.equal(wrong.code, 400);
  assert.match(wrong.body, /the API version in the data \(gateway\.networking\.k8s\.io\/v1beta1\) does not match the expected API version \(gateway\.networking\.k8s\.io\/v1\)/);

  // Kinds the bundle serves at v1 only are not served at v1beta1.
  assert.equal((await raw('GET', `/apis/${GW}/v1beta1/namespaces/default/grpcroutes`)).code, 404);
});

test('a v1beta1 watch sees v1 writes with the v1beta1 apiVersion', async () => {
  const rv = (JSON.parse((await raw('GET', `/apis/${GW}/v1beta1/namespaces/default/httproutes`)).body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  const w = watchUntil(`/apis/${GW}/v1beta1/namespaces/default/httproutes?watch=true&resourceVersion=${rv}`, (e) => e.type === 'MODIFIED' && e.object.metadata.name === 'legacy');
  await w.opened;
  await s.kubectlOk(['patch', `httproutes.v1.${GW}`, 'legacy', '--type=merge', '-p', '{"spec":{"hostnames":["new.example.com"]}}']);
  const e = await w.event;
  assert.equal(e.object.apiVersion, `${GW}/v1beta1`);
  assert.deepEqual(e.object.spec?.hostnames, ['new.example.com']);
});

test('discovery lists v1beta1 beside the preferred v1, and OpenAPI v3 serves the v1beta1 document', async () => {
  const group = JSON.parse((await raw('GET', `/apis/${GW}`)).body) as { versions: { version: string }[]; preferredVersion: { version: string } };
  assert.deepEqual(group.versions.map((v) => v.version), ['v1', 'v1beta1']);
  assert.equal(group.preferredVersion.version, 'v1');
  const beta = JSON.parse((await raw('GET', `/apis/${GW}/v1beta1`)).body) as { groupVersion: string; resources: { name: string }[] };
  assert.equal(beta.groupVersion, `${GW}/v1beta1`);
  assert.deepEqual(beta.resources.map((r) => r.name).sort(), ['gatewayclasses', 'gatewayclasses/status', 'gateways', 'gateways/status', 'httproutes', 'httproutes/status', 'referencegrants']);

  const versions = await s.kubectlOk(['api-versions']);
  assert.match(versions, /^gateway\.networking\.k8s\.io\/v1$/m);
  assert.match(versions, /^gateway\.networking\.k8s\.io\/v1beta1$/m);
  // Aggregated discovery (what kubectl reads first) lists both; kubectl resolves the short form to v1.
  const resources = await s.kubectlOk(['api-resources', `--api-group=${GW}`, '-o', 'wide']);
  assert.match(resources, /^httproutes\s+gateway\.networking\.k8s\.io\/v1\s+true\s+HTTPRoute/m);
  assert.equal((JSON.parse(await s.kubectlOk(['get', 'httproute', 'legacy', '-o', 'json'])) as { apiVersion: string }).apiVersion, `${GW}/v1`);

  const index = JSON.parse((await raw('GET', '/openapi/v3')).body) as { paths: Record<string, unknown> };
  assert.ok(index.paths[`apis/${GW}/v1beta1`], 'the OpenAPI v3 index lists the v1beta1 document');
  const doc = JSON.parse((await raw('GET', `/openapi/v3/apis/${GW}/v1beta1`)).body) as { paths: Record<string, unknown>; components: { schemas: Record<string, { 'x-kubernetes-group-version-kind'?: { version: string; kind: string }[] }> } };
  assert.deepEqual(doc.components.schemas[`io.k8s.networking.gateway.v1beta1.HTTPRoute`]['x-kubernetes-group-version-kind'], [{ group: GW, version: 'v1beta1', kind: 'HTTPRoute' }]);
  assert.ok(doc.paths[`/apis/${GW}/v1beta1/namespaces/{namespace}/httproutes/{name}`]);
  assert.match(await s.kubectlOk(['explain', 'httproutes.spec.hostnames', `--api-version=${GW}/v1beta1`]), /VERSION:\s+v1beta1/);
});
