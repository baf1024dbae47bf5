// pods/log and pods/exec through the API server to a node's agent endpoint. A small HTTPS +
// WebSocket server on loopback with the node's serving certificate stands in for the agent
// (another area); what is tested here is the server's routing: endpoint lookup (the node's
// registered status), path and query kept, no bearer token forwarded, upgrades piped.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { R } from '../../../src/api/resources.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { joinNode, registerEndpoint, type JoinedNode } from './node-agent-fixture.js';

let s: TestServer;
let agent: https.Server;
let agentPort = 0;
let work: string;
let n1: JoinedNode;
const seen: { url: string; auth: string | undefined }[] = [];
const BIG = 8 << 20;

before(async () => {
  s = await startTestServer({ store: 'memory', controllers: false });
  work = mkdtempSync(join(tmpdir(), 'flatnet-proxy-'));
  n1 = await joinNode(s, 'n1', work);
  agent = https.createServer({ cert: n1.serving.certPem, key: n1.serving.keyPem, ca: n1.serving.caPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    seen.push({ url: req.url ?? '', auth: req.headers.authorization });
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`log line from ${req.url}\n`);
  });
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has('v5.channel.k8s.io') ? 'v5.channel.k8s.io' : false) });
  agent.on('upgrade', (req, socket, head) => {
    seen.push({ url: req.url ?? '', auth: req.headers.authorization });
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (req.url?.includes('command=big')) {
        // A large answer, then the close frame and the connection's end at once, as an agent whose
        // exec ended: the bytes still on their way to kubectl must all arrive.
        ws.send(Buffer.concat([Buffer.from([1]), Buffer.alloc(BIG, 'x')]));
        ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify({ metadata: {}, status: 'Success' }))]));
        ws.close(1000);
        socket.end();
        return;
      }
      ws.send(Buffer.concat([Buffer.from([1]), Buffer.from('hello from exec\n')]));
      ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify({ metadata: {}, status: 'Success' }))]));
      ws.close(1000);
    });
  });
  await new Promise<void>((r) => agent.listen(0, '127.0.0.1', () => r()));
  agentPort = (agent.address() as AddressInfo).port;
  await registerEndpoint(n1, agentPort);
  await s.client.create(R.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n-no-endpoint' } });
  for (const [name, node] of [['p1', 'n1'], ['p2', 'n-no-endpoint'], ['unscheduled', undefined]] as const) {
    await s.client.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...(node ? { nodeName: node } : {}) } });
  }
});
after(async () => {
  n1?.client.close();
  await s?.stop();
  rmSync(work, { recursive: true, force: true });
  agent?.closeAllConnections();
  await new Promise<void>((r) => (agent ? agent.close(() => r()) : r()));
});

test('kubectl logs reaches the agent with the same path and query, and no bearer token', async () => {
  const r = await s.kubectl(['logs', 'p1', '--tail=5']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /log line from \/api\/v1\/namespaces\/default\/pods\/p1\/log\?container=c&tailLines=5/);
  assert.equal(seen.at(-1)?.auth, undefined);
});

test('kubectl exec is upgraded and piped to the agent', async () => {
  const r = await s.kubectl(['exec', 'p1', '--', 'echo', 'hi']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hello from exec\n');
  assert.match(seen.at(-1)!.url, /^\/api\/v1\/namespaces\/default\/pods\/p1\/exec\?command=echo&command=hi/);
});

test('an exec whose agent closes right after a large answer delivers all of it and its status', async () => {
  const r = await s.kubectl(['exec', 'p1', '--', 'big']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.length, BIG);
});

test('an unscheduled pod or a node without an endpoint is a clear error', async () => {
  const unscheduled = await s.kubectl(['logs', 'unscheduled']);
  assert.notEqual(unscheduled.code, 0);
  assert.match(unscheduled.stderr, /pod unscheduled does not have a host assigned/);
  const noEndpoint = await s.kubectl(['logs', 'p2']);
  assert.notEqual(noEndpoint.code, 0);
  assert.match(noEndpoint.stderr, /node "n-no-endpoint" has no agent endpoint/);
});
