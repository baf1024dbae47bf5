// Two fake nodes (namespaces on one underlay switch), each with a pod made by flatnet's CNI
// plugins, joined by the overlay controller in VXLAN and in host-gw mode: real packets, ping and
// TCP across nodes with the client's pod address preserved, masquerade only for traffic leaving
// the cluster range, and peers removed when their Node goes away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addNetns, deleteNetns, netnsPath } from '../../../src/linux/netns.js';
import { IpBatch, applyIpBatch } from '../../../src/linux/ip.js';
import { installPluginWrappers } from '../../../src/cni/install.js';
import { renderConflist } from '../../../src/cni/conflist.js';
import { createCniRuntime } from '../../../src/cni/runtime.js';
import { OverlayController } from '../../../src/overlay/controller.js';
import { VXLAN_DEVICE, type OverlayMode, type OverlayNode } from '../../../src/overlay/model.js';
import { bundledPluginCommand, peerAddressServer, ping, sh, tcpAsk } from '../cni/helpers.js';
import { requireRoot } from '../../support/prerequisites.js';

const ROOT_FOR = 'network namespaces, VXLAN devices, nftables';

interface Lab {
  nodes: { name: string; netns: string; ip: string; podCIDR: string; pod: string; podIP: string; controller: OverlayController }[];
  ext: string;
  cleanup(): Promise<void>;
}

