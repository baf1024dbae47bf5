// BGP sessions with a password (TCP MD5 signatures, RFC 2385) against a real BIRD 2 configured
// with `password`: a node speaker whose BGPPeer carries the same password establishes and BIRD's
// own CLI shows its pod CIDR; with a wrong password or none, BIRD's kernel drops the SYNs (its
// namespace's TcpExtTCPMD5Failure / TCPMD5NotFound counters rise) and no session comes up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { NodeSpeaker } from '../../../src/overlay/bgp/node-speaker.js';
import { peersForNode } from '../../../src/overlay/bgp/peers.js';
import { connectWithMd5, loadTcpMd5Addon } from '../../../src/overlay/bgp/md5-connect.js';
import { stopNetnsBrokers } from '../../../src/linux/netns-socket.js';
import { requireRoot, requireTool } from '../../support/prerequisites.js';
import { addNetns, deleteNetns, eventually, linkNetns, startBird, type Bird } from '../../support/routing-daemons.js';

const tag = `bm${process.pid % 100000}`;
const OURS = `${tag}-a`;
const BIRDS = `${tag}-b`;
const OUR_IP = '172.31.249.1';
const BIRD_IP = '172.31.249.2';
const PASSWORD = 'flatnet-md5-Ø-key';

/** A TCP extension counter of `netns` (nstat, absolute value). */
function tcpExt(netns: string, name: string): number {
  const out = execFileSync('ip', ['netns', 'exec', netns, 'nstat', '-az', name], { encoding: 'utf8' });
  const m = new RegExp(`^${name}\\s+(\\d+)`, 'm').exec(out);
  return m ? Number(m[1]) : 0;
}

test('BGP with a TCP MD5 password against BIRD: right key up, wrong or missing key refused', async (t) => {
  requireRoot('network namespaces');
  requireTool('bird', 'the Debian package bird2 (scripts/ensure-deps installs it)');
  requireTool('nstat', 'the Debian package iproute2');
  const addon = loadTcpMd5Addon();
  assert.ok(addon.addon, `the TCP MD5 addon must be built (npm run build:native): ${addon.error}`);
  const running: { bird?: Bird; speakers: NodeSpeaker[] } = { speakers: [] };
  t.after(async () => {
    for (const s of running.speakers) await s.stop({ withdraw: true });
    await running.bird?.stop();
    stopNetnsBrokers();
    for (const ns of [OURS, BIRDS]) deleteNetns(ns);
  });
  addNetns(OURS);
  addNetns(BIRDS);
  linkNetns({ netns: OURS, dev: `${tag}a`, ip: OUR_IP }, { netns: BIRDS, dev: `${tag}b`, ip: BIRD_IP });
  const bird = await startBird(
    BIRDS,
    `router id ${BIRD_IP};
protocol device {}
protocol bgp node1 {
  local ${BIRD_IP} as 64512;
  neighbor ${OUR_IP} as 64512;
  passive on;
  direct;
  password "${PASSWORD}";
  error wait time 1, 10;
  ipv4 { import all; export none; };
}
`,
    tag,
  );
  running.bird = bird;
  const birdEstablished = () => /Established/.test(bird.birdc('show', 'protocols', 'node1'));
  const route = (prefix: string) => {
    try {
      return bird.birdc('show', 'route', 'for', prefix);
    } catch (err) {
      return String((err as { stdout?: string }).stdout ?? '');
    }
  };
  const peerObject = (password?: string) => ({ apiVersion: 'flatnet.dev/v1', kind: 'BGPPeer', metadata: { name: 'rr' }, spec: { peerAddress: BIRD_IP, peerASN: 64512, ...(password ? { password } : {}) } });
  const startNode = async (password?: string) => {
    const s = new NodeSpeaker({ nodeName: 'n1', netns: OURS, asn: 64512, address: OUR_IP, podCIDR: '10.244.3.0/24', connectRetryMs: 300, restartTimeSec: 0 });
    running.speakers.push(s);
    await s.start();
    const { peers, invalid } = peersForNode([peerObject(password)], {});
    assert.deepEqual(invalid, []);
    s.setPeers(peers);
    return s;
  };
  const stopNode = async (s: NodeSpeaker) => {
    await s.stop({ withdraw: true });
    running.speakers = running.speakers.filter((x) => x !== s);
  };

  await t.test('the right password: Established, BIRD shows our pod CIDR', async () => {
    const s = await startNode(PASSWORD);
    await eventually('our session Established', () => s.status()[0]?.state === 'Established' || undefined, 30_000);
    assert.ok(birdEstablished(), bird.birdc('show', 'protocols', 'all', 'node1'));
    await eventually('10.244.3.0/24 in BIRD', () => route('10.244.3.0/24').includes(`via ${OUR_IP}`) || undefined);
    await stopNode(s);
    await eventually('BIRD sees the session closed', () => !birdEstablished() || undefined, 30_000);
  });

  await t.test('a wrong password: SYNs dropped by the kernel (MD5 failure), no session', async () => {
    const failuresBefore = tcpExt(BIRDS, 'TcpExtTCPMD5Failure');
    const s = await startNode(`${PASSWORD}-wrong`);
    // Two connection attempts that timed out, each counted by BIRD's kernel as a bad signature.
    await eventually('a failed MD5 check in BIRD’s namespace', () => tcpExt(BIRDS, 'TcpExtTCPMD5Failure') > failuresBefore || undefined, 30_000);
    await eventually('our connect times out', () => /timed out/.test(s.status()[0]?.lastError ?? '') || undefined, 30_000);
    assert.notEqual(s.status()[0]?.state, 'Established');
    assert.ok(!birdEstablished(), bird.birdc('show', 'protocols', 'all', 'node1'));
    assert.ok(!route('10.244.3.0/24').includes(`via ${OUR_IP}`));
    await stopNode(s);
  });

  await t.test('no password while BIRD wants one: refused (MD5 not found), no session', async () => {
    const before = tcpExt(BIRDS, 'TcpExtTCPMD5NotFound');
    const s = await startNode(undefined);
    await eventually('an unsigned SYN counted in BIRD’s namespace', () => tcpExt(BIRDS, 'TcpExtTCPMD5NotFound') > before || undefined, 30_000);
    assert.notEqual(s.status()[0]?.state, 'Established');
    assert.ok(!birdEstablished());
    await stopNode(s);
  });

  await t.test('connection errors keep their errno; bad arguments are refused', async () => {
    // Our namespace has no default route: created there, the socket has no way to 192.0.2.1.
    await assert.rejects(connectWithMd5({ netns: OURS, host: '192.0.2.1', port: 179, password: 'x', timeoutMs: 2000 }), (err: NodeJS.ErrnoException) => err.code === 'ENETUNREACH' && /connect: ENETUNREACH/.test(err.message));
    await assert.rejects(connectWithMd5({ netns: `${tag}-nonexistent`, host: BIRD_IP, port: 179, password: 'x' }), (err: NodeJS.ErrnoException) => err.code === 'ENOENT' && /netns/.test(err.message));
    await assert.rejects(connectWithMd5({ netns: OURS, host: BIRD_IP, port: 179, password: 'x'.repeat(81) }), /key Buffer of 1-80 bytes/);
  });
});
