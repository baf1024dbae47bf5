// The models' prediction for a trace (proxy, overlay and policy models over slim API objects) and
// its comparison with what a kernel trace shows: agreement gives no bug; each kind of
// disagreement (drop the model does not expect, DNAT outside the endpoints, a route other than
// the overlay's, a flow through that the model drops, a drop by a rule that is not the policy's)
// gives a BUG finding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../src/api/types.js';
import { PolicyModel, slimNamespace, slimPod, slimPolicy } from '../../../src/netpol/model.js';
import { overlayNodeFromObject } from '../../../src/overlay/model.js';
import { slimEndpointSlice, slimService, type SlimEndpointSlice } from '../../../src/proxy/model.js';
import { analyseKernel, comparePrediction, type NodeTrace, type Observation, type ProbeResult } from '../../../src/trace/compare.js';
import { predictTrace, type ClusterView, type TraceSource } from '../../../src/trace/predict.js';
import { parseMonitorOutput, traceEvents } from '../../../src/trace/trace-lines.js';
import { searchCandidates, resolutionOutcome, continuesAfter } from '../../../src/trace/dns-search.js';

const obj = (o: Record<string, unknown>) => o as unknown as KubeObject;
const node = (name: string, i: number) =>
  obj({ metadata: { name, annotations: { 'flatnet.dev/vtep-mac': `0a:00:00:00:00:0${i}` } }, spec: { podCIDR: `10.244.${i}.0/24` }, status: { addresses: [{ type: 'InternalIP', address: `172.18.0.${10 + i}` }] } });
const pod = (ns: string, name: string, app: string, ip: string, nodeName: string, port?: number) =>
  obj({
    metadata: { namespace: ns, name, uid: `uid-${name}`, labels: { app } },
    spec: { nodeName, containers: [{ name: 'c', ports: port ? [{ containerPort: port }] : [] }] },
    status: { phase: 'Running', podIP: ip },
  });

function view(): ClusterView {
  const pods = [
    pod('production', 'frontend', 'frontend', '10.244.1.5', 'node-1'),
    pod('production', 'monitoring', 'monitoring', '10.244.1.6', 'node-1'),
    pod('production', 'backend', 'backend', '10.244.2.7', 'node-2', 8080),
    pod('default', 'web', 'web', '10.244.1.9', 'node-1', 80),
  ];
  const policies = [
    obj({ metadata: { namespace: 'production', name: 'deny-all-ingress' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } }),
    obj({
      metadata: { namespace: 'production', name: 'allow-frontend-to-backend' },
      spec: { podSelector: { matchLabels: { app: 'backend' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { app: 'frontend' } } }], ports: [{ protocol: 'TCP', port: 8080 }] }] },
    }),
  ];
  const services = [
    obj({ metadata: { namespace: 'production', name: 'backend' }, spec: { clusterIP: '10.96.0.50', ports: [{ port: 8080, protocol: 'TCP' }] } }),
    obj({ metadata: { namespace: 'default', name: 'web' }, spec: { type: 'NodePort', clusterIP: '10.96.0.60', ports: [{ port: 80, protocol: 'TCP', nodePort: 30080 }] } }),
  ];
  const slice = (ns: string, svc: string, ip: string, port: number, nodeName: string) =>
    obj({ metadata: { namespace: ns, name: `${svc}-x`, labels: { 'kubernetes.io/service-name': svc } }, addressType: 'IPv4', ports: [{ name: '', protocol: 'TCP', port }], endpoints: [{ addresses: [ip], conditions: { ready: true }, nodeName }] });
  return {
    policy: new PolicyModel({
      pods: pods.map(slimPod),
      namespaces: ['production', 'default'].map((n) => slimNamespace(obj({ metadata: { name: n, labels: { 'kubernetes.io/metadata.name': n } } }))),
      policies: policies.map(slimPolicy),
    }),
    services: services.map(slimService),
    slices: [slice('production', 'backend', '10.244.2.7', 8080, 'node-2'), slice('default', 'web', '10.244.1.9', 80, 'node-1')].map(slimEndpointSlice).filter((s): s is SlimEndpointSlice => !!s),
    nodes: [node('node-1', 1), node('node-2', 2)].map(overlayNodeFromObject),
    overlay: 'vxlan',
  };
}

function podSource(v: ClusterView, ns: string, name: string): TraceSource {
  const p = v.policy.findPod(ns, name)!;
  return { kind: 'pod', pod: p as typeof p & { ip: string }, node: p.nodeName! };
}

const PORT = 61234;
const trace = (lines: string[]) => traceEvents(parseMonitorOutput(lines.join('\n')));

