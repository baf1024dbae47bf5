// `flatnet up --overlay bgp --router frr`: the same two-segment lab with FRR (zebra + bgpd) as the
// route reflector in flatnet-lab instead of BIRD. Both nodes' sessions are Established in FRR's
// own CLI (vtysh), FRR has both pod CIDRs with the nodes as next hops and zebra puts them in the
// switch's kernel table; each node reaches the other's pods through the router (next-hop-self);
// pod-to-pod traffic crosses the segments; a LoadBalancer address with externalTrafficPolicy
// Local is in FRR from node 2 only and answers from flatnet-ext; with Cluster FRR installs both
// nodes as next hops (iBGP multipath); killing an agent keeps its routes (FRR as graceful-restart
// helper) until it is back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { R } from '../../../src/api/resources.js';
import { FRR_ROUTER_DIR } from '../../../src/lab/frr-router.js';
import { curlFromExt, eventually, FLATNET, run, startLab } from '../../support/lab.js';
import { bgpWorkload, lbService } from './bgp-fixture.js';
import { requireTool } from '../../support/prerequisites.js';

const NS = 'bgp-frr-e2e';
const NODE_IP: Record<string, string> = { 'node-1': '172.18.0.11', 'node-2': '172.18.1.12' };

const vtysh = async (command: string) => {
  const r = await run('vtysh', ['--vty_socket', FRR_ROUTER_DIR, '-c', command]);
  if (r.code !== 0) throw new Error(`vtysh -c '${command}': ${r.stdout}${r.stderr}`);
  return r.stdout;
};
interface FrrPeer {
  state?: string;
  pfxRcd?: number;
}
const frrPeers = async () => (JSON.parse(await vtysh('show ip bgp summary json')) as { ipv4Unicast?: { peers?: Record<string, FrrPeer> } }).ipv4Unicast?.peers ?? {};
const switchRoute = async (dst: string) => (await run('ip', ['-n', 'flatnet-lab', 'route', 'show', dst])).stdout;

test('BGP lab with FRR as the router: sessions, routes in vtysh and the kernel, pod traffic, LoadBalancer, graceful restart', { timeout: 600_000 }, async (t) => {
  requireTool('vtysh', 'the Debian package frr (scripts/ensure-deps installs it)');
  const lab = await startLab({ nodes: 2, upArgs: ['--overlay', 'bgp', '--router', 'frr'] });
  t.after(() => lab.down());

  await eventually('both nodes Established in FRR', async () => {
    const peers = await frrPeers();
    return Object.values(NODE_IP).every((ip) => peers[ip]?.state === 'Established') && peers;
  });
  // (each agent publishes its sessions on its Node a moment after they come up)
  const status = await eventually('flatnet bgp status shows both sessions', async () => {
    const r = await run(FLATNET, ['bgp', 'status'], { env: lab.env });
    return r.code === 0 && (r.stdout.match(/Established/g) ?? []).length === 2 && r.stdout;
  });
  assert.match(status, /node-1\s+172\.18\.0\.1\s+64512\s+Established/);
  assert.match(status, /node-2\s+172\.18\.1\.1\s+64512\s+Established/);

  const nodes = await lab.client.list(R.nodes);
  const cidrs: Record<string, string> = Object.fromEntries(nodes.items.map((n) => [n.metadata.name ?? '', (n.spec as { podCIDR: string }).podCIDR]));
  const table = await eventually('both pod CIDRs in FRR', async () => {
    const out = await vtysh('show ip bgp');
    return Object.values(cidrs).every((c) => out.includes(c)) && out;
  });
  for (const [node, cidr] of Object.entries(cidrs)) {
    assert.match(table, new RegExp(`${cidr.replace(/\./g, '\\.')}\\s+${NODE_IP[node].replace(/\./g, '\\.')}\\s`), `FRR's next hop for ${cidr} is ${node}:\n${table}`);
    await eventually(`zebra routes ${cidr} to ${node}`, async () => {
      const r = await switchRoute(cidr);
      return r.includes(`via ${NODE_IP[node]} `) && r.includes('proto bgp') && r;
    });
  }
  await eventually('node 1 reaches node 2 pods through the router', async () => (await run('ip', ['-n', 'flatnet-node-node-1', 'route', 'show', 'proto', 'bgp'])).stdout.includes(`${cidrs['node-2']} via 172.18.0.1 `));
  await eventually('node 2 reaches node 1 pods through the router', async () => (await run('ip', ['-n', 'flatnet-node-node-2', 'route', 'show', 'proto', 'bgp'])).stdout.includes(`${cidrs['node-1']} via 172.18.1.1 `));

  await lab.apply(bgpWorkload(NS));
  await lab.ok(['-n', NS, 'wait', '--for=condition=Ready', 'pod/web', 'pod/client', '--timeout=180s']);
  const webIP = (await lab.ok(['-n', NS, 'get', 'pod', 'web', '-o', 'jsonpath={.status.podIP}'])).trim();
  const page = await lab.kubectl(['-n', NS, 'exec', 'client', '--', 'wget', '-qO-', `http://${webIP}/`]);
  assert.equal(page.code, 0, page.stderr);
  assert.match(page.stdout, /nginx/i);

  // Local: only node 2 (where web runs) announces the address.
  const lbIP = await eventually('LoadBalancer address', async () => (await lab.ok(['-n', NS, 'get', 'svc', 'web', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}'])).trim());
  const lbRoute = await eventually('the LB /32 in FRR', async () => {
    const out = await vtysh(`show ip bgp ${lbIP}/32`);
    return out.includes(NODE_IP['node-2']) && out;
  });
  // (the entry also lists the peers it is advertised to: both nodes)
  assert.match(lbRoute, /Paths: \(1 available/, lbRoute);
  assert.doesNotMatch(lbRoute, /from 172\.18\.0\.11/, `Local policy: node 1 has no endpoint and does not announce:\n${lbRoute}`);
  const fromExt = await eventually('LB reached from flatnet-ext', async () => {
    const r = await curlFromExt(['-sS', '--max-time', '3', `http://${lbIP}/`]);
    return r.code === 0 && r.stdout;
  });
  assert.match(fromExt, /nginx/i);
  await lab.apply(lbService(NS, 'Cluster'));
  await eventually('Cluster policy: both nodes are next hops in the kernel (multipath)', async () => {
    const r = await switchRoute(lbIP);
    return r.includes('172.18.1.12') && r.includes('172.18.0.11') && r;
  });

  // SIGKILL node 1's agent: FRR keeps its routes (graceful restart helper) while it restarts.
  const pid = Number(readFileSync(join(lab.dataDir, 'pids', 'agent-node-1.pid'), 'utf8'));
  process.kill(pid, 'SIGKILL');
  await eventually('FRR sees node 1 go', async () => (await frrPeers())[NODE_IP['node-1']]?.state !== 'Established');
  assert.ok((await switchRoute(cidrs['node-1'])).includes('via 172.18.0.11'), 'the switch keeps the route to node 1 pods');
  await eventually('node 1 back in FRR', async () => (await frrPeers())[NODE_IP['node-1']]?.state === 'Established', 120_000);
  await eventually('node 1 pod CIDR fresh again', async () => {
    const out = await vtysh(`show ip bgp ${cidrs['node-1']}`);
    return !/stale/i.test(out) && out.includes(NODE_IP['node-1']);
  });
});
