// The conntrack event reader on the real kernel, in a throwaway namespace gfi-n: every event is
// either delivered or counted, also when the reader is stopped long enough for the kernel to drop
// events (the count is the socket's own drop counter); and through FlowPipeline each UDP flow
// becomes a flow event. Needs root, /usr/bin/python3 and nft.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { CtnetlinkStream } from '../../../src/flows/ctnetlink-events.js';
import { CTNETLINK_READER_SCRIPT, ctGroupMask, DEFAULT_BATCH_MS, READER_PYTHON } from '../../../src/flows/ctnetlink-socket.js';
import { IdentityIndex, slimObjects } from '../../../src/flows/identity.js';
import { FlowPipeline } from '../../../src/flows/pipeline.js';
import { createLogger } from '../../../src/util/log.js';

const NS = 'gfi-n';
const sh = (cmd: string) => execFileSync('bash', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(() => {
  if (process.getuid?.() !== 0) throw new Error('this test needs root (network namespaces, netlink)');
  sh(`ip netns del ${NS} 2>/dev/null || true; ip netns add ${NS}; ip -n ${NS} link set lo up`);
  // A conntrack user in the namespace, so connections are tracked here.
  sh(`printf 'table ip gfi {\\n chain in { type filter hook input priority 0; ct state established accept\\n }\\n}\\n' | ip netns exec ${NS} nft -f -`);
});
after(() => sh(`ip netns del ${NS} 2>/dev/null || true`));

/** n UDP datagrams to distinct ports on the namespace's loopback: n new conntrack entries. */
function udpFlows(n: number, firstPort: number): void {
  sh(`ip netns exec ${NS} ${READER_PYTHON} -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for p in range(${firstPort}, ${firstPort + n}): s.sendto(b'x', ('127.0.0.1', p))
"`);
}

/** Waits until the count stops moving for two reader reporting periods. */
async function quiet(count: () => number): Promise<void> {
  let last = -1;
  while (count() !== last) {
    last = count();
    await settle(2500);
  }
}

test('a stopped reader loses events, and every lost event is counted', async () => {
  // 64 KiB (the kernel doubles it): a few hundred events fit while the reader is stopped.
  const child = spawn('ip', ['netns', 'exec', NS, READER_PYTHON, '-c', CTNETLINK_READER_SCRIPT, String(ctGroupMask('NEW')), '65536', String(DEFAULT_BATCH_MS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const stream = new CtnetlinkStream();
    let delivered = 0;
    let lost = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      for (const item of stream.push(chunk)) {
        if (item.kind === 'overrun') lost += item.lost;
        else if (item.event.type === 'NEW' && item.event.protocol === 'udp') delivered++;
      }
    });
    await new Promise((r) => child.stdout.once('data', r));
    child.kill('SIGSTOP');
    udpFlows(3000, 10000);
    child.kill('SIGCONT');
    await quiet(() => delivered + lost);
    assert.ok(lost > 0, `the stopped reader's socket should have overflowed (delivered ${delivered})`);
    assert.ok(delivered > 0, 'events queued before the overflow are delivered');
    assert.equal(delivered + lost, 3000, `delivered ${delivered} + counted ${lost}`);
  } finally {
    child.kill('SIGCONT');
    child.kill();
  }
});

test('FlowPipeline with the socket reader turns each UDP flow into a flow event', async () => {
  const index = new IdentityIndex(slimObjects({ pods: [], services: [], nodes: [], policies: [] }));
  const p = new FlowPipeline({ node: 'n', netns: NS, log: createLogger('test'), index, capacity: { verdicts: 64, connections: 10_000 } });
  const ports = new Set<number>();
  p.ring.subscribe((e) => {
    if (e.verdict === 'forwarded' && e.protocol === 'udp' && e.destination.port !== undefined) ports.add(e.destination.port);
  });
  p.start();
  try {
    await p.whenReady();
    udpFlows(500, 20000);
    await quiet(() => ports.size + p.stats().kernelLosses.conntrack);
    assert.equal(p.stats().kernelLosses.conntrack, 0);
    assert.equal(ports.size, 500);
    assert.ok([...ports].every((port) => port >= 20000 && port < 20500));
  } finally {
    p.stop();
  }
});
