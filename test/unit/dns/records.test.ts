// Every record of the Kubernetes DNS-Based Service Discovery spec 1.1.0 (and the negative answers
// and extensions of README), as a table: question -> rcode, answer, authority, additional.
// The handler runs for real; replies are decoded with dns-packet, an independent decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ask, fixtureModel, makeHandler, section } from './fixture.js';
import type { HandlerConfig } from '../../../src/dns/handler.js';

const SOA = 'cluster.local. 30 SOA ns.dns.cluster.local. hostmaster.cluster.local. 7200 1800 86400 30';
const Z = 'cluster.local';

interface Row {
  q: string;
  type: string;
  rcode: string;
  answer?: string[];
  authority?: string[];
  additional?: string[];
  config?: Partial<HandlerConfig>;
  /** Check the AA flag (default true for cluster answers). */
  aa?: boolean;
}

const NODATA = { rcode: 'NOERROR', answer: [], authority: [SOA] };
const NXDOMAIN = { rcode: 'NXDOMAIN', answer: [], authority: [SOA] };

const rows: Row[] = [
  // 2.2 schema version
  { q: `dns-version.${Z}`, type: 'TXT', rcode: 'NOERROR', answer: [`dns-version.${Z}. 28800 TXT "1.1.0"`] },
  // 2.3.1 ClusterIP A/AAAA
  { q: `web.ns1.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`web.ns1.svc.${Z}. 30 A 10.96.0.20`] },
  { q: `web.ns1.svc.${Z}`, type: 'AAAA', ...NODATA },
  { q: `dual.ns1.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`dual.ns1.svc.${Z}. 30 A 10.96.0.21`] },
  { q: `dual.ns1.svc.${Z}`, type: 'AAAA', rcode: 'NOERROR', answer: [`dual.ns1.svc.${Z}. 30 AAAA fd00::21`] },
  { q: `v6.ns1.svc.${Z}`, type: 'AAAA', rcode: 'NOERROR', answer: [`v6.ns1.svc.${Z}. 30 AAAA fd00::22`] },
  { q: `v6.ns1.svc.${Z}`, type: 'A', ...NODATA },
  // 2.3.2 ClusterIP SRV for named ports; unnamed ports get none
  {
    q: `_http._tcp.web.ns1.svc.${Z}`,
    type: 'SRV',
    rcode: 'NOERROR',
    answer: [`_http._tcp.web.ns1.svc.${Z}. 30 SRV 0 100 80 web.ns1.svc.${Z}.`],
    additional: [`web.ns1.svc.${Z}. 30 A 10.96.0.20`],
  },
  {
    q: `_http._tcp.dual.ns1.svc.${Z}`,
    type: 'SRV',
    rcode: 'NOERROR',
    answer: [`_http._tcp.dual.ns1.svc.${Z}. 30 SRV 0 100 80 dual.ns1.svc.${Z}.`],
    additional: [`dual.ns1.svc.${Z}. 30 A 10.96.0.21`, `dual.ns1.svc.${Z}. 30 AAAA fd00::21`],
  },
  { q: `_foo._tcp.web.ns1.svc.${Z}`, type: 'SRV', ...NXDOMAIN },
  { q: `_http._udp.web.ns1.svc.${Z}`, type: 'SRV', ...NXDOMAIN },
  { q: `_dns._udp.kube-dns.kube-system.svc.${Z}`, type: 'SRV', rcode: 'NOERROR', answer: [`_dns._udp.kube-dns.kube-system.svc.${Z}. 30 SRV 0 100 53 kube-dns.kube-system.svc.${Z}.`], additional: [`kube-dns.kube-system.svc.${Z}. 30 A 10.96.0.10`] },
  // extension: SRV at the bare service name lists every port (also the unnamed one)
  {
    q: `web.ns1.svc.${Z}`,
    type: 'SRV',
    rcode: 'NOERROR',
    answer: [`web.ns1.svc.${Z}. 30 SRV 0 50 80 web.ns1.svc.${Z}.`, `web.ns1.svc.${Z}. 30 SRV 0 50 8080 web.ns1.svc.${Z}.`],
    additional: [`web.ns1.svc.${Z}. 30 A 10.96.0.20`],
  },
  // 2.3.3 PTR for ClusterIPs, v4 and v6
  { q: '20.0.96.10.in-addr.arpa', type: 'PTR', rcode: 'NOERROR', answer: [`20.0.96.10.in-addr.arpa. 30 PTR web.ns1.svc.${Z}.`] },
  {
    q: '1.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa',
    type: 'PTR',
    rcode: 'NOERROR',
    answer: [`1.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. 30 PTR dual.ns1.svc.${Z}.`],
  },
  // 2.4.1 headless: one A per ready endpoint (not-ready 10.1.0.13 left out)
  { q: `db.ns1.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`db.ns1.svc.${Z}. 30 A 10.1.0.10`, `db.ns1.svc.${Z}. 30 A 10.1.0.11`, `db.ns1.svc.${Z}. 30 A 10.1.0.12`] },
  { q: `db.ns1.svc.${Z}`, type: 'AAAA', ...NODATA },
  // 2.4.1 hostname records; the system-assigned label is the dashed IP
  { q: `db-0.db.ns1.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`db-0.db.ns1.svc.${Z}. 30 A 10.1.0.10`] },
  { q: `db-1.db.ns1.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`db-1.db.ns1.svc.${Z}. 30 A 10.1.0.11`] },
  { q: `10-1-0-12.db.ns1.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`10-1-0-12.db.ns1.svc.${Z}. 30 A 10.1.0.12`] },
  { q: `db-3.db.ns1.svc.${Z}`, type: 'A', ...NXDOMAIN },
  { q: `bogus.db.ns1.svc.${Z}`, type: 'A', ...NXDOMAIN },
  { q: `db-0.db.ns1.svc.${Z}`, type: 'AAAA', ...NODATA },
  // 2.4.2 headless SRV: ready endpoints x named ports, targets are the endpoint names
  {
    q: `_tcp-pg._tcp.db.ns1.svc.${Z}`,
    type: 'SRV',
    rcode: 'NOERROR',
    answer: [
      `_tcp-pg._tcp.db.ns1.svc.${Z}. 30 SRV 0 33 5432 10-1-0-12.db.ns1.svc.${Z}.`,
      `_tcp-pg._tcp.db.ns1.svc.${Z}. 30 SRV 0 33 5432 db-0.db.ns1.svc.${Z}.`,
      `_tcp-pg._tcp.db.ns1.svc.${Z}. 30 SRV 0 33 5432 db-1.db.ns1.svc.${Z}.`,
    ],
    additional: [`10-1-0-12.db.ns1.svc.${Z}. 30 A 10.1.0.12`, `db-0.db.ns1.svc.${Z}. 30 A 10.1.0.10`, `db-1.db.ns1.svc.${Z}. 30 A 10.1.0.11`],
  },
  { q: `_http._tcp.db.ns1.svc.${Z}`, type: 'SRV', ...NXDOMAIN },
  // 2.4.3 PTR for headless endpoints -> hostname records
  { q: '10.0.1.10.in-addr.arpa', type: 'PTR', rcode: 'NOERROR', answer: [`10.0.1.10.in-addr.arpa. 30 PTR db-0.db.ns1.svc.${Z}.`] },
  { q: '12.0.1.10.in-addr.arpa', type: 'PTR', rcode: 'NOERROR', answer: [`12.0.1.10.in-addr.arpa. 30 PTR 10-1-0-12.db.ns1.svc.${Z}.`] },
  // endpoints of ClusterIP services get names and PTRs too (as CoreDNS)
  { q: `10-1-0-40.web.ns1.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`10-1-0-40.web.ns1.svc.${Z}. 30 A 10.1.0.40`] },
  { q: '40.0.1.10.in-addr.arpa', type: 'PTR', rcode: 'NOERROR', answer: [`40.0.1.10.in-addr.arpa. 30 PTR 10-1-0-40.web.ns1.svc.${Z}.`] },
  // headless without ready endpoints: NXDOMAIN (spec 2.4.1)
  { q: `empty.ns1.svc.${Z}`, type: 'A', ...NXDOMAIN },
  { q: `empty.ns1.svc.${Z}`, type: 'SRV', ...NXDOMAIN },
  // publishNotReadyAddresses and the legacy annotation publish not-ready endpoints
  { q: `pnr.ns1.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`pnr.ns1.svc.${Z}. 30 A 10.1.0.30`] },
  { q: `legacy.ns1.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`legacy.ns1.svc.${Z}. 30 A 10.1.0.31`] },
  // 2.5 ExternalName: CNAME; A without upstream answers the CNAME alone; in-cluster targets followed
  { q: `ext.ns1.svc.${Z}`, type: 'CNAME', rcode: 'NOERROR', answer: [`ext.ns1.svc.${Z}. 30 CNAME www.example.com.`] },
  { q: `ext.ns1.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`ext.ns1.svc.${Z}. 30 CNAME www.example.com.`] },
  { q: `ext-in.ns1.svc.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`ext-in.ns1.svc.${Z}. 30 CNAME web.ns1.svc.${Z}.`, `web.ns1.svc.${Z}. 30 A 10.96.0.20`] },
  { q: `x.ext.ns1.svc.${Z}`, type: 'A', ...NXDOMAIN },
  { q: `_http._tcp.ext.ns1.svc.${Z}`, type: 'SRV', ...NXDOMAIN },
  // names that do not exist / empty non-terminals
  { q: `nope.ns1.svc.${Z}`, type: 'A', ...NXDOMAIN },
  { q: `web.nons.svc.${Z}`, type: 'A', ...NXDOMAIN },
  { q: `ns1.svc.${Z}`, type: 'A', ...NODATA },
  { q: `empty-ns.svc.${Z}`, type: 'A', ...NODATA },
  { q: `nons.svc.${Z}`, type: 'A', ...NXDOMAIN },
  { q: `svc.${Z}`, type: 'A', ...NODATA },
  { q: `svc.${Z}`, type: 'NS', ...NODATA },
  { q: `foo.${Z}`, type: 'A', ...NXDOMAIN },
  { q: `foo.${Z}`, type: 'NS', ...NXDOMAIN },
  { q: `a.b.web.ns1.svc.${Z}`, type: 'A', ...NXDOMAIN },
  { q: `web.ns1.svc.${Z}`, type: 'TXT', ...NODATA },
  { q: `web.ns1.svc.${Z}`, type: 'SOA', ...NODATA },
  { q: `nope.ns1.svc.${Z}`, type: 'TXT', ...NXDOMAIN },
  // no wildcards: CoreDNS removed `*`/`any` labels in v1.9.0, so they are plain names that do not exist
  { q: `*.ns1.svc.${Z}`, type: 'A', ...NXDOMAIN },
  { q: `any.ns1.svc.${Z}`, type: 'A', ...NXDOMAIN },
  { q: `_http.*.web.ns1.svc.${Z}`, type: 'SRV', ...NXDOMAIN },
  // the search-path misses a pod makes for an outside name are NXDOMAIN at once
  { q: `google.com.ns1.svc.${Z}`, type: 'A', ...NXDOMAIN },
  // case-insensitive, owner echoes the query's case
  { q: `WEB.Ns1.SVC.cluster.LOCAL`, type: 'A', rcode: 'NOERROR', answer: [`WEB.Ns1.SVC.cluster.LOCAL. 30 A 10.96.0.20`] },
  // pods insecure
  { q: `10-1-0-10.ns1.pod.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`10-1-0-10.ns1.pod.${Z}. 30 A 10.1.0.10`] },
  { q: `10-1-0-10.anyns.pod.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`10-1-0-10.anyns.pod.${Z}. 30 A 10.1.0.10`] },
  { q: `10-1-0-10.ns1.pod.${Z}`, type: 'AAAA', ...NODATA },
  { q: `fd00--5.ns1.pod.${Z}`, type: 'AAAA', rcode: 'NOERROR', answer: [`fd00--5.ns1.pod.${Z}. 30 AAAA fd00::5`] },
  { q: `notanip.ns1.pod.${Z}`, type: 'A', ...NXDOMAIN },
  { q: `10-1-0-300.ns1.pod.${Z}`, type: 'A', ...NXDOMAIN },
  { q: `ns1.pod.${Z}`, type: 'A', ...NODATA },
  { q: `pod.${Z}`, type: 'A', ...NODATA },
  { q: `10-1-0-10.ns1.pod.${Z}`, type: 'A', ...NXDOMAIN, config: { pods: 'disabled' } },
  // pods verified: only real pod addresses in their own namespace
  { q: `10-244-1-5.ns1.pod.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`10-244-1-5.ns1.pod.${Z}. 30 A 10.244.1.5`], config: { pods: 'verified' } },
  { q: `fd00--1-5.ns1.pod.${Z}`, type: 'AAAA', rcode: 'NOERROR', answer: [`fd00--1-5.ns1.pod.${Z}. 30 AAAA fd00::1:5`], config: { pods: 'verified' } },
  { q: `10-244-1-5.kube-system.pod.${Z}`, type: 'A', ...NXDOMAIN, config: { pods: 'verified' } },
  { q: `10-244-1-6.ns1.pod.${Z}`, type: 'A', ...NXDOMAIN, config: { pods: 'verified' } },
  { q: `10-244-1-5.nons.pod.${Z}`, type: 'A', ...NXDOMAIN, config: { pods: 'verified' } },
  { q: `ns1.pod.${Z}`, type: 'A', ...NODATA, config: { pods: 'verified' } },
  { q: `nons.pod.${Z}`, type: 'A', ...NXDOMAIN, config: { pods: 'verified' } },
  { q: `10-244-2-7.kube-system.pod.${Z}`, type: 'A', rcode: 'NOERROR', answer: [`10-244-2-7.kube-system.pod.${Z}. 30 A 10.244.2.7`], config: { pods: 'verified' } },
  // the apex
  { q: Z, type: 'SOA', rcode: 'NOERROR', answer: [SOA] },
  { q: Z, type: 'NS', rcode: 'NOERROR', answer: [`${Z}. 30 NS kube-dns.kube-system.svc.${Z}.`], additional: [`kube-dns.kube-system.svc.${Z}. 30 A 10.96.0.10`] },
  { q: Z, type: 'A', ...NODATA },
  // before the informers synced: SERVFAIL rather than a wrong NXDOMAIN
  { q: `nope.ns1.svc.${Z}`, type: 'A', rcode: 'SERVFAIL', answer: [], authority: [], config: { ready: () => false }, aa: false },
  { q: '20.0.96.10.in-addr.arpa', type: 'PTR', rcode: 'SERVFAIL', answer: [], authority: [], config: { ready: () => false }, aa: false },
  // outside the zone with no upstream: REFUSED; transfers refused; other classes refused
  { q: 'example.com', type: 'A', rcode: 'REFUSED', answer: [], authority: [], aa: false },
  { q: '4.3.2.1.in-addr.arpa', type: 'PTR', rcode: 'REFUSED', answer: [], authority: [], aa: false },
  { q: Z, type: 'AXFR', rcode: 'REFUSED', answer: [], authority: [], aa: false },
];

