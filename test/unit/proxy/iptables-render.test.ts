import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceChangeTracker } from '../../../src/proxy/change-tracker.js';
import { cascadeProbability, chainName, renderIptService, type IptFragment } from '../../../src/proxy/iptables/render.js';
import { describeIptables } from '../../../src/proxy/iptables/describe.js';
import { assertGolden, eps, sampleCluster, svc } from './fixtures.js';

const cfg = { clusterCIDR: '10.244.0.0/16', sctp: false };

/** The fragments as iptables-save-like text, per table. */
function asSave(fragments: IptFragment[]): Map<'nat' | 'filter' | 'mangle', string> {
  const out = new Map<'nat' | 'filter' | 'mangle', string[]>([
    ['nat', []],
    ['filter', []],
    ['mangle', []],
  ]);
  for (const f of fragments) {
    for (const s of f.shared) out.get(s.table)!.push(`-A ${s.chain} ${s.rule}`);
    for (const [name, c] of f.chains) {
      out.get(c.table)!.push(`:${name} - [0:0]`);
      for (const r of c.rules) out.get(c.table)!.push(`-A ${name} ${r}`);
    }
  }
  return new Map([...out].map(([t, lines]) => [t, lines.join('\n') + '\n']));
}

function sampleFragments(): IptFragment[] {
  const t = new ServiceChangeTracker('node-a');
  const { services, slices } = sampleCluster();
  for (const s of services) t.serviceUpdated(s);
  for (const s of slices) t.sliceUpdated(s);
  return [...t.takeAll().entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, ports]) => renderIptService(ports, cfg));
}

test('the sample cluster renders to the golden iptables rules', () => {
  const text = [...asSave(sampleFragments())].map(([t, body]) => `*${t}\n${body}COMMIT\n`).join('');
  assertGolden('iptables-sample.rules', text);
});

test('chain names follow kube-proxy: prefix + 16 base32 characters, at most 28 long', () => {
  const n = chainName('KUBE-SVC-', 'default/web:http/TCP');
  assert.match(n, /^KUBE-SVC-[A-Z2-7]{16}$/);
  assert.ok(chainName('KUBE-SEP-', 'x'.repeat(300)).length <= 28);
});

test('the statistic cascade gives each endpoint an equal share', () => {
  const n = 4;
  let remaining = 1;
  const shares: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = i === n - 1 ? 1 : Number(cascadeProbability(i, n));
    shares.push(remaining * p);
    remaining -= remaining * p;
  }
  for (const s of shares) assert.ok(Math.abs(s - 0.25) < 1e-9);
});

test('affinity uses -m recent per endpoint', () => {
  const t = new ServiceChangeTracker('node-a');
  t.serviceUpdated(svc('s', { clusterIP: '10.96.0.30', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ name: 'p', port: 80 }] }));
  t.sliceUpdated(eps('s', [{ name: 'p', port: 80 }], [{ ip: '10.244.1.2' }]));
  const f = renderIptService(t.servicePorts('default/s'), cfg);
  const all = [...f.chains.values()].flatMap((c) => c.rules).join('\n');
  assert.match(all, /-m recent --name KUBE-SEP-\w+ --rcheck --seconds 60 --reap/);
  assert.match(all, /-m recent --name KUBE-SEP-\w+ --set/);
});

test('describe reads the rules back per Service', () => {
  const text = describeIptables(asSave(sampleFragments()));
  assert.match(text, /default\/web:http\n {2}10\.96\.0\.10:80\/tcp\s+-> 10\.244\.1\.2:8080 \(50%\), 10\.244\.2\.2:8080 \(50%\)/);
  assert.match(text, /default\/empty:http\n {2}10\.96\.0\.14:80\/tcp\s+-> reject \(no endpoints\)/);
  assert.match(text, /default\/lb:http\n(.*\n)*? {2}172\.18\.255\.1:80\/tcp\s+-> 10\.244\.1\.7:8080 \(100%\) \[externalTrafficPolicy Local\] \[loadBalancerSourceRanges\]/);
  assert.match(text, /default\/sticky:http\n {2}10\.96\.0\.11:80\/tcp\s+-> .*\[sessionAffinity ClientIP\]/);
});
