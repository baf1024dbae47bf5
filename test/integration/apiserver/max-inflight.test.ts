// `flatnet server --max-requests-inflight 2 --max-mutating-requests-inflight 2`: requests held open
// by their clients (a LIST whose answer the client has no window for, a create whose body has not
// all come) fill the slots; the next request of that kind is answered 429 with Retry-After: 1 and
// upstream's text, the other kind and watches are still served, system:masters (the admin token)
// is served when full, and every slot comes back when its answer ends or its client goes away,
// over HTTP/2 (a stream cancelled mid-answer, a session destroyed) and HTTP/1.1 (a socket destroyed
// before the body came). The requests are a ServiceAccount's bound to cluster-admin: RBAC lets it
// do anything, but it is not in system:masters.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadKubeconfig, type ClusterConnection } from '../../../src/client/kubeconfig.js';
import { startTestServer, type TestServer } from '../../support/server.js';

const LIMIT = 2;
const CONFIGMAPS = '/api/v1/namespaces/default/configmaps';
const TOO_MANY = 'Too many requests, please try again later.\n';
/** A LIST with a small answer (no ConfigMap has that name). */
const SMALL_LIST = `${CONFIGMAPS}?fieldSelector=metadata.name%3Dnothing`;

let s: TestServer;
let admin: ClusterConnection;
let token: string;

before(async () => {
  s = await startTestServer({ store: 'memory', controllers: false, args: ['--max-requests-inflight', String(LIMIT), '--max-mutating-requests-inflight', String(LIMIT)] });
  admin = loadKubeconfig(s.kubeconfig);
  await s.client.request('POST', '/api/v1/namespaces/default/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'loader' } });
  await s.client.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'loader-cluster-admin' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: 'loader', namespace: 'default' }],
  });
  const review = await s.client.request<{ status: { token: string } }>('POST', '/api/v1/namespaces/default/serviceaccounts/loader/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } });
  token = review.status.token;
  // A LIST answer well above one paced write (256 KiB): it stays in the server while its client reads none of it.
  await s.client.request('POST', CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { big: 'x'.repeat(600_000) } });
  // The binding reaches the authorizer through a watch: wait until the ServiceAccount may list.
  const session = await connect();
  try {
    while ((await h2(session, { ':path': SMALL_LIST })).status !== 200) await sleep(50);
  } finally {
    session.close();
  }
});

after(async () => {
  await s?.stop();
});

function connect(settings?: http2.Settings): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(s.url, { ca: admin.ca, settings });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One whole HTTP/2 request as the ServiceAccount (or with the headers' own authorization). */
function h2(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ authorization: `Bearer ${token}`, ...headers, ...(body !== undefined ? { ':method': 'POST', 'content-type': 'application/json' } : {}) });
    let answer: Answer = { status: 0, headers: {}, body: '' };
    stream.on('response', (h) => (answer = { status: Number(h[':status']), headers: h, body: '' }));
    stream.on('data', (c: Buffer) => (answer.body += c.toString('utf8')));
    stream.on('end', () => resolve(answer));
    stream.on('error', reject);
    stream.end(body);
  });
}

/**
 * A LIST the server has started answering (its headers came) on a session with no flow-control
 * window: the answer waits in the server, holding its slot, until the stream or session ends.
 */
function heldList(session: http2.ClientHttp2Session): Promise<http2.ClientHttp2Stream> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': CONFIGMAPS, authorization: `Bearer ${token}` });
    stream.on('response', (h) => (h[':status'] === 200 ? resolve(stream) : reject(new Error(`the held LIST answered ${h[':status']}`))));
    stream.on('error', () => undefined);
    stream.end();
  });
}

/** A watch the server has answered 200: open until the stream ends. */
function watch(session: http2.ClientHttp2Session): Promise<http2.ClientHttp2Stream> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': '/api/v1/namespaces/default/secrets?watch=true', authorization: `Bearer ${token}` });
    stream.on('response', (h) => (h[':status'] === 200 ? resolve(stream) : reject(new Error(`the watch answered ${h[':status']}`))));
    stream.on('data', () => undefined);
    stream.on('error', () => undefined);
  });
}

