// flatnet's CNI runtime driving flatnet's own plugins in a real node namespace: ADD/CHECK/DEL,
// pod-to-pod on one bridge, host ports (DNAT and hairpin), concurrent ADDs and IP release, GC.
// Every scenario runs twice: plugins exec'd (as any runtime runs them) and called in-process (the
// agent's path), whose node-side work must land in the node namespace, not the caller's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createCniRuntime, type AttachmentArgs } from '../../../src/cni/runtime.js';
import { CniError } from '../../../src/cni/types.js';
import { netnsPath } from '../../../src/linux/netns.js';
import { getLink, listLinks } from '../../../src/linux/ip.js';
import { macFromIp } from '../../../src/linux/ipv4.js';
import { makeFixture, peerAddressServer, ping, sh, tcpAsk } from './helpers.js';
import { requireRoot } from '../../support/prerequisites.js';

const ROOT_FOR = 'network namespaces, bridges and veths, host-port nftables rules';

function attachment(id: string, netns: string, extra: Partial<AttachmentArgs> = {}): AttachmentArgs {
  return { containerId: id, netnsPath: netnsPath(netns), ifName: 'eth0', podNamespace: 'default', podName: id, podUid: `uid-${id}`, ...extra };
}

function allocatedIps(dir: string): string[] {
  try {
    return readdirSync(join(dir, 'cni/networks/flatnet')).filter((n) => /^\d+\.\d+\.\d+\.\d+$/.test(n));
  } catch {
    return [];
  }
}

