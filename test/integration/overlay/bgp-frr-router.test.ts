// The lab's FRR router configuration (`flatnet up --overlay bgp --router frr`, src/lab/frr-router.ts)
// with two real node speakers, each on its own link to the router (two segments, no shared L2),
// in throwaway namespaces: FRR's own CLI shows both sessions and both pod CIDRs, zebra installs
// them in the router's kernel table, each node learns the other's pod CIDR with the router as next
// hop (route reflection with next-hop-self), and a LoadBalancer /32 announced by both nodes gets
// both as next hops in the router's kernel (iBGP multipath).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { labFrrConfig } from '../../../src/lab/frr-router.js';
import { NodeSpeaker } from '../../../src/overlay/bgp/node-speaker.js';
import { stopNetnsBrokers } from '../../../src/linux/netns-socket.js';
import { requireRoot, requireTool } from '../../support/prerequisites.js';
import { eventually } from '../../support/eventually.js';
import { addNetns, deleteNetns, linkNetns, startFrr, type Frr } from '../../support/routing-daemons.js';

const tag = `bf${process.pid % 100000}`;
const ROUTER = `${tag}-r`;
const nodes = [
  { name: 'node-1', netns: `${tag}-1`, ip: '172.31.247.2', gateway: '172.31.247.1', podCIDR: '10.244.1.0/24' },
  { name: 'node-2', netns: `${tag}-2`, ip: '172.31.247.6', gateway: '172.31.247.5', podCIDR: '10.244.2.0/24' },
];
const LB = '172.31.255.7/32';
const routes = (netns: string, ...args: string[]) => execFileSync('ip', ['-n', netns, 'route', 'show', ...args], { encoding: 'utf8' });

test('the lab FRR router config with two node speakers on two segments', async (t) => {
  requireRoot('network namespaces');
  requireTool('vtysh', 'the Debian package frr (scripts/ensure-deps installs it)');
  const running: { frr?: Frr; speakers: NodeSpeaker[] } = { speakers: [] };
  t.after(async () => {
    for (const s of running.speakers) await s.stop({ withdraw: true });
    await running.frr?.stop();
    stopNetnsBrokers();
    for (const ns of [ROUTER, ...nodes.map((n) => n.netns)]) deleteNetns(ns);
  });
  addNetns(ROUTER);
  execFileSync('ip', ['netns', 'exec', ROUTER, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  for (const [i, n] of nodes.entries()) {
    addNetns(n.netns);
    linkNetns({ netns: n.netns, dev: `${tag}n${i}`, ip: n.ip }, { netns: ROUTER, dev: `${tag}r${i}`, ip: n.gateway });
  }
  const frr = await startFrr(ROUTER, labFrrConfig(nodes, 64512), tag);
  running.frr = frr;
  for (const n of nodes) {
    const s = new NodeSpeaker({ nodeName: n.name, netns: n.netns, asn: 64512, address: n.ip, podCIDR: n.podCIDR, connectRetryMs: 300, restartTimeSec: 0 });
    running.speakers.push(s);
    await s.start();
    s.setPeers([{ address: n.gateway, asn: 64512 }]);
  }

  await eventually('both sessions Established in FRR', () => {
    const peers = (JSON.parse(frr.vtysh('show ip bgp summary json')) as { ipv4Unicast?: { peers?: Record<string, { state?: string }> } }).ipv4Unicast?.peers ?? {};
    return nodes.every((n) => peers[n.ip]?.state === 'Established') || undefined;
  }, 60_000);
  const table = await eventually('both pod CIDRs in FRR', () => {
    const out = frr.vtysh('show ip bgp');
    return nodes.every((n) => out.includes(n.podCIDR)) && out;
  }, 30_000);
  for (const n of nodes) {
    assert.match(table, new RegExp(`${n.podCIDR.replace(/\./g, '\\.')}\\s+${n.ip.replace(/\./g, '\\.')}\\s`), `next hop of ${n.podCIDR}:\n${table}`);
    await eventually(`zebra installs ${n.podCIDR} via ${n.ip}`, () => routes(ROUTER, n.podCIDR).includes(`via ${n.ip} `) || undefined);
  }
  // Reflected with the router's own address on the receiving node's link.
  await eventually('node 1 has node 2 pods via the router', () => routes(nodes[0].netns, 'proto', 'bgp').includes(`${nodes[1].podCIDR} via ${nodes[0].gateway} `) || undefined);
  await eventually('node 2 has node 1 pods via the router', () => routes(nodes[1].netns, 'proto', 'bgp').includes(`${nodes[0].podCIDR} via ${nodes[1].gateway} `) || undefined);

  // A LoadBalancer address from both nodes: one kernel route with both as next hops.
  for (const s of running.speakers) s.setAnnounced([LB]);
  const lb = await eventually('the LB /32 via both nodes in the router kernel', () => {
    const r = routes(ROUTER, LB);
    return nodes.every((n) => r.includes(`via ${n.ip} `)) && r;
  }, 30_000);
  assert.match(lb, /nexthop/, lb);
  running.speakers[0].setAnnounced([]);
  await eventually('withdrawn by node 1: node 2 only', () => {
    const r = routes(ROUTER, LB);
    return (r.includes(`via ${nodes[1].ip} `) && !r.includes(nodes[0].ip)) || undefined;
  }, 30_000);
});
