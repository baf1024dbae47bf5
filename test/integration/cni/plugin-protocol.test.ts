// flatnet's plugins invoked exactly as a CNI runtime (libcni) does: CNI_* variables, the
// configuration on stdin, the result or error object on stdout. Their answers have the same
// shape as the reference plugins', and each side can delegate IPAM to the other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { netnsPath } from '../../../src/linux/netns.js';
import { makeFixture, ping, requireReferencePlugins } from './helpers.js';
import { requireRoot } from '../../support/prerequisites.js';

const REF = '/usr/lib/cni';

interface Call {
  bin: string;
  command: string;
  conf: unknown;
  netns?: string;
  containerId?: string;
  ifName?: string;
  path: string[];
  hostNetns?: string;
}

function call(c: Call): { code: number; out: any } {
  const argv = c.hostNetns ? ['ip', 'netns', 'exec', c.hostNetns, c.bin] : [c.bin];
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', CNI_COMMAND: c.command, CNI_PATH: c.path.join(':') };
  if (c.containerId) env.CNI_CONTAINERID = c.containerId;
  if (c.netns) env.CNI_NETNS = c.netns;
  if (c.ifName) env.CNI_IFNAME = c.ifName;
  env.CNI_ARGS = 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=x';
  const res = spawnSync(argv[0], argv.slice(1), { env, input: JSON.stringify(c.conf), encoding: 'utf8' });
  const text = res.stdout.trim();
  return { code: res.status ?? -1, out: text ? JSON.parse(text) : undefined };
}

