// Controller leader election with two real `flatnet server` processes on one real etcd: only the
// holder of kube-system/kube-controller-manager runs controllers; kill -9 of the holder while a
// client writes through both servers hands the lease to the other (a lease transition), a Service
// created after that gets its EndpointSlice from the new leader, and every write the servers
// acknowledged is still there. A clean stop releases the lease.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { KubeClient } from '../../../src/client/client.js';
import type { EndpointSlice } from '../../../src/controllers/endpointslice-plan.js';
import { startEtcd, type EtcdMember } from '../../unit/store/etcd-member.js';
import { FakeKubelet, eventually } from './fake-kubelet.js';

/** How long to wait for a state before failing (generous: a shared machine may be loaded). */
const WAIT_MS = 120_000;
const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

interface ServerProcess {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
  dataDir: string;
  client: KubeClient;
  logs: string[];
}

/** A real `flatnet server --store etcd` with its controllers, as a child process we can kill -9. */
async function launch(name: string, etcdUrl: string): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), `flatnet-le-${name}-`));
  const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), 'server', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--store', 'etcd', '--etcd-servers', etcdUrl], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FLATNET_LOG: 'info' },
  });
  const logs: string[] = [];
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  // A test process that dies without its after() hook still takes its servers along.
  const killOnExit = () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`server ${name} did not serve within 120 s:\n${logs.join('')}`));
    }, 120_000);
    child.stderr!.on('data', (c: Buffer) => {
      logs.push(c.toString('utf8'));
      const m = logs.join('').match(/"msg":"serving","url":"(https:\/\/[^"]+)"/);
      if (m) {
        clearTimeout(timer);
        res(m[1]);
      }
    });
    child.stdout!.on('data', (c: Buffer) => logs.push(c.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`server ${name} exited with ${code} before serving:\n${logs.join('')}`));
    });
  }).catch(async (err: unknown) => {
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });
  const client = new KubeClient({ server: url, token: readFileSync(join(dataDir, 'admin.token'), 'utf8').trim(), ca: readFileSync(join(dataDir, 'ca.crt')) });
  return { name, child, exited, dataDir, client, logs };
}

async function terminate(s: ServerProcess, signal: NodeJS.Signals): Promise<void> {
  s.client.close();
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill(signal);
  await s.exited;
}

/** The identity a server logged when it campaigned (every leader-election log line carries it). */
function identityOf(s: ServerProcess): string | undefined {
  return s.logs.join('').match(/"component":"leader-election"[^\n]*"identity":"([^"]+)"/)?.[1];
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

async function leaseSpec(client: KubeClient): Promise<LeaseSpec | undefined> {
  return (await client.get(R.leases, 'kube-system', 'kube-controller-manager'))?.spec as LeaseSpec | undefined;
}

let etcd: EtcdMember;
const servers: ServerProcess[] = [];

before(async () => {
  etcd = await startEtcd();
});
after(async () => {
  for (const s of servers) {
    await terminate(s, 'SIGKILL');
    rmSync(s.dataDir, { recursive: true, force: true });
  }
  await etcd?.stop();
});

