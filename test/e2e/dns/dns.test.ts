// Cluster DNS from inside pods of a real lab: the pod's resolv.conf (cluster nameserver, search
// path, ndots:5), busybox nslookup and dig for short, namespace-qualified and full names, SRV,
// PTR, headless and hostname records, ExternalName, pod records and negative answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { clusterDnsObjects } from '../../../src/dns/manifest.js';
import { requireRoot } from '../../support/prerequisites.js';

const repo = new URL('../../../', import.meta.url).pathname;
const flatnet = join(repo, 'bin/flatnet');
const NS = 'dns-e2e';

const manifests = `
apiVersion: v1
kind: Namespace
metadata: {name: ${NS}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: ${NS}, labels: {app: web}}
spec:
  containers: [{name: web, image: registry.k8s.io/e2e-test-images/agnhost:2.53, args: [netexec, --http-port=8080]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${NS}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: ${NS}}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{name: http, port: 8080, protocol: TCP}]
---
apiVersion: v1
kind: Pod
metadata: {name: db-0, namespace: ${NS}, labels: {app: db}}
spec:
  hostname: db-0
  subdomain: db
  containers: [{name: db, image: registry.k8s.io/e2e-test-images/agnhost:2.53, args: [netexec, --http-port=8080]}]
---
apiVersion: v1
kind: Pod
metadata: {name: db-1, namespace: ${NS}, labels: {app: db}}
spec:
  hostname: db-1
  subdomain: db
  containers: [{name: db, image: registry.k8s.io/e2e-test-images/agnhost:2.53, args: [netexec, --http-port=8080]}]
---
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: ${NS}}
spec:
  type: ExternalName
  externalName: www.example.com
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: ${NS}}
spec:
  containers: [{name: client, image: busybox:1.36, command: [sleep, '3600']}]
`;

