// How the API server presents and reads objects, through the real kubectl and raw HTTPS: /openapi/v2
// (so a `kind: List` file applies with client-side validation on), YAML and protobuf responses,
// YAML and protobuf request bodies, and unknown fields per fieldValidation for each body format.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startTestServer, type TestServer } from '../../support/server.js';
import { decodeProtobufObject } from '../../../src/apiserver/present/index.js';
import { encodeProtobuf } from '../../../src/apiserver/present/protobuf/decode.js';
import { decodeOpenapiV2Protobuf } from '../../../src/apiserver/present/openapi/v2-protobuf.js';

let s: TestServer;

before(async () => {
  s = await startTestServer({ controllers: false });
});
after(async () => {
  await s?.stop();
});

interface Answer {
  code: number;
  body: Buffer;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

function raw(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  const url = new URL(s.url);
  const ca = readFileSync(join(s.dataDir, 'ca.crt'));
  const tok = readFileSync(join(s.dataDir, 'admin.token'), 'utf8').trim();
  const payload = body === undefined ? undefined : Buffer.from(body);
  // Node sends a DELETE body without chunked framing: say its length.
  const length: Record<string, string> = payload ? { 'content-length': String(payload.length) } : {};
  return new Promise((resolve, reject) => {
    const req = https.request({ host: url.hostname, port: url.port, method, path, ca, headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json', ...length, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const b = Buffer.concat(chunks);
        resolve({ code: res.statusCode ?? 0, body: b, text: b.toString('utf8'), headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const listFile = `apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web, labels: {app: web}}
  spec:
    replicas: 2
    selector: {matchLabels: {app: web}}
    strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}}
    template:
      metadata: {labels: {app: web}}
      spec:
        containers:
        - name: c
          image: nginx
          ports: [{containerPort: 80, name: http}]
          resources: {limits: {cpu: 100m, memory: 128Mi}}
          readinessProbe: {httpGet: {path: /, port: http}}
        volumes: [{name: v, emptyDir: {}}]
- apiVersion: v1
  kind: Service
  metadata: {name: web}
  spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: settings}
  data: {mode: fast}
- apiVersion: gateway.networking.k8s.io/v1
  kind: HTTPRoute
  metadata: {name: web}
  spec:
    parentRefs: [{name: gw}]
    rules: [{backendRefs: [{name: web, port: 80}]}]
`;

test('kubectl apply -f of a kind: List file works without --validate=false, twice, and validates each item', async () => {
  const first = await s.kubectlOk(['apply', '-f', '-'], listFile);
  assert.match(first, /deployment.apps\/web created/);
  assert.match(first, /service\/web created/);
  assert.match(first, /configmap\/settings created/);
  assert.match(first, /httproute.gateway.networking.k8s.io\/web created/);
  const second = await s.kubectlOk(['apply', '-f', '-'], listFile);
  assert.match(second, /configmap\/settings unchanged/);
  // kubectl validates List items against /openapi/v2 itself, as against kube-apiserver.
  const bad = await s.kubectl(['apply', '-f', '-'], listFile.replace('data: {mode: fast}', 'data: {mode: fast}\n  bogus: 1').replace('replicas: 2', 'replicas: "two"'));
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /unknown field "bogus" in io.k8s.api.core.v1.ConfigMap/);
  assert.match(bad.stderr, /invalid type for io.k8s.api.apps.v1.DeploymentSpec.replicas: got "string", expected "integer"/);
});

test('a List holding a custom resource applies, and is validated against its CRD schema through /openapi/v2', async () => {
  const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, minimum: 1}
              tags: {type: array, items: {type: string}}
              port: {x-kubernetes-int-or-string: true}
              extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
`;
  await s.kubectlOk(['apply', '-f', '-'], crd);
  const list = `apiVersion: v1
kind: List
items:
- apiVersion: example.com/v1
  kind: Widget
  metadata: {name: w1}
  spec: {size: 3, tags: [x], port: http, extra: {any: [1, 2]}}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: beside-widget}
`;
  // The CRD's schema reaches /openapi/v2 once it is established; retry while it is not.
  let out = '';
  for (let i = 0; i < 50; i++) {
    const r = await s.kubectl(['apply', '-f', '-'], list);
    if (r.code === 0) {
      out = r.stdout;
      break;
    }
    await new Promise((res) => setTimeout(res, 200));
  }
  assert.match(out, /widget.example.com\/w1 created/);
  const bad = await s.kubectl(['apply', '-f', '-'], list.replace('size: 3', 'size: "big"'));
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /invalid type for com.example.v1.Widget.spec.size: got "string", expected "integer"/);
});

test('/openapi/v2 is served as protobuf to kubectl and as JSON, with the definitions of /openapi/v3', async () => {
  const proto = await raw('GET', '/openapi/v2', undefined, { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' });
  assert.equal(proto.code, 200);
  assert.equal(proto.headers['content-type'], 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
  const doc = decodeOpenapiV2Protobuf(proto.body) as { swagger: string; definitions: { additionalProperties: { name: string }[] } };
  assert.equal(doc.swagger, '2.0');
  const names = new Set(doc.definitions.additionalProperties.map((d) => d.name));
  const json = await raw('GET', '/openapi/v2', undefined, { accept: 'application/json' });
  assert.equal(json.headers['content-type'], 'application/json');
  const v2 = JSON.parse(json.text) as { definitions: Record<string, { properties?: Record<string, { $ref?: string }> }> };
  assert.deepEqual(new Set(Object.keys(v2.definitions)), names);
  assert.equal(v2.definitions['io.k8s.api.core.v1.PodSpec'].properties!.securityContext.$ref, '#/definitions/io.k8s.api.core.v1.PodSecurityContext');
  const index = JSON.parse((await raw('GET', '/openapi/v3')).text) as { paths: Record<string, { serverRelativeURL: string }> };
  const core = JSON.parse((await raw('GET', index.paths['api/v1'].serverRelativeURL)).text) as { components: { schemas: Record<string, unknown> } };
  for (const name of Object.keys(core.components.schemas)) assert.ok(names.has(name), `${name} missing from v2`);
});

test('kubectl explain keeps working (v3) and explain --output plaintext-openapiv2 reads v2', async () => {
  assert.match(await s.kubectlOk(['explain', 'deployment.spec.strategy']), /KIND:\s+Deployment[\s\S]*FIELD: strategy <DeploymentStrategy>/);
  assert.match(await s.kubectlOk(['explain', 'pods.spec.containers.ports', '--output', 'plaintext-openapiv2']), /RESOURCE: ports <\[\]Object>/);
});

test('Accept: application/yaml answers objects, lists and Status errors in YAML; kubectl -o yaml works', async () => {
  const one = await raw('GET', '/api/v1/namespaces/default/configmaps/settings', undefined, { accept: 'application/yaml' });
  assert.equal(one.code, 200);
  assert.equal(one.headers['content-type'], 'application/yaml');
  const obj = parseYaml(one.text) as { kind: string; data: Record<string, string>; metadata: { creationTimestamp: string } };
  assert.equal(obj.kind, 'ConfigMap');
  assert.deepEqual(obj.data, { mode: 'fast' });
  assert.match(one.text, /^apiVersion: v1\ndata:\n {2}mode: fast\nkind: ConfigMap\n/); // keys sorted, as sigs.k8s.io/yaml writes
  assert.match(one.text, /creationTimestamp: "\d{4}-/); // a timestamp stays a string
  const list = await raw('GET', '/api/v1/namespaces/default/configmaps', undefined, { accept: 'application/yaml' });
  assert.equal(list.headers['content-type'], 'application/yaml');
  const parsed = parseYaml(list.text) as { kind: string; items: { metadata: { name: string } }[] };
  assert.equal(parsed.kind, 'ConfigMapList');
  assert.ok(parsed.items.some((i) => i.metadata.name === 'settings'));
  const missing = await raw('GET', '/api/v1/namespaces/default/configmaps/nope', undefined, { accept: 'application/yaml' });
  assert.equal(missing.code, 404);
  assert.equal(missing.headers['content-type'], 'application/yaml');
  assert.deepEqual(parseYaml(missing.text), {
    apiVersion: 'v1',
    kind: 'Status',
    metadata: {},
    status: 'Failure',
    message: 'configmaps "nope" not found',
    reason: 'NotFound',
    details: { name: 'nope', kind: 'configmaps' },
    code: 404,
  });
  // The client's order and q values decide; JSON stays the default.
  assert.equal((await raw('GET', '/api/v1/namespaces/default/configmaps/settings', undefined, { accept: 'application/json, application/yaml' })).headers['content-type'], 'application/json');
  assert.equal((await raw('GET', '/api/v1/namespaces/default/configmaps/settings', undefined, { accept: 'application/json;q=0.5, application/yaml' })).headers['content-type'], 'application/yaml');
  assert.match(await s.kubectlOk(['get', 'configmap', 'settings', '-o', 'yaml']), /mode: fast/);
});

test('YAML request bodies are accepted for create, update and delete options', async () => {
  const created = await raw('POST', '/api/v1/namespaces/default/configmaps', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  a: "1"\n', {
    'content-type': 'application/yaml',
    accept: 'application/yaml',
  });
  assert.equal(created.code, 201, created.text);
  const obj = parseYaml(created.text) as { metadata: { resourceVersion: string } };
  const updated = await raw('PUT', '/api/v1/namespaces/default/configmaps/from-yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\n  resourceVersion: "${obj.metadata.resourceVersion}"\ndata:\n  a: "2"\n`, {
    'content-type': 'application/yaml',
  });
  assert.equal(updated.code, 200, updated.text);
  assert.equal(JSON.parse(updated.text).data.a, '2');
  const deleted = await raw('DELETE', '/api/v1/namespaces/default/configmaps/from-yaml', 'apiVersion: v1\nkind: DeleteOptions\npropagationPolicy: Background\n', { 'content-type': 'application/yaml' });
  assert.equal(deleted.code, 200, deleted.text);
});

test('protobuf bodies for kinds beyond kubectl create generators: Pod, Node, NetworkPolicy, DeleteOptions; protobuf-only Accept gets protobuf', async () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'pb-pod', labels: { app: 'pb' } },
    spec: {
      containers: [
        {
          name: 'c',
          image: 'busybox',
          command: ['sleep', '3600'],
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 5 },
          resources: { requests: { cpu: '100m' } },
          env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
        },
      ],
      volumes: [{ name: 'cfg', configMap: { name: 'settings' } }],
      securityContext: { runAsUser: 1000 },
    },
  };
  const body = encodeProtobuf(pod)!;
  const created = await raw('POST', '/api/v1/namespaces/default/pods', body, { 'content-type': 'application/vnd.kubernetes.protobuf', accept: 'application/vnd.kubernetes.protobuf' });
  assert.equal(created.code, 201, created.text);
  assert.equal(created.headers['content-type'], 'application/vnd.kubernetes.protobuf');
  const back = decodeProtobufObject(created.body) as typeof pod & { metadata: { uid: string } };
  assert.equal(back.kind, 'Pod');
  assert.ok(back.metadata.uid);
  assert.deepEqual(back.spec.containers[0].readinessProbe.httpGet, { path: '/', port: 8080, scheme: 'HTTP' });
  assert.deepEqual(back.spec.volumes[0].configMap.name, 'settings');
  assert.equal(back.spec.securityContext.runAsUser, 1000);
  // The JSON view agrees.
  const json = JSON.parse((await raw('GET', '/api/v1/namespaces/default/pods/pb-pod')).text);
  assert.deepEqual(json.spec.containers[0].env, [{ name: 'A', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } }]);
  assert.deepEqual(json.spec.containers[0].resources, { requests: { cpu: '100m' } });