test('two servers on one etcd: one leader; kill -9 of it hands over, controllers resume, no acknowledged write lost; a clean stop releases the lease', async () => {
  const a = await launch('a', etcd.url);
  servers.push(a);
  const first = await eventually('server a holds the lease', async () => {
    const spec = await leaseSpec(a.client);
    return spec?.holderIdentity !== undefined && spec.holderIdentity === identityOf(a) && spec;
  }, WAIT_MS);
  assert.equal(first.leaseDurationSeconds, 15);
  assert.equal(first.leaseTransitions, 0);
  assert.match(first.acquireTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'acquireTime is a MicroTime');
  assert.match(first.renewTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'renewTime is a MicroTime');

  const b = await launch('b', etcd.url);
  servers.push(b);
  await eventually('server b campaigns', async () => identityOf(b) !== undefined, WAIT_MS);
  // The holder renews (renewTime moves) while b keeps waiting.
  await eventually('a renewal by a', async () => {
    const spec = await leaseSpec(b.client);
    return spec?.renewTime !== first.renewTime && spec;
  }, WAIT_MS);
  const held = await leaseSpec(b.client);
  assert.equal(held?.holderIdentity, identityOf(a));
  assert.equal(held?.acquireTime, first.acquireTime, 'a renew keeps acquireTime');
  assert.doesNotMatch(b.logs.join(''), /became the leader/, 'b must not run controllers while a holds the lease');

  // kubectl users see it where they look for kube-controller-manager's lease.
  const shown = await new Promise<string>((res, rej) => {
    const k = spawn('kubectl', ['--kubeconfig', join(b.dataDir, 'admin.kubeconfig'), '-n', 'kube-system', 'get', 'lease', 'kube-controller-manager', '-o', 'jsonpath={.spec.holderIdentity}'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    k.stdout.on('data', (c: Buffer) => (out += c.toString()));
    k.stderr.on('data', (c: Buffer) => (err += c.toString()));
    k.on('error', rej);
    k.on('close', (code) => (code === 0 ? res(out) : rej(new Error(`kubectl failed: ${err}`))));
  });
  assert.equal(shown, identityOf(a));

  // A node with a ready pod, played through b, so endpoints have somewhere to point.
  const kubelet = new FakeKubelet(b.client, ['le-node']);
  await kubelet.start();
  try {
    await b.client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'le' } });
    await b.client.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0', namespace: 'le', labels: { app: 'web' } }, spec: { nodeName: 'le-node', containers: [{ name: 'c', image: 'nginx' }] } });

    // Client traffic through both servers during the kill; every acknowledged write is recorded.
    const acknowledged = new Map<string, string>();
    const failed: string[] = [];
    let writing = true;
    const writer = async (via: ServerProcess) => {
      for (let i = 0; writing; i++) {
        const name = `${via.name}-${i}`;
        try {
          const made = await via.client.create<KubeObject>(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'le' }, data: { i: String(i) } });
          acknowledged.set(name, made.metadata.resourceVersion!);
        } catch (err) {
          failed.push(`${name}: ${(err as Error).message}`);
          if (via.child.exitCode !== null || via.child.signalCode !== null) return;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const writers = [writer(a), writer(b)];
    await eventually('writes acknowledged through both servers', async () => [...acknowledged.keys()].some((k) => k.startsWith('a-')) && [...acknowledged.keys()].some((k) => k.startsWith('b-')), WAIT_MS);

    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    await a.exited;
    const taken = await eventually(
      'server b takes the lease over',
      async () => {
        const spec = await leaseSpec(b.client);
        return spec?.holderIdentity === identityOf(b) && spec;
      },
      WAIT_MS,
    );
    const takeoverMs = Date.now() - killedAt;
    process.stderr.write(`# lease taken over ${takeoverMs} ms after kill -9 of the holder (lease duration 15 s)\n`);
    assert.equal(taken.leaseTransitions, 1);
    assert.notEqual(taken.acquireTime, first.acquireTime);
    await eventually('b starting its controllers', async () => /became the leader/.test(b.logs.join('')), WAIT_MS);

    // The new leader's controllers act: a Service created now gets its EndpointSlice with the pod.
    await b.client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'le' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } });
    const slice = await eventually('the EndpointSlice of Service web', async () => {
      const list = await b.client.list<EndpointSlice>(R.endpointslices, { namespace: 'le', labelSelector: 'kubernetes.io/service-name=web' });
      const s = list.items[0];
      return s && (s.endpoints ?? []).some((e) => e.targetRef?.name === 'web-0' && e.conditions.ready) && s;
    }, WAIT_MS);
    assert.equal(slice.metadata.ownerReferences?.[0]?.name, 'web');

    writing = false;
    await Promise.all(writers);
    assert.ok(acknowledged.size > 0);
    process.stderr.write(`# ${acknowledged.size} writes acknowledged around the kill; not acknowledged: ${failed.filter((f) => f.startsWith('a-')).length} through a (killed), ${failed.filter((f) => f.startsWith('b-')).length} through b\n`);
    // No acknowledged write lost: each is there, at the resourceVersion its create answered.
    const stored = new Map((await b.client.list(R.configmaps, { namespace: 'le' })).items.map((c: KubeObject) => [c.metadata.name!, c.metadata.resourceVersion!]));
    const lost = [...acknowledged].filter(([name, rv]) => stored.get(name) !== rv);
    assert.deepEqual(lost, [], `acknowledged writes missing or changed (failed attempts: ${failed.slice(0, 3).join('; ')})`);
  } finally {
    kubelet.stop();
  }

  // A clean stop releases the lease: no holder, so a next server would not wait.
  const observer = await launch('c', etcd.url);
  servers.push(observer);
  await terminate(b, 'SIGTERM');
  // Right after b exited the lease no longer names it (without a release it would for 15 s).
  const released = await leaseSpec(observer.client);
  assert.notEqual(released?.holderIdentity, identityOf(b));
  if (released?.holderIdentity === undefined) assert.equal(released?.leaseDurationSeconds, 1);
  else assert.equal(released.holderIdentity, identityOf(observer));
  const final = await eventually('c holds the lease', async () => {
    const spec = await leaseSpec(observer.client);
    return spec?.holderIdentity === identityOf(observer) && spec;
  }, WAIT_MS);
  assert.equal(final.leaseTransitions, 2);
});