for (const row of rows) {
  test(`${row.q} ${row.type}${row.config ? ' ' + JSON.stringify(Object.keys(row.config)) : ''} -> ${row.rcode}`, async () => {
    const handler = makeHandler(fixtureModel(), row.config);
    for (const edns of [undefined, 1232]) {
      const res = await ask(handler, row.q, row.type, { edns });
      assert.equal(res.rcode, row.rcode);
      if (row.answer) assert.deepEqual(section(res.answers), [...row.answer].sort());
      assert.deepEqual(section(res.authorities), [...(row.authority ?? [])].sort());
      assert.deepEqual(section(res.additionals), [...(row.additional ?? [])].sort());
      assert.equal(res.flag_aa, row.aa ?? true, 'AA flag');
      assert.equal(res.flag_rd, true, 'RD copied from the query');
      assert.equal(res.id, 4242);
      assert.equal((res.additionals ?? []).some((a) => a.type === 'OPT'), edns !== undefined, 'OPT present exactly when the query had EDNS');
    }
  });
}

test('CH class queries are refused', async () => {
  const res = await ask(makeHandler(fixtureModel()), `web.ns1.svc.${Z}`, 'A', { klass: 'CH' });
  assert.equal(res.rcode, 'REFUSED');
});

test('a second identical question is served from the precomputed answer with the new ID', async () => {
  const model = fixtureModel();
  const handler = makeHandler(model);
  const first = await ask(handler, `web.ns1.svc.${Z}`, 'A', { id: 1 });
  const second = await ask(handler, `web.ns1.svc.${Z}`, 'A', { id: 2 });
  assert.equal(second.id, 2);
  assert.deepEqual(section(second.answers), section(first.answers));
});