/**
 * An HTTP/1.1 create whose body never comes whole: `Expect: 100-continue` makes the server say
 * `100 Continue` in the same turn it starts serving the request (and takes its slot), so the
 * promise resolves once the slot is held.
 */
function heldCreate(): Promise<ClientRequest> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${s.url}${CONFIGMAPS}`, { method: 'POST', ca: admin.ca, agent: false, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': '1000', expect: '100-continue' } });
    req.on('continue', () => {
      req.write('{"apiVersion":');
      resolve(req);
    });
    req.on('response', (res: IncomingMessage) => reject(new Error(`the held create answered ${res.statusCode}`)));
    req.on('error', () => undefined);
    req.flushHeaders();
  });
}

/** One whole HTTP/1.1 request as the ServiceAccount, with `body`; without one a create's announced body never comes. */
function h1(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${s.url}${path}`, { method, ca: admin.ca, agent: false, headers: { authorization: `Bearer ${token}`, ...headers } });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        req.destroy();
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.flushHeaders();
  });
}

function assertTooMany(answer: Answer, what: string): void {
  assert.equal(answer.status, 429, `${what}: ${answer.body}`);
  assert.equal(answer.headers['retry-after'], '1', what);
  assert.equal(answer.headers['content-type'], 'text/plain; charset=utf-8', what);
  assert.equal(answer.body, TOO_MANY, what);
}

/** How long a released slot may take to come back before the test calls it leaked (a liveness bound, not a speed one). */
const LEAK_DEADLINE_MS = 60_000;

/** Asks until the ServiceAccount's `request` is served (the slot a closed request held came back). */
async function untilServed(what: string, request: () => Promise<Answer>): Promise<Answer> {
  const deadline = Date.now() + LEAK_DEADLINE_MS;
  for (;;) {
    const answer = await request();
    if (answer.status !== 429) return answer;
    if (Date.now() > deadline) assert.fail(`${what}: still 429 after ${LEAK_DEADLINE_MS} ms, the slot leaked`);
    await sleep(20);
  }
}

async function inflightGauge(kind: string): Promise<number> {
  const text = await s.client.request<string>('GET', '/metrics');
  const m = text.match(new RegExp(`^apiserver_current_inflight_requests\\{request_kind="${kind}"\\} (\\d+)$`, 'm'));
  assert.ok(m, `no apiserver_current_inflight_requests{request_kind="${kind}"} in /metrics`);
  return Number(m[1]);
}

test('over HTTP/2: held LISTs fill the read-only slots; watches, writes and system:masters are served; a cancelled stream and a closed session give their slots back', async () => {
  const probe = await connect();
  const stalled = await connect({ initialWindowSize: 0 });
  try {
    // Watches are long-running: open before and while the slots are full, they take none.
    const watches = [await watch(stalled), await watch(stalled)];
    const held = [await heldList(stalled), await heldList(stalled)];
    assertTooMany(await h2(probe, { ':path': CONFIGMAPS }), 'a third LIST over HTTP/2');
    assertTooMany(await h1('GET', CONFIGMAPS), 'a third LIST over HTTP/1.1');
    assertTooMany(await h2(probe, { ':path': '/version' }), 'a non-resource GET');
    watches.push(await watch(probe));
    const created = await h2(probe, { ':path': CONFIGMAPS }, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'written-while-full' } }));
    assert.equal(created.status, 201, `a create counts against the other limit: ${created.body}`);
    const masters = await h2(probe, { ':path': CONFIGMAPS, authorization: `Bearer ${admin.token}` });
    assert.equal(masters.status, 200, 'system:masters is served when the slots are full');
    assert.equal(await inflightGauge('readOnly'), LIMIT);

    // A stream cancelled mid-answer gives its slot back; the other still holds its own.
    held[0].close(http2.constants.NGHTTP2_CANCEL);
    assert.equal((await untilServed('a LIST after a held one was cancelled', () => h2(probe, { ':path': SMALL_LIST }))).status, 200);
    held[0] = await heldList(stalled);
    assertTooMany(await h2(probe, { ':path': CONFIGMAPS }), 'full again: one came back, no more');

    // A client that goes away gives back every slot its session held.
    stalled.destroy();
    const fresh = await connect({ initialWindowSize: 0 });
    try {
      const again = [await untilHeldList('after the session closed', fresh), await untilHeldList('after the session closed', fresh)];
      assert.equal(again.length, LIMIT);
      assertTooMany(await h2(probe, { ':path': CONFIGMAPS }), 'exactly the limit again after the session closed');
    } finally {
      fresh.destroy();
    }
    assert.equal((await untilServed('a LIST after the second session closed', () => h2(probe, { ':path': SMALL_LIST }))).status, 200);
    for (const w of watches) w.close();
  } finally {
    stalled.destroy();
    probe.close();
  }
});

