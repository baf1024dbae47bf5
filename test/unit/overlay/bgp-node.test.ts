// The pure parts of the BGP overlay: which BGPPeers a node uses, which learned routes reach the
// kernel, the Node annotation and `flatnet bgp status`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../src/api/types.js';
import { bgpPeerProblem, peersForNode, resolvePasswords, samePeer } from '../../../src/overlay/bgp/peers.js';
import { BGP_PASSWORD_NAMESPACE, secretIsBgpPasswordOf } from '../../../src/overlay/bgp/password.js';
import { desiredRoutes, diffRoutes } from '../../../src/overlay/bgp/kernel-routes.js';
import { nodeAsn } from '../../../src/overlay/bgp/index.js';
import { parseSessionsAnnotation, publishedSessions } from '../../../src/overlay/bgp/session-annotation.js';
import { nodeSessions, statusText } from '../../../src/overlay/bgp/status-report.js';
import type { LearnedRoute } from '../../../src/overlay/bgp/rib.js';

const peer = (name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'flatnet.dev/v1', kind: 'BGPPeer', metadata: { name }, spec });

test('peersForNode: selector, defaults, duplicates and invalid peers named by field', () => {
  const objects = [
    peer('tor-b', { peerAddress: '172.18.0.254', peerASN: 65000, nodeSelector: { matchLabels: { rack: 'b' } } }),
    peer('rr', { peerAddress: '172.18.0.1', peerASN: 64512 }),
    peer('rr-again', { peerAddress: '172.18.0.1', peerASN: 64513 }),
    peer('broken', { peerAddress: '172.18.0.300', peerASN: 1 }),
    peer('asn', { peerAddress: '172.18.0.9', peerASN: 0 }),
    peer('port', { peerAddress: '172.18.0.9', peerASN: 7, port: 70000 }),
    peer('expr', { peerAddress: '172.18.0.7', peerASN: 4200000000, port: 1179, nodeSelector: { matchExpressions: [{ key: 'rack', operator: 'In', values: ['a'] }] } }),
  ];
  const a = peersForNode(objects, { rack: 'a' });
  assert.deepEqual(a.peers, [
    { name: 'rr', address: '172.18.0.1', asn: 64512 },
    { name: 'expr', address: '172.18.0.7', asn: 4200000000, port: 1179 },
  ]);
  assert.deepEqual(
    a.invalid.map((i) => `${i.name}: ${i.message.split(':')[0]}`),
    ['asn: spec.peerASN', 'broken: spec.peerAddress', 'port: spec.port', 'rr-again: spec.peerAddress'],
  );
  assert.deepEqual(peersForNode(objects, { rack: 'b' }).peers.map((p) => p.address), ['172.18.0.1', '172.18.0.254']);
  assert.match(bgpPeerProblem(undefined)!, /^spec: Required/);
  assert.match(bgpPeerProblem({ peerASN: 1 })!, /^spec\.peerAddress: Required/);
});

const learned = (prefix: string, nextHop: string): LearnedRoute => ({ prefix, peer: '172.18.0.1', stale: false, attributes: { origin: 0, asPath: [], nextHop } });

test('desiredRoutes: never our own pod CIDR (or an overlap), never via our own address', () => {
  const best = [learned('10.244.2.0/24', '172.18.0.12'), learned('10.244.1.0/24', '172.18.0.11'), learned('10.244.0.0/16', '172.18.0.13'), learned('10.250.0.0/24', '172.18.0.11'), learned('10.244.3.0/24', '172.18.0.13')];
  assert.deepEqual(desiredRoutes(best, { prefixes: ['10.244.1.0/24'], addresses: ['172.18.0.11'] }), [
    { dst: '10.244.2.0/24', via: '172.18.0.12' },
    { dst: '10.244.3.0/24', via: '172.18.0.13' },
  ]);
});

test('diffRoutes: adds new and moved routes, deletes gone ones, keeps the rest', () => {
  const current = [{ dst: '10.1.0.0/24', via: '1.1.1.1' }, { dst: '10.2.0.0/24', via: '1.1.1.2' }, { dst: '10.3.0.0/24', via: '1.1.1.3' }];
  const desired = [{ dst: '10.1.0.0/24', via: '1.1.1.1' }, { dst: '10.2.0.0/24', via: '1.1.1.9' }, { dst: '10.4.0.0/24', via: '1.1.1.4' }];
  assert.deepEqual(diffRoutes(current, desired), {
    add: [{ dst: '10.2.0.0/24', via: '1.1.1.9' }, { dst: '10.4.0.0/24', via: '1.1.1.4' }],
    del: [{ dst: '10.3.0.0/24', via: '1.1.1.3' }],
  });
  assert.deepEqual(diffRoutes(desired, desired), { add: [], del: [] });
});

