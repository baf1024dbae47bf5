import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpBatch, FdbBatch, routeArgs } from '../../../src/linux/ip.js';
import { NftTransaction } from '../../../src/linux/nft.js';
import { parseCidr, nthAddress, macFromIp, cidrContains, ipToInt } from '../../../src/linux/ipv4.js';
import { inNetns } from '../../../src/linux/exec.js';

test('ip batch lines', () => {
  const b = new IpBatch()
    .addVeth('veth1', 'eth0', { mtu: 1450, peerNetns: '/run/netns/p', peerMac: '0a:58:0a:f4:01:02' })
    .setLink('veth1', { master: 'cni0', up: true })
    .addVxlan('flatnet.1', { vni: 1, port: 8472, local: '172.18.0.11', device: 'eth0', mtu: 1450 })
    .replaceRoute({ dst: '10.244.2.0/24', via: '10.244.2.0', dev: 'flatnet.1', onlink: true, proto: 77 })
    .replaceNeighbour('10.244.2.0', 'aa:bb:cc:dd:ee:ff', 'flatnet.1');
  assert.deepEqual(b.lines, [
    'link add veth1 mtu 1450 type veth peer name eth0 mtu 1450 address 0a:58:0a:f4:01:02 netns /run/netns/p',
    'link set dev veth1 master cni0 up',
    'link add flatnet.1 mtu 1450 type vxlan id 1 dstport 8472 local 172.18.0.11 dev eth0 nolearning',
    'route replace 10.244.2.0/24 via 10.244.2.0 dev flatnet.1 proto 77 onlink',
    'neigh replace 10.244.2.0 lladdr aa:bb:cc:dd:ee:ff dev flatnet.1 nud permanent',
  ]);
  assert.equal(routeArgs({ dst: '10.0.0.0/8', via: '1.2.3.4' }), '10.0.0.0/8 via 1.2.3.4');
  assert.deepEqual(new FdbBatch().replace('aa:bb:cc:dd:ee:ff', 'flatnet.1', '172.18.0.12').lines, ['fdb replace aa:bb:cc:dd:ee:ff dev flatnet.1 dst 172.18.0.12 self permanent']);
  assert.deepEqual(inNetns('n', ['nft', '-f', '-']), ['ip', 'netns', 'exec', 'n', 'nft', '-f', '-']);
});

test('nft transaction text', () => {
  const tx = new NftTransaction()
    .addTable('ip', 't')
    .addChain('ip', 't', 'post', { type: 'nat', hook: 'postrouting', priority: 100 })
    .flushChain('ip', 't', 'post')
    .addRule('ip', 't', 'post', 'masquerade')
    .deleteElements('ip', 't', 's', []);
  assert.equal(tx.toString(), 'add table ip t\nadd chain ip t post { type nat hook postrouting priority 100; }\nflush chain ip t post\nadd rule ip t post masquerade\n');
  assert.ok(new NftTransaction().empty);
});

test('ipv4 arithmetic', () => {
  assert.deepEqual(parseCidr('10.244.1.7/24'), { network: '10.244.1.0', prefix: 24, first: ipToInt('10.244.1.0'), last: ipToInt('10.244.1.255') });
  assert.equal(nthAddress('10.244.3.0/24', 1), '10.244.3.1');
  assert.equal(macFromIp('10.244.1.2'), '0a:58:0a:f4:01:02');
  assert.ok(cidrContains(parseCidr('10.244.0.0/16'), '10.244.9.9'));
  assert.throws(() => parseCidr('10.0.0.0'), /not an IPv4 CIDR/);
  assert.throws(() => ipToInt('1.2.3.256'), /not an IPv4 address/);
});
