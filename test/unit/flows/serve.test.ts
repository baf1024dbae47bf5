// GET /flows as an agent serves it, over a real HTTP socket: the node status first, then the
// matching buffered events; follow=true streams new ones; a bad query is a 400 naming the field.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { IdentityIndex } from '../../../src/flows/identity.js';
import { FlowPipeline } from '../../../src/flows/pipeline.js';
import { serveFlows } from '../../../src/flows/serve.js';
import { createLogger } from '../../../src/util/log.js';
import type { UnsequencedFlow } from '../../../src/flows/assemble.js';

const flow = (verdict: UnsequencedFlow['verdict'], name: string): UnsequencedFlow => ({
  time: new Date().toISOString(),
  node: 'n1',
  verdict,
  protocol: 'tcp',
  source: { ip: '10.244.1.2', port: 1234, identity: { kind: 'pod', namespace: 'a', name } },
  destination: { ip: '10.244.1.3', port: 80, identity: { kind: 'pod', namespace: 'a', name: 'web' } },
  summary: verdict,
  origin: 'test',
});

async function withServer(fn: (base: string, p: FlowPipeline) => Promise<void>): Promise<void> {
  const p = new FlowPipeline({ node: 'n1', log: createLogger('test'), index: new IdentityIndex({ pods: [], services: [], nodes: [], policies: [] }), capacity: { verdicts: 2, connections: 2 } });
  const server = http.createServer((req, res) => serveFlows(p, new URL(req.url ?? '/', 'http://x'), res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, p);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

test('list: node status with shed counts, then matching events oldest first', async () => {
  await withServer(async (base, p) => {
    for (const n of ['c1', 'c2', 'c3']) p.accept(flow('forwarded', n));
    p.accept(flow('dropped', 'c4'));
    const res = await fetch(`${base}/flows?namespace=a`);
    assert.equal(res.status, 200);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as Record<string, { node?: string; shed?: unknown; source?: { identity: { name: string } } }>);
    assert.equal(lines[0].node_status.node, 'n1');
    assert.deepEqual(lines[0].node_status.shed, { verdicts: 0, connections: 1 });
    assert.deepEqual(lines.slice(1).map((l) => l.flow.source!.identity.name), ['c2', 'c3', 'c4']);
    const dropped = (await (await fetch(`${base}/flows?verdict=dropped&limit=1`)).text()).trim().split('\n');
    assert.equal(dropped.length, 2);
    const bad = await fetch(`${base}/flows?verdict=maybe`);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /^verdict: "maybe"/);
  });
});

test('follow: new matching events are streamed as they are pushed', async () => {
  await withServer(async (base, p) => {
    const res = await new Promise<http.IncomingMessage>((resolve) => http.get(`${base}/flows?follow=true&pod=a/live`, resolve));
    const lines = createInterface({ input: res })[Symbol.asyncIterator]();
    assert.ok(JSON.parse((await lines.next()).value as string).node_status);
    p.accept(flow('forwarded', 'other'));
    p.accept(flow('forwarded', 'live'));
    const next = JSON.parse((await lines.next()).value as string) as { flow: { source: { identity: { name: string } } } };
    assert.equal(next.flow.source.identity.name, 'live');
    res.destroy();
  });
});
