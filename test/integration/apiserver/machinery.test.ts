// API machinery through the real kubectl: a Table for every listable resource, the kubectl create
// generators (which send protobuf), the field selectors kubectl uses, and a restart that loses
// nothing (every object of every resource comes back with the same uid and resourceVersion).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { R, RESOURCES } from '../../../src/api/resources.js';
import { startTestServer, type TestServer } from '../../support/server.js';

let s: TestServer;

before(async () => {
  s = await startTestServer({ store: 'sqlite', controllers: false });
});
after(async () => {
  await s?.stop();
});

/** kubectl create that must send a protobuf body (its -v=8 log shows the request headers) and get 201. */
async function createProto(args: string[]): Promise<string> {
  const r = await s.kubectl(['create', ...args, '-v=8']);
  assert.equal(r.code, 0, `kubectl create ${args.join(' ')} failed:\n${r.stderr}`);
  assert.match(r.stderr, /\] POST https:\S+\n.*Request Headers:\n(.*\] {5}\S+: .*\n)*.*\] {5}Content-Type: application\/vnd\.kubernetes\.protobuf\n/, `kubectl create ${args.join(' ')} sent no protobuf body`);
  assert.match(r.stderr, /Response Status: 201 Created/);
  return r.stdout;
}

test('kubectl create configmap|secret|namespace|service|deployment|ingress (protobuf bodies) store what was asked', async () => {
  assert.match(await createProto(['namespace', 'proto']), /namespace\/proto created/);
  assert.match(await createProto(['configmap', 'pcm', '-n', 'proto', '--from-literal=k=v']), /configmap\/pcm created/);
  assert.match(await createProto(['secret', 'generic', 'psec', '-n', 'proto', '--from-literal=k=v']), /secret\/psec created/);
  assert.match(await createProto(['service', 'clusterip', 'psvc', '-n', 'proto', '--tcp=80:8080']), /service\/psvc created/);
  assert.match(await createProto(['deployment', 'pdep', '-n', 'proto', '--image=nginx', '--replicas=3', '--port=8080']), /deployment.apps\/pdep created/);
  assert.match(await createProto(['ingress', 'ping', '-n', 'proto', '--rule=shop.example.com/api*=psvc:80']), /ingress.networking.k8s.io\/ping created/);
  const get = async (kind: string, name: string) => JSON.parse(await s.kubectlOk(['get', kind, name, '-n', 'proto', '-o', 'json']));
  assert.equal((await get('cm', 'pcm')).data.k, 'v');
  assert.equal(Buffer.from((await get('secret', 'psec')).data.k, 'base64').toString(), 'v');
  const svc = await get('svc', 'psvc');
  assert.deepEqual(svc.spec.ports, [{ name: '80-8080', port: 80, protocol: 'TCP', targetPort: 8080 }]);
  assert.deepEqual(svc.spec.selector, { app: 'psvc' });
  assert.match(svc.spec.clusterIP, /^10\.96\.\d+\.\d+$/);
  const dep = await get('deploy', 'pdep');
  assert.equal(dep.spec.replicas, 3);
  assert.deepEqual(dep.spec.template.spec.containers[0].ports, [{ containerPort: 8080, protocol: 'TCP' }]);
  const ing = await get('ingress', 'ping');
  assert.deepEqual(ing.spec.rules[0], { host: 'shop.example.com', http: { paths: [{ path: '/api', pathType: 'Prefix', backend: { service: { name: 'psvc', port: { number: 80 } } } }] } });
});

