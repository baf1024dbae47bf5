// The DNS server's /ready: asked before the informers synced, it holds the answer and gives 200
// the moment they sync (a readiness probe sees the pod ready then, not a probe period later);
// still unsynced when the hold ends, 503; `?wait=0` answers at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveHttp } from '../../../src/dns/http.js';
import { DnsMetrics } from '../../../src/dns/metrics.js';

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

test('/ready holds the answer until the informers sync, 503 when they do not, at once with ?wait=0', async () => {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  let synced = false;
  const detach = serveHttp(server, () => synced, new DnsMetrics());
  try {
    const port = (server.address() as AddressInfo).port;
    assert.equal(await get(port, '/ready?wait=0'), 503);
    assert.equal(await get(port, '/ready'), 503, 'never synced during the hold');
    const pending = get(port, '/ready');
    setTimeout(() => (synced = true), 50);
    assert.equal(await pending, 200, 'synced during the hold: answered ready');
    assert.equal(await get(port, '/ready?wait=0'), 200);
    assert.equal(await get(port, '/health'), 200);
  } finally {
    detach();
    server.close();
  }
});