/** What node-1 and node-2 print for frontend -> 10.96.0.50:8080 DNAT'ed to `endpoint`, then `node2Rule` on node-2. */
function observation(endpoint: string, result: ProbeResult, node2Rule: string, route = { dev: 'flatnet.1', gateway: '10.244.2.0' }): Observation {
  const pkt = (daddr: string, dport: number) => `ip saddr 10.244.1.5 ip daddr ${daddr} ip dscp 0x2d ip protocol tcp tcp sport ${PORT} tcp dport ${dport} tcp flags == syn`;
  const nodes: NodeTrace[] = [
    {
      node: 'node-1',
      route: { to: endpoint, ...route },
      events: trace([
        `trace id aa000001 inet flatnet-trace-${PORT} pre packet: iif "cni0" ${pkt('10.96.0.50', 8080)}`,
        `trace id aa000001 inet flatnet-trace-${PORT} pre unknown rule handle 3 (verdict continue)`,
        `trace id aa000001 ip flatnet-proxy nat-prerouting packet: iif "cni0" ${pkt('10.96.0.50', 8080)}`,
        'trace id aa000001 ip flatnet-proxy nat-prerouting rule jump services # handle 40 (verdict jump services)',
        'trace id aa000001 ip flatnet-proxy services rule ip daddr . meta l4proto . th dport vmap @service-ips # handle 47 (verdict goto pick-1)',
        'trace id aa000001 ip flatnet-proxy pick-1 rule meta l4proto { tcp, udp, sctp } dnat ip to ip daddr . meta l4proto . th dport . numgen random mod 1 map @endpoints # handle 50 (verdict accept)',
        `trace id aa000001 inet flatnet-policy forward packet: iif "cni0" oif "flatnet.1" ${pkt(endpoint, 8080)}`,
        'trace id aa000001 inet flatnet-policy forward policy accept',
      ]),
    },
    {
      node: 'node-2',
      events: trace([`trace id bb000001 inet flatnet-trace-${PORT} pre packet: iif "flatnet.1" ${pkt(endpoint, 8080)}`, `trace id bb000001 ${node2Rule}`]),
    },
  ];
  return { probePort: PORT, probeDscp: '0x2d', probe: { result }, nodes, traceTable: `flatnet-trace-${PORT}` };
}

const ALLOW_ON_NODE2 = 'inet flatnet-policy in-0123456789abcdef rule ip saddr . meta l4proto . th dport @in-0123456789abcdef-ports return # handle 9 (verdict return)';
const DENY_ON_NODE2 = 'inet flatnet-policy in-fedcba9876543210 rule counter packets 0 bytes 0 drop comment "ingress not allowed by any NetworkPolicy" # handle 11 (verdict drop)';