/** A held LIST once a slot is free (the previous holder's close may still be on its way to the server). */
async function untilHeldList(what: string, session: http2.ClientHttp2Session): Promise<http2.ClientHttp2Stream> {
  const deadline = Date.now() + LEAK_DEADLINE_MS;
  for (;;) {
    try {
      return await heldList(session);
    } catch (err) {
      if (!/answered 429/.test((err as Error).message)) throw err;
      if (Date.now() > deadline) assert.fail(`${what}: still 429 after ${LEAK_DEADLINE_MS} ms, a slot leaked`);
      await sleep(20);
    }
  }
}

test('over HTTP/1.1: creates waiting for their bodies fill the mutating slots; the next is refused before its body, reads are served; a dropped connection and a finished create give their slots back', async () => {
  const held = [await heldCreate(), await heldCreate()];
  try {
    // Its body is announced and never sent: the answer comes anyway.
    assertTooMany(await h1('POST', CONFIGMAPS, { 'content-type': 'application/json', 'content-length': '1000' }), 'a third create over HTTP/1.1');
    const probe = await connect();
    try {
      assertTooMany(await h2(probe, { ':path': '/api/v1/namespaces/default/configmaps/nothing-here', ':method': 'DELETE' }), 'a delete over HTTP/2');
      assert.equal((await h2(probe, { ':path': SMALL_LIST })).status, 200, 'reads count against their own limit');
    } finally {
      probe.close();
    }
    assert.equal(await inflightGauge('mutating'), LIMIT);

    // The client drops its connection before the body came: the slot comes back.
    held[0].destroy();
    const created = await untilServed('a create after a held one dropped its connection', () => h1('POST', CONFIGMAPS, { 'content-type': 'application/json' }, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after-drop' } })));
    assert.equal(created.status, 201, created.body);
    // A create that ends normally gives its slot back too.
    const finished = new Promise<number>((resolve) => held[1].on('response', (res: IncomingMessage) => resolve(res.statusCode ?? 0)));
    const rest = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held-create' } }).slice('{"apiVersion":'.length);
    held[1].end(rest.padEnd(1000 - '{"apiVersion":'.length, ' '));
    assert.equal(await finished, 201);
    const again = [await heldCreate(), await heldCreate()];
    assertTooMany(await h1('POST', CONFIGMAPS, { 'content-type': 'application/json', 'content-length': '1000' }), 'exactly the limit again');
    again.forEach((r) => r.destroy());
  } finally {
    held.forEach((r) => r.destroy());
  }
});

test('bad --max-requests-inflight and --max-mutating-requests-inflight values are refused, naming the flag', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-inflight-'));
  try {
    for (const [flag, value] of [['max-requests-inflight', '-1'], ['max-mutating-requests-inflight', 'many']]) {
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'server', '--data-dir', dir, '--store', 'memory', '--listen', '127.0.0.1:0', `--${flag}=${value}`], { cwd: join(import.meta.dirname, '../../..'), stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stderr }));
      });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr, `flatnet: --${flag} must be a whole number of requests, 0 or more (0: no limit), not ${JSON.stringify(value)}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
