// Identity resolution and verdicts: addresses -> pods, Services, nodes or world; conntrack and
// NFLOG events -> flow events naming the Service endpoint or the NetworkPolicies that dropped them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { KubeObject } from '../../../src/api/types.js';
import { FlowAssembler } from '../../../src/flows/assemble.js';
import { parseConntrackLine } from '../../../src/flows/conntrack-events.js';
import { IdentityIndex, slimObjects } from '../../../src/flows/identity.js';
import { NflogPcapReader } from '../../../src/flows/nflog-pcap.js';

const pod = (ns: string, name: string, ip: string, labels: Record<string, string> = {}, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace: ns, name, uid: `${ns}-${name}`, labels },
  spec: { nodeName: 'n1', containers: [{ name: 'c' }], ...extra },
  status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
});

const objects = slimObjects({
  pods: [pod('shop', 'client', '10.77.0.1', { app: 'client' }), pod('shop', 'web-1', '10.77.0.2', { app: 'web' }), pod('kube-system', 'hostnet', '172.18.0.11', {}, { hostNetwork: true })],
  services: [
    { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'shop', name: 'web' }, spec: { clusterIP: '10.96.0.50', ports: [{ name: 'http', port: 8080, protocol: 'TCP', nodePort: 30080 }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'shop', name: 'empty' }, spec: { clusterIP: '10.96.0.51', ports: [{ port: 80 }] } },
  ],
  nodes: [{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { podCIDR: '10.77.0.0/24' }, status: { addresses: [{ type: 'InternalIP', address: '172.18.0.11' }, { type: 'Hostname', address: 'n1' }] } }],
  policies: [
    { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'shop', name: 'deny-all' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'shop', name: 'web-from-front' }, spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'front' } } }] }] } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'shop', name: 'client-egress' }, spec: { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'], egress: [] } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'other', name: 'elsewhere' }, spec: { podSelector: {} } },
  ],
});
const index = new IdentityIndex(objects);

test('addresses resolve to pods, Services, nodes (and their bridge address) or world', () => {
  assert.deepEqual(index.identity('10.77.0.2'), { kind: 'pod', namespace: 'shop', name: 'web-1', node: 'n1' });
  assert.deepEqual(index.identity('10.96.0.50'), { kind: 'service', namespace: 'shop', name: 'web' });
  assert.deepEqual(index.identity('172.18.0.11'), { kind: 'node', name: 'n1' }, 'a hostNetwork pod does not take its node\'s address');
  assert.deepEqual(index.identity('10.77.0.1'), { kind: 'pod', namespace: 'shop', name: 'client', node: 'n1' });
  assert.deepEqual(index.identity('10.77.0.254'), { kind: 'world' });
  assert.deepEqual(index.identity('8.8.8.8'), { kind: 'world' });
  assert.deepEqual(new IdentityIndex(objects).identity('10.77.0.1'), index.identity('10.77.0.1'));
});

test('Service ports by address, and node ports on node addresses', () => {
  assert.deepEqual(index.service('10.96.0.50', 'tcp', 8080), { namespace: 'shop', name: 'web', port: 'http' });
  assert.deepEqual(index.service('10.96.0.51', 'tcp', 80), { namespace: 'shop', name: 'empty', port: '80' });
  assert.deepEqual(index.service('172.18.0.11', 'tcp', 30080), { namespace: 'shop', name: 'web', port: 'http' });
  assert.equal(index.service('172.18.0.11', 'udp', 30080), undefined);
  assert.equal(index.service('10.77.0.2', 'tcp', 80), undefined);
});

test('the policies isolating a pod per direction; default deny when none has rules', () => {
  const web = index.isolatingPolicies('10.77.0.2', 'ingress', 'in-x');
  assert.deepEqual(web, { direction: 'ingress', policies: ['shop/deny-all', 'shop/web-from-front'], defaultDeny: false, chain: 'in-x' });
  assert.deepEqual(index.isolatingPolicies('10.77.0.1', 'ingress', 'in-y').policies, ['shop/deny-all']);
  assert.equal(index.isolatingPolicies('10.77.0.1', 'ingress', 'in-y').defaultDeny, true);
  assert.deepEqual(index.isolatingPolicies('10.77.0.1', 'egress', 'out-z'), { direction: 'egress', policies: ['shop/client-egress'], defaultDeny: true, chain: 'out-z' });
  assert.deepEqual(index.isolatingPolicies('10.77.0.2', 'egress', 'out-z').policies, []);
});

