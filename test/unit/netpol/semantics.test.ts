// Semantics from the checklist that the upstream cases do not pin down, checked on the
// evaluator and the compiler together, and the explain/matrix text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileNode, compiledAllows } from '../../../src/netpol/compile.js';
import { disjointBoxes } from '../../../src/netpol/boxes.js';
import { evaluateFlow } from '../../../src/netpol/evaluate.js';
import { endpointFor } from '../../../src/netpol/match.js';
import { PolicyModelError, slimPolicy, type Protocol } from '../../../src/netpol/model.js';
import { explainText, matrixText } from '../../../src/netpol/report.js';
import type { KubeObject } from '../../../src/api/types.js';
import { modelOf } from './fixtures/build.js';
import { NAMESPACES, namespaceObject, NODE_NAME, podIp, podObject, policy } from './fixtures/topology.js';

function world(policies: KubeObject[], pods = ['x/a', 'x/b', 'y/a']) {
  const model = modelOf({ pods: pods.map((r) => podObject(r)), namespaces: NAMESPACES.map((n) => namespaceObject(n)), policies });
  const compiled = new Map(compileNode(model, NODE_NAME).map((p) => [p.ip, p]));
  /** The verdict, after checking that evaluator and compiled state agree on it. */
  const allowed = (src: string, dst: string, protocol: Protocol, port: number) => {
    const s = src.includes('/') ? podIp(src) : src;
    const d = dst.includes('/') ? podIp(dst) : dst;
    const evaluated = evaluateFlow(model, { src: endpointFor(model, s), dst: endpointFor(model, d), protocol, port }).allowed;
    assert.equal(compiledAllows(compiled, s, d, protocol, port), evaluated, `${src} -> ${dst} ${protocol}/${port}: compiled and evaluated differ`);
    return evaluated;
  };
  return { model, allowed };
}

test('policyTypes default: Ingress always, Egress only with an egress section', () => {
  assert.deepEqual(slimPolicy(policy('x', 'p', { podSelector: {} })).policyTypes, ['Ingress']);
  assert.deepEqual(slimPolicy(policy('x', 'p', { podSelector: {}, egress: [] })).policyTypes, ['Ingress', 'Egress']);
  assert.deepEqual(slimPolicy(policy('x', 'p', { podSelector: {}, policyTypes: ['Egress'] })).policyTypes, ['Egress']);
  // An egress-only section without policyTypes still isolates ingress.
  const { allowed } = world([policy('x', 'p', { podSelector: { matchLabels: { pod: 'a' } }, egress: [{}] })]);
  assert.equal(allowed('x/b', 'x/a', 'TCP', 80), false);
  assert.equal(allowed('x/a', 'y/a', 'TCP', 80), true);
});

test('endPort opens an inclusive range', () => {
  const { allowed } = world([policy('x', 'p', { podSelector: {}, ingress: [{ ports: [{ port: 8000, endPort: 8010 }] }] })]);
  assert.equal(allowed('y/a', 'x/a', 'TCP', 7999), false);
  assert.equal(allowed('y/a', 'x/a', 'TCP', 8000), true);
  assert.equal(allowed('y/a', 'x/a', 'TCP', 8010), true);
  assert.equal(allowed('y/a', 'x/a', 'TCP', 8011), false);
  assert.equal(allowed('y/a', 'x/a', 'UDP', 8005), false, 'protocol defaults to TCP');
});

test('endPort without a numeric port or below port is refused with the field named', () => {
  assert.throws(() => slimPolicy(policy('x', 'p', { podSelector: {}, ingress: [{ ports: [{ port: 'http', endPort: 90 }] }] })), (e: unknown) => e instanceof PolicyModelError && /ingress\[0\]\.ports\[0\]\.endPort/.test(e.message));
  assert.throws(() => slimPolicy(policy('x', 'p', { podSelector: {}, ingress: [{ ports: [{ port: 90, endPort: 80 }] }] })), /below port 90/);
});

test('an egress named port without `to` reaches pods that declare it, and no outside address', () => {
  const { allowed } = world([policy('x', 'p', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'serve-81-udp', protocol: 'UDP' }] }] })]);
  assert.equal(allowed('x/a', 'y/a', 'UDP', 81), true);
  assert.equal(allowed('x/a', 'y/a', 'UDP', 80), false);
  assert.equal(allowed('x/a', 'y/a', 'TCP', 81), false, 'the name resolves with its protocol');
  assert.equal(allowed('x/a', '192.0.2.10', 'UDP', 81), false, 'an address that is no pod has no named ports');
});

