import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { decodeProtobufObject } from '../../../src/apiserver/present/index.js';
import { sendJson, startHarness, type Harness } from './kubectl-harness.js';

let h: Harness;
let dir: string;

before(async () => {
  h = await startHarness();
  dir = mkdtempSync(join(tmpdir(), 'flatnet-present-pb-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt'), '-subj', '/CN=a.example', '-days', '1'], { stdio: 'ignore' });
  // Answer every create with the decoded object, like an API server that accepted it.
  h.handler = (req, res) => {
    if (req.method !== 'POST') return false;
    try {
      sendJson(res, 201, decodeProtobufObject(req.body));
    } catch (err) {
      sendJson(res, 400, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: (err as Error).message, reason: 'BadRequest', code: 400 });
    }
    return true;
  };
});

after(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

/** JSON without the nulls Go prints for zero times (creationTimestamp: null). */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)]));
  }
  return v;
}

/**
 * Run a real `kubectl create <generator>`, capture the protobuf body it POSTs, and compare
 * its decoding with the JSON kubectl prints for the same command with --dry-run=client.
 */
async function roundTrip(args: string[]) {
  const first = h.requests.length;
  const created = await h.kubectl(args);
  assert.equal(created.code, 0, created.stderr);
  const post = h.requests.slice(first).find((r) => r.method === 'POST');
  assert.ok(post, `kubectl ${args.join(' ')} sent no POST`);
  assert.equal(post.headers['content-type'], 'application/vnd.kubernetes.protobuf');
  assert.match(post.url, /fieldManager=kubectl-create/);
  const dash = args.includes('--') ? args.indexOf('--') : args.length;
  const dry = await h.kubectl([...args.slice(0, dash), '--dry-run=client', '-o', 'json', ...args.slice(dash)]);
  assert.equal(dry.code, 0, dry.stderr);
  const decoded = decodeProtobufObject(post.body);
  assert.deepEqual(decoded, withoutNulls(JSON.parse(dry.stdout)));
  return { decoded, url: post.url };
}

test('create deployment (image, replicas, port, command)', async () => {
  const { decoded, url } = await roundTrip(['create', 'deployment', 'web', '--image=nginx']);
  assert.match(url, /^\/apis\/apps\/v1\/namespaces\/default\/deployments\?/);
  assert.deepEqual(decoded.spec, {
    replicas: 1,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx', resources: {} }] } },
    strategy: {},
  });
  await roundTrip(['create', 'deployment', 'api', '-n', 'apps', '--image=nginx:1.27', '--image=busybox', '--replicas=3', '--port=8080']);
  const zero = await roundTrip(['create', 'deployment', 'idle', '--image=busybox', '--replicas=0', '--', 'sleep', '3600']);
  assert.equal((zero.decoded.spec as { replicas: number }).replicas, 0);
});

test('create service clusterip / nodeport / loadbalancer / externalname', async () => {
  const { decoded } = await roundTrip(['create', 'service', 'clusterip', 'web', '--tcp=80:8080', '--tcp=443']);
  assert.deepEqual((decoded.spec as { ports: unknown }).ports, [
    { name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 },
    { name: '443', protocol: 'TCP', port: 443, targetPort: 443 },
  ]);
  await roundTrip(['create', 'service', 'clusterip', 'headless', '--clusterip=None']);
  const np = await roundTrip(['create', 'service', 'nodeport', 'np', '--tcp=80:http', '--node-port=30080']);
  assert.deepEqual((np.decoded.spec as { ports: unknown }).ports, [{ name: '80-http', protocol: 'TCP', port: 80, targetPort: 'http', nodePort: 30080 }]);
  await roundTrip(['create', 'service', 'loadbalancer', 'lb', '--tcp=443:8443']);
  await roundTrip(['create', 'service', 'externalname', 'ext', '--external-name=db.example.com']);
});

test('create configmap (text and binary), secret generic/tls/docker-registry, serviceaccount, namespace', async () => {
  const cm = await roundTrip(['create', 'configmap', 'cfg', '--from-literal=a=1', '--from-literal=b=two']);
  assert.deepEqual(cm.decoded.data, { a: '1', b: 'two' });
  const secret = await roundTrip(['create', 'secret', 'generic', 'sec', '--from-literal=password=v', '--type=Opaque']);
  assert.deepEqual(secret.decoded.data, { password: 'dg==' });
  const tls = await roundTrip(['create', 'secret', 'tls', 'web-tls', `--cert=${join(dir, 'tls.crt')}`, `--key=${join(dir, 'tls.key')}`]);
  assert.equal(tls.decoded.type, 'kubernetes.io/tls');
  assert.match(Buffer.from(String((tls.decoded.data as Record<string, string>)['tls.crt']), 'base64').toString(), /BEGIN CERTIFICATE/);
  const docker = await roundTrip(['create', 'secret', 'docker-registry', 'reg', '--docker-server=r.example', '--docker-username=u', '--docker-password=p']);
  assert.equal(docker.decoded.type, 'kubernetes.io/dockerconfigjson');
  const bin = await roundTrip(['create', 'configmap', 'bin', `--from-file=${join(dir, 'tls.key')}`, '--from-file=/bin/true']);
  assert.equal(Buffer.from(String((bin.decoded.binaryData as Record<string, string>).true), 'base64').subarray(1, 4).toString(), 'ELF');
  assert.ok((bin.decoded.data as Record<string, string>)['tls.key']);
  const sa = await roundTrip(['create', 'serviceaccount', 'robot']);
  assert.deepEqual(sa.decoded, { kind: 'ServiceAccount', apiVersion: 'v1', metadata: { name: 'robot' } });
  const ns = await roundTrip(['create', 'namespace', 'team-a']);
  assert.match(ns.url, /^\/api\/v1\/namespaces\?/);
});