  const netpol = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'pb-np' },
    spec: { podSelector: { matchLabels: { app: 'pb' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 'http', protocol: 'TCP' }] }] },
  };
  const np = await raw('POST', '/apis/networking.k8s.io/v1/namespaces/default/networkpolicies', encodeProtobuf(netpol)!, { 'content-type': 'application/vnd.kubernetes.protobuf' });
  assert.equal(np.code, 201, np.text);
  assert.deepEqual(JSON.parse(np.text).spec, netpol.spec);

  // A protobuf DeleteOptions, as client-go sends on drain and deletes.
  const opts = encodeProtobuf({ apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, propagationPolicy: 'Background' })!;
  const del = await raw('DELETE', '/api/v1/namespaces/default/pods/pb-pod', opts, { 'content-type': 'application/vnd.kubernetes.protobuf' });
  assert.ok(del.code === 200 || del.code === 202, del.text);
});

test('undecodable protobuf bodies are 400 or 415 naming the problem, never 500', async () => {
  const path = '/api/v1/namespaces/default/configmaps';
  const pb = { 'content-type': 'application/vnd.kubernetes.protobuf' };
  const noMagic = await raw('POST', path, Buffer.from('{"kind":"ConfigMap"}'), pb);
  assert.equal(noMagic.code, 400);
  assert.match(JSON.parse(noMagic.text).message, /"k8s\\0" magic/);
  const truncated = encodeProtobuf({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: 'b' } })!;
  const cut = await raw('POST', path, truncated.subarray(0, truncated.length - 3), pb);
  assert.equal(cut.code, 400, cut.text);
  assert.match(JSON.parse(cut.text).message, /protobuf/);
  const crdKind = encodeProtobuf({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } })!;
  // Rewrite the envelope's kind to a Gateway API kind: no protobuf message, 415 as upstream answers for CRD kinds.
  const gw = Buffer.from(crdKind.toString('latin1').replace('\x0a\x02v1\x12\x09ConfigMap', '\x0a\x02v1\x12\x09HTTPRoute'), 'latin1');
  const unsupported = await raw('POST', path, gw, pb);
  assert.ok(unsupported.code === 415 || unsupported.code === 400, unsupported.text);
  assert.notEqual(unsupported.code, 500);
});

