// `flatnet up --overlay bgp`: the nodes sit on two underlay segments (172.18.0.0/24 and
// 172.18.1.0/24) joined only by the lab router (BIRD in flatnet-lab, a route reflector); they learn
// each other's pod CIDRs from it, with the router as next hop, and pod traffic crosses it as plain
// IP (captures on the router's port of each segment show the pods' own addresses, no VXLAN or
// other UDP encapsulation); `flatnet bgp status` and BIRD's own CLI
// show the sessions and routes; a LoadBalancer address is announced by the nodes that may serve
// it (externalTrafficPolicy Local: only the node with the endpoint) and reached from flatnet-ext
// through the router; an agent killed with SIGKILL keeps its routes (graceful restart) while the
// supervisor restarts it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { R } from '../../../src/api/resources.js';
import { curlFromExt, eventually, FLATNET, run, startLab, type Lab } from '../../support/lab.js';
import { bgpWorkload, lbService } from './bgp-fixture.js';

const NS = 'bgp-e2e';

const birdc = (lab: Lab, ...args: string[]) => run('birdc', ['-s', join(lab.dataDir, 'router', 'bird.ctl'), ...args]);
const switchRoute = async (dst: string) => (await run('ip', ['-n', 'flatnet-lab', 'route', 'show', dst])).stdout;