test('nodeAsn: default, annotation, bad annotation named', () => {
  const node = (asn?: string): KubeObject => ({ metadata: { name: 'n', annotations: asn === undefined ? {} : { 'flatnet.dev/bgp-asn': asn } } });
  assert.deepEqual(nodeAsn(node()), { asn: 64512 });
  assert.deepEqual(nodeAsn(node('4200000001')), { asn: 4200000001 });
  for (const bad of ['0', '-1', 'x', '4294967296', '1.5']) {
    const r = nodeAsn(node(bad));
    assert.equal(r.asn, 64512);
    assert.match(r.error!, /metadata\.annotations\[flatnet\.dev\/bgp-asn\]: Invalid value/);
  }
});

test('published sessions keep their establishment time; status renders each node', () => {
  const now = Date.parse('2026-12-06T12:00:00Z');
  const first = publishedSessions([{ address: '172.18.0.1', asn: 64512, state: 'Established', establishedSec: 90, prefixesReceived: 2, prefixesSent: 1 }], now);
  assert.deepEqual(first, [{ peer: '172.18.0.1', asn: 64512, state: 'Established', since: '2026-12-06T11:58:30Z', received: 2, sent: 1 }]);
  const later = publishedSessions([{ address: '172.18.0.1', asn: 64512, state: 'Established', establishedSec: 150, prefixesReceived: 3, prefixesSent: 1 }], now + 61_000, first);
  assert.equal(later[0].since, '2026-12-06T11:58:30Z', 'unchanged, so the annotation is not rewritten for uptime alone');
  const down = publishedSessions([{ address: '172.18.0.1', asn: 64512, state: 'Connect', prefixesReceived: 0, prefixesSent: 0, lastError: 'connect: ECONNREFUSED' }], now, first);
  assert.deepEqual(down, [{ peer: '172.18.0.1', asn: 64512, state: 'Connect', received: 0, sent: 0, lastError: 'connect: ECONNREFUSED' }]);
  assert.deepEqual(parseSessionsAnnotation('{"x":1}').sessions, []);
  assert.match(parseSessionsAnnotation('{"x":1}').error!, /not a JSON array/);
  assert.match(parseSessionsAnnotation('[').error!, /flatnet\.dev\/bgp-sessions/);

  const rows = nodeSessions([
    { metadata: { name: 'n2', annotations: { 'flatnet.dev/bgp-sessions': JSON.stringify(down) } } },
    { metadata: { name: 'n1', annotations: { 'flatnet.dev/bgp-sessions': JSON.stringify(first) } } },
    { metadata: { name: 'n3' } },
  ]);
  assert.equal(
    statusText(rows, now),
    [
      'NODE  PEER        ASN    STATE        UPTIME  RECEIVED  SENT  LAST ERROR',
      'n1    172.18.0.1  64512  Established  90s     2         1',
      'n2    172.18.0.1  64512  Connect      -       0         0     connect: ECONNREFUSED',
      'n3    -           -      no peers     -       -         -',
      '',
    ].join('\n'),
  );
});

test('lbAnnouncements: Cluster from every node once ready, Local only where a ready endpoint is', async () => {
  const { lbAnnouncements } = await import('../../../src/overlay/bgp/lb-announcements.js');
  const svc = (name: string, policy: string, ips: string[], type = 'LoadBalancer'): KubeObject => ({
    metadata: { name, namespace: 'web' },
    spec: { type, externalTrafficPolicy: policy },
    status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
  });
  const slice = (service: string, endpoints: { node: string; ready?: boolean }[], addressType = 'IPv4'): KubeObject => ({
    metadata: { name: `${service}-x`, namespace: 'web', labels: { 'kubernetes.io/service-name': service } },
    addressType,
    endpoints: endpoints.map((e) => ({ addresses: ['10.0.0.1'], nodeName: e.node, conditions: e.ready === undefined ? {} : { ready: e.ready } })),
  } as KubeObject);
  const services = [
    svc('cluster', 'Cluster', ['172.18.255.1']),
    svc('local', 'Local', ['172.18.255.2', 'fd00::2']),
    svc('idle', 'Cluster', ['172.18.255.3']),
    svc('pending', 'Cluster', []),
    svc('nodeport', 'Cluster', ['172.18.255.9'], 'NodePort'),
    svc('unready', 'Local', ['172.18.255.4']),
  ];
  const slices = [
    slice('cluster', [{ node: 'node-2' }]),
    slice('local', [{ node: 'node-2', ready: true }, { node: 'node-3', ready: false }]),
    slice('pending', [{ node: 'node-1' }]),
    slice('nodeport', [{ node: 'node-1' }]),
    slice('unready', [{ node: 'node-1', ready: false }]),
    slice('idle', [{ node: 'node-1' }], 'IPv6'),
  ];
  assert.deepEqual(lbAnnouncements(services, slices, 'node-1'), ['172.18.255.1/32']);
  assert.deepEqual(lbAnnouncements(services, slices, 'node-2'), ['172.18.255.1/32', '172.18.255.2/32']);
  assert.deepEqual(lbAnnouncements(services, slices, 'node-3'), ['172.18.255.1/32']);
});

