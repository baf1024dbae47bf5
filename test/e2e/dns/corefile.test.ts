// The kube-system ConfigMaps of a real lab and what they drive: kube-proxy's mode (seed 001),
// the coredns Corefile (seed 003) edited while the DNS pods run (a stub domain to a bind9
// resolver in a lab pod takes effect without a restart; an invalid edit keeps the old
// configuration and says why in the pods' logs and a Warning event), and a StatefulSet's stable
// per-pod DNS name through its headless Service, before and after its pod is replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { requireRoot } from '../../support/prerequisites.js';

const repo = new URL('../../../', import.meta.url).pathname;
const flatnet = join(repo, 'bin/flatnet');
const NS = 'corefile-e2e';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('kube-system ConfigMaps, Corefile edits in a running lab, StatefulSet pod names', { timeout: 600_000 }, async (t) => {
  requireRoot('it starts a flatnet lab: network namespaces, nftables');
  const running = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => /^flatnet-(lab|ext|node-)/.test(l));
  assert.deepEqual(running, [], 'another lab is running on this machine; this test needs the lab slot (run it when no lab is up)');
  for (const tool of ['named', 'dig', 'kubectl']) assert.equal(spawnSync('sh', ['-c', `command -v ${tool}`]).status, 0, `${tool} is needed (Debian: bind9, bind9-dnsutils, kubectl)`);
  const work = mkdtempSync(join(tmpdir(), 'flatnet-e2e-corefile-'));
  chmodSync(work, 0o755);
  const dataDir = join(work, 'data');
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
  const eventually = async <T>(what: string, check: () => T | undefined, timeoutMs = 60_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v !== undefined) return v;
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await sleep(500);
    }
  };

  // --- seed 001 / 003: the kube-system ConfigMaps as kubeadm writes them
  const proxyYaml = ok(['-n', 'kube-system', 'get', 'cm', 'kube-proxy', '-o', 'yaml']);
  const modeLines = proxyYaml.split('\n').filter((l) => l.includes('mode'));
  assert.ok(modeLines.some((l) => /^\s+mode: nftables$/.test(l)), `grep mode:\n${modeLines.join('\n')}`);
  const conf = ok(['-n', 'kube-system', 'get', 'cm', 'kube-proxy', '-o', 'jsonpath={.data.config\\.conf}']);
  assert.match(conf, /^kind: KubeProxyConfiguration$/m);
  assert.match(conf, /^clusterCIDR: 10\.244\.0\.0\/16$/m);
  assert.match(ok(['-n', 'kube-system', 'get', 'cm', 'kube-proxy', '-o', 'jsonpath={.data.kubeconfig\\.conf}']), /tokenFile: \/var\/run\/secrets\/kubernetes\.io\/serviceaccount\/token/);
  const corednsYaml = ok(['get', 'configmap', 'coredns', '-n', 'kube-system', '-o', 'yaml']);
  assert.match(corednsYaml, /Corefile: \|/);
  assert.match(corednsYaml, /kubernetes cluster\.local in-addr\.arpa ip6\.arpa \{/);
  const original = ok(['-n', 'kube-system', 'get', 'cm', 'coredns', '-o', 'jsonpath={.data.Corefile}']);

  // --- workloads: a bind9 resolver for corp.test in a lab pod, a client, StatefulSet web + headless nginx
  const namedDir = join(work, 'named');
  spawnSync('mkdir', ['-p', namedDir]);
  writeFileSync(join(namedDir, 'corp.zone'), '$TTL 60\n@ IN SOA ns.corp.test. hostmaster.corp.test. 1 7200 1800 86400 10\n@ IN NS ns\nns IN A 192.0.2.1\nwww IN A 192.0.2.44\n');
  writeFileSync(
    join(namedDir, 'named.conf'),
    `options { directory "${namedDir}"; listen-on port 53 { any; }; listen-on-v6 { none; }; recursion no; pid-file "${namedDir}/named.pid"; session-keyfile "${namedDir}/session.key"; dnssec-validation no; notify no; };\nzone "corp.test" { type primary; file "${namedDir}/corp.zone"; };\n`,
  );
  ok(
    ['apply', '-f', '-'],
    `
apiVersion: v1
kind: Namespace
metadata: {name: ${NS}}
---
apiVersion: v1
kind: Pod
metadata: {name: stub-dns, namespace: ${NS}}
spec:
  containers: [{name: named, image: busybox:1.36, command: [named, -g, -c, ${namedDir}/named.conf]}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: ${NS}}
spec:
  containers: [{name: client, image: busybox:1.36, command: [sleep, '3600']}]
---
apiVersion: v1
kind: Service
metadata: {name: nginx, namespace: default, labels: {app: nginx}}
spec:
  clusterIP: None
  selector: {app: nginx}
  ports: [{name: web, port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web, namespace: default}
spec:
  serviceName: nginx
  replicas: 2
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      containers: [{name: nginx, image: nginx, ports: [{containerPort: 80, name: web}]}]
`,
  );
  ok(['-n', NS, 'wait', '--for=condition=Ready', 'pod/stub-dns', 'pod/client', '--timeout=120s']);
  const stubIP = ok(['-n', NS, 'get', 'pod', 'stub-dns', '-o', 'jsonpath={.status.podIP}']);
  const exec = (...cmd: string[]) => kubectl(['-n', NS, 'exec', 'client', '--', ...cmd]);
  const digShort = (...args: string[]) => exec('dig', '+short', '+time=2', '+tries=1', ...args).stdout.trim();
  // the resolver answers directly; the cluster DNS does not know corp.test yet
  await eventually('named in the stub-dns pod', () => (digShort(`@${stubIP}`, 'www.corp.test', 'A') === '192.0.2.44' ? true : undefined));
  const before = exec('dig', '+time=2', '+tries=1', 'www.corp.test', 'A').stdout;
  assert.match(before, /status: REFUSED/, before);

  const dnsPods = () => ok(['-n', 'kube-system', 'get', 'pods', '-l', 'k8s-app=kube-dns', '-o', 'jsonpath={range .items[*]}{.metadata.uid}:{.status.containerStatuses[0].restartCount}{"\\n"}{end}']).trim();
  const podsBefore = dnsPods();
  const patchCorefile = (text: string) => ok(['-n', 'kube-system', 'patch', 'configmap', 'coredns', '--type', 'merge', '-p', JSON.stringify({ data: { Corefile: text } })]);

  // --- (a) a stub domain added by editing the Corefile takes effect in seconds, without a restart
  const withStub = `${original.trimEnd()}\ncorp.test:53 {\n    errors\n    cache 30\n    forward . ${stubIP}\n}\n`;
  patchCorefile(withStub);
  const t0 = Date.now();
  await eventually('the stub domain through the cluster DNS', () => (digShort('www.corp.test', 'A') === '192.0.2.44' ? true : undefined));
  const tookMs = Date.now() - t0;
  // the Service address answers it from both replicas (several queries: the proxy spreads them)
  for (let i = 0; i < 6; i++) assert.equal(digShort('www.corp.test', 'A'), '192.0.2.44');
  assert.equal(dnsPods(), podsBefore, 'the DNS pods were neither replaced nor restarted');
  t.diagnostic(`stub domain answered ${tookMs} ms after the ConfigMap edit`);

  // --- (a) an invalid edit keeps the running configuration; the logs and a Warning event say why
  const broken = withStub.replace('    loop\n', '    loop\n    frobnicate on\n');
  const brokenLine = broken.split('\n').findIndex((l) => l.includes('frobnicate')) + 1;
  assert.ok(brokenLine > 0);
  patchCorefile(broken);
  const event = await eventually('a Warning event on the coredns ConfigMap', () => {
    const ev = kubectl(['-n', 'kube-system', 'get', 'events', '--field-selector', 'involvedObject.kind=ConfigMap,involvedObject.name=coredns', '-o', 'jsonpath={range .items[*]}{.type} {.reason}: {.message}{"\\n"}{end}']).stdout;
    return ev.split('\n').find((l) => l.startsWith('Warning CorefileInvalid: ') && l.includes(`Corefile line ${brokenLine}: unknown plugin "frobnicate"`));
  });
  assert.match(event, /keeping the running configuration/);
  await eventually('the reason in the DNS pods\' logs', () => {
    const logs = kubectl(['-n', 'kube-system', 'logs', '-l', 'k8s-app=kube-dns', '--tail=50']).stdout;
    return logs.includes(`[ERROR] plugin/reload: Corefile line ${brokenLine}: unknown plugin "frobnicate"`) ? true : undefined;
  });
  assert.equal(digShort('www.corp.test', 'A'), '192.0.2.44', 'the last good configuration keeps serving');
  assert.equal(digShort('kubernetes.default.svc.cluster.local', 'A'), '10.96.0.1');
  assert.equal(dnsPods(), podsBefore);
  patchCorefile(original);
  await eventually('the stub domain gone again', () => (/status: REFUSED/.test(exec('dig', '+time=2', '+tries=1', 'www.corp.test', 'A').stdout) ? true : undefined));

  // --- (b) StatefulSet web behind headless Service nginx: web-0.nginx.default.svc.cluster.local
  await eventually('pod web-0 and web-1', () => (kubectl(['get', 'pod', 'web-0', 'web-1']).status === 0 ? true : undefined), 120_000);
  ok(['wait', '--for=condition=Ready', 'pod/web-0', 'pod/web-1', '--timeout=120s']);
  const web0 = () => ok(['get', 'pod', 'web-0', '-o', 'jsonpath={.metadata.uid} {.status.podIP}']).trim().split(' ');
  const [uid0, ip0] = web0();
  const lookup = () => {
    const r = exec('nslookup', 'web-0.nginx.default.svc.cluster.local');
    const m = /Name:\s+web-0\.nginx\.default\.svc\.cluster\.local\s+Address:\s+(\S+)/.exec(r.stdout);
    return m?.[1];
  };
  assert.equal(await eventually('web-0.nginx resolving', () => lookup()), ip0);
  // Not --wait: kubectl waits for a DELETED of the name, and the StatefulSet may bring web-0 back before
  // kubectl's watch lists it, which that wait then never sees (a race of kubectl's, upstream too).
  ok(['delete', 'pod', 'web-0', '--wait=false']);
  const [uid1, ip1] = await eventually('a new web-0', () => {
    const r = kubectl(['get', 'pod', 'web-0', '-o', 'jsonpath={.metadata.uid} {.status.podIP}']);
    const [uid, ip] = r.stdout.trim().split(' ');
    return r.status === 0 && uid && uid !== uid0 && ip ? [uid, ip] : undefined;
  }, 120_000);
  assert.notEqual(uid1, uid0);
  ok(['wait', '--for=condition=Ready', 'pod/web-0', '--timeout=120s']);
  assert.equal(await eventually('web-0.nginx resolving to the new pod', () => (lookup() === ip1 ? ip1 : undefined)), ip1);
  t.diagnostic(`web-0: ${ip0} -> ${ip1}`);
});