test('DNS: the search list first under ndots 5, the name as is first with enough dots, only as is with a trailing dot', () => {
  const conf = { nameservers: ['10.96.0.10'], searches: ['production.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], options: [{ name: 'ndots', value: '5' }] };
  assert.deepEqual(searchCandidates('backend', conf), ['backend.production.svc.cluster.local.', 'backend.svc.cluster.local.', 'backend.cluster.local.', 'backend.']);
  assert.deepEqual(searchCandidates('a.b.c.d.e.f', conf)[0], 'a.b.c.d.e.f.');
  assert.deepEqual(searchCandidates('backend.production.svc.cluster.local.', conf), ['backend.production.svc.cluster.local.']);
  assert.deepEqual(searchCandidates('x.y', { ...conf, options: [] }), ['x.y.', 'x.y.production.svc.cluster.local.', 'x.y.svc.cluster.local.', 'x.y.cluster.local.']);
  const answers = [
    { name: 'backend.x.', status: 'NXDOMAIN', addresses: [] },
    { name: 'backend.y.', status: 'NOERROR', addresses: ['10.96.0.50'] },
  ];
  assert.equal(continuesAfter(answers[0]), true);
  assert.equal(continuesAfter({ name: 'n', status: 'SERVFAIL', addresses: [] }), false);
  assert.deepEqual(resolutionOutcome(answers), { address: '10.96.0.50', answeredBy: 'backend.y.' });
});

test('prediction: frontend -> backend Service: DNAT on node-1 to the endpoint on node-2 over VXLAN, allowed by the policy', () => {
  const v = view();
  const p = predictTrace(v, podSource(v, 'production', 'frontend'), { label: 'backend', ip: '10.96.0.50', port: 8080, protocol: 'TCP' });
  assert.equal(p.service?.service, 'production/backend');
  assert.equal(p.service?.dnatNode, 'node-1');
  assert.deepEqual(p.service?.candidates, [{ ip: '10.244.2.7', port: 8080, pod: 'production/backend', node: 'node-2' }]);
  assert.deepEqual(p.paths[0].hop, { kind: 'overlay', mode: 'vxlan', from: 'node-1', to: 'node-2', via: '10.244.2.0', dev: 'flatnet.1' });
  assert.equal(p.expected, 'delivered');
  assert.match(p.paths[0].policy.stages[1].reason, /allow-frontend-to-backend ingress\[0\]/);
  assert.deepEqual(p.nodes, ['node-1', 'node-2']);
  const denied = predictTrace(v, podSource(v, 'production', 'monitoring'), { label: 'backend', ip: '10.96.0.50', port: 8080, protocol: 'TCP' });
  assert.equal(denied.expected, 'dropped');
  assert.equal(denied.paths[0].outcome, 'dropped-by-policy');
});

test('prediction: the outside client -> a NodePort: DNAT on that node, masqueraded, same-node endpoint over the bridge', () => {
  const v = view();
  const p = predictTrace(v, { kind: 'outside', name: 'flatnet-ext', ip: '172.18.0.200' }, { label: 'node:node-1', ip: '172.18.0.11', port: 30080, protocol: 'TCP' });
  assert.equal(p.service?.via, 'NodePort');
  assert.equal(p.service?.dnatNode, 'node-1');
  assert.equal(p.service?.masquerade, true);
  assert.deepEqual(p.paths[0].hop, { kind: 'same-node', node: 'node-1', dev: 'cni0' });
  assert.equal(p.paths[0].seenSource, '172.18.0.200', 'masquerade happens after the forward hook on the same node');
  const hg = predictTrace({ ...v, overlay: 'host-gw' }, podSource(v, 'production', 'frontend'), { label: 'x', ip: '10.244.2.7', port: 8080, protocol: 'TCP' });
  assert.deepEqual(hg.paths[0].hop, { kind: 'overlay', mode: 'host-gw', from: 'node-1', to: 'node-2', via: '172.18.0.12', dev: 'eth0' });
});

test('comparison: the kernel doing what the models say gives no bug', () => {
  const v = view();
  const p = predictTrace(v, podSource(v, 'production', 'frontend'), { label: 'backend', ip: '10.96.0.50', port: 8080, protocol: 'TCP' });
  const obs = observation('10.244.2.7', 'connected', ALLOW_ON_NODE2);
  const facts = analyseKernel(p, obs);
  assert.deepEqual(facts.dnatTo, { ip: '10.244.2.7', port: 8080, node: 'node-1' });
  assert.deepEqual(facts.reachedNodes, ['node-1', 'node-2']);
  assert.ok(facts.rulesHit.every((h) => !h.table.startsWith('flatnet-trace')), 'the tracer table is left out');
  assert.ok(facts.rulesHit.some((h) => h.chain === 'pick-1' && h.meaning.includes('DNAT to one of 1 endpoint')));
  const findings = comparePrediction(p, facts, obs);
  assert.deepEqual(findings.filter((f) => f.severity === 'bug'), []);
});

test('comparison: each disagreement is a bug', () => {
  const v = view();
  const allowed = predictTrace(v, podSource(v, 'production', 'frontend'), { label: 'backend', ip: '10.96.0.50', port: 8080, protocol: 'TCP' });
  const bugs = (p: typeof allowed, obs: Observation) => comparePrediction(p, analyseKernel(p, obs), obs).filter((f) => f.severity === 'bug').map((f) => f.text);

  // A drop rule nobody in flatnet wrote.
  const byHand = bugs(allowed, observation('10.244.2.7', 'timeout', 'inet by-hand fwd rule ip daddr 10.244.2.7 tcp dport 8080 drop # handle 2 (verdict drop)'));
  assert.equal(byHand.length, 1, byHand.join('\n'));
  assert.match(byHand[0], /model says the flow is allowed, but the kernel dropped the probe at node-2: inet by-hand fwd handle 2/);

  // DNAT to an address that is not an endpoint.
  const stray = bugs(allowed, observation('10.244.2.99', 'connected', ALLOW_ON_NODE2));
  assert.ok(stray.some((b) => /DNAT'ed to 10\.244\.2\.99:8080 on node-1, which is not an endpoint of the model/.test(b)), stray.join('\n'));

  // A route other than the overlay model's.
  const route = bugs(allowed, observation('10.244.2.7', 'connected', ALLOW_ON_NODE2, { dev: 'eth0', gateway: '172.18.0.12' }));
  assert.deepEqual(route, ['route on node-1 to 10.244.2.7: the kernel uses eth0 via 172.18.0.12, the overlay model says flatnet.1 via 10.244.2.0 to node-2 (vxlan)']);

  // The model drops, the kernel lets it through.
  const denied = predictTrace(v, podSource(v, 'production', 'monitoring'), { label: 'backend', ip: '10.96.0.50', port: 8080, protocol: 'TCP' });
  const through = bugs(denied, observation('10.244.2.7', 'connected', ALLOW_ON_NODE2));
  assert.ok(through.some((b) => /model says the flow is dropped, but the probe connected/.test(b)), through.join('\n'));

  // The model drops by policy, the kernel drops there too: no bug; dropped elsewhere: a bug.
  assert.deepEqual(bugs(denied, observation('10.244.2.7', 'timeout', DENY_ON_NODE2)), []);
  const elsewhere = bugs(denied, observation('10.244.2.7', 'timeout', 'inet by-hand fwd rule drop # handle 2 (verdict drop)'));
  assert.ok(elsewhere.some((b) => /not flatnet's policy: node-2: inet by-hand fwd handle 2/.test(b)), elsewhere.join('\n'));
});
