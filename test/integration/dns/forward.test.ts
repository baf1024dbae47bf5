// Names outside the cluster domain go to an upstream resolver, here a real bind9 `named` on
// loopback: answers relayed with RA, cached with decreasing TTLs, NXDOMAIN cached per the SOA,
// TC from the upstream retried over TCP, ExternalName targets chased, a dead upstream SERVFAIL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureModel } from '../../unit/dns/fixture.js';
import { Forwarder, parseUpstream } from '../../../src/dns/forward.js';
import { dig, digShort, flags, serveModel, startNamed, status, bindLoopback } from './support.js';

const bigTxt = Array.from({ length: 12 }, (_, i) => `big IN TXT "${String(i).padStart(2, '0')}-${'x'.repeat(90)}"`).join('\n');
const zone = `$TTL 60
@ IN SOA ns.example.com. hostmaster.example.com. 1 7200 1800 86400 10
@ IN NS ns
ns IN A 192.0.2.1
www IN A 192.0.2.53
www IN AAAA 2001:db8::53
alias IN CNAME www
${bigTxt}
`;

test('forwarding to a bind9 upstream, with cache, TCP fallback and ExternalName chasing', async (t) => {
  const named = await startNamed({ 'example.com': zone });
  t.after(() => named.stop());
  const forwarder = new Forwarder({ upstreams: [parseUpstream(`127.0.0.1:${named.port}`)] });
  t.after(() => forwarder.close());
  const server = await serveModel(fixtureModel(), { forwarder });
  t.after(() => server.close());
  const p = server.port;

  const first = await dig(p, 'www.example.com', 'A');
  assert.equal(status(first), 'NOERROR');
  assert.ok(flags(first).includes('ra'), 'RA set when upstreams are configured');
  assert.ok(!flags(first).includes('aa'), 'forwarded answers are not authoritative');
  assert.match(first, /www\.example\.com\.\s+60\s+IN\s+A\s+192\.0\.2\.53/);
  assert.deepEqual(await digShort(p, 'www.example.com', 'AAAA'), ['2001:db8::53']);
  assert.deepEqual(await digShort(p, 'alias.example.com', 'A'), ['192.0.2.53', 'www.example.com.']);

  // served from the cache: the TTL counts down
  const hitsBefore = (await server.metrics.forwardCacheHits.get()).values[0]?.value ?? 0;
  await new Promise((r) => setTimeout(r, 1100));
  const second = await dig(p, 'WWW.example.com', 'A');
  const ttl = Number(/www\.example\.com\.\s+(\d+)\s+IN\s+A/i.exec(second)?.[1]);
  assert.ok(ttl < 60 && ttl >= 55, `cached TTL ${ttl} is below 60`);
  assert.match(second, /WWW\.example\.com\./, 'the owner echoes the client spelling');
  const hitsAfter = (await server.metrics.forwardCacheHits.get()).values[0]?.value ?? 0;
  assert.equal(hitsAfter, hitsBefore + 1);

  // negative answers: NXDOMAIN with the upstream SOA, TTL at most the SOA minimum
  const nx = await dig(p, 'nope.example.com', 'A');
  assert.equal(status(nx), 'NXDOMAIN');
  assert.match(nx, /example\.com\.\s+10\s+IN\s+SOA/);

  // the upstream truncates this over UDP; we fetch it over TCP and hand it whole over TCP/EDNS
  const big = await digShort(p, '+tcp', 'big.example.com', 'TXT');
  assert.equal(big.length, 12);
  const bigUdp = await dig(p, '+ignore', '+noedns', 'big.example.com', 'TXT');
  assert.ok(flags(bigUdp).includes('tc'), 'a UDP client without EDNS gets TC');
  const bigEdns = await digShort(p, '+bufsize=4096', 'big.example.com', 'TXT');
  assert.equal(bigEdns.length, 12);

  // ExternalName -> CNAME plus the upstream's answer for the target
  const ext = await dig(p, 'ext.ns1.svc.cluster.local', 'A');
  assert.equal(status(ext), 'NOERROR');
  assert.match(ext, /ext\.ns1\.svc\.cluster\.local\.\s+30\s+IN\s+CNAME\s+www\.example\.com\./);
  assert.match(ext, /www\.example\.com\.\s+\d+\s+IN\s+A\s+192\.0\.2\.53/);

  // reverse names of addresses no Service has are forwarded too (named refuses: not its zone)
  const ptr = await dig(p, '-x', '192.0.2.99');
  assert.ok(['REFUSED', 'NXDOMAIN', 'SERVFAIL'].includes(status(ptr) ?? ''), `PTR outside the cluster reaches the upstream: ${status(ptr)}`);

  // cluster names never leave the server
  assert.deepEqual(await digShort(p, 'web.ns1.svc.cluster.local', 'A'), ['10.96.0.20']);
});

test('an upstream that does not answer gives SERVFAIL', async (t) => {
  const silent = await bindLoopback(); // bound but never reads: queries time out
  t.after(() => {
    silent.udp.close();
    silent.tcp.close();
  });
  const forwarder = new Forwarder({ upstreams: [parseUpstream(`127.0.0.1:${silent.port}`)], timeoutMs: 300 });
  t.after(() => forwarder.close());
  const server = await serveModel(fixtureModel(), { forwarder });
  t.after(() => server.close());
  const out = await dig(server.port, 'www.example.com', 'A');
  assert.equal(status(out), 'SERVFAIL');
  assert.deepEqual(await digShort(server.port, 'web.ns1.svc.cluster.local', 'A'), ['10.96.0.20']);
});