test('an ingress named port resolves on the destination, not the source', () => {

  const objects = {
    pods: [podObject('x/a'), { ...podObject('x/b'), spec: { nodeName: NODE_NAME, containers: [{ name: 'c', ports: [{ name: 'web', containerPort: 9090 }] }] } }],
    namespaces: NAMESPACES.map((n) => namespaceObject(n)),
    policies: [policy('x', 'p', { podSelector: {}, ingress: [{ ports: [{ port: 'web' }] }] })],
  };
  const model = modelOf(objects);
  const verdict = (src: string, dst: string, port: number) => evaluateFlow(model, { src: endpointFor(model, podIp(src)), dst: endpointFor(model, podIp(dst)), protocol: 'TCP', port }).allowed;
  assert.equal(verdict('x/a', 'x/b', 9090), true, 'x/b declares web=9090');
  assert.equal(verdict('x/b', 'x/a', 9090), false, 'x/a does not declare web');
});

test('ipBlock except carves out addresses; outside sources are matched by address only', () => {
  const { allowed } = world([
    policy('x', 'p', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '192.0.2.0/24', except: ['192.0.2.128/25'] } }] }] }),
  ]);
  assert.equal(allowed('192.0.2.10', 'x/a', 'TCP', 80), true);
  assert.equal(allowed('192.0.2.200', 'x/a', 'TCP', 80), false);
  assert.equal(allowed('y/a', 'x/a', 'TCP', 80), false);
});

test('a rule without ports allows every protocol; one without peers allows every peer', () => {
  const { allowed } = world([policy('x', 'p', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }] }, { ports: [{ port: 53, protocol: 'UDP' }] }] })]);
  assert.equal(allowed('y/a', 'x/a', 'SCTP', 5000), true);
  assert.equal(allowed('192.0.2.1', 'x/a', 'UDP', 53), true);
  assert.equal(allowed('192.0.2.1', 'x/a', 'TCP', 53), false);
});

test('hostNetwork and finished pods are not selected and not isolated', () => {
  const hostPod = { ...podObject('y/b'), spec: { nodeName: NODE_NAME, hostNetwork: true, containers: [] } };
  const donePod = { ...podObject('y/c'), status: { phase: 'Succeeded', podIP: podIp('y/c') } };
  const model = modelOf({ pods: [podObject('x/a'), hostPod, donePod], namespaces: NAMESPACES.map((n) => namespaceObject(n)), policies: [policy('y', 'deny', { podSelector: {} })] });
  assert.equal(model.podByIp(podIp('y/b')), undefined);
  assert.equal(model.podByIp(podIp('y/c')), undefined);
  assert.deepEqual(compileNode(model, NODE_NAME).map((p) => p.pod), ['x/a']);
});

test('disjoint boxes: overlapping rules become non-overlapping boxes with the same union', () => {
  const boxes = disjointBoxes([
    { addresses: { lo: 0, hi: 100 }, protocol: 'TCP', ports: { lo: 80, hi: 90 } },
    { addresses: { lo: 50, hi: 150 }, protocol: 'TCP', ports: { lo: 85, hi: 100 } },
    { addresses: { lo: 50, hi: 60 }, protocol: 'UDP', ports: { lo: 53, hi: 53 } },
  ]);
  assert.deepEqual(
    boxes.map((b) => `${b.protocol} ${b.addresses.lo}-${b.addresses.hi} ${b.ports.lo}-${b.ports.hi}`),
    ['TCP 0-49 80-90', 'TCP 50-100 80-100', 'TCP 101-150 85-100', 'UDP 50-60 53-53'],
  );
});

test('explain names the isolating policies and the allowing rule', () => {
  const { model } = world([
    policy('x', 'deny', { podSelector: {}, policyTypes: ['Ingress'] }),
    policy('x', 'allow-b', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }], ports: [{ port: 80 }] }] }),
  ]);
  const flow = (src: string) => ({ src: endpointFor(model, podIp(src)), dst: endpointFor(model, podIp('x/a')), protocol: 'TCP' as const, port: 80 });
  const ok = explainText(flow('x/b'), evaluateFlow(model, flow('x/b')));
  assert.match(ok, /ingress of x\/a: isolated by x\/allow-b, x\/deny -> allowed/);
  assert.match(ok, /allowed by x\/allow-b ingress\[0\] from\[0\], ports\[0\]/);
  assert.match(ok, /verdict: ALLOWED/);
  const denied = explainText(flow('y/a'), evaluateFlow(model, flow('y/a')));
  assert.match(denied, /egress of y\/a: not isolated -> allowed/);
  assert.match(denied, /no ingress rule of them allows 10\.244\.1\.14 on TCP\/80/);
  assert.match(denied, /verdict: DENIED/);
});

test('matrix marks allowed and denied cells per declared port', () => {
  const { model } = world([policy('x', 'deny', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ ports: [{ port: 81 }] }] })]);
  const text = matrixText(model, model.pods);
  const tcp80 = text.split('\n\n').find((s) => s.startsWith('TCP/80'))!;
  const rows = tcp80.split('\n').slice(2);
  assert.equal(rows[1], 'x/b   X  -  .', 'x/b cannot reach x/a on 80, reaches y/a');
  const tcp81 = text.split('\n\n').find((s) => s.startsWith('TCP/81'))!;
  assert.equal(tcp81.split('\n').slice(2)[1], 'x/b   .  -  .');
});