test('a leader that cannot renew stops its controllers before its lease may be taken, and starts them again when it holds the lease anew', async () => {
  const leader = servers.find((s) => s.name === 'c' && s.child.exitCode === null && s.child.signalCode === null);
  assert.ok(leader, 'the first test leaves server c holding the lease');
  const before = await eventually('c holds the lease', async () => {
    const spec = await leaseSpec(leader.client);
    return spec?.holderIdentity === identityOf(leader) && spec;
  }, WAIT_MS);
  // Another party takes the lease and keeps it fresh: c's renews now fail.
  let intruding = true;
  const intruder = (async () => {
    while (intruding) {
      try {
        const lease = await leader.client.get(R.leases, 'kube-system', 'kube-controller-manager');
        const spec = { ...(lease!.spec as LeaseSpec), holderIdentity: 'intruder', renewTime: new Date().toISOString().replace('Z', '000Z') };
        await leader.client.update(R.leases, { ...lease!, spec });
      } catch {
        // a conflict with c's renew: write again
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  try {
    await eventually('c giving up its leadership', async () => /leadership lost: stopping the controllers/.test(leader.logs.join('')), WAIT_MS);
  } finally {
    intruding = false;
    await intruder;
  }
  const lost = await leaseSpec(leader.client);
  assert.equal(lost?.holderIdentity, 'intruder');
  // The intruder stopped renewing: after its lease duration c takes the lease again and its
  // controllers run again in the same process.
  const again = await eventually('c holding the lease again', async () => {
    const spec = await leaseSpec(leader.client);
    return spec?.holderIdentity === identityOf(leader) && spec;
  }, WAIT_MS);
  assert.equal(again.leaseTransitions, (before.leaseTransitions ?? 0) + 1);
  await leader.client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'again', namespace: 'le' }, spec: { selector: { app: 'again' }, ports: [{ port: 80 }] } });
  await eventually('the EndpointSlice of Service again', async () => {
    const list = await leader.client.list<EndpointSlice>(R.endpointslices, { namespace: 'le', labelSelector: 'kubernetes.io/service-name=again' });
    return list.items.length === 1;
  }, WAIT_MS);
});