for (const mode of ['exec', 'in-process'] as const) {
  const execOwnPlugins = mode === 'exec';
  const tag = mode === 'exec' ? 'e' : 'i';

  test(`flatnet plugins (${mode}): two pods on one bridge talk without NAT; CHECK passes; DEL releases`, async (t) => {
    requireRoot(ROOT_FOR);
    const fx = await makeFixture('flatnet', `a${tag}`);
    t.after(() => fx.cleanup());
    const node = await fx.newNetns('node');
    const p1 = await fx.newNetns('p1');
    const p2 = await fx.newNetns('p2');
    const rt = createCniRuntime({ conflistPath: fx.conflistPath, binDirs: [fx.binDir], hostNetns: node, cacheDir: join(fx.dir, 'cache'), execOwnPlugins });

    const r1 = await rt.add(attachment('c1', p1));
    const r2 = await rt.add(attachment('c2', p2));
    assert.equal(r1.cniVersion, '1.1.0');
    assert.deepEqual(r1.interfaces?.map((i) => i.name), ['cni0', r1.interfaces![1].name, 'eth0']);
    assert.equal(r1.interfaces?.[2].sandbox, netnsPath(p1));
    assert.equal(r1.ips?.[0].interface, 2);
    assert.equal(r1.ips?.[0].gateway, '10.244.1.1');
    assert.deepEqual(r1.routes, [{ dst: '0.0.0.0/0', gw: '10.244.1.1' }]);
    const ip1 = r1.ips![0].address.split('/')[0];
    const ip2 = r2.ips![0].address.split('/')[0];
    assert.notEqual(ip1, ip2);

    // Pod side: MTU from the config, lo up (loopback plugin), default route via the bridge.
    const eth0 = JSON.parse(sh(['ip', '-n', p1, '-j', 'link', 'show', 'eth0']))[0];
    assert.equal(eth0.mtu, 1450);
    assert.match(sh(['ip', '-n', p1, 'route']), /default via 10\.244\.1\.1 dev eth0/);
    assert.match(sh(['ip', '-n', p1, 'link', 'show', 'lo']), /UP/);
    // Host side: hairpin on the bridge port.
    const veth = r1.interfaces![1].name;
    assert.match(sh(['ip', '-n', node, '-d', 'link', 'show', veth]), /hairpin on/);
    // The result's MACs are the kernel's, and nothing landed in the caller's namespace.
    assert.equal(r1.interfaces![0].mac, (await getLink(node, 'cni0'))?.address);
    assert.equal(r1.interfaces![1].mac, (await getLink(node, veth))?.address);
    assert.equal(await getLink(undefined, veth), undefined, 'the host veth is not in the test process namespace');

    assert.ok(ping(p1, ip2), 'pod 1 pings pod 2');
    const server = peerAddressServer(p2, 8000);
    t.after(() => server.stop());
    await server.ready;
    assert.equal(tcpAsk(p1, ip2, 8000), ip1, 'pod 2 sees pod 1 by its own address (no NAT)');

    await rt.check(attachment('c1', p1));
    // CHECK notices a missing address.
    sh(['ip', '-n', p1, 'address', 'flush', 'dev', 'eth0']);
    await assert.rejects(rt.check(attachment('c1', p1)), (e: CniError) => e instanceof CniError && /lacks address/.test(e.message));

    await rt.del(attachment('c1', p1));
    await rt.del(attachment('c1', p1)); // DEL is idempotent
    assert.deepEqual(allocatedIps(fx.dir), [ip2]);
    const links = (await listLinks(node)).map((l) => l.ifname);
    assert.ok(!links.includes(veth), 'host veth removed');
    await rt.status();
  });

  test(`flatnet plugins (${mode}): host ports DNAT from the node address and hairpin back to the same pod`, async (t) => {
    requireRoot(ROOT_FOR);
    const fx = await makeFixture('flatnet', `b${tag}`);
    t.after(() => fx.cleanup());
    const node = await fx.newNetns('node');
    const p1 = await fx.newNetns('p1');
    const p2 = await fx.newNetns('p2');
    const rt = createCniRuntime({ conflistPath: fx.conflistPath, binDirs: [fx.binDir], hostNetns: node, cacheDir: join(fx.dir, 'cache'), execOwnPlugins });
    const r1 = await rt.add(attachment('c1', p1, { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'TCP' }] }));
    const r2 = await rt.add(attachment('c2', p2));
    const ip1 = r1.ips![0].address.split('/')[0];
    const ip2 = r2.ips![0].address.split('/')[0];
    const server = peerAddressServer(p1, 80);
    t.after(() => server.stop());
    await server.ready;

    // Another pod reaches pod 1 through the node's address and the host port; pod 1 sees pod 2.
    assert.equal(tcpAsk(p2, '10.244.1.1', 8080), ip2);
    // From the node itself.
    assert.equal(tcpAsk(node, '10.244.1.1', 8080), '10.244.1.1');
    // Hairpin: pod 1 reaches itself through the host port; it is masqueraded to the gateway.
    assert.equal(tcpAsk(p1, '10.244.1.1', 8080), '10.244.1.1');

    // A second pod asking for the same host port is refused with a flatnet error code.
    const p3 = await fx.newNetns('p3');
    await assert.rejects(
      rt.add(attachment('c3', p3, { portMappings: [{ hostPort: 8080, containerPort: 81, protocol: 'TCP' }] })),
      (e: CniError) => e instanceof CniError && e.code === 100 && /already mapped/.test(e.message),
    );
    assert.equal(allocatedIps(fx.dir).length, 2, 'the refused ADD released its address');

    await rt.del(attachment('c1', p1));
    assert.doesNotMatch(sh(['ip', 'netns', 'exec', node, 'nft', 'list', 'map', 'ip', 'flatnet-hostport', 'hostports']), /8080/);
    assert.throws(() => tcpAsk(p2, '10.244.1.1', 8080));
    assert.ok(ip1);

    // The host-port table removed behind the runtime's back (a long-lived caller remembers having
    // made it): the next ADD puts it back, and its mapping works.
    sh(['ip', 'netns', 'exec', node, 'nft', 'delete', 'table', 'ip', 'flatnet-hostport']);
    const p4 = await fx.newNetns('p4');
    await rt.add(attachment('c4', p4, { portMappings: [{ hostPort: 8081, containerPort: 80, protocol: 'TCP' }] }));
    const server4 = peerAddressServer(p4, 80);
    t.after(() => server4.stop());
    await server4.ready;
    assert.equal(tcpAsk(p2, '10.244.1.1', 8081), ip2);
    assert.match(sh(['ip', 'netns', 'exec', node, 'nft', 'list', 'chain', 'ip', 'flatnet-hostport', 'prerouting']), /jump hostports-dnat/);
  });

  test(`flatnet plugins (${mode}): 24 concurrent ADDs get distinct addresses; DEL and GC release them`, async (t) => {
    requireRoot(ROOT_FOR);
    const fx = await makeFixture('flatnet', `c${tag}`);
    t.after(() => fx.cleanup());
    const node = await fx.newNetns('node');
    const pods: string[] = [];
    for (let i = 0; i < 24; i++) pods.push(await fx.newNetns(`p${i}`));
    const rt = createCniRuntime({ conflistPath: fx.conflistPath, binDirs: [fx.binDir], hostNetns: node, cacheDir: join(fx.dir, 'cache'), execOwnPlugins });
    const results = await Promise.all(pods.map((p, i) => rt.add(attachment(`c${i}`, p))));
    const ips = results.map((r) => r.ips![0].address);
    assert.equal(new Set(ips).size, 24, `distinct addresses: ${ips.join(' ')}`);
    assert.equal(allocatedIps(fx.dir).length, 24);
    assert.ok(ping(pods[0], ips[23].split('/')[0]));

    await Promise.all(pods.slice(0, 12).map((p, i) => rt.del(attachment(`c${i}`, p))));
    assert.equal(allocatedIps(fx.dir).length, 12);

    // GC keeps only the attachments said to be valid.
    const valid = [12, 13].map((i) => ({ containerID: `c${i}`, ifname: 'eth0' }));
    await rt.gc(valid);
    assert.deepEqual(allocatedIps(fx.dir).sort(), [ips[12], ips[13]].map((a) => a.split('/')[0]).sort());
    const veths = (await listLinks(node)).filter((l) => l.ifname.startsWith('veth'));
    assert.equal(veths.length, 2, 'GC removed the host veths of invalid attachments');
    assert.deepEqual(readdirSync(join(fx.dir, 'cache')).sort(), ['flatnet-c12-eth0', 'flatnet-c13-eth0']);
  });
}

