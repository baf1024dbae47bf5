// The Corefile from the coredns ConfigMap, edited with the real kubectl against the real flatnet
// API server while the DNS server runs, queried with the real dig; stub domains and upstreams are
// real bind9 `named` processes on loopback. Edits take effect without a restart; an invalid
// Corefile keeps the running configuration and says why (line) in the log and a Warning event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../../support/server.js';
import { KubeClient } from '../../../src/client/client.js';
import { loadKubeconfig } from '../../../src/client/kubeconfig.js';
import { startDnsServer } from '../../../src/dns/workload.js';
import { defaultCorefile } from '../../../src/dns/manifest.js';
import { bindLoopback, dig, digShort, eventually, startNamed, status } from './support.js';

const zone = (origin: string, addr: string) => `$TTL 60
@ IN SOA ns.${origin}. hostmaster.${origin}. 1 7200 1800 86400 10
@ IN NS ns
ns IN A 192.0.2.1
www IN A ${addr}
`;

function configMap(corefile: string): string {
  const indented = corefile
    .split('\n')
    .map((l) => (l ? `    ${l}` : ''))
    .join('\n');
  return `apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  Corefile: |
${indented}
`;
}

const services = `
apiVersion: v1
kind: Namespace
metadata: {name: cf}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: cf}
spec:
  clusterIP: 10.96.8.20
  ports: [{name: http, port: 80, protocol: TCP}]
`;

test('Corefile edits through the API take effect at once; invalid ones are refused with their line', async (t) => {
  const stub = await startNamed({ 'example.test': zone('example.test', '192.0.2.10') });
  t.after(() => stub.stop());
  const upstream = await startNamed({ 'example.org': zone('example.org', '192.0.2.20') });
  t.after(() => upstream.stop());
  // a port where nothing answers: the first upstream of a sequential list that must be skipped
  const dead = await bindLoopback();
  t.after(() => {
    dead.udp.close();
    dead.tcp.close();
  });

  const api = await startTestServer();
  t.after(() => api.stop());
  const client = new KubeClient(loadKubeconfig(api.kubeconfig));
  t.after(() => client.close());
  assert.equal((await api.kubectl(['apply', '-f', '-'], services)).code, 0);
  const base = defaultCorefile();
  const applied = await api.kubectl(['apply', '-f', '-'], configMap(base));
  assert.equal(applied.code, 0, applied.stderr);

  const sockets = await bindLoopback();
  const logs: string[] = [];
  const dns = await startDnsServer({ client, udp: sockets.udp, tcp: sockets.tcp, corefileConfigMap: { namespace: 'kube-system', name: 'coredns' }, podLog: (l) => logs.push(l) });
  t.after(() => dns.stop());
  const p = sockets.port;
  await eventually(async () => assert.ok(dns.ready()));
  assert.ok(dns.corefile(), 'the ConfigMap Corefile runs');
  await eventually(async () => assert.deepEqual(await digShort(p, 'web.cf.svc.cluster.local', 'A'), ['10.96.8.20']));
  // no forward line (no upstreams): outside names are refused
  assert.equal(status(await dig(p, 'www.example.test', 'A')), 'REFUSED');
  // ANY is answered minimally (NODATA + SOA), not with every record
  const any = await dig(p, 'web.cf.svc.cluster.local', 'ANY');
  assert.equal(status(any), 'NOERROR');
  assert.match(any, /ANSWER: 0,/);

  // (1) a stub domain, several upstreams (the first dead, sequential), hosts and rewrite
  const edited = base.replace(
    '    loadbalance\n}',
    `    loadbalance
    hosts {
       10.1.2.3 legacy.corp.example
       fallthrough
    }
    rewrite name exact old-web.corp.example web.cf.svc.cluster.local
    forward . 127.0.0.1:${dead.port} 127.0.0.1:${upstream.port} {
       policy sequential
    }
}
example.test:53 {
    errors
    cache 30
    forward . 127.0.0.1:${stub.port}
}`,
  );
  assert.equal((await api.kubectl(['apply', '-f', '-'], configMap(edited))).code, 0);
  await eventually(async () => assert.deepEqual(await digShort(p, 'www.example.test', 'A'), ['192.0.2.10']), 10_000);
  assert.deepEqual(await digShort(p, '+time=5', 'www.example.org', 'A'), ['192.0.2.20']);
  assert.deepEqual(await digShort(p, 'legacy.corp.example', 'A'), ['10.1.2.3']);
  const rewritten = await dig(p, 'old-web.corp.example', 'A');
  assert.match(rewritten, /^old-web\.corp\.example\.\s+30\s+IN\s+A\s+10\.96\.8\.20$/m);
  assert.deepEqual(await digShort(p, 'web.cf.svc.cluster.local', 'A'), ['10.96.8.20']);

  // (2) an invalid edit: the running configuration stays, the log and an event say why
  const broken = edited.replace('    loop\n', '    loop\n    frobnicate on\n');
  const brokenLine = broken.split('\n').findIndex((l) => l.includes('frobnicate')) + 1;
  assert.equal((await api.kubectl(['apply', '-f', '-'], configMap(broken))).code, 0);
  await eventually(async () => {
    const ev = await api.kubectl(['-n', 'kube-system', 'get', 'events', '--field-selector', 'involvedObject.name=coredns,type=Warning', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}']);
    assert.match(ev.stdout, new RegExp(`CorefileInvalid: Corefile line ${brokenLine}: unknown plugin "frobnicate"`));
  }, 10_000);
  assert.ok(logs.some((l) => l.includes(`[ERROR] plugin/reload: Corefile line ${brokenLine}: unknown plugin "frobnicate"`)), logs.join('\n'));
  assert.deepEqual(await digShort(p, 'www.example.test', 'A'), ['192.0.2.10'], 'the last good configuration still serves');

  // (3) removing the stub domain takes effect too
  assert.equal((await api.kubectl(['apply', '-f', '-'], configMap(base))).code, 0);
  await eventually(async () => assert.equal(status(await dig(p, 'www.example.test', 'A')), 'REFUSED'), 10_000);
});

test('flatnet dns --corefile FILE refuses an invalid file with its line', async () => {
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-corefile-'));
  try {
    writeFileSync(join(dir, 'Corefile'), '.:53 {\n  errors\n  forward . not-an-address\n}\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'dns', '--listen', '127.0.0.1:0', '--corefile', join(dir, 'Corefile')], { encoding: 'utf8', timeout: 30_000, cwd: new URL('../../../', import.meta.url).pathname });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Corefile line 3: forward: "not-an-address" is not an upstream address/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loop: forwarding to ourselves is detected, logged, and answered SERVFAIL instead of looping', async (t) => {
  const api = await startTestServer();
  t.after(() => api.stop());
  const client = new KubeClient(loadKubeconfig(api.kubeconfig));
  t.after(() => client.close());
  const sockets = await bindLoopback();
  const logs: string[] = [];
  const corefile = `.:53 {\n    errors\n    loop\n    forward . 127.0.0.1:${sockets.port}\n}\n`;
  const dns = await startDnsServer({ client, udp: sockets.udp, tcp: sockets.tcp, corefile, podLog: (l) => logs.push(l) });
  t.after(() => dns.stop());
  await eventually(async () => assert.ok(logs.some((l) => /^\[FATAL\] plugin\/loop: Loop \(forward -> :53\) detected for zone "\."/.test(l)), logs.join('\n')), 10_000);
  assert.equal(status(await dig(sockets.port, 'www.example.org', 'A')), 'SERVFAIL');
});
