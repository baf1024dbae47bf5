// An agent given two API servers (`--server URL1,URL2`) fails over between them: two real
// `flatnet server` processes on one real etcd share a CA (as two control-plane machines do);
// the agent's relay (src/agent/server-failover.ts) carries a real client's requests and watch.
// A server that refuses connections is skipped at once; after a kill -9 of the server in use,
// writes and the watch go on through the other one.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { R } from '../../../src/api/resources.js';
import type { KubeObject, WatchEvent } from '../../../src/api/types.js';
import { KubeClient } from '../../../src/client/client.js';
import { loadKubeconfig } from '../../../src/client/kubeconfig.js';
import { startServerFailover } from '../../../src/agent/server-failover.js';
import { createLogger } from '../../../src/util/log.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { startEtcd, type EtcdMember } from '../../unit/store/etcd-member.js';

let etcd: EtcdMember;
let one: TestServer;
let two: TestServer;
let twoDir: string;
const log = createLogger('test-failover');

before(async () => {
  etcd = await startEtcd();
  const onEtcd = ['--store', 'etcd', '--etcd-servers', etcd.url];
  one = await startTestServer({ controllers: false, args: onEtcd });
  // The second control-plane machine gets the cluster's CA and signing keys, as a person copies
  // them when adding a server; its own serving certificate is issued from that CA.
  twoDir = mkdtempSync(join(tmpdir(), 'flatnet-test-two-'));
  for (const f of ['ca.crt', 'ca.key', 'admin.token', 'sa-signer.key']) copyFileSync(join(one.dataDir, f), join(twoDir, f));
  two = await startTestServer({ controllers: false, dataDir: twoDir, args: onEtcd });
});
after(async () => {
  await two?.stop();
  await one?.stop();
  if (twoDir) rmSync(twoDir, { recursive: true, force: true });
  await etcd?.stop();
});

function cm(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { v: name } };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The PID listening on 127.0.0.1:port (the server process to kill -9). */
function listenerPid(url: string): number {
  const port = new URL(url).port;
  const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
  const m = /pid=(\d+)/.exec(out);
  if (!m) throw new Error(`no process listens on port ${port}: ${out}`);
  return Number(m[1]);
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a server that refuses connections is skipped: the first request goes through the next one', async () => {
  const dead = `https://127.0.0.1:${await freePort()}`;
  const relay = await startServerFailover([dead, two.url], { log });
  const admin = loadKubeconfig(one.kubeconfig);
  const client = new KubeClient({ ...admin, server: relay.url });
  try {
    const created = await client.create(R.configmaps, cm('via-second'));
    assert.equal(created.metadata.name, 'via-second');
    assert.equal(relay.activeServer(), two.url);
  } finally {
    client.close();
    await relay.close();
  }
});

test('kill -9 of the server in use: writes and the watch continue through the other server', async () => {
  const relay = await startServerFailover([one.url, two.url], { log, probeIntervalMs: 200 });
  const admin = loadKubeconfig(one.kubeconfig);
  const client = new KubeClient({ ...admin, server: relay.url });
  const events: WatchEvent[] = [];
  let stopped = false;
  let handle: { stop(): void } | undefined;
  try {
    const listed = await client.list(R.configmaps, { namespace: 'default' });
    assert.equal(relay.activeServer(), one.url);
    // A watch that resumes from the last version it saw whenever its stream ends (an informer).
    let rv = listed.metadata.resourceVersion;
    const watchLoop = async () => {
      while (!stopped) {
        const w = client.watch(R.configmaps, { namespace: 'default', resourceVersion: rv }, (ev) => {
          events.push(ev);
          if (ev.object.metadata.resourceVersion) rv = ev.object.metadata.resourceVersion;
        });
        handle = w;
        await w.done;
        if (!stopped) await new Promise((r) => setTimeout(r, 100));
      }
    };
    const watching = watchLoop();
    await client.create(R.configmaps, cm('before-kill'));
    await until('the watch sees before-kill', () => (events.some((e) => e.object.metadata.name === 'before-kill') ? true : undefined));

    process.kill(listenerPid(one.url), 'SIGKILL');
    // The request in flight when the server died may fail; the agent's callers retry, and the
    // retry goes to the other server.
    const created = await until('a write after the kill', () => client.create(R.configmaps, cm('after-kill')));
    assert.equal(created.metadata.name, 'after-kill');
    assert.equal(relay.activeServer(), two.url);
    await until('the resumed watch sees after-kill', () => (events.some((e) => e.object.metadata.name === 'after-kill') ? true : undefined));
    // Nothing acknowledged before the kill is lost, and the watch saw each object once.
    const names = (await client.list(R.configmaps, { namespace: 'default' })).items.map((c) => c.metadata.name);
    assert.ok(names.includes('before-kill') && names.includes('after-kill'), names.join(','));
    const added = events.filter((e) => e.type === 'ADDED').map((e) => e.object.metadata.name);
    assert.deepEqual(added.filter((n) => n === 'before-kill' || n === 'after-kill'), ['before-kill', 'after-kill']);
    stopped = true;
    handle?.stop();
    await watching;
  } finally {
    stopped = true;
    handle?.stop();
    client.close();
    await relay.close();
  }
});
