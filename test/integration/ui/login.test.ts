// The web view's login against a real server: `flatnet ui` gets a one-time link as the
// kubeconfig's user; the link sets an HttpOnly, SameSite=Strict, Secure session cookie scoped to
// /ui; a wrong, reused or expired code is refused; every data request runs as the cookie's user
// through RBAC (a ServiceAccount that may read pods only gets pods).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import https from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { startTestServer, type TestServer } from '../../support/server.js';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const run = promisify(execFile);
const TTL_SECONDS = 3;

let s: TestServer;
let ca: Buffer;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function request(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  const url = new URL(path, s.url);
  return new Promise((res, rej) => {
    const req = https.request(url, { method, headers, ca }, (r) => {
      let text = '';
      r.on('data', (c: Buffer) => (text += c.toString()));
      r.on('end', () => res({ status: r.statusCode ?? 0, headers: r.headers, body: text }));
    });
    req.on('error', rej);
    req.end(body);
  });
}

/** `flatnet ui --no-open` with a kubeconfig: the login link it prints. */
async function loginLink(kubeconfig: string): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), 'ui', '--kubeconfig', kubeconfig, '--no-open'], { cwd: repo });
  const link = stdout.trim();
  assert.match(link, /^https:\/\/127\.0\.0\.1:\d+\/ui\/login\?code=[A-Za-z0-9_-]{43}$/);
  return link;
}

/** Follows a login link; returns the session cookie (name=value). */
async function logIn(kubeconfig: string): Promise<string> {
  const link = new URL(await loginLink(kubeconfig));
  const r = await request('GET', link.pathname + link.search);
  assert.equal(r.status, 303, r.body);
  const cookie = (r.headers['set-cookie'] as string[])[0];
  return cookie.split(';')[0];
}

before(async () => {
  process.env.FLATNET_UI_LOGIN_TTL_SECONDS = String(TTL_SECONDS);
  await run('npm', ['run', '-s', 'build:ui'], { cwd: repo });
  s = await startTestServer({ controllers: false });
  const cfg = parse(readFileSync(s.kubeconfig, 'utf8')) as { clusters: { cluster: Record<string, string> }[] };
  ca = Buffer.from(cfg.clusters[0].cluster['certificate-authority-data'], 'base64');
});

after(async () => {
  await s?.stop();
});

test('a login link logs a browser in once, with an HttpOnly SameSite=Strict Secure cookie for /ui', async () => {
  const link = new URL(await loginLink(s.kubeconfig));
  const first = await request('GET', link.pathname + link.search);
  assert.equal(first.status, 303, first.body);
  assert.equal(first.headers.location, '/ui/');
  const cookie = (first.headers['set-cookie'] as string[])[0];
  const attrs = cookie.split(';').map((a) => a.trim());
  assert.match(attrs[0], /^flatnet_ui_session=[A-Za-z0-9_-]{43}$/);
  for (const flag of ['HttpOnly', 'SameSite=Strict', 'Secure', 'Path=/ui']) assert.ok(attrs.includes(flag), `${flag} in ${cookie}`);
  const page = await request('GET', '/ui/', { cookie: attrs[0] });
  assert.equal(page.status, 200);
  assert.match(page.body, /<script type="module" src="\/ui\/assets\/app.js"><\/script>/);
  assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
  const script = await request('GET', '/ui/assets/app.js', { cookie: attrs[0] });
  assert.equal(script.status, 200);
  assert.match(String(script.headers['content-type']), /^text\/javascript/);
  assert.ok(script.body.length > 1000);
  const whoami = await request('GET', '/ui/api/whoami', { cookie: attrs[0] });
  assert.equal(JSON.parse(whoami.body).username, 'kubernetes-admin');

  const reused = await request('GET', link.pathname + link.search);
  assert.equal(reused.status, 401);
  assert.equal(reused.headers['set-cookie'], undefined);
  assert.match(reused.body, /unknown or was already used/);
});

test('a wrong or expired code is refused, and nothing under /ui answers without a session', async () => {
  const wrong = await request('GET', '/ui/login?code=not-a-code');
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers['set-cookie'], undefined);
  const link = new URL(await loginLink(s.kubeconfig));
  await new Promise((r) => setTimeout(r, TTL_SECONDS * 1000 + 500));
  const expired = await request('GET', link.pathname + link.search);
  assert.equal(expired.status, 401);
  assert.equal(expired.headers['set-cookie'], undefined);
  assert.match(expired.body, /expired/);

  assert.equal((await request('GET', '/ui/')).status, 401);
  assert.equal((await request('GET', '/ui/assets/app.js')).status, 401);
  assert.equal((await request('GET', '/ui/api/live?resources=pods')).status, 401);
  assert.equal((await request('GET', '/ui/api/live?resources=pods', { cookie: 'flatnet_ui_session=forged' })).status, 401);
  // A login link needs credentials of its own; the admin token is never handed to the browser.
  assert.equal((await request('POST', '/ui/login-links')).status, 401);
  assert.equal((await request('GET', '/ui/login-links')).status, 405);
});

