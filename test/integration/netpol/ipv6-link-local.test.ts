// Pods on one bridge also have IPv6 link-local addresses; NetworkPolicy is enforced for IPv4,
// so the policy table must not let TCP/UDP between pods through over IPv6 link-local.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { connectInNetns, listenInNetns } from '../../../src/linux/netns-socket.js';
import { PolicyTableExecutor } from '../../../src/netpol/executor.js';
import { emptyState } from '../../../src/netpol/render.js';
import { GATEWAY, POD_CIDR, podIp } from '../../unit/netpol/fixtures/topology.js';
import { PolicyNetLab } from './netlab.js';
import { requireRoot } from '../../support/prerequisites.js';

function linkLocal(netns: string): string {
  const out = JSON.parse(execFileSync('ip', ['-n', netns, '-j', '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'link'], { encoding: 'utf8' })) as { addr_info: { local: string }[] }[];
  const a = out[0]?.addr_info[0]?.local;
  if (!a) throw new Error(`no IPv6 link-local address on eth0 in ${netns}`);
  return a;
}

async function reaches(from: string, host: string, port: number): Promise<boolean> {
  try {
    (await connectInNetns(from, host, port, 400)).destroy();
    return true;
  } catch {
    return false;
  }
}

test('no TCP between pods over IPv6 link-local once the policy table is in place', async (t) => {
  requireRoot('network namespaces, nftables');
  const lab = new PolicyNetLab(`6${process.pid % 100000}`);
  t.after(() => lab.tearDown());
  lab.setUp();
  lab.addPod('x/a');
  lab.addPod('x/b');
  const server = await listenInNetns(lab.podNetns('x/b'), { host: '::', port: 82, type: 'tcp' });
  server.on('connection', (c) => {
    c.on('error', () => {});
    c.end('hi');
  });
  t.after(() => server.close());
  // Wait for duplicate address detection to finish on both pods' link-local addresses.
  const tentative = (ref: string) => /tentative/.test(execFileSync('ip', ['-n', lab.podNetns(ref), '-6', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' }));
  for (let i = 0; i < 100 && (tentative('x/a') || tentative('x/b')); i++) await new Promise((r) => setTimeout(r, 100));
  const target = `${linkLocal(lab.podNetns('x/b'))}%eth0`;
  assert.equal(await reaches(lab.podNetns('x/a'), target, 82), true, 'without the table, link-local TCP works (control)');
  const executor = new PolicyTableExecutor({ podCIDR: POD_CIDR, gateway: GATEWAY }, lab.node);
  const state = emptyState();
  state.admitted.add(podIp('x/a'));
  state.admitted.add(podIp('x/b'));
  await executor.apply(state);
  assert.equal(await reaches(lab.podNetns('x/a'), target, 82), false, 'with the table, link-local TCP is dropped');
});
