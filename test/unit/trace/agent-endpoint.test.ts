// The agent's trace endpoint refuses bad requests with a 400 naming the field, before touching the
// kernel (a real HTTP server on loopback; the namespace named does not exist and is never entered).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { TraceEndpoint } from '../../../src/trace/agent-endpoint.js';

const endpoint = new TraceEndpoint('node-x', 'gtu-not-a-namespace');
const server = http.createServer((req, res) => {
  if (!endpoint.handle(req, res, new URL(req.url ?? '/', 'http://x').pathname)) {
    res.writeHead(418);
    res.end();
  }
});
let base = '';
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; message?: string }> {
  const res = await fetch(base + path, { method, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const json = (await res.json().catch(() => ({}))) as { message?: string };
  return { status: res.status, message: json.message };
}

test('bad trace requests get a 400 naming the field', async () => {
  const cases: [string, string, unknown, RegExp][] = [
    ['POST', '/trace/sessions', { table: 'x; drop', sourcePort: 62000 }, /^table: must be flatnet-trace-<port>/],
    ['POST', '/trace/sessions', { table: 'flatnet-trace-62000', sourcePort: 70000 }, /^sourcePort: must be a port number/],
    ['POST', '/trace/sessions', 'not json', /not a JSON object/],
    ['POST', '/trace/probe', { podUid: '../../etc', ip: '10.0.0.1', port: 80, protocol: 'tcp', sourcePort: 62000, timeoutSeconds: 1 }, /^podUid: must be a pod UID/],
    ['POST', '/trace/probe', { podUid: '0123abcd-0000', ip: '10.0.0.1', port: 80, protocol: 'tcp', sourcePort: 62000, timeoutSeconds: 1 }, /^podUid: no pod sandbox .* on node node-x/],
    ['POST', '/trace/route', { ip: '10.0.0.300' }, /^ip: must be an IPv4 address/],
    ['DELETE', '/trace/sessions/bad name', undefined, /^table: must be/],
  ];
  for (const [method, path, body, want] of cases) {
    const r = await call(method, path, body);
    assert.equal(r.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${r.message}`);
    assert.match(r.message ?? '', want);
  }
});

test('unknown trace paths and sessions are 404, other paths are left to the caller', async () => {
  assert.equal((await call('DELETE', '/trace/sessions/flatnet-trace-62000')).status, 404);
  assert.match((await call('GET', '/trace/whatever')).message ?? '', /serves POST \/trace\/sessions/);
  assert.equal((await fetch(base + '/flows')).status, 418);
});

test('an agent in the host namespace refuses to trace', async () => {
  const host = new TraceEndpoint('node-y', undefined);
  const s = http.createServer((req, res) => void host.handle(req, res, '/trace/route'));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  try {
    const res = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/trace/route`, { method: 'POST', body: '{"ip":"10.0.0.1"}' });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { message: string }).message, /host network namespace/);
  } finally {
    s.close();
  }
});