test('a model change invalidates precomputed answers (service recreated with a new IP, then deleted)', async () => {
  const { service } = await import('./fixture.js');
  const { slimService } = await import('../../../src/dns/objects.js');
  const model = fixtureModel();
  const handler = makeHandler(model);
  assert.deepEqual(section((await ask(handler, `web.ns1.svc.${Z}`, 'A')).answers), [`web.ns1.svc.${Z}. 30 A 10.96.0.20`]);
  model.deleteService('ns1', 'web');
  assert.equal((await ask(handler, `web.ns1.svc.${Z}`, 'A')).rcode, 'NXDOMAIN');
  assert.deepEqual(section((await ask(handler, '20.0.96.10.in-addr.arpa', 'PTR')).answers), []);
  model.setService(slimService(service('ns1', 'web', { clusterIP: '10.96.0.99', ports: [{ name: 'http', port: 80 }] }))!);
  assert.deepEqual(section((await ask(handler, `web.ns1.svc.${Z}`, 'A')).answers), [`web.ns1.svc.${Z}. 30 A 10.96.0.99`]);
  assert.deepEqual(section((await ask(handler, '99.0.96.10.in-addr.arpa', 'PTR')).answers), [`99.0.96.10.in-addr.arpa. 30 PTR web.ns1.svc.${Z}.`]);
});