test('flatnet plugins (in-process): prepare makes the bridge before the first ADD, with the MAC that ADD gives it; exec\'d plugins make it at their first ADD', async (t) => {
  requireRoot(ROOT_FOR);
  const fx = await makeFixture('flatnet', 'pp');
  t.after(() => fx.cleanup());
  const node = await fx.newNetns('node');
  const execNode = await fx.newNetns('enode');
  const p1 = await fx.newNetns('p1');
  const rt = createCniRuntime({ conflistPath: fx.conflistPath, binDirs: [fx.binDir], hostNetns: node, cacheDir: join(fx.dir, 'cache') });
  await rt.prepare();
  const bridge = await getLink(node, 'cni0');
  assert.ok(bridge, 'cni0 exists before any pod');
  assert.equal(bridge.address, macFromIp('10.244.1.1'));
  await rt.prepare(); // made once; again is a no-op
  const r1 = await rt.add(attachment('c1', p1));
  assert.equal(r1.interfaces![0].mac, bridge.address);
  assert.match(sh(['ip', '-n', node, 'address', 'show', 'dev', 'cni0']), /inet 10\.244\.1\.1\/24/);
  const execRt = createCniRuntime({ conflistPath: fx.conflistPath, binDirs: [fx.binDir], hostNetns: execNode, cacheDir: join(fx.dir, 'ecache'), execOwnPlugins: true });
  await execRt.prepare();
  assert.equal(await getLink(execNode, 'cni0'), undefined);
});
