// BGP sessions with a password (TCP MD5 signatures, RFC 2385) against a real BIRD 2 configured
// with `password`. The password lives in a Secret in kube-system that the BGPPeer names
// (spec.password.secretKeyRef), on a real API server: the node's agent code (startNodeBgp) reads
// it with the node's own certificate, which the Node authorizer allows only for a node the BGPPeer
// selects; an inline password is refused. With the right key the session establishes and BIRD's
// own CLI shows the pod CIDR; after the Secret changes to a wrong key, or with none, BIRD's kernel
// drops the SYNs (its namespace's TcpExtTCPMD5Failure / TCPMD5NotFound counters rise) and no
// session comes up. The password never shows in the BGPPeer, the Node, the Events, `flatnet bgp
// status` or the agent's logs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { R, mustFindResource } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { sharedInformer } from '../../../src/client/shared-informers.js';
import { startNodeBgp, type NodeBgpHandle } from '../../../src/overlay/bgp/index.js';
import { BGP_PEERS, bgpPeerCrd } from '../../../src/overlay/bgp/crd.js';
import { NodeSpeaker } from '../../../src/overlay/bgp/node-speaker.js';
import { peersForNode } from '../../../src/overlay/bgp/peers.js';
import { connectWithMd5, loadTcpMd5Addon } from '../../../src/overlay/bgp/md5-connect.js';
import { stopNetnsBrokers } from '../../../src/linux/netns-socket.js';
import { requireRoot, requireTool } from '../../support/prerequisites.js';
import { eventually } from '../../support/eventually.js';
import { addNetns, deleteNetns, linkNetns, startBird, type Bird } from '../../support/routing-daemons.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { joinNode } from '../apiserver/node-agent-fixture.js';
import { code, flatnet } from '../apiserver/node-join-support.js';

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