test('BGPPeer spec.password: a Secret key reference, read into the session; an inline password refused; part of the peer identity', () => {
  const ref = { secretKeyRef: { name: 'bgp-secrets', key: 'rr' } };
  const wanted = peersForNode([peer('rr', { peerAddress: '172.18.0.1', peerASN: 64512, password: ref }), peer('open', { peerAddress: '172.18.0.2', peerASN: 64512 })], {});
  assert.deepEqual(wanted.peers, [
    { name: 'rr', address: '172.18.0.1', asn: 64512, passwordRef: { name: 'bgp-secrets', key: 'rr' } },
    { name: 'open', address: '172.18.0.2', asn: 64512 },
  ]);
  const secret = (data: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bgp-secrets', namespace: BGP_PASSWORD_NAMESPACE }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) });
  const secrets = new Map([['bgp-secrets', secret({ rr: 's3cret-Ø' })]]);
  assert.deepEqual(resolvePasswords(wanted.peers, (n) => secrets.get(n)), {
    peers: [
      { address: '172.18.0.1', asn: 64512, password: 's3cret-Ø' },
      { address: '172.18.0.2', asn: 64512 },
    ],
    invalid: [],
  });
  // A missing Secret, a missing key or a bad length: no session for that peer, a message without the value.
  const cases: [Map<string, KubeObject>, RegExp][] = [
    [new Map(), /Secret kube-system\/bgp-secrets not found/],
    [new Map([['bgp-secrets', secret({ other: 'x' })]]), /has no key "rr"/],
    [new Map([['bgp-secrets', secret({ rr: 'é'.repeat(41) })]]), /key "rr" is too long: 82 bytes/],
    [new Map([['bgp-secrets', secret({ rr: '' })]]), /key "rr" is empty/],
  ];
  for (const [map, message] of cases) {
    const r = resolvePasswords(wanted.peers, (n) => map.get(n));
    assert.deepEqual(r.peers, [{ address: '172.18.0.2', asn: 64512 }]);
    assert.equal(r.invalid.length, 1);
    assert.equal(r.invalid[0].name, 'rr');
    assert.match(r.invalid[0].message, message);
    assert.doesNotMatch(r.invalid[0].message, /é/);
  }
  assert.match(bgpPeerProblem({ peerAddress: '172.18.0.1', peerASN: 1, password: 's3cret' })!, /^spec\.password: Invalid value: an inline password is not accepted/);
  assert.doesNotMatch(bgpPeerProblem({ peerAddress: '172.18.0.1', peerASN: 1, password: 's3cret' })!, /s3cret/);
  assert.match(bgpPeerProblem({ peerAddress: '172.18.0.1', peerASN: 1, password: 7 })!, /^spec\.password: Invalid value/);
  assert.match(bgpPeerProblem({ peerAddress: '172.18.0.1', peerASN: 1, password: {} })!, /^spec\.password\.secretKeyRef: Required value/);
  assert.match(bgpPeerProblem({ peerAddress: '172.18.0.1', peerASN: 1, password: { secretKeyRef: { name: 'Bad_Name', key: 'k' } } })!, /^spec\.password\.secretKeyRef\.name: Invalid value/);
  assert.match(bgpPeerProblem({ peerAddress: '172.18.0.1', peerASN: 1, password: { secretKeyRef: { name: 'ok' } } })!, /^spec\.password\.secretKeyRef\.key: Invalid value/);
  assert.equal(bgpPeerProblem({ peerAddress: '172.18.0.1', peerASN: 1, password: ref }), undefined);
  // A changed password re-opens the session (the key is set before connect).
  assert.equal(samePeer({ address: '172.18.0.1', asn: 1, password: 'a' }, { address: '172.18.0.1', asn: 1, password: 'b' }), false);
  assert.equal(samePeer({ address: '172.18.0.1', asn: 1, password: 'a' }, { address: '172.18.0.1', asn: 1, password: 'a' }), true);
});

test('the Node authorizer rule: a node may read the Secrets that BGPPeers selecting it name, in kube-system only', () => {
  const objects = [
    peer('rack-a', { peerAddress: '172.18.0.1', peerASN: 1, password: { secretKeyRef: { name: 'rack-a-key', key: 'k' } }, nodeSelector: { matchLabels: { rack: 'a' } } }),
    peer('all', { peerAddress: '172.18.0.2', peerASN: 1, password: { secretKeyRef: { name: 'shared-key', key: 'k' } } }),
    peer('inline', { peerAddress: '172.18.0.3', peerASN: 1, password: 'inline-key' }),
  ];
  assert.equal(secretIsBgpPasswordOf(objects, { rack: 'a' }, 'kube-system', 'rack-a-key'), true);
  assert.equal(secretIsBgpPasswordOf(objects, { rack: 'b' }, 'kube-system', 'rack-a-key'), false);
  assert.equal(secretIsBgpPasswordOf(objects, undefined, 'kube-system', 'shared-key'), true);
  assert.equal(secretIsBgpPasswordOf(objects, { rack: 'a' }, 'default', 'rack-a-key'), false);
  assert.equal(secretIsBgpPasswordOf(objects, { rack: 'a' }, 'kube-system', 'other'), false);
  assert.equal(secretIsBgpPasswordOf(objects, { rack: 'a' }, 'kube-system', 'inline-key'), false);
});
