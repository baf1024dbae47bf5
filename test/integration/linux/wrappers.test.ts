// The thin kernel wrappers against a real namespace: ip batches, queries, sysctl, atomic nft
// transactions, conntrack, and errors that carry the command and the tool's stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addNetns, deleteNetns, listNetns, netnsExists, netnsPids } from '../../../src/linux/netns.js';
import { IpBatch, FdbBatch, applyIpBatch, applyFdbBatch, getLink, listAddresses, listRoutes, listNeighbours, listFdb } from '../../../src/linux/ip.js';
import { NftTransaction, listRuleset, listTables } from '../../../src/linux/nft.js';
import { getSysctl, setSysctls } from '../../../src/linux/sysctl.js';
import { deleteConntrack, listConntrack } from '../../../src/linux/conntrack.js';
import { CommandError } from '../../../src/linux/exec.js';
import { execFileSync } from 'node:child_process';
import { requireRoot, requireTool } from '../../support/prerequisites.js';

const NS = 'flatnet-t-linux-w';

test('netns, ip batches and queries, fdb, sysctl', async (t) => {
  requireRoot('network namespaces, links, sysctls');
  await deleteNetns(NS);
  await addNetns(NS);
  t.after(() => deleteNetns(NS));
  assert.ok(netnsExists(NS) && listNetns().includes(NS));
  assert.deepEqual(await netnsPids(NS), []);
  await applyIpBatch(
    NS,
    new IpBatch()
      .addBridge('br0')
      .addVeth('va', 'vb', { mtu: 1400 })
      .setLink('va', { master: 'br0', up: true })
      .setLink('br0', { up: true })
      .setLink('vb', { up: true })
      .replaceAddress('10.9.0.1/24', 'br0')
      .replaceAddress('10.9.0.1/24', 'br0') // idempotent
      .addVxlan('vx0', { vni: 7, port: 8472, local: '10.9.0.1', mtu: 1350, mac: '0e:00:00:00:00:07' })
      .setLink('vx0', { up: true })
      .replaceRoute({ dst: '10.10.0.0/24', via: '10.10.0.0', dev: 'vx0', onlink: true, proto: 77 })
      .replaceNeighbour('10.10.0.0', '0e:00:00:00:00:08', 'vx0'),
  );
  await applyFdbBatch(NS, new FdbBatch().replace('0e:00:00:00:00:08', 'vx0', '10.9.0.2'));
  assert.equal((await getLink(NS, 'va'))?.mtu, 1400);
  assert.equal((await getLink(NS, 'va'))?.master, 'br0');
  assert.equal(await getLink(NS, 'nope'), undefined);
  const vx = await getLink(NS, 'vx0', { details: true });
  assert.equal((vx?.linkinfo?.info_data as { id: number }).id, 7);
  assert.equal((await listAddresses(NS, 'br0'))[0].addr_info.filter((a) => a.family === 'inet').length, 1);
  assert.deepEqual((await listRoutes(NS, { proto: 77 })).map((r) => [r.dst, r.gateway, r.dev]), [['10.10.0.0/24', '10.10.0.0', 'vx0']]);
  assert.equal((await listNeighbours(NS, 'vx0'))[0].lladdr, '0e:00:00:00:00:08');
  assert.ok((await listFdb(NS, 'vx0')).some((f) => f.mac === '0e:00:00:00:00:08' && f.dst === '10.9.0.2'));

  await setSysctls(NS, { 'net.ipv4.ip_forward': 1, 'net.ipv4.conf.all.rp_filter': 0 });
  assert.equal(await getSysctl(NS, 'net.ipv4.ip_forward'), '1');

  // A failing batch names the command, the failing line's error and the input.
  await assert.rejects(applyIpBatch(NS, ['link set dev ghost up']), (e: CommandError) => {
    assert.ok(e instanceof CommandError);
    assert.deepEqual(e.argv.slice(0, 3), ['ip', '-n', NS]);
    assert.match(e.stderr, /ghost/);
    assert.match(e.message, /link set dev ghost up/);
    return true;
  });
});

test('nft transactions are atomic; conntrack lists and deletes', async (t) => {
  requireRoot('network namespaces, nftables, conntrack');
  requireTool('nft', 'nftables (Debian/Ubuntu: apt-get install nftables)');
  requireTool('conntrack', 'conntrack-tools (Debian/Ubuntu: apt-get install conntrack)');
  const ns = `${NS}2`;
  await deleteNetns(ns);
  await addNetns(ns);
  t.after(() => deleteNetns(ns));
  await new NftTransaction()
    .addTable('ip', 'ft')
    .addChain('ip', 'ft', 'post', { type: 'nat', hook: 'postrouting', priority: 100 })
    .addSet('ip', 'ft', 'ips', 'type ipv4_addr;')
    .addElements('ip', 'ft', 'ips', ['10.0.0.1', '10.0.0.2'])
    .addRule('ip', 'ft', 'post', 'ip saddr @ips masquerade')
    .apply(ns);
  assert.deepEqual(await listTables(ns), ['ip ft']);
  // One bad statement rejects the whole transaction: the good ones before it are not applied.
  const bad = new NftTransaction().addElements('ip', 'ft', 'ips', ['10.0.0.3']).addRule('ip', 'ft', 'post', 'this is not nft');
  await assert.rejects(bad.apply(ns), (e: CommandError) => e instanceof CommandError && /syntax error/.test(e.stderr));
  assert.doesNotMatch(await listRuleset(ns), /10\.0\.0\.3/);

  // A UDP flow tracked by conntrack (the nat table makes the namespace track connections).
  execFileSync('ip', ['netns', 'exec', ns, 'socat', '-u', '-', 'UDP:127.0.0.1:9999'], { input: 'x' });
  const flows = await listConntrack(ns, { proto: 'udp', dport: 9999 });
  assert.equal(flows.length, 1, flows.join('\n'));
  assert.equal(await deleteConntrack(ns, { proto: 'udp', dst: '127.0.0.1', dport: 9999 }), 1);
  assert.deepEqual(await listConntrack(ns, { proto: 'udp', dport: 9999 }), []);
  assert.equal(await deleteConntrack(ns, { proto: 'udp', dst: '10.0.0.9' }), 0);

  await new NftTransaction().deleteTableIfExists('ip', 'ft').deleteTableIfExists('ip', 'never-made').apply(ns);
  assert.deepEqual(await listTables(ns), []);
});