test('BGP with a TCP MD5 password from a Secret against BIRD: right key up, wrong or missing key refused, the key shown nowhere', async (t) => {
  requireRoot('network namespaces');
  requireTool('bird', 'the Debian package bird2 (scripts/ensure-deps installs it)');
  requireTool('nstat', 'the Debian package iproute2');
  requireTool('kubectl', 'kubectl (scripts/ensure-deps installs it)');
  const addon = loadTcpMd5Addon();
  assert.ok(addon.addon, `the TCP MD5 addon must be built (npm run build:native): ${addon.error}`);
  const work = mkdtempSync(join(tmpdir(), 'flatnet-bgp-md5-'));
  const running: { bird?: Bird; speakers: NodeSpeaker[]; agent?: NodeBgpHandle; nodes?: { stop(): void }; server?: TestServer } = { speakers: [] };
  // Everything the process logs while the test runs (the agent code logs to stderr).
  const logged: string[] = [];
  const stderrWrite = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    logged.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return (stderrWrite as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  t.after(async () => {
    process.stderr.write = stderrWrite;
    await running.agent?.stop({ withdraw: true });
    running.nodes?.stop();
    for (const s of running.speakers) await s.stop({ withdraw: true });
    await running.bird?.stop();
    stopNetnsBrokers();
    for (const ns of [OURS, BIRDS]) deleteNetns(ns);
    await running.server?.stop();
    rmSync(work, { recursive: true, force: true });
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

  const server = await startTestServer({ store: 'memory', controllers: false });
  running.server = server;
  const admin = server.client;
  await admin.create(mustFindResource('apiextensions.k8s.io', 'customresourcedefinitions'), bgpPeerCrd());
  await eventually('the BGPPeer CRD served', async () => (await code(admin.list(BGP_PEERS))) === 200 || undefined, 30_000);
  const n1 = await joinNode(server, 'n1', work);
  const n2 = await joinNode(server, 'n2', work);
  await admin.patch(R.nodes, undefined, 'n1', { metadata: { labels: { rack: 'a' } } }, 'merge');
  const secretData = (password: string) => ({ password: Buffer.from(password).toString('base64') });
  await admin.create(R.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bgp-md5', namespace: 'kube-system' }, data: secretData(PASSWORD) } as KubeObject);
  await admin.create(R.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'unrelated', namespace: 'kube-system' }, data: secretData('not-for-nodes') } as KubeObject);
  const peer = { apiVersion: 'flatnet.dev/v1', kind: 'BGPPeer', metadata: { name: 'rr' }, spec: { peerAddress: BIRD_IP, peerASN: 64512, password: { secretKeyRef: { name: 'bgp-md5', key: 'password' } }, nodeSelector: { matchLabels: { rack: 'a' } } } };
  await admin.create(BGP_PEERS, peer as KubeObject);

  await t.test('an inline password is refused by the API server, naming the field', async () => {
    const r = await server.kubectl(['apply', '-f', '-'], JSON.stringify({ ...peer, metadata: { name: 'inline' }, spec: { ...peer.spec, password: 'inline-key' } }));
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /spec\.password/);
  });

  await t.test('the Node authorizer: only a node the BGPPeer selects may get that Secret, and nothing more', async () => {
    assert.equal(await code(n1.client.get(R.secrets, 'kube-system', 'bgp-md5')), 200);
    assert.equal(await code(n2.client.get(R.secrets, 'kube-system', 'bgp-md5')), 403, 'n2 is not selected by the BGPPeer');
    assert.equal(await code(n1.client.get(R.secrets, 'kube-system', 'unrelated')), 403);
    assert.equal(await code(n1.client.list(R.secrets, { namespace: 'kube-system' })), 403);
  });

  await t.test('the right password through the agent: Established, BIRD shows our pod CIDR; the key shows nowhere', async () => {
    const nodes = sharedInformer<KubeObject>(n1.client, R.nodes);
    running.nodes = nodes;
    await nodes.start();
    running.agent = await startNodeBgp(n1.client, nodes, { nodeName: 'n1', netns: OURS, address: OUR_IP, podCIDR: '10.244.3.0/24' });
    const agent = running.agent;
    await eventually('our session Established', () => agent.speaker.status()[0]?.state === 'Established' || undefined, 30_000);
    assert.ok(birdEstablished(), bird.birdc('show', 'protocols', 'all', 'node1'));
    await eventually('10.244.3.0/24 in BIRD', () => route('10.244.3.0/24').includes(`via ${OUR_IP}`) || undefined);
    const status = await eventually('flatnet bgp status shows the session', async () => {
      const r = await flatnet(['bgp', 'status', '--kubeconfig', server.kubeconfig, '-o', 'json']);
      return r.code === 0 && /Established/.test(r.stdout) ? r.stdout : undefined;
    }, 30_000);
    const seen = {
      status,
      peer: JSON.stringify(await admin.get(BGP_PEERS, undefined, 'rr')),
      node: JSON.stringify(await admin.get(R.nodes, undefined, 'n1')),
      events: JSON.stringify(await admin.list(R.events, { namespace: 'default' })),
      speaker: JSON.stringify(agent.speaker.status()),
      logs: logged.join(''),
    };
    for (const [where, text] of Object.entries(seen)) assert.ok(!text.includes(PASSWORD) && !text.includes(Buffer.from(PASSWORD).toString('base64')), `the password shows in ${where}`);
    assert.match(seen.logs, /BGP session established/, 'the logs were captured');
  });

  await t.test('the Secret changed to a wrong password: the session re-opens with it and BIRD drops its SYNs (MD5 failure)', async () => {
    const agent = running.agent!;
    const failuresBefore = tcpExt(BIRDS, 'TcpExtTCPMD5Failure');
    await admin.patch(R.secrets, 'kube-system', 'bgp-md5', { data: secretData(`${PASSWORD}-wrong`) }, 'merge');
    // A change of the BGPPeer makes the agent read its Secret at once (else it does every 30 s).
    await admin.patch(BGP_PEERS, undefined, 'rr', { metadata: { annotations: { touched: '1' } } }, 'merge');
    await eventually('a failed MD5 check in BIRD’s namespace', () => tcpExt(BIRDS, 'TcpExtTCPMD5Failure') > failuresBefore || undefined, 60_000);
    await eventually('our session is down', () => agent.speaker.status()[0]?.state !== 'Established' || undefined, 30_000);
    await eventually('BIRD sees the session closed', () => !birdEstablished() || undefined, 30_000);
    assert.ok(!logged.join('').includes(`${PASSWORD}-wrong`), 'the wrong password shows in the logs');
    await running.agent!.stop({ withdraw: true });
    running.agent = undefined;
  });

  await t.test('no password while BIRD wants one: refused (MD5 not found), no session', async () => {
    const before = tcpExt(BIRDS, 'TcpExtTCPMD5NotFound');
    const s = new NodeSpeaker({ nodeName: 'n1', netns: OURS, asn: 64512, address: OUR_IP, podCIDR: '10.244.3.0/24', connectRetryMs: 300, restartTimeSec: 0 });
    running.speakers.push(s);
    await s.start();
    const { peers, invalid } = peersForNode([{ ...peer, spec: { peerAddress: BIRD_IP, peerASN: 64512 } } as KubeObject], {});
    assert.deepEqual(invalid, []);
    s.setPeers(peers);
    await eventually('an unsigned SYN counted in BIRD’s namespace', () => tcpExt(BIRDS, 'TcpExtTCPMD5NotFound') > before || undefined, 30_000);
    assert.notEqual(s.status()[0]?.state, 'Established');
    assert.ok(!birdEstablished());
    await s.stop({ withdraw: true });
    running.speakers = running.speakers.filter((x) => x !== s);
  });

  await t.test('connection errors keep their errno; bad arguments are refused', async () => {
    // Our namespace has no default route: created there, the socket has no way to 192.0.2.1.
    await assert.rejects(connectWithMd5({ netns: OURS, host: '192.0.2.1', port: 179, password: 'x', timeoutMs: 2000 }), (err: NodeJS.ErrnoException) => err.code === 'ENETUNREACH' && /connect: ENETUNREACH/.test(err.message));
    await assert.rejects(connectWithMd5({ netns: `${tag}-nonexistent`, host: BIRD_IP, port: 179, password: 'x' }), (err: NodeJS.ErrnoException) => err.code === 'ENOENT' && /netns/.test(err.message));
    await assert.rejects(connectWithMd5({ netns: OURS, host: BIRD_IP, port: 179, password: 'x'.repeat(81) }), /key Buffer of 1-80 bytes/);
  });
});