const unknownCases: { name: string; method: string; path: string; type: string; body: (name: string) => string | Buffer }[] = [
  { name: 'JSON create', method: 'POST', path: '/api/v1/namespaces/default/configmaps', type: 'application/json', body: (n) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: n }, data: { a: '1' }, foo: 1 }) },
  { name: 'YAML create', method: 'POST', path: '/api/v1/namespaces/default/configmaps', type: 'application/yaml', body: (n) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${n}\ndata:\n  a: "1"\nfoo: 1\n` },
  { name: 'merge patch', method: 'PATCH', path: '/api/v1/namespaces/default/configmaps/', type: 'application/merge-patch+json', body: () => JSON.stringify({ foo: 1 }) },
  { name: 'strategic merge patch', method: 'PATCH', path: '/api/v1/namespaces/default/configmaps/', type: 'application/strategic-merge-patch+json', body: () => JSON.stringify({ foo: 1 }) },
  { name: 'JSON patch', method: 'PATCH', path: '/api/v1/namespaces/default/configmaps/', type: 'application/json-patch+json', body: () => JSON.stringify([{ op: 'add', path: '/foo', value: 1 }]) },
];

test('unknown fields: Warn (default) drops them with a Warning header, Strict is 400, Ignore drops them silently, per body format and patch type', async () => {
  let i = 0;
  for (const c of unknownCases) {
    for (const fv of ['', 'Warn', 'Strict', 'Ignore']) {
      const name = `uf-${i++}`;
      const isPatch = c.method === 'PATCH';
      if (isPatch) assert.equal((await raw('POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } }))).code, 201);
      const path = (isPatch ? c.path + name : c.path) + (fv ? `?fieldValidation=${fv}` : '');
      const a = await raw(c.method, path, c.body(name), { 'content-type': c.type });
      const what = `${c.name} fieldValidation=${fv || '(default)'}`;
      if (fv === 'Strict') {
        assert.equal(a.code, 400, `${what}: ${a.text}`);
        assert.match(JSON.parse(a.text).message, /unknown field "foo"/, what);
        continue;
      }
      assert.ok(a.code === 200 || a.code === 201, `${what}: ${a.code} ${a.text}`);
      assert.equal(JSON.parse(a.text).foo, undefined, `${what}: the unknown field is dropped`);
      const warning = String(a.headers.warning ?? '');
      if (fv === 'Ignore') assert.equal(warning, '', what);
      else assert.match(warning, /unknown field \\?"foo\\?"/, what);
    }
  }
});

test('unknown nested fields are named by path for Strict on every built-in kind body format', async () => {
  const strict = await raw('POST', '/apis/apps/v1/namespaces/default/deployments?fieldValidation=Strict', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: strict}\nspec:\n  foo: 1\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec: {containers: [{name: c, image: nginx, bogus: true}]}\n', { 'content-type': 'application/yaml' });
  assert.equal(strict.code, 400, strict.text);
  const message = JSON.parse(strict.text).message as string;
  assert.match(message, /unknown field "spec.foo"/);
  assert.match(message, /unknown field "spec.template.spec.containers\[0\].bogus"/);
});