/** The first lines of a live stream (the SYNC or error line of each kind asked for). */
function liveLines(cookie: string, resources: string, count: number): Promise<Record<string, unknown>[]> {
  return new Promise((res, rej) => {
    const req = https.request(new URL(`/ui/api/live?resources=${resources}`, s.url), { headers: { cookie }, ca }, (r) => {
      if (r.statusCode !== 200) {
        r.resume();
        return rej(new Error(`live stream answered ${r.statusCode}`));
      }
      let text = '';
      r.on('data', (c: Buffer) => {
        text += c.toString();
        const lines = text.split('\n').filter(Boolean);
        if (lines.length >= count && text.endsWith('\n')) {
          req.destroy();
          res(lines.map((l) => JSON.parse(l) as Record<string, unknown>));
        }
      });
    });
    req.on('error', (err) => (err.message === 'socket hang up' ? undefined : rej(err)));
    req.end();
  });
}

test('the cookie acts as its user through RBAC: a ServiceAccount sees only what its roles allow', async () => {
  const k = (args: string[], input?: string) => s.kubectl(args, input);
  assert.equal((await k(['create', 'namespace', 'uitest'])).code, 0);
  assert.equal((await k(['-n', 'uitest', 'create', 'sa', 'viewer'])).code, 0);
  assert.equal((await k(['create', 'clusterrole', 'ui-pod-reader', '--verb=get,list,watch', '--resource=pods'])).code, 0);
  assert.equal((await k(['create', 'clusterrolebinding', 'ui-viewer-reads', '--clusterrole=ui-pod-reader', '--serviceaccount=uitest:viewer'])).code, 0);
  const token = await k(['-n', 'uitest', 'create', 'token', 'viewer']);
  assert.equal(token.code, 0, token.stderr);
  const cfg = parse(readFileSync(s.kubeconfig, 'utf8')) as { users: { name: string; user: Record<string, string> }[] };
  cfg.users = cfg.users.map((u) => ({ name: u.name, user: { token: token.stdout.trim() } }));
  const saKubeconfig = join(s.dataDir, 'ui-viewer.kubeconfig');
  writeFileSync(saKubeconfig, stringify(cfg), { mode: 0o600 });

  const cookie = await logIn(saKubeconfig);
  const whoami = JSON.parse((await request('GET', '/ui/api/whoami', { cookie })).body) as { username: string };
  assert.equal(whoami.username, 'system:serviceaccount:uitest:viewer');
  const lines = await liveLines(cookie, 'pods,services,nodes', 3);
  const of = (resource: string) => lines.find((l) => l.resource === resource)!;
  assert.equal(of('pods').type, 'SYNC');
  assert.ok(Array.isArray(of('pods').objects));
  assert.match(String(of('services').error), /system:serviceaccount:uitest:viewer.*cannot list resource "services"/);
  assert.match(String(of('nodes').error), /cannot list resource "nodes"/);
  assert.equal(of('services').objects, undefined);
  assert.equal((await request('GET', '/ui/api/policy', { cookie })).status, 403);
  assert.equal((await request('GET', '/ui/api/flows', { cookie })).status, 403);
  assert.equal((await request('GET', '/ui/api/service?namespace=default&name=kubernetes', { cookie })).status, 403);

  // The admin's session reads every kind.
  const admin = await logIn(s.kubeconfig);
  const all = await liveLines(admin, 'pods,services,nodes,namespaces,endpointslices,networkpolicies', 6);
  assert.deepEqual(all.map((l) => [l.resource, l.type]).sort(), [['endpointslices', 'SYNC'], ['namespaces', 'SYNC'], ['networkpolicies', 'SYNC'], ['nodes', 'SYNC'], ['pods', 'SYNC'], ['services', 'SYNC']]);
  assert.ok((all.find((l) => l.resource === 'services')!.objects as { metadata: { name: string } }[]).some((o) => o.metadata.name === 'kubernetes'));
  const unknown = await request('GET', '/ui/api/live?resources=secrets', { cookie: admin });
  assert.equal(unknown.status, 400);
  assert.match(JSON.parse(unknown.body).message, /resources: "secrets" is not one of/);
  // The web view only reads.
  assert.equal((await request('POST', '/ui/api/live?resources=pods', { cookie: admin, 'content-type': 'application/json' }, '{}')).status, 405);
});

