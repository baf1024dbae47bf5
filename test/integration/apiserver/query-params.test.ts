// Query parameters as upstream's parameter codec reads them, against a started server: booleans
// in every spelling clients send, watch timeouts (0 = the server default, huge values capped,
// non-integers 400), a resourceVersion from the future (504 ResourceVersionTooLarge), continue
// tokens bound to their list, the legacy /watch/ paths, and DELETE answers per kind. Each bad
// request leaves the store as it was.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { R } from '../../../src/api/resources.js';
import { startTestServer, type TestServer } from '../../support/server.js';

let s: TestServer;
let ca: Buffer;
let token: string;

before(async () => {
  s = await startTestServer({ store: 'memory', controllers: false });
  ca = readFileSync(join(s.dataDir, 'ca.crt'));
  token = readFileSync(join(s.dataDir, 'admin.token'), 'utf8').trim();
  for (const name of ['q-a', 'q-b', 'q-c']) await s.client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { v: '1' } });
});
after(async () => {
  await s?.stop();
});

interface Answer {
  code: number;
  text: string;
  json(): { kind?: string; code?: number; reason?: string; message?: string; status?: string; metadata?: { continue?: string; resourceVersion?: string }; details?: Record<string, unknown> & { causes?: { reason?: string }[] }; items?: { metadata: { name: string } }[] };
}

function request(method: string, path: string, body = '', contentType = 'application/json'): Promise<Answer> {
  const url = new URL(s.url);
  return new Promise((resolve, reject) => {
    const req = https.request({ host: url.hostname, port: url.port, method, path, ca, headers: { authorization: `Bearer ${token}`, 'content-type': contentType } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, text, json: () => JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Opens a watch and resolves with its first line once a ConfigMap is created after it opened. */
function watchSeesNewObject(path: string, name: string, first?: string): Promise<string> {
  const url = new URL(s.url);
  return new Promise((resolve, reject) => {
    const req = https.request({ host: url.hostname, port: url.port, method: 'GET', path, ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`watch answered ${res.statusCode}`));
        return;
      }
      let buffered = '';
      res.on('data', (c: Buffer) => {
        buffered += c.toString('utf8');
        for (const line of buffered.split('\n').slice(0, -1)) {
          if (line.includes(`"name":"${name}"`)) {
            req.destroy();
            resolve(line);
          }
        }
      });
      res.on('end', () => reject(new Error(`the watch ended before ${name} arrived: ${buffered.slice(0, 300)}`)));
      void (async () => {
        if (first) await s.client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: first, namespace: 'default' } });
        await s.client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' } });
      })();
    });
    req.on('error', (e) => (e.message === 'socket hang up' ? undefined : reject(e)));
    req.end();
  });
}

async function revision(): Promise<string> {
  return (await s.client.list(R.configmaps, { namespace: 'default' })).metadata.resourceVersion!;
}

/** The ConfigMaps of `default` with their resourceVersions: what these requests read and must not change. */
async function configMapVersions(): Promise<string[]> {
  return (await s.client.list(R.configmaps, { namespace: 'default' })).items.map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort();
}

/** Runs `attempt` and checks it changed no ConfigMap (the store's global revision also moves with the server's own lease renewals). */
async function unchanged(attempt: () => Promise<void>): Promise<void> {
  const before = await configMapVersions();
  await attempt();
  assert.deepEqual(await configMapVersions(), before, 'the request changed the store');
}