test('create ingress with rules, TLS, class, default backend', async () => {
  const { decoded } = await roundTrip([
    'create', 'ingress', 'web', '--class=flatnet', '--rule=a.example/api*=api:8080', '--rule=b.example/=web:http,tls=web-tls',
    '--annotation=team=a', '--default-backend=web:80',
  ]);
  assert.deepEqual(decoded.spec, {
    ingressClassName: 'flatnet',
    defaultBackend: { service: { name: 'web', port: { number: 80 } } },
    tls: [{ hosts: ['b.example'], secretName: 'web-tls' }],
    rules: [
      { host: 'a.example', http: { paths: [{ path: '/api', pathType: 'Prefix', backend: { service: { name: 'api', port: { number: 8080 } } } }] } },
      { host: 'b.example', http: { paths: [{ path: '/', pathType: 'Exact', backend: { service: { name: 'web', port: { name: 'http' } } } }] } },
    ],
  });
});

// ---- bodies kubectl does not send, built with protobufjs ----

const unknownType = new protobuf.Type('Unknown')
  .add(new protobuf.Field('typeMeta', 1, 'TypeMeta'))
  .add(new protobuf.Field('raw', 2, 'bytes'))
  .add(new protobuf.Field('contentEncoding', 3, 'string'));
const typeMetaType = new protobuf.Type('TypeMeta').add(new protobuf.Field('apiVersion', 1, 'string')).add(new protobuf.Field('kind', 2, 'string'));
new protobuf.Root().define('t').add(unknownType).add(typeMetaType).root.resolveAll();

function envelope(apiVersion: string, kind: string, raw: Uint8Array, contentEncoding = ''): Buffer {
  const body = unknownType.encode(unknownType.create({ typeMeta: { apiVersion, kind }, raw, contentEncoding })).finish();
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), body]);
}

test('unknown kinds, bad magic, unknown fields and encodings fail with a clear message', () => {
  assert.throws(() => decodeProtobufObject(envelope('gateway.networking.k8s.io/v1', 'HTTPRoute', new Uint8Array())), /accepted for the built-in kinds only; send kind HTTPRoute \(gateway.networking.k8s.io\/v1\) as JSON or YAML/);
  assert.throws(() => decodeProtobufObject(Buffer.from('{"kind":"Pod"}')), /"k8s\\0" magic/);
  // ConfigMap field 9 does not exist.
  const bogus = protobuf.Writer.create().uint32((9 << 3) | 0).uint32(1).finish();
  assert.throws(() => decodeProtobufObject(envelope('v1', 'ConfigMap', bogus)), /field number 9 of ConfigMap \(at the object\) is not a field/);
  // A nested unknown field names its path: Service.spec (field 2) holding field 99.
  const inner = protobuf.Writer.create().uint32((99 << 3) | 0).uint32(1).finish();
  const svc = protobuf.Writer.create().uint32((2 << 3) | 2).bytes(inner).finish();
  assert.throws(() => decodeProtobufObject(envelope('v1', 'Service', svc)), /field number 99 of ServiceSpec \(at spec\) is not a field/);
  assert.throws(() => decodeProtobufObject(envelope('v1', 'ConfigMap', new Uint8Array(), 'gzip')), /content encoding "gzip"/);
  assert.throws(() => decodeProtobufObject(envelope('v1', '', new Uint8Array())), /names no kind/);
});

test('times, IntOrString strings and quantities convert like Go JSON', () => {
  // ObjectMeta{name: "x", creationTimestamp: {seconds: 1700000000}} inside a Namespace.
  const time = protobuf.Writer.create().uint32((1 << 3) | 0).int64(1700000000).finish();
  const meta = protobuf.Writer.create().uint32((1 << 3) | 2).string('x').uint32((8 << 3) | 2).bytes(time).finish();
  const ns = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(meta).finish();
  assert.deepEqual(decodeProtobufObject(envelope('v1', 'Namespace', ns)), {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'x', creationTimestamp: '2023-11-14T22:13:20Z' },
  });
});
