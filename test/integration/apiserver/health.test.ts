// /healthz, /livez and /readyz of a real server on a real SQLite store, read with curl (no
// credentials: what system:public-info-viewer allows everyone) and with the real kubectl:
// the checks pass with the controllers' informers synced; then the SQLite database is closed
// under the running server and the store check fails (500, "[-]etcd failed: reason withheld");
// a shutdown fails readyz but not livez.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApiServer } from '../../../src/apiserver/server.js';
import { KubeClient } from '../../../src/client/client.js';
import { startControllers } from '../../../src/controllers/index.js';
import { openStore, type Store } from '../../../src/store/index.js';

const run = promisify(execFile);
let dir: string;
let store: Store;
let server: ApiServer;
let client: KubeClient;
let controllers: { stop(): Promise<void> } | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flatnet-health-'));
  store = openStore('sqlite', dir);
  server = await ApiServer.start({ dataDir: dir, listen: '127.0.0.1:0', store, serviceCIDR: '10.96.0.0/16', nodePortRange: '30000-32767' });
  client = new KubeClient({ server: server.url, token: server.token, ca: Buffer.from(server.caPem) });
});

after(async () => {
  await controllers?.stop();
  client?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** curl without credentials: status code and body. */
async function anonymous(path: string): Promise<{ code: number; body: string }> {
  const { stdout } = await run('curl', ['-sk', '-w', '\n%{http_code}', `${server.url}${path}`]);
  const i = stdout.lastIndexOf('\n');
  return { code: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) };
}

async function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('kubectl', ['--kubeconfig', server.kubeconfigPath, '--cache-dir', join(dir, 'kubectl-cache'), ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('healthy: ok to anyone; verbose lines as kube-apiserver prints them; informer-sync follows the controllers', async () => {
  assert.deepEqual(await anonymous('/readyz'), { code: 200, body: 'ok' });
  assert.deepEqual(await anonymous('/livez'), { code: 200, body: 'ok' });
  assert.deepEqual(await anonymous('/healthz'), { code: 200, body: 'ok' });
  controllers = await startControllers(client, { serviceCIDR: '10.96.0.0/16', podCIDR: '10.244.0.0/16', nodePortRange: '30000-32767', advertiseAddress: '127.0.0.1', advertisePort: server.port, only: ['endpointslice', 'namespace'] });
  const ready = await kubectl(['get', '--raw=/readyz?verbose']);
  assert.equal(ready.code, 0, ready.stderr);
  assert.equal(ready.stdout, '[+]ping ok\n[+]log ok\n[+]etcd ok\n[+]informer-sync ok\n[+]shutdown ok\nreadyz check passed\n');
  const live = await anonymous('/livez?verbose');
  assert.deepEqual(live, { code: 200, body: '[+]ping ok\n[+]log ok\n[+]etcd ok\nlivez check passed\n' });
  const excluded = await kubectl(['get', '--raw=/readyz?verbose&exclude=etcd&exclude=nosuch']);
  assert.match(excluded.stdout, /\[\+\]etcd excluded: ok\n/);
  assert.match(excluded.stdout, /warn: some health checks cannot be excluded: no matches for "nosuch"\n/);
  const one = await kubectl(['get', '--raw=/readyz/etcd']);
  assert.equal(one.stdout, 'ok');
  // One check by name is system:monitoring's: the public may not read it.
  const forbidden = await anonymous('/readyz/etcd');
  assert.equal(forbidden.code, 403);
  assert.match(forbidden.body, /forbidden: User \\"system:anonymous\\" cannot get path \\"\/readyz\/etcd\\"/);
  const unknown = await kubectl(['get', '--raw=/readyz/nosuch']);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /NotFound|could not find/);
});

test('the SQLite database closed under the server: 500 with the failed line; one check by name says why', async () => {
  await controllers?.stop();
  controllers = undefined;
  store.close();
  const ready = await anonymous('/readyz?verbose');
  assert.equal(ready.code, 500);
  assert.equal(ready.body, '[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\n[+]informer-sync ok\n[+]shutdown ok\nreadyz check failed\n');
  const plain = await anonymous('/readyz');
  assert.equal(plain.code, 500, 'a failure is verbose even without ?verbose');
  assert.equal(plain.body, ready.body);
  assert.equal((await anonymous('/livez')).code, 500);
  assert.match((await anonymous('/healthz')).body, /\[-\]etcd failed: reason withheld\nhealthz check failed\n$/);
  const k = await kubectl(['get', '--raw=/readyz?verbose']);
  assert.notEqual(k.code, 0);
  console.log(`kubectl get --raw='/readyz?verbose' with the store closed:\n${k.stderr}`);
  assert.match(k.stderr, /\[-\]etcd failed: reason withheld/);
  assert.match(k.stderr, /readyz check failed/);
  const why = await kubectl(['get', '--raw=/livez/etcd']);
  assert.notEqual(why.code, 0);
  assert.match(why.stderr, /internal server error: The database connection is not open/);
  assert.equal((await kubectl(['get', '--raw=/readyz?exclude=etcd'])).stdout, 'ok', 'excluding the failed check passes');
});

test('a server told to stop fails readyz (shutdown) and stays live', async () => {
  server.beginShutdown();
  const ready = await anonymous('/readyz?verbose&exclude=etcd');
  assert.equal(ready.code, 500);
  assert.match(ready.body, /\[-\]shutdown failed: reason withheld\nreadyz check failed\n$/);
  const live = await anonymous('/livez?exclude=etcd');
  assert.deepEqual(live, { code: 200, body: 'ok' });
  const why = await kubectl(['get', '--raw=/readyz/shutdown']);
  assert.match(why.stderr, /process is shutting down/);
});
