// The BGP overlay on real parts: the API server with the BGPPeer CRD applied by kubectl, two node
// namespaces on one L2 segment with a "pod" address each, and BIRD 2 as the route reflector in a
// third. Each node's speaker (startNodeBgp, as the agent runs it) peers with BIRD as its BGPPeer
// says, announces its pod CIDR, installs the other node's route (proto bgp) and pod traffic flows
// with no encapsulation; a dead node's routes go after the hold time; sessions are published on the Node and shown by `flatnet bgp status`;
// a restarted node keeps traffic flowing (graceful restart), a node selector limits the peers,
// LoadBalancer addresses are announced per externalTrafficPolicy, and deleting the BGPPeer
// withdraws every learned route.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as stringifyYaml } from 'yaml';
import { Informer } from '../../../src/client/informer.js';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { stopNetnsBrokers } from '../../../src/linux/netns-socket.js';
import { bgpPeerCrd } from '../../../src/overlay/bgp/crd.js';
import { startNodeBgp, type NodeBgpHandle } from '../../../src/overlay/bgp/index.js';
import { BGP_SESSIONS_ANNOTATION } from '../../../src/overlay/bgp/session-annotation.js';
import { requireRoot, requireTool } from '../../support/prerequisites.js';
import { eventually } from '../../support/eventually.js';
import { addNetns, deleteNetns, ip, startBird, type Bird } from '../../support/routing-daemons.js';
import { startTestServer, type TestServer } from '../../support/server.js';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const tag = `bn${process.pid % 100000}`;
const ROUTER = `${tag}-r`;
const ROUTER_IP = '172.31.251.1';
const NODES = [
  { name: 'bgp-node-1', netns: `${tag}-1`, ip: '172.31.251.11', podCIDR: '10.251.1.0/24', pod: '10.251.1.1', labels: { rack: 'a' } },
  { name: 'bgp-node-2', netns: `${tag}-2`, ip: '172.31.251.12', podCIDR: '10.251.2.0/24', pod: '10.251.2.1', labels: { rack: 'b' } },
];