test('pods verified follows pod changes', async () => {
  const { slimPod } = await import('../../../src/dns/objects.js');
  const model = fixtureModel();
  const handler = makeHandler(model, { pods: 'verified' });
  assert.equal((await ask(handler, `10-244-1-9.ns1.pod.${Z}`, 'A')).rcode, 'NXDOMAIN');
  model.setPod(slimPod({ metadata: { namespace: 'ns1', name: 'late' }, status: { podIP: '10.244.1.9' } })!);
  assert.equal((await ask(handler, `10-244-1-9.ns1.pod.${Z}`, 'A')).rcode, 'NOERROR');
  model.setPod(slimPod({ metadata: { namespace: 'ns1', name: 'late' }, status: { podIP: '10.244.1.10' } })!);
  assert.equal((await ask(handler, `10-244-1-9.ns1.pod.${Z}`, 'A')).rcode, 'NXDOMAIN', 'the old address is gone');
  model.deletePod('ns1', 'late');
  assert.equal((await ask(handler, `10-244-1-10.ns1.pod.${Z}`, 'A')).rcode, 'NXDOMAIN');
});

test('configurable TTL and cluster domain', async () => {
  const handler = makeHandler(fixtureModel(), { zone: 'corp.example', ttl: 5 });
  const res = await ask(handler, 'web.ns1.svc.corp.example', 'A');
  assert.deepEqual(section(res.answers), ['web.ns1.svc.corp.example. 5 A 10.96.0.20']);
  const neg = await ask(handler, 'nope.ns1.svc.corp.example', 'A');
  assert.deepEqual(section(neg.authorities), ['corp.example. 5 SOA ns.dns.corp.example. hostmaster.corp.example. 7200 1800 86400 5']);
  assert.equal((await ask(handler, 'web.ns1.svc.cluster.local', 'A')).rcode, 'REFUSED');
});

