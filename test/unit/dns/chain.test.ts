// Answers through Corefile server blocks: the plugins in CoreDNS's order (any, rewrite, hosts,
// kubernetes with fallthrough), block selection by zone, loadbalance on the precomputed-answer
// path, ANY limited as RFC 8482 asks, the log plugin's lines; and the reloader's decisions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsHandler } from '../../../src/dns/handler.js';
import { DnsMetrics } from '../../../src/dns/metrics.js';
import { loadCorefile } from '../../../src/dns/corefile/config.js';
import { CorefileReloader } from '../../../src/dns/corefile/watch.js';
import type { KubeObject } from '../../../src/api/types.js';
import { ask, fixtureModel, makeHandler } from './fixture.js';

interface Rec {
  name: string;
  type: string;
  ttl: number;
  data: unknown;
}

/** The fixture's ask() with records typed loosely (dns-packet's answer union has no common `data`). */
async function askR(h: DnsHandler, name: string, type: string, opts: Parameters<typeof ask>[3] = {}): Promise<{ rcode: string; answers: Rec[]; authorities: Rec[]; questions: { name: string }[] }> {
  const r = await ask(h, name, type, opts);
  return { rcode: r.rcode, answers: r.answers as unknown as Rec[], authorities: r.authorities as unknown as Rec[], questions: r.questions ?? [] };
}

function corefileHandler(text: string, podLog?: (l: string) => void): DnsHandler {
  return new DnsHandler(fixtureModel(), { zone: 'cluster.local', ttl: 30, pods: 'insecure', ready: () => true, corefile: loadCorefile(text), podLog }, new DnsMetrics());
}

const MAIN = `.:53 {
  errors
  kubernetes cluster.local in-addr.arpa ip6.arpa {
    pods insecure
    fallthrough in-addr.arpa ip6.arpa
    ttl 30
  }
  loadbalance
}
`;

test('ANY: the kubernetes plugin answers NODATA (not every record); the any plugin answers HINFO', async () => {
  const h = corefileHandler(MAIN);
  const any = await askR(h, '_tcp-pg._tcp.db.ns1.svc.cluster.local', 'ANY');
  assert.equal(any.rcode, 'NOERROR');
  assert.deepEqual(any.answers, []);
  assert.equal(any.authorities[0]?.type, 'SOA');
  assert.equal((await askR(h, 'nope.ns1.svc.cluster.local', 'ANY')).rcode, 'NXDOMAIN');
  // also through the flags' configuration
  assert.deepEqual((await askR(makeHandler(fixtureModel()), 'web.ns1.svc.cluster.local', 'ANY')).answers, []);
  const withAny = corefileHandler(MAIN.replace('errors', 'errors\n  any'));
  const hinfo = await askR(withAny, 'web.ns1.svc.cluster.local', 'ANY');
  assert.equal(hinfo.answers.length, 1);
  assert.equal(hinfo.answers[0].type, 'HINFO');
  assert.equal(hinfo.answers[0].ttl, 8482);
  assert.deepEqual(hinfo.answers[0].data, { cpu: 'ANY obsoleted', os: 'See RFC 8482' });
});

test('block selection: the most specific zone; no block for the name: REFUSED', async () => {
  const h = corefileHandler(`example.test {\n  hosts {\n    10.0.0.9 www.example.test\n  }\n}\n`);
  assert.equal((await askR(h, 'web.ns1.svc.cluster.local', 'A')).rcode, 'REFUSED');
  assert.deepEqual((await askR(h, 'www.example.test', 'A')).answers.map((a) => a.data), ['10.0.0.9']);
  const two = corefileHandler(`${MAIN}svc.cluster.local {\n  hosts {\n    10.0.0.7 web.ns1.svc.cluster.local\n  }\n}\n`);
  assert.deepEqual((await askR(two, 'web.ns1.svc.cluster.local', 'A')).answers.map((a) => a.data), ['10.0.0.7']);
  assert.equal((await askR(two, 'dns-version.cluster.local', 'TXT')).answers.length, 1);
});