test('watch=True, watch=1 and watch= are watches (the Python client sends True)', async () => {
  for (const [i, v] of ['True', '1', 'TRUE', 't'].entries()) {
    const rv = await revision();
    const line = await watchSeesNewObject(`/api/v1/namespaces/default/configmaps?watch=${v}&resourceVersion=${rv}`, `w-bool-${i}`);
    assert.match(line, /^\{"type":"ADDED"/);
  }
  const list = await request('GET', '/api/v1/namespaces/default/configmaps?watch=false');
  assert.equal(list.json().kind, 'ConfigMapList');
  const zero = await request('GET', '/api/v1/namespaces/default/configmaps?watch=0');
  assert.equal(zero.json().kind, 'ConfigMapList');
});

test('timeoutSeconds=0 and timeoutSeconds=2147484 keep the watch open (server default, capped timer)', async () => {
  for (const [i, t] of ['0', '2147484', '99999999999'].entries()) {
    const rv = await revision();
    const line = await watchSeesNewObject(`/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=${t}&resourceVersion=${rv}`, `w-timeout-${i}`);
    assert.match(line, /"type":"ADDED"/);
  }
});

test('non-integer timeoutSeconds, limit and gracePeriodSeconds are 400 with strconv.ParseInt\'s message', () =>
  unchanged(async () => {
    for (const path of [
      '/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=abc',
      '/api/v1/namespaces/default/configmaps?limit=abc',
    ]) {
      const r = await request('GET', path);
      assert.equal(r.code, 400, path);
      assert.equal(r.json().reason, 'BadRequest');
      assert.equal(r.json().message, 'strconv.ParseInt: parsing "abc": invalid syntax');
    }
    const del = await request('DELETE', '/api/v1/namespaces/default/configmaps/q-a?gracePeriodSeconds=soon');
    assert.equal(del.code, 400);
    assert.equal(del.json().message, 'strconv.ParseInt: parsing "soon": invalid syntax');
  }));

test('a resourceVersion in the future is 504 Too large resource version on get and list (a watch gets it as its ERROR event)', () =>
  unchanged(async () => {
    const future = Number(await revision()) + 1000;
    const watched = await request('GET', `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${future}`);
    assert.equal(watched.code, 200);
    const event = JSON.parse(watched.text.trim()) as { type: string; object: { code: number; reason: string; details: { causes: { reason: string }[] } } };
    assert.equal(event.type, 'ERROR');
    assert.deepEqual([event.object.code, event.object.reason, event.object.details.causes[0].reason], [504, 'Timeout', 'ResourceVersionTooLarge']);
    for (const path of [
      `/api/v1/namespaces/default/configmaps/q-a?resourceVersion=${future}`,
      `/api/v1/namespaces/default/configmaps?resourceVersion=${future}`,
    ]) {
      const r = await request('GET', path);
      assert.equal(r.code, 504, path);
      const st = r.json();
      assert.equal(st.reason, 'Timeout');
      assert.match(st.message!, new RegExp(`^Too large resource version: ${future}, current: \\d+$`));
      assert.equal(st.details?.causes?.[0]?.reason, 'ResourceVersionTooLarge');
    }
  }));

test('a continue token is good only for the list it came from: another resource or namespace is 400', () =>
  unchanged(async () => {
    const page = (await request('GET', '/api/v1/namespaces/default/configmaps?limit=1')).json();
    const token = page.metadata!.continue!;
    assert.ok(token);
    const next = await request('GET', `/api/v1/namespaces/default/configmaps?limit=1&continue=${encodeURIComponent(token)}`);
    assert.equal(next.code, 200);
    for (const path of [`/api/v1/namespaces/default/services?limit=1&continue=${encodeURIComponent(token)}`, `/api/v1/namespaces/kube-system/configmaps?limit=1&continue=${encodeURIComponent(token)}`, `/api/v1/configmaps?limit=1&continue=${encodeURIComponent(token)}`]) {
      const r = await request('GET', path);
      assert.equal(r.code, 400, path);
      assert.match(r.json().message!, /^continue key is not valid: the token continues a list of \/configmaps in namespace default, not of /);
    }
  }));

test('the legacy /api/v1/watch/ and /apis/G/V/watch/ paths are watches', async () => {
  const rv = await revision();
  assert.match(await watchSeesNewObject(`/api/v1/watch/namespaces/default/configmaps?resourceVersion=${rv}`, 'w-legacy-1'), /"type":"ADDED"/);
  const rv2 = await revision();
  assert.match(await watchSeesNewObject(`/api/v1/watch/namespaces/default/configmaps/w-legacy-2?resourceVersion=${rv2}`, 'w-legacy-2'), /"name":"w-legacy-2"/);
  const rv3 = await revision();
  assert.match(await watchSeesNewObject(`/api/v1/watch/configmaps?resourceVersion=${rv3}`, 'w-legacy-3'), /"type":"ADDED"/);
  const deployments = await request('GET', '/apis/apps/v1/watch/namespaces/default/deployments?timeoutSeconds=1');
  assert.equal(deployments.code, 200);
  const post = await request('POST', '/api/v1/watch/namespaces/default/configmaps', '{}');
  assert.equal(post.code, 405);
});

test('DELETE answers as upstream: a Success Status for most kinds, the object for pods and services, the object while finalizers are pending', async () => {
  await s.client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'd-status', namespace: 'default' } });
  const made = (await s.client.get(R.configmaps, 'default', 'd-status'))!;
  const cm = await request('DELETE', '/api/v1/namespaces/default/configmaps/d-status');
  assert.equal(cm.code, 200);
  assert.deepEqual(cm.json(), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: 'd-status', kind: 'configmaps', uid: made.metadata.uid } });

  await s.client.create(R.deployments, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd-deploy', namespace: 'default' },
    spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
  } as never);
  const deploy = (await request('DELETE', '/apis/apps/v1/namespaces/default/deployments/d-deploy')).json();
  assert.equal(deploy.kind, 'Status');
  assert.deepEqual({ group: deploy.details?.group, kind: deploy.details?.kind, name: deploy.details?.name }, { group: 'apps', kind: 'deployments', name: 'd-deploy' });

  await s.client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'd-svc', namespace: 'default' }, spec: { ports: [{ port: 80 }] } } as never);
  const svc = (await request('DELETE', '/api/v1/namespaces/default/services/d-svc')).json();
  assert.equal(svc.kind, 'Service');

  await s.client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'd-fin', namespace: 'default', finalizers: ['example.com/hold'] } });
  const pending = (await request('DELETE', '/api/v1/namespaces/default/configmaps/d-fin')).json() as unknown as { kind: string; metadata: { deletionTimestamp?: string } };
  assert.equal(pending.kind, 'ConfigMap');
  assert.ok(pending.metadata.deletionTimestamp);
  const released = await request('PATCH', '/api/v1/namespaces/default/configmaps/d-fin', '{"metadata":{"finalizers":null}}', 'application/merge-patch+json');
  assert.equal(released.code, 200);
  assert.equal(await s.client.get(R.configmaps, 'default', 'd-fin'), undefined, 'the last finalizer gone, the object is gone');
});

test('Endpoints without addresses have no subsets field, as upstream omits the empty list', async () => {
  const r = await request('POST', '/api/v1/namespaces/default/endpoints', JSON.stringify({ metadata: { name: 'no-addresses' }, subsets: [] }));
  assert.equal(r.code, 201, r.text);
  assert.equal('subsets' in (r.json() as object), false);
});

test('a watch from a resourceVersion the store reaches within upstream\'s 3 s wait is served, not refused', async () => {
  const next = Number(await revision()) + 1;
  const line = await watchSeesNewObject(`/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${next - 1}`, 'w-future-0');
  assert.match(line, /"type":"ADDED"/);
  const ahead = Number(await revision()) + 1;
  // The first create brings the store to `ahead`; the watch then follows from there and sees the second.
  const served = await watchSeesNewObject(`/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${ahead}`, 'w-future-2', 'w-future-1');
  assert.match(served, /"type":"ADDED"/);
  assert.doesNotMatch(served, /"type":"ERROR"/);
});