async function buildLab(tag: string, mode: OverlayMode): Promise<Lab> {
  const dir = mkdtempSync(join(tmpdir(), `flatnet-t-ovl-${tag}-`));
  const names: string[] = [];
  const ns = async (n: string) => {
    const name = `flatnet-t-ovl-${tag}-${n}`;
    await deleteNetns(name);
    await addNetns(name);
    names.push(name);
    return name;
  };
  const cleanup = async () => {
    for (const n of names) await deleteNetns(n).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const sw = await ns('sw');
    await applyIpBatch(sw, new IpBatch().addBridge('br0').setLink('br0', { up: true }));
    const attach = async (target: string, port: string, cidr: string) => {
      await applyIpBatch(sw, new IpBatch().addVeth(port, 'eth0', { peerNetns: target }).setLink(port, { master: 'br0', up: true }));
      await applyIpBatch(target, new IpBatch().replaceAddress(cidr, 'eth0').setLink('eth0', { up: true }));
    };
    const ext = await ns('ext');
    await attach(ext, 'p-ext', '172.31.0.200/16');
    const binDir = join(dir, 'bin');
    installPluginWrappers(binDir, await bundledPluginCommand());
    const nodes: Lab['nodes'] = [];
    for (const i of [1, 2]) {
      const netns = await ns(`n${i}`);
      const ip = `172.31.0.1${i}`;
      await attach(netns, `p-n${i}`, `${ip}/16`);
      const podCIDR = `10.244.${i}.0/24`;
      const controller = new OverlayController({ nodeName: `node-${i}`, netns, mode, underlayDevice: 'eth0', podCIDR, clusterCIDR: '10.244.0.0/16' });
      await controller.setup();
      const conflist = join(dir, `n${i}.conflist`);
      writeFileSync(conflist, JSON.stringify(renderConflist({ podCIDR, mtu: controller.mtu, plugins: 'flatnet', dataDir: join(dir, `n${i}`) })));
      const pod = await ns(`p${i}`);
      const rt = createCniRuntime({ conflistPath: conflist, binDirs: [binDir], hostNetns: netns, cacheDir: join(dir, `cache${i}`) });
      const r = await rt.add({ containerId: `c${i}`, netnsPath: netnsPath(pod), ifName: 'eth0', podNamespace: 'default', podName: `p${i}`, podUid: `u${i}` });
      nodes.push({ name: `node-${i}`, netns, ip, podCIDR, pod, podIP: r.ips![0].address.split('/')[0], controller });
    }
    return { nodes, ext, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function nodeObjects(lab: Lab): OverlayNode[] {
  return lab.nodes.map((n) => ({ name: n.name, podCIDR: n.podCIDR, internalIP: n.ip, vtepMac: n.controller.vtepMac }));
}

for (const mode of ['vxlan', 'host-gw'] as const) {
  test(`${mode}: pods on two nodes reach each other without NAT; egress is masqueraded; a removed node is unrouted`, async (t) => {
    requireRoot(ROOT_FOR);
    const lab = await buildLab(mode === 'vxlan' ? 'v' : 'h', mode);
    t.after(() => lab.cleanup());
    const [a, b] = lab.nodes;
    assert.equal(a.controller.mtu, mode === 'vxlan' ? 1450 : 1500);
    assert.ok(!ping(a.pod, b.podIP), 'no route before the overlay knows the peers');
    await Promise.all(lab.nodes.map((n) => n.controller.setNodes(nodeObjects(lab))));

    if (mode === 'vxlan') {
      const route = sh(['ip', '-n', a.netns, 'route', 'show', b.podCIDR]);
      assert.match(route, new RegExp(`10\\.244\\.2\\.0/24 via 10\\.244\\.2\\.0 dev ${VXLAN_DEVICE.replace('.', '\\.')} proto 77 onlink`));
      assert.match(sh(['ip', '-n', a.netns, 'neigh', 'show', 'dev', VXLAN_DEVICE]), new RegExp(`10\\.244\\.2\\.0 lladdr ${b.controller.vtepMac} PERMANENT`));
      assert.match(sh(['bridge', '-n', a.netns, 'fdb', 'show', 'dev', VXLAN_DEVICE]), new RegExp(`${b.controller.vtepMac} dst 172\\.31\\.0\\.12 self permanent`));
      const dev = JSON.parse(sh(['ip', '-n', a.netns, '-d', '-j', 'link', 'show', VXLAN_DEVICE]))[0];
      assert.equal(dev.mtu, 1450);
      assert.equal(dev.linkinfo.info_data.id, 1);
      assert.equal(dev.linkinfo.info_data.port, 8472);
    } else {
      assert.match(sh(['ip', '-n', a.netns, 'route', 'show', b.podCIDR]), /10\.244\.2\.0\/24 via 172\.31\.0\.12 dev eth0 proto 77/);
    }

    assert.ok(ping(a.pod, b.podIP), 'pod on node-1 pings pod on node-2');
    const server = peerAddressServer(b.pod, 7000);
    t.after(() => server.stop());
    await server.ready;
    assert.equal(tcpAsk(a.pod, b.podIP, 7000), a.podIP, 'the server sees the client pod address (no NAT)');

    // Leaving the cluster range: masqueraded to the node address.
    const ext = peerAddressServer(lab.ext, 7001);
    t.after(() => ext.stop());
    await ext.ready;
    await applyIpBatch(a.netns, new IpBatch().replaceRoute({ dst: 'default', via: '172.31.0.200' }));
    assert.equal(tcpAsk(a.pod, '172.31.0.200', 7001), a.ip);

    // Idempotent: a re-read of the kernel finds nothing to change.
    await a.controller.requestResync();

    // node-2 goes away: node-1 drops its route (and VXLAN entries).
    await a.controller.setNodes(nodeObjects(lab).filter((n) => n.name === 'node-1'));
    assert.equal(sh(['ip', '-n', a.netns, 'route', 'show', 'proto', '77']).trim(), '');
    if (mode === 'vxlan') {
      assert.doesNotMatch(sh(['bridge', '-n', a.netns, 'fdb', 'show', 'dev', VXLAN_DEVICE]), new RegExp(b.controller.vtepMac));
      assert.doesNotMatch(sh(['ip', '-n', a.netns, 'neigh', 'show', 'dev', VXLAN_DEVICE]), /PERMANENT/);
    }
    assert.ok(!ping(a.pod, b.podIP));
    // ...and comes back.
    await a.controller.setNodes(nodeObjects(lab));
    assert.ok(ping(a.pod, b.podIP));
    for (const n of lab.nodes) await n.controller.stop();
  });
}

test('a controller restarted on a configured namespace converges from the kernel state', async (t) => {
  requireRoot(ROOT_FOR);
  const lab = await buildLab('r', 'vxlan');
  t.after(() => lab.cleanup());
  const [a, b] = lab.nodes;
  await Promise.all(lab.nodes.map((n) => n.controller.setNodes(nodeObjects(lab))));
  // A stray route with our protocol number, left by an earlier run, is removed on resync.
  sh(['ip', '-n', a.netns, 'route', 'add', '10.244.9.0/24', 'via', '172.31.0.99', 'proto', '77']);
  const again = new OverlayController({ ...a.controller.opts });
  await again.setup();
  await again.setNodes(nodeObjects(lab));
  const routes = sh(['ip', '-n', a.netns, 'route', 'show', 'proto', '77']);
  assert.doesNotMatch(routes, /10\.244\.9\.0/);
  assert.match(routes, /10\.244\.2\.0\/24/);
  assert.ok(ping(a.pod, b.podIP));
});