test('hosts: inline entries, NXDOMAIN without fallthrough, the next plugin with it', async () => {
  const hosts = (ft: string) => corefileHandler(MAIN.replace('errors', `errors\n  hosts {\n    10.0.0.5 legacy.corp.example\n    ttl 60\n    ${ft}\n  }`));
  const h = hosts('');
  const a = await askR(h, 'legacy.corp.example', 'A');
  assert.deepEqual(a.answers.map((x) => [x.name, x.ttl, x.data]), [['legacy.corp.example', 60, '10.0.0.5']]);
  assert.equal((await askR(h, 'legacy.corp.example', 'AAAA')).rcode, 'NOERROR');
  assert.deepEqual((await askR(h, '5.0.0.10.in-addr.arpa', 'PTR')).answers.map((x) => x.data), ['legacy.corp.example']);
  // hosts' zone is the whole block: cluster names miss hosts and stop there
  assert.equal((await askR(h, 'web.ns1.svc.cluster.local', 'A')).rcode, 'NXDOMAIN');
  const ft = hosts('fallthrough');
  assert.deepEqual((await askR(ft, 'web.ns1.svc.cluster.local', 'A')).answers.map((x) => x.data), ['10.96.0.20']);
});

test('rewrite name: the lookup uses the new name, the client sees the name it asked', async () => {
  const h = corefileHandler(MAIN.replace('errors', 'errors\n  rewrite name exact old.example.com web.ns1.svc.cluster.local\n  rewrite name suffix .corp.internal .svc.cluster.local'));
  const r = await askR(h, 'old.example.com', 'A');
  assert.equal(r.rcode, 'NOERROR');
  assert.deepEqual(r.answers.map((x) => [x.name, x.data]), [['old.example.com', '10.96.0.20']]);
  assert.equal(r.questions[0].name, 'old.example.com');
  const s = await askR(h, 'web.ns1.corp.internal', 'A');
  assert.deepEqual(s.answers.map((x) => [x.name, x.data]), [['web.ns1.corp.internal', '10.96.0.20']]);
  // twice: the second answer comes from the precomputed path and is the same
  assert.deepEqual((await askR(h, 'web.ns1.corp.internal', 'A')).answers.map((x) => [x.name, x.data]), [['web.ns1.corp.internal', '10.96.0.20']]);
});

test('kubernetes fallthrough: NXDOMAIN passes to the next plugin only when asked', async () => {
  const no = corefileHandler(MAIN);
  assert.equal((await askR(no, 'nope.ns1.svc.cluster.local', 'A')).rcode, 'NXDOMAIN');
  // reverse names of unknown addresses fall through (to nothing here: REFUSED)
  assert.equal((await askR(no, '9.9.9.9.in-addr.arpa', 'PTR')).rcode, 'REFUSED');
  assert.deepEqual((await askR(no, '20.0.96.10.in-addr.arpa', 'PTR')).answers.map((a) => a.data), ['web.ns1.svc.cluster.local']);
  const all = corefileHandler(MAIN.replace('fallthrough in-addr.arpa ip6.arpa', 'fallthrough'));
  assert.equal((await askR(all, 'nope.ns1.svc.cluster.local', 'A')).rcode, 'REFUSED');
  const ttl = corefileHandler(MAIN.replace('ttl 30', 'ttl 7'));
  assert.equal((await askR(ttl, 'web.ns1.svc.cluster.local', 'A')).answers[0].ttl, 7);
  const noPods = corefileHandler(MAIN.replace('pods insecure', 'pods disabled'));
  assert.equal((await askR(noPods, '10-244-1-5.ns1.pod.cluster.local', 'A')).rcode, 'NXDOMAIN');
});

test('loadbalance: successive answers lead with each address in turn, cached or not', async () => {
  const h = corefileHandler(MAIN);
  const firsts = new Set<string>();
  for (let i = 0; i < 6; i++) {
    const r = await askR(h, 'db.ns1.svc.cluster.local', 'A');
    assert.deepEqual(r.answers.map((a) => a.data).sort(), ['10.1.0.10', '10.1.0.11', '10.1.0.12']);
    firsts.add(String(r.answers[0].data));
  }
  assert.deepEqual([...firsts].sort(), ['10.1.0.10', '10.1.0.11', '10.1.0.12']);
  // without loadbalance the order is fixed
  const fixed = corefileHandler(MAIN.replace('loadbalance', ''));
  const orders = new Set<string>();
  for (let i = 0; i < 4; i++) orders.add((await askR(fixed, 'db.ns1.svc.cluster.local', 'A')).answers.map((a) => a.data).join());
  assert.equal(orders.size, 1);
});

