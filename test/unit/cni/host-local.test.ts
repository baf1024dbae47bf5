import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ipamAdd, ipamCheck, ipamDel, ipamGc, resolveRanges } from '../../../src/cni/plugins/host-local.js';
import type { CniError, PluginConf } from '../../../src/cni/types.js';

function conf(dataDir: string, range: Record<string, string> = { subnet: '10.244.1.0/29' }): PluginConf {
  return { cniVersion: '1.1.0', name: 'net', type: 'flatnet-host-local', ipam: { type: 'flatnet-host-local', ranges: [[range]], dataDir } };
}

test('ranges: defaults (.1 gateway, usable bounds) and field errors', () => {
  const [r] = resolveRanges({ type: 'x', subnet: '10.244.1.0/24' });
  assert.equal(r.gateway, '10.244.1.1');
  assert.throws(() => resolveRanges({ type: 'x' }), /ranges/);
  assert.throws(() => resolveRanges({ type: 'x', ranges: [[{ subnet: 'fd00::/64' }]] }), (e: CniError) => e.code === 2);
  assert.throws(() => resolveRanges({ type: 'x', ranges: [[{ subnet: '10.0.0.0/24', rangeStart: '10.0.1.5' }]] }), /rangeStart 10\.0\.1\.5 is outside/);
});

test('allocates round-robin skipping the gateway, records the owner, releases by container and ifname', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-ipam-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const c = conf(dir);
  const ips = ['a', 'b', 'c'].map((id) => ipamAdd({ conf: c, containerId: id, ifName: 'eth0', args: {} }).ips![0]);
  assert.deepEqual(ips.map((i) => i.address), ['10.244.1.2/29', '10.244.1.3/29', '10.244.1.4/29']);
  assert.equal(ips[0].gateway, '10.244.1.1');
  assert.equal(readFileSync(join(dir, 'net', '10.244.1.3'), 'utf8'), 'b\r\neth0');
  ipamCheck({ conf: { ...c, prevResult: { cniVersion: '1.1.0', ips: [ips[1]] } }, containerId: 'b', ifName: 'eth0' });
  assert.deepEqual(ipamDel({ conf: c, containerId: 'b', ifName: 'eth0' }), ['10.244.1.3']);
  assert.deepEqual(ipamDel({ conf: c, containerId: 'b', ifName: 'eth0' }), []);
  assert.throws(() => ipamCheck({ conf: c, containerId: 'b', ifName: 'eth0' }), (e: CniError) => e.code === 3);
  // Round robin continues after the last reserved address, then wraps to the freed one.
  assert.equal(ipamAdd({ conf: c, containerId: 'd', ifName: 'eth0', args: {} }).ips![0].address, '10.244.1.5/29');
  assert.equal(ipamAdd({ conf: c, containerId: 'e', ifName: 'eth0', args: {} }).ips![0].address, '10.244.1.6/29');
  assert.equal(ipamAdd({ conf: c, containerId: 'f', ifName: 'eth0', args: {} }).ips![0].address, '10.244.1.3/29');
  assert.throws(() => ipamAdd({ conf: c, containerId: 'g', ifName: 'eth0', args: {} }), (e: CniError) => e.code === 101 && /no free address/.test(e.message));
  // GC keeps valid attachments only.
  assert.deepEqual(ipamGc(c, [{ containerID: 'a', ifname: 'eth0' }]).sort(), ['10.244.1.3', '10.244.1.4', '10.244.1.5', '10.244.1.6']);
  assert.deepEqual(readdirSync(join(dir, 'net')).filter((n) => /^\d/.test(n)), ['10.244.1.2']);
});

test('a requested address (CNI_ARGS IP) is honoured or refused', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-ipam-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const c = conf(dir, { subnet: '10.244.1.0/24' });
  assert.equal(ipamAdd({ conf: c, containerId: 'a', ifName: 'eth0', args: { IP: '10.244.1.77' } }).ips![0].address, '10.244.1.77/24');
  assert.throws(() => ipamAdd({ conf: c, containerId: 'b', ifName: 'eth0', args: { IP: '10.244.1.77' } }), /already allocated/);
});