test('cluster DNS answers pods through their resolv.conf', { timeout: 400_000 }, async (t) => {
  requireRoot('it starts a flatnet lab: network namespaces, nftables');
  // One lab per machine: never tear down a lab this test did not start (`down` removes every
  // lab namespace), so `down` is registered only after our own `up` succeeded.
  const running = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => /^flatnet-(lab|ext|node-)/.test(l));
  assert.deepEqual(running, [], 'another lab is running on this machine; this test needs the lab slot (run it when no lab is up)');
  const dataDir = join(mkdtempSync(join(tmpdir(), 'flatnet-e2e-dns-')), 'data');
  const up = spawnSync(flatnet, ['up', '--nodes', '2', '--data-dir', dataDir], { encoding: 'utf8', timeout: 240_000 });
  t.after(() => {
    if (up.status === 0 || existsSync(join(dataDir, 'lab.json'))) spawnSync(flatnet, ['down', '--data-dir', dataDir], { encoding: 'utf8' });
    rmSync(dirname(dataDir), { recursive: true, force: true });
  });
  assert.equal(up.status, 0, `${up.stdout}${up.stderr}`);
  const env = { ...process.env, KUBECONFIG: `${dataDir}/admin.kubeconfig` };
  const kubectl = (args: string[], input?: string) => spawnSync('kubectl', args, { encoding: 'utf8', env, input, timeout: 120_000 });
  const ok = (args: string[], input?: string) => {
    const r = kubectl(args, input);
    assert.equal(r.status, 0, `kubectl ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r.stdout;
  };

  // `flatnet up` deploys cluster DNS; apply our manifest only if this lab has none yet.
  if (kubectl(['-n', 'kube-system', 'get', 'service', 'kube-dns']).status !== 0) {
    ok(['apply', '-f', '-'], clusterDnsObjects({ clusterIP: '10.96.0.10', replicas: 2, image: 'flatnet/dns' }).map((o) => stringify(o)).join('---\n'));
  }
  ok(['-n', 'kube-system', 'rollout', 'status', 'deployment/coredns', '--timeout=120s']);
  ok(['apply', '-f', '-'], manifests);
  ok(['-n', NS, 'wait', '--for=condition=Ready', 'pod/web', 'pod/db-0', 'pod/db-1', 'pod/client', '--timeout=120s']);
  const webIP = ok(['-n', NS, 'get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}']);
  const podIP = (name: string) => ok(['-n', NS, 'get', 'pod', name, '-o', 'jsonpath={.status.podIP}']);
  const db0 = podIP('db-0');
  const db1 = podIP('db-1');
  const clientIP = podIP('client');

  const exec = (...cmd: string[]) => kubectl(['-n', NS, 'exec', 'client', '--', ...cmd]);
  const lookup = async (...args: string[]) => {
    // the EndpointSlice for a just-ready pod may still be on its way: retry for a while
    let last = '';
    for (let i = 0; i < 40; i++) {
      const r = exec('nslookup', ...args);
      last = r.stdout + r.stderr;
      if (r.status === 0) return last;
      await new Promise((res) => setTimeout(res, 250));
    }
    return last;
  };

  const resolv = ok(['-n', NS, 'exec', 'client', '--', 'cat', '/etc/resolv.conf']);
  assert.match(resolv, /^nameserver 10\.96\.0\.10$/m);
  assert.match(resolv, new RegExp(`^search ${NS}\\.svc\\.cluster\\.local svc\\.cluster\\.local cluster\\.local`, 'm'));
  assert.match(resolv, /^options ndots:5$/m);

  // busybox nslookup walks the search path only for names without a dot: short names and FQDNs
  for (const name of ['web', `web.${NS}.svc.cluster.local`]) {
    const out = await lookup(name);
    assert.match(out, new RegExp(`Name:\\s+web\\.${NS}\\.svc\\.cluster\\.local[\\s\\S]*Address:\\s+${webIP.replace(/\./g, '\\.')}`), `nslookup ${name}:\n${out}`);
  }
  // the C library resolver (glibc getaddrinfo via getent) and dig +search honour ndots:5 and the search path
  for (const name of ['web', `web.${NS}`, `web.${NS}.svc`, `web.${NS}.svc.cluster.local`]) {
    const r = exec('getent', 'hosts', name);
    assert.equal(r.status, 0, `getent hosts ${name}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^${webIP.replace(/\./g, '\\.')}\\s+web\\.${NS}\\.svc\\.cluster\\.local`));
    const d = exec('dig', '+search', '+short', name);
    assert.equal(d.stdout.trim(), webIP, `dig +search ${name}: ${d.stdout}${d.stderr}`);
  }
  assert.equal(exec('dig', '+search', '+short', 'kubernetes.default').stdout.trim(), '10.96.0.1');

  // headless: every ready pod, and each pod's hostname record
  const db = await lookup('db');
  assert.ok(db.includes(db0) && db.includes(db1), db);
  assert.match(await lookup(`db-0.db.${NS}.svc.cluster.local`), new RegExp(`Address:\\s+${db0.replace(/\./g, '\\.')}`));

  // SRV, PTR, ExternalName, pod records
  assert.match(await lookup('-type=srv', `_http._tcp.web.${NS}.svc.cluster.local`), new RegExp(`service = 0 100 80 web\\.${NS}\\.svc\\.cluster\\.local`));
  assert.match(await lookup('-type=srv', `_http._tcp.db.${NS}.svc.cluster.local`), new RegExp(`8080 db-0\\.db\\.${NS}\\.svc\\.cluster\\.local`));
  assert.match(await lookup(webIP), new RegExp(`name = web\\.${NS}\\.svc\\.cluster\\.local`));
  assert.match(await lookup(db0), new RegExp(`name = db-0\\.db\\.${NS}\\.svc\\.cluster\\.local`));
  assert.match(await lookup('-type=cname', `ext.${NS}.svc.cluster.local`), /canonical name = www\.example\.com/);
  const dashed = clientIP.replace(/\./g, '-');
  assert.match(await lookup(`${dashed}.${NS}.pod.cluster.local`), new RegExp(`Address:\\s+${clientIP.replace(/\./g, '\\.')}`));

  // negative answers
  const nope = exec('nslookup', `nope.${NS}.svc.cluster.local`);
  assert.notEqual(nope.status, 0);
  assert.match(nope.stdout + nope.stderr, /NXDOMAIN/);

  // dig: the negative answer carries the zone's SOA
  const digNx = exec('dig', `nope.${NS}.svc.cluster.local`);
  assert.match(digNx.stdout, /status: NXDOMAIN/);
  assert.match(digNx.stdout, /cluster\.local\.\s+\d+\s+IN\s+SOA\s+ns\.dns\.cluster\.local\./);

});