const ct = readFileSync(new URL('./fixtures/conntrack-events.txt', import.meta.url), 'utf8').split('\n').filter((l) => l !== '').map((l) => parseConntrackLine(l)!);

test('conntrack events become forwarded, translated (with the endpoint), replied once, closed', () => {
  const a = new FlowAssembler('n1', index);
  const flows = ct.map((e) => a.fromConntrack(e));
  const first = flows[0]!;
  assert.equal(first.verdict, 'forwarded');
  assert.equal(first.source.identity.kind, 'pod');
  assert.deepEqual(first.destination, { ip: '10.77.0.2', port: 80, identity: { kind: 'pod', namespace: 'shop', name: 'web-1', node: 'n1' } });
  assert.equal(first.origin, 'conntrack:462879808');
  assert.equal(flows[1]!.verdict, 'replied');
  assert.equal(flows[2], undefined, 'ESTABLISHED after SYN_RECV is not a second reply');
  assert.equal(flows[3], undefined);
  const dnat = flows[4]!;
  assert.equal(dnat.verdict, 'translated');
  assert.deepEqual(dnat.endpoint, { ip: '10.77.0.2', port: 80, identity: { kind: 'pod', namespace: 'shop', name: 'web-1', node: 'n1' } });
  assert.match(dnat.summary, /DNAT to 10\.77\.0\.2:80/);
  const closed = flows.filter((f) => f?.verdict === 'closed');
  assert.equal(closed.length, 2);
  assert.match(closed.find((f) => f!.protocol === 'udp')!.summary, /never replied/);
  assert.match(first.time, /^2026-12-06T\d\d:\d\d:\d\d\.\d{6}Z$/);
});

test('a connection to a Service names the Service port', () => {
  const a = new FlowAssembler('n1', index);
  const e = parseConntrackLine('[1796582891.904242]	    [NEW] ipv4     2 tcp      6 120 SYN_SENT src=10.77.0.1 dst=10.96.0.50 sport=53830 dport=8080 [UNREPLIED] src=10.77.0.2 dst=10.77.0.1 sport=80 dport=53830 id=1')!;
  const f = a.fromConntrack(e)!;
  assert.equal(f.verdict, 'translated');
  assert.deepEqual(f.service, { namespace: 'shop', name: 'web', port: 'http' });
  assert.deepEqual(f.destination.identity, { kind: 'service', namespace: 'shop', name: 'web' });
  assert.equal(f.endpoint?.identity.kind, 'pod');
});

test('NFLOG records become drops naming the policies, and rejections naming the Service', () => {
  const bytes = readFileSync(new URL('./fixtures/nflog-group7.pcap', import.meta.url));
  const [policyRecord, rejectRecord] = new NflogPcapReader().push(bytes);
  const a = new FlowAssembler('n1', index);
  assert.equal(a.fromNflog(policyRecord), undefined, 'a prefix that is not flatnet\'s is no flow');
  const drop = a.fromNflog({ ...policyRecord, prefix: 'flatnet:pol:in-0123456789abcdef' })!;
  assert.equal(drop.verdict, 'dropped');
  assert.deepEqual(drop.policy, { direction: 'ingress', policies: ['shop/deny-all', 'shop/web-from-front'], defaultDeny: false, chain: 'in-0123456789abcdef' });
  assert.match(drop.summary, /ingress not allowed by shop\/deny-all, shop\/web-from-front/);
  assert.equal(drop.destination.port, 81);
  const egress = a.fromNflog({ ...policyRecord, prefix: 'flatnet:pol:out-0123456789abcdef' })!;
  assert.deepEqual(egress.policy?.policies, ['shop/client-egress']);
  assert.match(egress.summary, /egress default deny/);
  const reject = a.fromNflog({ ...rejectRecord, prefix: 'flatnet:svc:no-endpoints', packet: { ...rejectRecord.packet!, dst: '10.96.0.51', dport: 80 } })!;
  assert.equal(reject.verdict, 'rejected');
  assert.deepEqual(reject.service, { namespace: 'shop', name: 'empty', port: '80' });
  const notAdmitted = a.fromNflog({ ...policyRecord, prefix: 'flatnet:pol:not-admitted' })!;
  assert.equal(notAdmitted.verdict, 'dropped');
  assert.equal(notAdmitted.policy, undefined);
});
