// flatnet's CNI runtime driving the reference plugins of containernetworking/plugins
// (/usr/lib/cni: bridge + host-local + portmap + loopback) with the conflist flatnet renders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCniRuntime, type AttachmentArgs } from '../../../src/cni/runtime.js';
import { netnsPath } from '../../../src/linux/netns.js';
import { makeFixture, peerAddressServer, ping, requireReferencePlugins, sh, tcpAsk } from './helpers.js';
import { requireRoot } from '../../support/prerequisites.js';

const REF = '/usr/lib/cni';
const ROOT_FOR = 'network namespaces, bridges and veths, host-port rules';

function attachment(id: string, netns: string, extra: Partial<AttachmentArgs> = {}): AttachmentArgs {
  return { containerId: id, netnsPath: netnsPath(netns), ifName: 'eth0', podNamespace: 'default', podName: id, podUid: `uid-${id}`, ...extra };
}

test('reference plugins under flatnet runtime: pods get addresses, talk, map host ports, and DEL cleans up', async (t) => {
  requireRoot(ROOT_FOR);
  requireReferencePlugins(REF);
  const fx = await makeFixture('reference', 'r');
  t.after(() => fx.cleanup());
  const node = await fx.newNetns('node');
  const p1 = await fx.newNetns('p1');
  const p2 = await fx.newNetns('p2');
  const rt = createCniRuntime({ conflistPath: fx.conflistPath, binDirs: [REF], hostNetns: node, cacheDir: join(fx.dir, 'cache') });
  assert.equal(rt.network.cniVersion, '1.0.0');

  const r1 = await rt.add(attachment('c1', p1, { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] }));
  const r2 = await rt.add(attachment('c2', p2));
  assert.equal(r1.interfaces?.[0].name, 'cni0');
  assert.equal(r1.interfaces?.[2].sandbox, netnsPath(p1));
  assert.equal(r1.ips?.[0].interface, 2);
  const ip1 = r1.ips![0].address.split('/')[0];
  const ip2 = r2.ips![0].address.split('/')[0];
  assert.ok(ping(p1, ip2));
  const server = peerAddressServer(p1, 80);
  t.after(() => server.stop());
  await server.ready;
  assert.equal(tcpAsk(p2, ip1, 80), ip2, 'direct pod-to-pod keeps the client address');
  // The reference portmap DNATs the host port and masquerades traffic from the pod subnet.
  assert.equal(tcpAsk(p2, '10.244.1.1', 8080), '10.244.1.1');
  // The final ADD result is cached for DEL, like libcni.
  assert.ok(existsSync(join(fx.dir, 'cache', 'flatnet-c1-eth0')));

  await rt.status(); // spec 1.0.0 plugins: STATUS is not sent, the binaries must exist
  await rt.del(attachment('c1', p1));
  await rt.del(attachment('c2', p2));
  const files = readdirSync(join(fx.dir, 'cni/networks/flatnet')).filter((n) => /^\d/.test(n));
  assert.deepEqual(files, []);
  assert.doesNotMatch(sh(['ip', '-n', node, 'link']), /veth/);
});

test('reference bridge + host-local: CHECK through flatnet runtime', async (t) => {
  requireRoot(ROOT_FOR);
  requireReferencePlugins(REF);
  const fx = await makeFixture('reference', 's');
  t.after(() => fx.cleanup());
  const list = {
    cniVersion: '1.0.0',
    name: 'flatnet',
    plugins: [
      { type: 'bridge', bridge: 'cni0', isGateway: true, isDefaultGateway: true, hairpinMode: true, mtu: 1450, ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.2.0/24' }]], dataDir: join(fx.dir, 'ipam') } },
      { type: 'loopback' },
    ],
  };
  writeFileSync(fx.conflistPath, JSON.stringify(list));
  const node = await fx.newNetns('node');
  const p1 = await fx.newNetns('p1');
  const rt = createCniRuntime({ conflistPath: fx.conflistPath, binDirs: [REF], hostNetns: node, cacheDir: join(fx.dir, 'cache') });
  await rt.add(attachment('c1', p1));
  await rt.check(attachment('c1', p1));
  sh(['ip', '-n', p1, 'address', 'flush', 'dev', 'eth0']);
  await assert.rejects(rt.check(attachment('c1', p1)));
  await rt.del(attachment('c1', p1));
});
