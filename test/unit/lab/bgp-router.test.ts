// The lab router's BIRD configuration, checked by BIRD's own parser (`bird -p`), its process, the
// two-segment underlay of the BGP lab and the BGPPeers that point each segment's nodes at it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labBgpPeers, labRouterConfig, labRouterProcess, labRouterProcesses } from '../../../src/lab/bgp-router.js';
import { labFrrConfig } from '../../../src/lab/frr-router.js';
import { planLab } from '../../../src/lab/plan.js';
import { peersForNode } from '../../../src/overlay/bgp/peers.js';
import { requireTool } from '../../support/prerequisites.js';

test('the lab router config: BIRD parses it; one route-reflector client per node, each on its segment', () => {
  requireTool('bird', 'the Debian package bird2 (scripts/ensure-deps installs it)');
  const plan = planLab({ nodes: 3, overlay: 'bgp', proxyMode: 'nftables', cniPlugins: 'flatnet', dataDir: '/d' });
  assert.deepEqual(
    plan.nodes.map((n) => [n.name, n.ip, n.segment?.bridge, n.segment?.gateway]),
    [
      ['node-1', '172.18.0.11', 'flatnet0', '172.18.0.1'],
      ['node-2', '172.18.1.12', 'flatnet1', '172.18.1.1'],
      ['node-3', '172.18.0.13', 'flatnet0', '172.18.0.1'],
    ],
  );
  const config = labRouterConfig(plan.nodes);
  assert.match(config, /protocol bgp node_1 from flatnet_node \{\n {2}local 172\.18\.0\.1 as 64512;\n {2}neighbor 172\.18\.0\.11 as 64512;/);
  assert.match(config, /protocol bgp node_2 from flatnet_node \{\n {2}local 172\.18\.1\.1 as 64512;\n {2}neighbor 172\.18\.1\.12 as 64512;/);
  assert.match(config, /rr client;/);
  assert.match(config, /gateway direct; next hop self on;/, 'reflected routes point at the router, the only way between segments');
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-bird-conf-'));
  try {
    writeFileSync(join(dir, 'bird.conf'), config, { mode: 0o600 });
    execFileSync('bird', ['-p', '-c', join(dir, 'bird.conf')], { stdio: 'pipe' }); // throws with BIRD's message on a syntax error
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(labRouterProcess('/d', '/d/logs'), { name: 'router', program: 'bird', args: ['-f', '-c', '/d/router/bird.conf', '-s', '/d/router/bird.ctl'], log: '/d/logs/router.log', netns: 'flatnet-lab' });
});

test('the lab BGPPeers: one per segment, selecting its nodes; the default overlays keep one /16 switch', () => {
  const plan = planLab({ nodes: 3, overlay: 'bgp', proxyMode: 'nftables', cniPlugins: 'flatnet', dataDir: '/d' });
  const peers = labBgpPeers(plan.nodes);
  assert.deepEqual(
    peers.map((p) => [p.metadata.name, p.spec]),
    [
      ['lab-router', { peerAddress: '172.18.0.1', peerASN: 64512, nodeSelector: { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-1', 'node-3'] }] } }],
      ['lab-router-2', { peerAddress: '172.18.1.1', peerASN: 64512, nodeSelector: { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-2'] }] } }],
    ],
  );
  // Each node gets exactly the peer on its own segment.
  for (const n of plan.nodes) {
    const { peers: mine, invalid } = peersForNode(peers, { 'kubernetes.io/hostname': n.name });
    assert.deepEqual([mine.map((p) => p.address), invalid], [[n.segment!.gateway], []], n.name);
  }
  const vxlan = planLab({ nodes: 2, overlay: 'vxlan', proxyMode: 'nftables', cniPlugins: 'flatnet', dataDir: '/d' });
  assert.deepEqual(vxlan.nodes.map((n) => [n.ip, n.segment]), [['172.18.0.11', undefined], ['172.18.0.12', undefined]]);
});

test('the FRR lab router (--router frr): bgpd accepts its config; zebra + bgpd in flatnet-lab', () => {
  requireTool('/usr/lib/frr/bgpd', 'the Debian package frr (scripts/ensure-deps installs it)');
  const plan = planLab({ nodes: 3, overlay: 'bgp', proxyMode: 'nftables', cniPlugins: 'flatnet', dataDir: '/d', router: 'frr' });
  const config = labFrrConfig(plan.nodes, 64512);
  assert.match(config, /neighbor nodes remote-as internal/);
  for (const n of plan.nodes) assert.match(config, new RegExp(` neighbor ${n.ip.replace(/\./g, '\\.')} peer-group nodes\n`));
  assert.match(config, /neighbor nodes route-reflector-client\n(.*\n)? {2}neighbor nodes next-hop-self force/, 'reflected routes point at the router');
  assert.match(config, /maximum-paths ibgp 16/);
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-frr-conf-'));
  try {
    writeFileSync(join(dir, 'bgpd.conf'), config, { mode: 0o644 });
    // bgpd -C parses the file and exits; it reports bad lines on its output (its exit code stays 0).
    const out = execFileSync('/usr/lib/frr/bgpd', ['-C', '-f', join(dir, 'bgpd.conf'), '-u', 'frr', '-g', 'frr'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.doesNotMatch(out, /No such command|Unknown command|\[EC \d+\]/);
    writeFileSync(join(dir, 'bad.conf'), 'router bgp 1\n neighbor nodes no-such-thing\n', { mode: 0o644 });
    const bad = spawnSync('/usr/lib/frr/bgpd', ['-C', '-f', join(dir, 'bad.conf'), '-u', 'frr', '-g', 'frr'], { encoding: 'utf8' });
    assert.match(bad.stdout + bad.stderr, /No such command|Unknown command|\[EC \d+\]/, 'the check can fail');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(
    labRouterProcesses('frr', '/d', '/d/logs').map((p) => [p.name, p.program, p.netns, p.log]),
    [
      ['router-zebra', '/usr/lib/frr/zebra', 'flatnet-lab', '/d/logs/router-zebra.log'],
      ['router-bgpd', '/usr/lib/frr/bgpd', 'flatnet-lab', '/d/logs/router-bgpd.log'],
    ],
  );
  assert.deepEqual(labRouterProcesses('bird', '/d', '/d/logs'), [labRouterProcess('/d', '/d/logs')]);
});