test('every listable resource prints as a Table with kubectl get -A', async () => {
  const names = (await s.kubectlOk(['api-resources', '--verbs=list', '-o', 'name'])).split('\n').filter(Boolean);
  assert.ok(names.length >= RESOURCES.filter((r) => r.verbs.includes('list')).length, `api-resources lists ${names.length}`);
  for (const name of names) {
    const r = await s.kubectl(['get', name, '-A']);
    assert.equal(r.code, 0, `kubectl get ${name} -A: ${r.stderr}`);
    // A Table has a NAME column (with a NAMESPACE column first for namespaced kinds), or kubectl says it is empty.
    assert.ok(/^(NAMESPACE\s+)?NAME\s/.test(r.stdout) || /No resources found/.test(r.stderr), `kubectl get ${name} -A printed no table:\n${r.stdout}${r.stderr}`);
  }
  // Custom columns of a few kinds prove the server (not kubectl's fallback) built the Table.
  assert.match(await s.kubectlOk(['get', 'deploy', '-A']), /NAMESPACE\s+NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE/);
  assert.match(await s.kubectlOk(['get', 'ingress', '-A']), /NAMESPACE\s+NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE\n.*proto\s+ping\s+<none>\s+shop\.example\.com\s+80\s/);
  assert.match(await s.kubectlOk(['get', 'ns']), /NAME\s+STATUS\s+AGE\n/);
});

test('the field selectors kubectl uses: metadata.name, metadata.namespace, status.phase, spec.nodeName', async () => {
  await s.kubectlOk(['apply', '-f', '-'], `apiVersion: v1
kind: Pod
metadata: {name: fs-a, namespace: proto}
spec: {nodeName: node-a, containers: [{name: c, image: busybox}]}
---
apiVersion: v1
kind: Pod
metadata: {name: fs-b, namespace: proto}
spec: {nodeName: node-b, containers: [{name: c, image: busybox}]}
`);
  await s.kubectlOk(['patch', 'pod', 'fs-a', '-n', 'proto', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Running"}}']);
  const names = async (...args: string[]) => (await s.kubectlOk(['get', 'pods', '-o', 'name', ...args])).split('\n').filter(Boolean).sort();
  assert.deepEqual(await names('-A', '--field-selector', 'metadata.name=fs-b'), ['pod/fs-b']);
  assert.deepEqual(await names('-A', '--field-selector', 'metadata.namespace=proto,status.phase=Running'), ['pod/fs-a']);
  assert.deepEqual(await names('-n', 'proto', '--field-selector', 'status.phase!=Running'), ['pod/fs-b']);
  assert.deepEqual(await names('-A', '--field-selector', 'spec.nodeName=node-b'), ['pod/fs-b']);
  const bad = await s.kubectl(['get', 'pods', '-A', '--field-selector', 'spec.image=busybox']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /field label not supported: spec.image/);
});

test('a restart loses nothing: every object of every resource comes back unchanged, and writes go on', async () => {
  const dump = async () => {
    const lines: string[] = [];
    for (const r of RESOURCES.filter((x) => x.verbs.includes('list'))) {
      const list = await s.client.list(r);
      for (const o of list.items) lines.push(`${r.group}/${r.plural} ${o.metadata.namespace ?? ''}/${o.metadata.name} ${o.metadata.uid} ${o.metadata.resourceVersion} ${o.metadata.generation ?? ''}`);
    }
    return lines.sort();
  };
  await s.kubectlOk(['apply', '-f', '-'], `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: proto}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: held, namespace: proto, finalizers: [example.com/hold]}
`);
  // A terminating object (deletionTimestamp set, held by its finalizer) also survives as it is.
  await s.kubectlOk(['delete', 'cm', 'held', '-n', 'proto', '--wait=false']);
  const beforeRestart = await dump();
  assert.ok(beforeRestart.some((l) => l.startsWith('/configmaps proto/held ')));
  assert.ok(beforeRestart.length > 15, `only ${beforeRestart.length} objects to compare`);
  const revision = Number((await s.client.list(R.configmaps)).metadata.resourceVersion);
  await s.restart();
  assert.deepEqual(await dump(), beforeRestart);
  assert.ok(JSON.parse(await s.kubectlOk(['get', 'cm', 'held', '-n', 'proto', '-o', 'json'])).metadata.deletionTimestamp);
  const made = JSON.parse(await s.kubectlOk(['create', 'configmap', 'after-restart', '-n', 'proto', '-o', 'json']));
  assert.ok(Number(made.metadata.resourceVersion) > revision, `resourceVersion ${made.metadata.resourceVersion} continues past ${revision}`);
  assert.match(await s.kubectlOk(['get', 'ingress', 'ping', '-n', 'proto']), /ping\s+<none>\s+shop\.example\.com/);
});