/** The keys of a result, recursively, to compare shapes rather than values. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'dns' && k !== 'mtu').sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, shape(x)]));
  return typeof v;
}

test('VERSION and spec errors: codes 1, 4, 6, 7 as JSON on stdout with a non-zero exit', async (t) => {
  const fx = await makeFixture('flatnet', 'v');
  t.after(() => fx.cleanup());
  const bin = join(fx.binDir, 'flatnet-bridge');
  const v = call({ bin, command: 'VERSION', conf: { cniVersion: '1.1.0' }, path: [fx.binDir] });
  assert.equal(v.code, 0);
  assert.deepEqual(v.out.supportedVersions, ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']);

  const noNetns = call({ bin, command: 'ADD', conf: { cniVersion: '1.1.0', name: 'n', type: 'flatnet-bridge' }, containerId: 'x', ifName: 'eth0', path: [fx.binDir] });
  assert.equal(noNetns.code, 1);
  assert.equal(noNetns.out.code, 4);
  assert.match(noNetns.out.msg, /CNI_NETNS/);

  const badVersion = call({ bin, command: 'ADD', conf: { cniVersion: '9.9.9', name: 'n', type: 'flatnet-bridge' }, containerId: 'x', netns: '/run/netns/none', ifName: 'eth0', path: [fx.binDir] });
  assert.equal(badVersion.out.code, 1);

  const noIpam = call({ bin, command: 'ADD', conf: { cniVersion: '1.1.0', name: 'n', type: 'flatnet-bridge' }, containerId: 'x', netns: '/run/netns/none', ifName: 'eth0', path: [fx.binDir] });
  assert.equal(noIpam.out.code, 7);
  assert.equal(noIpam.out.cniVersion, '1.1.0');

  const res = spawnSync(bin, [], { env: { PATH: process.env.PATH ?? '', CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'x', CNI_NETNS: '/x', CNI_IFNAME: 'eth0' }, input: '{not json', encoding: 'utf8' });
  assert.notEqual(res.status, 0);
  assert.equal(JSON.parse(res.stdout).code, 6);
});

test('flatnet-bridge and reference bridge answer ADD with the same result shape; IPAM delegates both ways', async (t) => {
  requireRoot('network namespaces, bridges and veths');
  requireReferencePlugins(REF);
  const fx = await makeFixture('flatnet', 'p');
  t.after(() => fx.cleanup());
  const node = await fx.newNetns('node');
  const p1 = await fx.newNetns('p1');
  const p2 = await fx.newNetns('p2');
  const path = [fx.binDir, REF];
  // Ours: flatnet-bridge delegating to the reference host-local executable found in CNI_PATH.
  const ours = { cniVersion: '1.0.0', name: 'mixed', type: 'flatnet-bridge', bridge: 'cni0', isGateway: true, isDefaultGateway: true, hairpinMode: true, ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.3.0/24', rangeStart: '10.244.3.10', rangeEnd: '10.244.3.19' }]], dataDir: join(fx.dir, 'ipam') } };
  // Reference bridge delegating to flatnet-host-local (same network, second range of addresses).
  const theirs = { cniVersion: '1.0.0', name: 'mixed', type: 'bridge', bridge: 'cni0', isGateway: true, isDefaultGateway: true, hairpinMode: true, ipam: { type: 'flatnet-host-local', ranges: [[{ subnet: '10.244.3.0/24', rangeStart: '10.244.3.20', rangeEnd: '10.244.3.29' }]], dataDir: join(fx.dir, 'ipam2') } };
  const a = call({ bin: join(fx.binDir, 'flatnet-bridge'), command: 'ADD', conf: ours, containerId: 'c1', netns: netnsPath(p1), ifName: 'eth0', path, hostNetns: node });
  assert.equal(a.code, 0, JSON.stringify(a.out));
  const b = call({ bin: join(REF, 'bridge'), command: 'ADD', conf: theirs, containerId: 'c2', netns: netnsPath(p2), ifName: 'eth0', path, hostNetns: node });
  assert.equal(b.code, 0, JSON.stringify(b.out));
  assert.deepEqual(shape(a.out), shape(b.out));
  assert.equal(a.out.ips[0].address, '10.244.3.10/24');
  assert.equal(b.out.ips[0].address, '10.244.3.20/24');
  assert.ok(ping(p1, '10.244.3.20'), 'a pod made by flatnet-bridge reaches one made by the reference bridge');

  // CHECK with prevResult, as a runtime sends it.
  const chk = call({ bin: join(fx.binDir, 'flatnet-bridge'), command: 'CHECK', conf: { ...ours, prevResult: a.out }, containerId: 'c1', netns: netnsPath(p1), ifName: 'eth0', path, hostNetns: node });
  assert.equal(chk.code, 0, JSON.stringify(chk.out));

  // DEL without CNI_NETNS (the namespace may be gone) succeeds, twice.
  for (let i = 0; i < 2; i++) {
    const del = call({ bin: join(fx.binDir, 'flatnet-bridge'), command: 'DEL', conf: { ...ours, prevResult: a.out }, containerId: 'c1', ifName: 'eth0', path, hostNetns: node });
    assert.equal(del.code, 0, JSON.stringify(del.out));
  }
  const delRef = call({ bin: join(REF, 'bridge'), command: 'DEL', conf: { ...theirs, prevResult: b.out }, containerId: 'c2', netns: netnsPath(p2), ifName: 'eth0', path, hostNetns: node });
  assert.equal(delRef.code, 0, JSON.stringify(delRef.out));
  assert.ok(!ping(p1, '10.244.3.20'));
});

test('GC and STATUS of flatnet plugins (spec 1.1 verbs) invoked directly', async (t) => {
  requireRoot('network namespaces, bridges and veths');
  const fx = await makeFixture('flatnet', 'g');
  t.after(() => fx.cleanup());
  const node = await fx.newNetns('node');
  const pods = [await fx.newNetns('p1'), await fx.newNetns('p2')];
  const conf = { cniVersion: '1.1.0', name: 'gcnet', type: 'flatnet-bridge', bridge: 'cni0', isGateway: true, ipam: { type: 'flatnet-host-local', subnet: '10.244.4.0/24', dataDir: join(fx.dir, 'ipam') } };
  const bin = join(fx.binDir, 'flatnet-bridge');
  pods.forEach((p, i) => assert.equal(call({ bin, command: 'ADD', conf, containerId: `c${i}`, netns: netnsPath(p), ifName: 'eth0', path: [fx.binDir], hostNetns: node }).code, 0));
  assert.equal(call({ bin, command: 'STATUS', conf, path: [fx.binDir], hostNetns: node }).code, 0);
  const gc = call({ bin, command: 'GC', conf: { ...conf, 'cni.dev/valid-attachments': [{ containerID: 'c1', ifname: 'eth0' }] }, path: [fx.binDir], hostNetns: node });
  assert.equal(gc.code, 0, JSON.stringify(gc.out));
  assert.ok(!ping(pods[1], '10.244.4.2'), 'the invalid attachment lost its host veth');
  assert.deepEqual(readdirSync(join(fx.dir, 'ipam', 'gcnet')).filter((n) => /^\d/.test(n)), ['10.244.4.3']);
  // GC needs spec 1.1.0.
  const old = call({ bin, command: 'GC', conf: { ...conf, cniVersion: '1.0.0' }, path: [fx.binDir], hostNetns: node });
  assert.equal(old.out.code, 1);
});