test('an address behind two services gets one PTR per name; removing one service leaves the other', async () => {
  const { slice, service } = await import('./fixture.js');
  const { slimEndpointSlice, slimService } = await import('../../../src/dns/objects.js');
  const model = fixtureModel();
  model.setService(slimService(service('ns1', 'alt', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }))!);
  model.setEndpointSlice(slimEndpointSlice(slice('ns1', 'alt-1', 'alt', [{ ip: '10.1.0.10', hostname: 'primary', ready: true }]))!);
  const handler = makeHandler(model);
  assert.deepEqual(section((await ask(handler, '10.0.1.10.in-addr.arpa', 'PTR')).answers), [`10.0.1.10.in-addr.arpa. 30 PTR db-0.db.ns1.svc.${Z}.`, `10.0.1.10.in-addr.arpa. 30 PTR primary.alt.ns1.svc.${Z}.`]);
  model.deleteEndpointSlice('ns1', 'db-abc');
  assert.deepEqual(section((await ask(handler, '10.0.1.10.in-addr.arpa', 'PTR')).answers), [`10.0.1.10.in-addr.arpa. 30 PTR primary.alt.ns1.svc.${Z}.`]);
  assert.equal((await ask(handler, `db.ns1.svc.${Z}`, 'A')).rcode, 'NXDOMAIN', 'headless without endpoints after its slice went');
  model.deleteService('ns1', 'alt');
  assert.equal((await ask(handler, '10.0.1.10.in-addr.arpa', 'PTR')).rcode, 'REFUSED');
});
