// The kernel layer of `flatnet trace` without a lab: two namespaces of our own joined by a veth,
// a Service-like DNAT (`ip flatnet-proxy`) and a policy-like drop (`inet flatnet-policy`) in the
// second; a trace session there while probes are sent from the first. The monitor must see
// every traced packet, the temporary table must be gone afterwards, and the probe results must
// be the kernel's (connected, timed out, refused, UDP answered).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { runCommand } from '../../../src/linux/exec.js';
import { kernelRoute, PROBE_DSCP_TEXT, sendProbe, TraceSession } from '../../../src/trace/kernel.js';
import { dropOf, groupByPacket, parseMonitorOutput, traceEvents } from '../../../src/trace/trace-lines.js';
import { requireRoot, requireTool } from '../../support/prerequisites.js';

const A = `trb${process.pid}-a`;
const B = `trb${process.pid}-b`;

const rules = `table ip flatnet-proxy {
  map svc {
    type ipv4_addr . inet_proto . inet_service : verdict
    elements = { 10.99.0.2 . tcp . 81 : goto pick }
  }
  chain pick {
    meta l4proto tcp dnat ip to 10.99.0.2:80
  }
  chain nat-prerouting {
    type nat hook prerouting priority -100;
    jump services
  }
  chain services {
    ip daddr . meta l4proto . th dport vmap @svc
  }
}
table inet flatnet-policy {
  chain input {
    type filter hook input priority filter; policy accept;
    ct state established,related accept
    tcp dport 82 counter drop comment "ingress not allowed by any NetworkPolicy"
  }
}
`;

test('trace session and probes in real namespaces', { timeout: 120_000 }, async (t) => {
  requireRoot('it creates network namespaces and nftables tables');
  requireTool('nft', 'Debian package nftables');
  requireTool('socat', 'Debian package socat');
  requireTool('/usr/bin/python3', 'Debian package python3');
  const children: ChildProcess[] = [];
  t.after(async () => {
    for (const c of children) c.kill();
    for (const ns of [A, B]) await runCommand(['ip', 'netns', 'del', ns]).catch(() => undefined);
  });
  for (const ns of [A, B]) await runCommand(['ip', 'netns', 'add', ns]);
  await runCommand(['ip', 'link', 'add', 'trb-va', 'netns', A, 'type', 'veth', 'peer', 'name', 'trb-vb', 'netns', B]);
  for (const [ns, dev, ip] of [[A, 'trb-va', '10.99.0.1/24'], [B, 'trb-vb', '10.99.0.2/24']]) {
    await runCommand(['ip', '-n', ns, 'addr', 'add', ip, 'dev', dev]);
    await runCommand(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    await runCommand(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  await runCommand(['nft', '-f', '-'], { netns: B, input: rules });
  const tcp = spawn('ip', ['netns', 'exec', B, 'socat', 'TCP-LISTEN:80,reuseaddr,fork', '/dev/null'], { stdio: 'ignore' });
  const udp = spawn('ip', ['netns', 'exec', B, 'socat', 'UDP-RECVFROM:53,fork', 'EXEC:/bin/echo pong'], { stdio: 'ignore' });
  children.push(tcp, udp);
  // Wait for both listeners.
  for (let i = 0; i < 100; i++) {
    const { stdout: tcpListeners } = await runCommand(['ss', '-ltn'], { netns: B });
    const { stdout: udpListeners } = await runCommand(['ss', '-lun'], { netns: B });
    if (tcpListeners.includes(':80 ') && udpListeners.includes(':53 ')) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  const sourcePort = 62001;
  const session = new TraceSession([{ node: 'b', netns: B }], `flatnet-trace-${sourcePort}`, sourcePort);
  let outputs: Map<string, string>;
  const results: string[] = [];
  try {
    await session.start();
    results.push((await sendProbe(A, { ip: '10.99.0.2', port: 81, protocol: 'tcp', sourcePort, timeoutSeconds: 2 })).result);
    results.push((await sendProbe(A, { ip: '10.99.0.2', port: 82, protocol: 'tcp', sourcePort, timeoutSeconds: 1.5 })).result);
    results.push((await sendProbe(A, { ip: '10.99.0.2', port: 83, protocol: 'tcp', sourcePort, timeoutSeconds: 2 })).result);
    results.push((await sendProbe(A, { ip: '10.99.0.2', port: 53, protocol: 'udp', sourcePort, timeoutSeconds: 10 })).result);
  } finally {
    outputs = await session.stop();
  }
  assert.deepEqual(results, ['connected', 'timeout', 'refused', 'answered']);
  const { stdout: tables } = await runCommand(['nft', 'list', 'tables'], { netns: B });
  assert.doesNotMatch(tables, /flatnet-trace/, 'the trace table must be removed');

  const walks = groupByPacket(traceEvents(parseMonitorOutput(outputs.get('b') ?? '')));
  const requests = walks.filter((w) => w.packets[0]?.packet.sport === sourcePort);
  assert.ok(requests.every((w) => w.packets[0].packet.dscp === PROBE_DSCP_TEXT), 'every probe packet carries the probe DSCP');
  const dnat = requests.find((w) => w.packets[0].packet.dport === 81);
  assert.ok(dnat, `no traced SYN to port 81 in:\n${outputs.get('b')}`);
  assert.ok(dnat.events.some((e) => e.kind === 'rule' && e.table === 'flatnet-proxy' && e.chain === 'pick' && e.verdict === 'accept'));
  assert.equal(dnat.packets.at(-1)?.packet.dport, 80, 'the input hook sees the DNAT result');
  const dropped = requests.filter((w) => w.packets[0].packet.dport === 82).map(dropOf);
  assert.ok(dropped.length >= 1 && dropped.every((d) => d?.table === 'flatnet-policy'), `drops: ${JSON.stringify(dropped)}`);
  assert.ok(requests.some((w) => w.packets[0].packet.protocol === 'udp'));

  assert.deepEqual(await kernelRoute(A, '10.99.0.2'), { to: '10.99.0.2', dev: 'trb-va', gateway: undefined });
  assert.match((await kernelRoute(A, '192.0.2.1')).error ?? '', /unreachable/i);
});

test('stop() after a failed start removes what was added and leaves no monitor', async () => {
  requireRoot('it creates network namespaces and nftables tables');
  const session = new TraceSession([{ node: 'x', netns: `trb${process.pid}-missing` }], 'flatnet-trace-1', 1);
  await assert.rejects(session.start(2000), /trb\d+-missing/);
  const out = await session.stop(500);
  assert.match(out.get('x') ?? '', /stderr/);
});