const bgpRoutes = (netns: string) => execFileSync('ip', ['-n', netns, 'route', 'show', 'proto', 'bgp'], { encoding: 'utf8' });
const ping = (from: (typeof NODES)[number], to: (typeof NODES)[number]) => {
  try {
    execFileSync('ip', ['netns', 'exec', from.netns, 'ping', '-c', '1', '-W', '1', '-I', from.pod, to.pod], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
};

function cli(args: string[], kubeconfig: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), ...args, '--kubeconfig', kubeconfig], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

test('BGP overlay: BGPPeer CRD, two nodes through a BIRD route reflector, graceful restart, selector, withdrawal', async (t) => {
  requireRoot('network namespaces');
  requireTool('bird', 'the Debian package bird2 (scripts/ensure-deps installs it)');
  const state: { server?: TestServer; bird?: Bird; nodes?: Informer<KubeObject>; handles: Map<string, NodeBgpHandle> } = { handles: new Map() };
  t.after(async () => {
    for (const h of state.handles.values()) await h.stop({ withdraw: true });
    state.nodes?.stop();
    await state.bird?.stop();
    await state.server?.stop();
    stopNetnsBrokers();
    for (const ns of [ROUTER, ...NODES.map((n) => n.netns)]) deleteNetns(ns);
  });

  // One L2 segment: a bridge in the router namespace, each node's eth0 on it; a "pod" address on lo.
  addNetns(ROUTER);
  ip('-n', ROUTER, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', ROUTER, 'addr', 'add', `${ROUTER_IP}/24`, 'dev', 'br0');
  ip('-n', ROUTER, 'link', 'set', 'br0', 'up');
  NODES.forEach((n, i) => {
    addNetns(n.netns);
    ip('link', 'add', `${tag}n${i}`, 'netns', ROUTER, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.netns);
    ip('-n', ROUTER, 'link', 'set', `${tag}n${i}`, 'master', 'br0', 'up');
    ip('-n', n.netns, 'addr', 'add', `${n.ip}/24`, 'dev', 'eth0');
    ip('-n', n.netns, 'link', 'set', 'eth0', 'up');
    ip('-n', n.netns, 'addr', 'add', `${n.pod}/32`, 'dev', 'lo'); // (no dummy device module here)
    execFileSync('ip', ['netns', 'exec', n.netns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  });
  state.bird = await startBird(
    ROUTER,
    `router id ${ROUTER_IP};
protocol device {}
${NODES.map(
  (n, i) => `protocol bgp node${i} {
  local ${ROUTER_IP} as 64512;
  neighbor ${n.ip} as 64512;
  rr client;
  hold time 6;
  keepalive time 2;
  error wait time 1, 10;
  graceful restart on;
  ipv4 { import all; export all; };
}`,
).join('\n')}
`,
    tag,
  );

  const server = (state.server = await startTestServer({ controllers: false }));
  // The CRD as `flatnet bgp crd | kubectl apply -f -` installs it, then a bad peer and a good one.
  const crd = await cli(['bgp', 'crd'], server.kubeconfig);
  assert.equal(crd.code, 0, crd.stderr);
  assert.deepEqual(crd.stdout, stringifyYaml(bgpPeerCrd()));
  const applied = await server.kubectl(['apply', '-f', '-'], crd.stdout);
  assert.equal(applied.code, 0, applied.stderr);
  await eventually('the BGPPeer CRD is served', async () => (await server.kubectl(['get', 'bgppeers'])).code === 0);
  const bad = await server.kubectl(['apply', '-f', '-'], stringifyYaml({ apiVersion: 'flatnet.dev/v1', kind: 'BGPPeer', metadata: { name: 'bad' }, spec: { peerAddress: '300.1.1.1', peerASN: 64512 } }));
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /spec\.peerAddress/);
  const peer = { apiVersion: 'flatnet.dev/v1', kind: 'BGPPeer', metadata: { name: 'rack-router' }, spec: { peerAddress: ROUTER_IP, peerASN: 64512 } };
  const good = await server.kubectl(['apply', '-f', '-'], stringifyYaml(peer));
  assert.equal(good.code, 0, good.stderr);
  const listed = await server.kubectl(['get', 'bgppeers']);
  assert.match(listed.stdout, /rack-router\s+172\.31\.251\.1\s+64512/);

  for (const n of NODES) {
    await server.client.create(R.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: n.name, labels: n.labels }, spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR] } });
  }
  const nodes = (state.nodes = new Informer<KubeObject>(server.client, R.nodes));
  await nodes.start();
  const startNode = async (n: (typeof NODES)[number]) => {
    state.handles.set(n.name, await startNodeBgp(server.client, nodes, { nodeName: n.name, netns: n.netns, address: n.ip, podCIDR: n.podCIDR }));
  };
  for (const n of NODES) await startNode(n);

  const [a, b] = NODES;
  await eventually('node 1 learned node 2 pod CIDR', () => bgpRoutes(a.netns).includes(`${b.podCIDR} via ${b.ip}`));
  await eventually('node 2 learned node 1 pod CIDR', () => bgpRoutes(b.netns).includes(`${a.podCIDR} via ${a.ip}`));
  assert.doesNotMatch(bgpRoutes(a.netns), new RegExp(a.podCIDR.replace(/[./]/g, '\\$&')), 'a node never installs a route for its own pod CIDR');
  assert.ok(ping(a, b), 'pod to pod across nodes over plain IP');
  assert.match(state.bird.birdc('show', 'route'), /10\.251\.1\.0\/24/);

  // Published sessions and the status command.
  await eventually('node sessions published', async () => {
    const node = await server.client.get<KubeObject>(R.nodes, undefined, a.name);
    return node?.metadata.annotations?.[BGP_SESSIONS_ANNOTATION]?.includes('"Established"');
  });
  // (prefix counts are published with session changes and every 5 s)
  await eventually('flatnet bgp status shows the session with one prefix each way', async () => {
    const status = await cli(['bgp', 'status'], server.kubeconfig);
    assert.equal(status.code, 0, status.stderr);
    return /bgp-node-1\s+172\.31\.251\.1\s+64512\s+Established\s+\S+\s+1\s+1/.test(status.stdout);
  });
  const events = await server.kubectl(['get', 'events', '-n', 'default', '--field-selector', 'reason=BGPSessionEstablished', '-o', 'name']);
  assert.ok(events.stdout.trim().split('\n').length >= 2, events.stdout + events.stderr);

  // Agent restart: the speaker drops its session without a NOTIFICATION; BIRD keeps node 1's
  // route as stale, node 2 keeps it, traffic flows; the restarted speaker takes over.
  await state.handles.get(a.name)!.stop();
  state.handles.delete(a.name);
  await eventually('BIRD sees node 1 gone', () => !state.bird!.birdc('show', 'protocols', 'node0').includes('Established'));
  assert.ok(bgpRoutes(b.netns).includes(`${a.podCIDR} via ${a.ip}`), 'graceful restart: node 2 keeps the route to node 1');
  assert.ok(ping(b, a), 'traffic keeps flowing while node 1 restarts');
  await startNode(a);
  await eventually('node 1 back', () => state.bird!.birdc('show', 'protocols', 'node0').includes('Established'));
  await eventually('node 1 route fresh again', () => !state.bird!.birdc('show', 'route', 'all').includes('stale'));
  assert.ok(ping(a, b) && ping(b, a));

  // A node that dies (its link cut: no FIN, no NOTIFICATION): BIRD's hold timer (6 s, the lower of
  // the two OPENs) expires and node 2's pod CIDR is withdrawn from node 1; it comes back with the link.
  ip('-n', b.netns, 'link', 'set', 'eth0', 'down');
  await eventually('node 2 routes withdrawn after the hold time', () => !bgpRoutes(a.netns).includes(b.podCIDR), 30_000);
  ip('-n', b.netns, 'link', 'set', 'eth0', 'up');
  await eventually('node 2 back after the link returns', () => bgpRoutes(a.netns).includes(`${b.podCIDR} via ${b.ip}`), 60_000);

  // LoadBalancer addresses: Local from the node with the ready endpoint only, Cluster from both.
  const LB = '172.31.251.100';
  const svc = await server.client.create<KubeObject>(R.services, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default' },
    spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', selector: { app: 'web' }, ports: [{ port: 80, protocol: 'TCP' }] },
  });
  await server.client.updateStatus(R.services, { ...svc, status: { loadBalancer: { ingress: [{ ip: LB, ipMode: 'VIP' }] } } });
  await server.client.create(R.endpointslices, {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ port: 80, protocol: 'TCP' }],
    endpoints: [{ addresses: [b.pod], nodeName: b.name, conditions: { ready: true } }],
  });
  const lbRoute = () => state.bird!.birdc('show', 'route', 'for', `${LB}/32`, 'all');
  await eventually('the LoadBalancer address announced by node 2 only', () => {
    const r = lbRoute();
    return r.includes(`BGP.next_hop: ${b.ip}`) && !r.includes(`BGP.next_hop: ${a.ip}`);
  });
  assert.ok(!bgpRoutes(b.netns).includes(LB), 'a node does not install a route to an address it announces itself');
  await server.client.patch(R.services, 'default', 'web', { spec: { externalTrafficPolicy: 'Cluster' } }, 'merge');
  await eventually('Cluster policy: both nodes announce it', () => {
    const r = lbRoute();
    return r.includes(`BGP.next_hop: ${b.ip}`) && r.includes(`BGP.next_hop: ${a.ip}`);
  });
  await server.client.delete(R.services, 'default', 'web');
  await eventually('withdrawn with the Service', () => {
    try {
      return !lbRoute().includes(LB);
    } catch (err) {
      return String((err as { stdout?: string }).stdout ?? '').includes('Network not found');
    }
  });

  // A node selector: only rack a peers; node 2 closes its session and its learned route goes.
  const selective = await server.kubectl(['apply', '-f', '-'], stringifyYaml({ ...peer, spec: { ...peer.spec, nodeSelector: { matchLabels: { rack: 'a' } } } }));
  assert.equal(selective.code, 0, selective.stderr);
  await eventually('node 2 has no session', () => state.handles.get(b.name)!.speaker.status().length === 0);
  await eventually('node 2 lost its learned route', () => bgpRoutes(b.netns).trim() === '');
  await eventually('node 1 lost node 2 route (withdrawn by the reflector)', () => bgpRoutes(a.netns).trim() === '');

  // Deleting the peer closes the last session; every learned route is withdrawn.
  const deleted = await server.kubectl(['delete', 'bgppeer', 'rack-router']);
  assert.equal(deleted.code, 0, deleted.stderr);
  await eventually('node 1 has no session', () => state.handles.get(a.name)!.speaker.status().length === 0);
  assert.equal(bgpRoutes(a.netns).trim(), '');
});