test('BGP overlay lab: sessions, plain-IP pod traffic, LoadBalancer announcements, graceful restart', { timeout: 600_000 }, async (t) => {
  const lab = await startLab({ nodes: 2, upArgs: ['--overlay', 'bgp'] });
  t.after(() => lab.down());

  await eventually('both nodes Established with the lab router', async () => {
    const p = (await birdc(lab, 'show', 'protocols')).stdout;
    return (p.match(/node_\d+\s+BGP\s+---\s+up\s+\S+\s+Established/g) ?? []).length === 2 && p;
  });
  const status = await eventually('flatnet bgp status shows both sessions', async () => {
    const r = await run(FLATNET, ['bgp', 'status'], { env: lab.env });
    return r.code === 0 && (r.stdout.match(/Established/g) ?? []).length === 2 && r.stdout;
  });
  assert.match(status, /node-1\s+172\.18\.0\.1\s+64512\s+Established/);
  assert.match(status, /node-2\s+172\.18\.1\.1\s+64512\s+Established/, 'node 2 peers with the router on its own segment');
  // The agent's Prometheus metrics, through the API server's node proxy.
  const metrics = await eventually('BGP metrics of node 1', async () => {
    const m = await lab.ok(['get', '--raw', '/api/v1/nodes/node-1/proxy/metrics']);
    return /^flatnet_bgp_prefixes_received\{peer="172\.18\.0\.1"\} 1$/m.test(m) && m;
  });
  assert.match(metrics, /^flatnet_bgp_sessions\{state="Established"\} 1$/m);
  assert.match(metrics, /^flatnet_bgp_prefixes_advertised\{peer="172\.18\.0\.1"\} 1$/m);
  assert.match(metrics, /^flatnet_bgp_updates_total\{peer="172\.18\.0\.1",direction="received"\} [1-9]/m);
  const NODE_IP: Record<string, string> = { 'node-1': '172.18.0.11', 'node-2': '172.18.1.12' };
  // Two segments: node 1 reaches node 2 only through the router.
  assert.match((await run('ip', ['-n', 'flatnet-node-node-1', 'route', 'get', NODE_IP['node-2']])).stdout, /via 172\.18\.0\.1 dev eth0/);
  assert.match((await run('ip', ['-n', 'flatnet-node-node-1', 'addr', 'show', 'eth0'])).stdout, /inet 172\.18\.0\.11\/24 /);

  const nodes = await lab.client.list(R.nodes);
  const cidrs: Record<string, string> = Object.fromEntries(nodes.items.map((n) => [n.metadata.name ?? '', (n.spec as { podCIDR: string }).podCIDR]));
  // The router learned both pod CIDRs, the switch routes them, each node has the other's via BGP.
  const routes = (await birdc(lab, 'show', 'route')).stdout;
  for (const cidr of Object.values(cidrs)) assert.ok(routes.includes(cidr), `BIRD has ${cidr}:\n${routes}`);
  assert.doesNotMatch(routes, /unreachable/, 'next hops resolved');
  for (const [node, cidr] of Object.entries(cidrs)) assert.ok((await switchRoute(cidr)).includes(`via ${NODE_IP[node]} `), `the switch routes ${cidr} to ${node}`);
  const node1Routes = (await run('ip', ['-n', 'flatnet-node-node-1', 'route', 'show', 'proto', 'bgp'])).stdout;
  assert.ok(node1Routes.includes(`${cidrs['node-2']} via 172.18.0.1 `), `node 1 reaches node 2's pods through the router:\n${node1Routes}`);
  const node2Routes = (await run('ip', ['-n', 'flatnet-node-node-2', 'route', 'show', 'proto', 'bgp'])).stdout;
  assert.ok(node2Routes.includes(`${cidrs['node-1']} via 172.18.1.1 `), `node 2 reaches node 1's pods through the router:\n${node2Routes}`);
  assert.equal((await run('ip', ['-n', 'flatnet-node-node-1', 'link', 'show', 'flatnet.1'])).code !== 0, true, 'no VXLAN device in BGP mode');

  await lab.apply(bgpWorkload(NS));
  await lab.ok(['-n', NS, 'wait', '--for=condition=Ready', 'pod/web', 'pod/client', '--timeout=180s']);
  const webIP = (await lab.ok(['-n', NS, 'get', 'pod', 'web', '-o', 'jsonpath={.status.podIP}'])).trim();
  const clientIP = (await lab.ok(['-n', NS, 'get', 'pod', 'client', '-o', 'jsonpath={.status.podIP}'])).trim();

  // Pod to pod across the segments while capturing in the router on the port of each segment:
  // the pods' own addresses on both sides (routed, not bridged), no VXLAN/Geneve/other UDP.
  const captures = ['veth-node-1', 'veth-node-2'].map((port) => {
    const child = spawn('ip', ['netns', 'exec', 'flatnet-lab', 'tcpdump', '-l', '-n', '-i', port, '-c', '40', `host ${webIP} or udp port 8472 or udp port 4789 or udp port 6081`], { stdio: ['ignore', 'pipe', 'pipe'] });
    const c = { child, text: '' };
    child.stdout.on('data', (d: Buffer) => (c.text += d.toString()));
    return c;
  });
  await new Promise((r) => setTimeout(r, 1000));
  const page = await lab.kubectl(['-n', NS, 'exec', 'client', '--', 'wget', '-qO-', `http://${webIP}/`]);
  await new Promise((r) => setTimeout(r, 500));
  for (const c of captures) c.child.kill('SIGINT');
  assert.equal(page.code, 0, page.stderr);
  assert.match(page.stdout, /nginx/i);
  const syn = new RegExp(`IP ${clientIP.replace(/\./g, '\\.')}\\.\\d+ > ${webIP.replace(/\./g, '\\.')}\\.80: Flags \\[S\\]`);
  for (const [i, c] of captures.entries()) {
    assert.match(c.text, syn, `plain IP between pods on segment ${i + 1}:\n${c.text}`);
    assert.doesNotMatch(c.text, /\.(8472|4789|6081)[: ]/, 'no encapsulation');
  }

  // LoadBalancer, Local: only node 2 (where web runs) announces; the switch routes it there.
  const lbIP = await eventually('LoadBalancer address', async () => (await lab.ok(['-n', NS, 'get', 'svc', 'web', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}'])).trim());
  await eventually('switch route to the LB address via node 2 only', async () => {
    const r = await switchRoute(lbIP);
    return r.includes('via 172.18.1.12') && !r.includes('172.18.0.11') && r;
  });
  const fromExt = await eventually('LB reached from flatnet-ext', async () => {
    const r = await curlFromExt(['-sS', '--max-time', '3', `http://${lbIP}/`]);
    return r.code === 0 && r.stdout;
  });
  assert.match(fromExt, /nginx/i);
  await lab.apply(lbService(NS, 'Cluster'));
  await eventually('Cluster policy: both nodes are next hops', async () => {
    const r = await switchRoute(lbIP);
    return r.includes('172.18.1.12') && r.includes('172.18.0.11') && r;
  });

  // SIGKILL node 1's agent: BIRD keeps its routes (graceful restart), traffic keeps flowing.
  const pid = Number(readFileSync(join(lab.dataDir, 'pids', 'agent-node-1.pid'), 'utf8'));
  process.kill(pid, 'SIGKILL');
  await eventually('BIRD sees node 1 go', async () => !/node_1\s+BGP\s+---\s+up\s+\S+\s+Established/.test((await birdc(lab, 'show', 'protocols')).stdout));
  assert.ok((await switchRoute(cidrs['node-1'])).includes('via 172.18.0.11'), 'the switch keeps the route to node 1 pods');
  // (node 1's agent serves exec, so the probe goes from node 2 to the client pod on node 1)
  const during = await run('ip', ['netns', 'exec', 'flatnet-node-node-2', 'ping', '-c', '1', '-W', '2', clientIP]);
  assert.equal(during.code, 0, `node 2 reaches node 1's pod while the agent restarts: ${during.stdout}${during.stderr}`);
  await eventually('node 1 back', async () => /node_1\s+BGP\s+---\s+up\s+\S+\s+Established/.test((await birdc(lab, 'show', 'protocols')).stdout), 120_000);
  await eventually('no stale routes left', async () => !(await birdc(lab, 'show', 'route', 'all')).stdout.includes('stale'));
  // (exec waits for the restarted agent to take the pod over from the runtime)
  await eventually('pod to pod again through the restarted agent', async () => (await lab.kubectl(['-n', NS, 'exec', 'client', '--', 'wget', '-qO-', `http://${webIP}/`])).code === 0);
});
