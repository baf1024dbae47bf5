import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mappingElements, hostportSkeleton } from '../../../src/cni/plugins/portmap.js';
import { renderConflist } from '../../../src/cni/conflist.js';
import { kubernetesCniArgs, pluginConfig } from '../../../src/cni/runtime.js';
import { hostVethName } from '../../../src/cni/plugins/bridge.js';
import { NftTransaction } from '../../../src/linux/nft.js';
import type { NetworkConfigList } from '../../../src/cni/types.js';

test('host port mappings become map elements; hostIP mappings use the address-keyed map', () => {
  const els = mappingElements(
    [
      { hostPort: 8080, containerPort: 80, protocol: 'TCP' },
      { hostPort: 5353, containerPort: 53, protocol: 'UDP', hostIP: '172.18.0.11' },
      { hostPort: 9090, containerPort: 90, hostIP: '::1' },
    ],
    '10.244.1.5',
  );
  assert.deepEqual(els.hostports, ['tcp . 8080 : 10.244.1.5 . 80']);
  assert.deepEqual(els.hostipHostports, ['172.18.0.11 . udp . 5353 : 10.244.1.5 . 53']);
  assert.deepEqual(els.hairpins, ['10.244.1.5 . 10.244.1.5 . tcp . 80', '10.244.1.5 . 10.244.1.5 . udp . 53']);
  assert.throws(() => mappingElements([{ hostPort: 0, containerPort: 80 }], '10.0.0.1'), /hostPort 0/);
  assert.throws(() => mappingElements([{ hostPort: 80, containerPort: 80, protocol: 'icmp' }], '10.0.0.1'), /protocol "icmp"/);
  assert.throws(() => mappingElements([{ hostPort: 80, containerPort: 80 }, { hostPort: 80, containerPort: 81 }], '10.0.0.1'), /repeats host port tcp\/80/);
  const tx = hostportSkeleton(new NftTransaction()).toString();
  assert.match(tx, /add chain ip flatnet-hostport prerouting \{ type nat hook prerouting priority -100; \}/);
  assert.match(tx, /masquerade/);
});

test('conflist: flatnet plugins at 1.1.0, reference plugins at 1.0.0, same layout', () => {
  const own = renderConflist({ podCIDR: '10.244.2.0/24', mtu: 1450, plugins: 'flatnet', dataDir: '/d' }) as NetworkConfigList;
  const ref = renderConflist({ podCIDR: '10.244.2.0/24', mtu: 1450, plugins: 'reference', dataDir: '/d' }) as NetworkConfigList;
  assert.equal(own.cniVersion, '1.1.0');
  assert.equal(ref.cniVersion, '1.0.0');
  assert.deepEqual(own.plugins.map((p) => p.type), ['flatnet-bridge', 'flatnet-portmap', 'flatnet-loopback']);
  assert.deepEqual(ref.plugins.map((p) => p.type), ['bridge', 'portmap', 'loopback']);
  assert.deepEqual((own.plugins[0] as any).ipam, { type: 'flatnet-host-local', ranges: [[{ subnet: '10.244.2.0/24' }]], dataDir: '/d/cni/networks' });
  assert.equal((ref.plugins[0] as any).ipam.type, 'host-local');
  assert.equal((ref.plugins[0] as any).mtu, 1450);
});

test('runtime: each plugin gets name, version, runtimeConfig by capability, and prevResult', () => {
  const list = renderConflist({ podCIDR: '10.244.2.0/24', mtu: 1450, plugins: 'flatnet', dataDir: '/d' }) as NetworkConfigList;
  const pm = [{ hostPort: 80, containerPort: 8080, protocol: 'tcp' }];
  const bridge = pluginConfig(list, list.plugins[0], { portMappings: pm });
  assert.equal(bridge.name, 'flatnet');
  assert.equal(bridge.cniVersion, '1.1.0');
  assert.equal(bridge.runtimeConfig, undefined);
  const prev = { cniVersion: '1.1.0', ips: [{ address: '10.244.2.2/24' }] };
  const portmap = pluginConfig(list, list.plugins[1], { portMappings: pm, prevResult: prev });
  assert.deepEqual(portmap.runtimeConfig, { portMappings: pm });
  assert.equal(portmap.capabilities, undefined);
  assert.deepEqual(portmap.prevResult, prev);
  assert.match(kubernetesCniArgs({ containerId: 'c', netnsPath: '/x', ifName: 'eth0', podNamespace: 'ns', podName: 'p', podUid: 'u' }), /K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_INFRA_CONTAINER_ID=c;K8S_POD_UID=u/);
  assert.equal(hostVethName('abc', 'eth0').length, 15);
  assert.notEqual(hostVethName('abc', 'eth0'), hostVethName('abc', 'eth1'));
});