test('log: one CoreDNS-style line per query in the pod log', async () => {
  const lines: string[] = [];
  const h = corefileHandler(MAIN.replace('errors', 'errors\n  log'), (l) => lines.push(l));
  await askR(h, 'web.ns1.svc.cluster.local', 'A', { id: 4242 });
  await askR(h, 'web.ns1.svc.cluster.local', 'A', { id: 4243 });
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^\[INFO\] - - 4242 "A IN web\.ns1\.svc\.cluster\.local\. udp \d+ false \d+" NOERROR qr,aa,rd \d+ \d+\.\d{6}s$/);
  const denials: string[] = [];
  const d = corefileHandler(MAIN.replace('errors', 'errors\n  log {\n    class denial\n  }'), (l) => denials.push(l));
  await askR(d, 'web.ns1.svc.cluster.local', 'A');
  await askR(d, 'nope.ns1.svc.cluster.local', 'A');
  assert.equal(denials.length, 1);
  assert.match(denials[0], /NXDOMAIN/);
});

test('reloader: applies valid Corefiles, keeps the last good one on errors, honours reload', () => {
  const applied: string[] = [];
  const logs: string[] = [];
  const events: [string, string, string][] = [];
  const r = new CorefileReloader({
    source: { namespace: 'kube-system', name: 'coredns' },
    apply: (_c, text) => applied.push(text),
    podLog: (l) => logs.push(l),
    events: { record: (_o, type, reason, message) => events.push([type, reason, message]) },
  });
  const cm = (Corefile?: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: Corefile === undefined ? {} : { Corefile } }) as KubeObject;
  const good = `${MAIN.replace('loadbalance', 'loadbalance\n  reload')}`;
  r.onConfigMap(cm(good));
  assert.deepEqual(applied, [good]);
  assert.match(logs.at(-1) ?? '', /^\[INFO\] plugin\/reload: Running configuration SHA512 = [0-9a-f]{128}$/);
  r.onConfigMap(cm(good)); // unchanged: nothing to do
  assert.equal(applied.length, 1);
  r.onConfigMap(cm(good.replace('errors', 'errors\n  bogus')));
  assert.equal(applied.length, 1);
  assert.match(logs.at(-1) ?? '', /^\[ERROR\] plugin\/reload: Corefile line 3: unknown plugin "bogus" .*; keeping the running configuration$/);
  assert.deepEqual(events.map((e) => [e[0], e[1]]), [['Warning', 'CorefileInvalid']]);
  assert.match(events[0][2], /Corefile line 3: unknown plugin "bogus"/);
  assert.equal(r.running()?.blocks[0].reload !== undefined, true);
  r.onConfigMap(cm());
  assert.deepEqual(events.at(-1)?.slice(0, 2), ['Warning', 'CorefileMissing']);
  // a running configuration without reload does not follow edits (as CoreDNS)
  const withoutReload = MAIN;
  r.onConfigMap(cm(withoutReload));
  assert.equal(applied.length, 2);
  r.onConfigMap(cm(withoutReload.replace('ttl 30', 'ttl 5')));
  assert.equal(applied.length, 2);
  assert.match(logs.at(-1) ?? '', /no reload plugin; restart the pods/);
});

test('forward policy: sequential keeps the order, round_robin rotates, random permutes', async () => {
  const { Forwarder } = await import('../../../src/dns/forward.js');
  const ups = [1, 2, 3].map((i) => ({ host: `10.0.0.${i}`, port: 53 }));
  const hosts = (f: InstanceType<typeof Forwarder>) => f.order().map((u) => u.host.slice(-1)).join('');
  const seq = new Forwarder({ upstreams: ups, policy: 'sequential' });
  assert.deepEqual([hosts(seq), hosts(seq)], ['123', '123']);
  const rr = new Forwarder({ upstreams: ups, policy: 'round_robin' });
  assert.deepEqual([hosts(rr), hosts(rr), hosts(rr), hosts(rr)], ['123', '231', '312', '123']);
  const random = new Forwarder({ upstreams: ups, policy: 'random' });
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const o = hosts(random);
    assert.equal([...o].sort().join(''), '123');
    seen.add(o[0]);
  }
  assert.equal(seen.size, 3, 'each upstream comes first sometimes');
  for (const f of [seq, rr, random]) f.close();
});