test('a watch through the cookie streams new objects; logout ends the session', async () => {
  const cookie = await logIn(s.kubeconfig);
  const events: string[] = [];
  const watching = new Promise<void>((res, rej) => {
    const req = https.request(new URL('/ui/api/live?resources=namespaces', s.url), { headers: { cookie }, ca }, (r) => {
      assert.equal(r.statusCode, 200);
      r.on('data', (c: Buffer) => {
        events.push(...c.toString().split('\n').filter(Boolean));
        if (events.length === 1) void s.kubectl(['create', 'namespace', 'ui-watched']);
        if (events.some((e) => e.includes('"ui-watched"'))) {
          req.destroy();
          res();
        }
      });
    });
    req.on('error', (err) => (events.some((e) => e.includes('"ui-watched"')) ? res() : rej(err)));
    req.end();
  });
  await watching;
  assert.equal(JSON.parse(events[0]).type, 'SYNC');
  const added = JSON.parse(events.find((e) => e.includes('"ui-watched"'))!) as { resource: string; type: string; object: { metadata: { name: string } } };
  assert.deepEqual([added.resource, added.type, added.object.metadata.name], ['namespaces', 'ADDED', 'ui-watched']);

  const trace = await request('POST', '/ui/api/trace', { cookie, 'content-type': 'application/json' }, JSON.stringify({ from: 'default/nope', to: '10.0.0.1' }));
  assert.equal(trace.status, 400);
  assert.match(JSON.parse(trace.body).message, /from: pod default\/nope does not exist/);
  const notJson = await request('POST', '/ui/api/trace', { cookie, 'content-type': 'text/plain' }, 'x');
  assert.equal(notJson.status, 400);
  assert.match(JSON.parse(notJson.body).message, /content-type/);

  const out = await request('POST', '/ui/logout', { cookie });
  assert.equal(out.status, 204);
  assert.match(String((out.headers['set-cookie'] as string[])[0]), /Max-Age=0/);
  assert.equal((await request('GET', '/ui/api/whoami', { cookie })).status, 401);
});

test('a session ends as soon as the credential it was made from stops authenticating: its requests get 401 and its open stream is closed', async () => {
  const k = (args: string[], input?: string) => s.kubectlOk(args, input);
  await k(['create', 'namespace', 'uirevoke']);
  await k(['-n', 'uirevoke', 'create', 'sa', 'short-lived']);
  await k(['create', 'clusterrole', 'ui-revoke-reader', '--verb=get,list,watch', '--resource=pods']);
  await k(['create', 'clusterrolebinding', 'ui-revoke-reads', '--clusterrole=ui-revoke-reader', '--serviceaccount=uirevoke:short-lived']);
  const token = (await k(['-n', 'uirevoke', 'create', 'token', 'short-lived'])).trim();
  const cfg = parse(readFileSync(s.kubeconfig, 'utf8')) as { users: { name: string; user: Record<string, string> }[] };
  cfg.users = cfg.users.map((u) => ({ name: u.name, user: { token } }));
  const saKubeconfig = join(s.dataDir, 'ui-short-lived.kubeconfig');
  writeFileSync(saKubeconfig, stringify(cfg), { mode: 0o600 });

  const cookie = await logIn(saKubeconfig);
  const before = await request('GET', '/ui/api/whoami', { cookie });
  assert.equal(before.status, 200, before.body);
  assert.equal(JSON.parse(before.body).username, 'system:serviceaccount:uirevoke:short-lived');
  // A live stream opened while the credential is good.
  const stream = await new Promise<{ firstLine: string; closed: Promise<void> }>((res, rej) => {
    const req = https.request(new URL('/ui/api/live?resources=pods', s.url), { headers: { cookie }, ca }, (r) => {
      if (r.statusCode !== 200) return rej(new Error(`live stream answered ${r.statusCode}`));
      const closed = new Promise<void>((done) => {
        r.on('close', done);
        r.on('error', () => done());
      });
      r.once('data', (c: Buffer) => res({ firstLine: c.toString().split('\n')[0], closed }));
    });
    req.on('error', () => undefined);
    req.end();
  });
  assert.equal(JSON.parse(stream.firstLine).type, 'SYNC');

  // Deleting the ServiceAccount revokes its tokens: the session's next request is refused.
  await k(['-n', 'uirevoke', 'delete', 'sa', 'short-lived']);
  const after = await request('GET', '/ui/api/whoami', { cookie });
  assert.equal(after.status, 401, after.body);
  assert.equal((await request('GET', '/ui/', { cookie })).status, 401);
  // The stream opened before is closed by the server (the test's own timeout bounds the wait).
  await stream.closed;
  // The session is gone for good: a new ServiceAccount of the same name (a new uid) does not bring it back.
  await k(['-n', 'uirevoke', 'create', 'sa', 'short-lived']);
  assert.equal((await request('GET', '/ui/api/whoami', { cookie })).status, 401);
  assert.equal((await request('GET', '/ui/api/live?resources=pods', { cookie })).status, 401);
});
