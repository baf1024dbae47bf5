import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLabNetns, planLab } from '../../../src/lab/plan.js';

test('plan: node names, namespaces, addresses, ports and the agent command line contract', () => {
  const p = planLab({ nodes: 3, overlay: 'host-gw', proxyMode: 'iptables', cniPlugins: 'reference', dataDir: '/d' });
  assert.deepEqual(p.nodes.map((n) => [n.name, n.netns, n.ip, n.kubeletListen, n.switchPort]), [
    ['node-1', 'flatnet-node-node-1', '172.18.0.11', '0.0.0.0:10250', 'veth-node-1'],
    ['node-2', 'flatnet-node-node-2', '172.18.0.12', '0.0.0.0:10250', 'veth-node-2'],
    ['node-3', 'flatnet-node-node-3', '172.18.0.13', '0.0.0.0:10250', 'veth-node-3'],
  ]);
  assert.deepEqual(p.processes[0].args, ['server', '--data-dir', '/d', '--listen', '127.0.0.1:6443', '--advertise-address', '172.18.0.1', '--load-balancer-pool', '172.18.255.0/24', '--kubelet-netns', 'flatnet-lab']);
  assert.deepEqual(p.processes[2].args, [
    'join', '--node', 'node-2', '--server', 'https://172.18.0.1:6443', '--netns', 'flatnet-node-node-2',
    '--node-ip', '172.18.0.12', '--overlay', 'host-gw', '--proxy-mode', 'iptables', '--kubelet-listen', '0.0.0.0:10250',
    '--data-dir', '/d/nodes/node-2', '--cni-plugins', 'reference',
    '--container-runtime-endpoint', 'unix:///d/nodes/node-2/runtime/runtime.sock',
    '--join-env-file', '/d/node-join.json',
  ]);
  // Each node's runtime runs in the node's namespace with the node's data directory.
  const runtime = p.processes.find((proc) => proc.name === 'runtime-node-2')!;
  assert.deepEqual([runtime.args, runtime.netns, runtime.log], [['runtime', '--data-dir', '/d/nodes/node-2'], 'flatnet-node-node-2', '/d/logs/runtime-node-2.log']);
  // Agents run in their node's namespace, reach the server at its underlay address and join with
  // the token and CA pin from the join file (read once `up` wrote it): none is given the admin kubeconfig.
  assert.equal(p.processes[2].netns, 'flatnet-node-node-2');
  assert.equal(p.processes[2].envFile, undefined);
  assert.equal(p.processes[0].netns, undefined);
  assert.ok(p.processes.every((proc) => !proc.args.includes('/d/admin.kubeconfig') && !proc.args.some((a) => a.endsWith('.kubeconfig'))));
  assert.equal(p.processes[2].log, '/d/logs/agent-node-2.log');
  // `up --max-pods N` reaches every agent; without it the agents keep their default.
  const dense = planLab({ nodes: 2, overlay: 'vxlan', proxyMode: 'nftables', cniPlugins: 'flatnet', dataDir: '/d', maxPods: 260 });
  assert.deepEqual(dense.processes.filter((proc) => proc.name.startsWith('agent-')).map((proc) => proc.args.slice(proc.args.indexOf('--max-pods'), proc.args.indexOf('--max-pods') + 2)), [['--max-pods', '260'], ['--max-pods', '260']]);
  assert.ok(!p.processes.some((proc) => proc.args.includes('--max-pods')));
  // Interface names fit in 15 characters even at the largest lab.
  const big = planLab({ nodes: 50, overlay: 'vxlan', proxyMode: 'nftables', cniPlugins: 'flatnet', dataDir: '/d' });
  assert.ok(big.nodes.every((n) => n.switchPort.length <= 15));
  assert.equal(big.nodes[49].ip, '172.18.0.60');
  assert.throws(() => planLab({ nodes: 0, overlay: 'vxlan', proxyMode: 'nftables', cniPlugins: 'flatnet', dataDir: '/d' }), /--nodes must be/);
  assert.throws(() => planLab({ nodes: 51, overlay: 'vxlan', proxyMode: 'nftables', cniPlugins: 'flatnet', dataDir: '/d' }), /1 to 50/);
});

test('which namespaces belong to a lab', () => {
  for (const n of ['flatnet-lab', 'flatnet-ext', 'flatnet-node-node-1', 'flatnet-pod-abc']) assert.ok(isLabNetns(n), n);
  for (const n of ['flatnet-t-cni-x', 'flatnet-node-', 'flatnet-labx', 'other', 'flatnet-pod-']) assert.ok(!isLabNetns(n), n);
});
