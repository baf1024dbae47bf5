// `flatnet runtime` as a real process on its unix socket, with real network namespaces (prefix
// frt-, no lab): the socket's permissions, the version check, a built-in nginx and a `command:`
// process container serving in a pod namespace, a workload that fails ending only its container,
// logs, stop and removal; then the runtime killed with SIGKILL and started again: the process
// container it left is killed and reported EXITED, the sandbox is still known.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { capabilitySet } from '../../../src/agent/isolation-plan.js';
import { RuntimeClient, RuntimeCallError } from '../../../src/runtime/client.js';
import type { ContainerConfig, ContainerEvent } from '../../../src/runtime/api.js';
import { RUNTIME_RESTARTED } from '../../../src/runtime/node-runtime.js';

const repo = resolve(import.meta.dirname, '../../..');
const NETNS = `frt-${process.pid}`;

function prerequisites(): void {
  if (process.getuid?.() !== 0) throw new Error('this test needs root: it creates network namespaces and isolated processes');
  for (const tool of ['ip', 'unshare', 'nsenter', 'setpriv', 'tini', 'busybox', 'curl']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`this test needs "${tool}" (scripts/ensure-deps installs it)`);
  }
}

function sh(cmd: string): string {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  return r.stdout;
}

function startRuntime(dataDir: string): ChildProcess {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ['--import', join(repo, 'node_modules/tsx/dist/loader.mjs'), join(repo, 'src/cli/main.ts'), 'runtime', '--data-dir', dataDir, '--stop-grace', '2'], { stdio: ['ignore', 'inherit', 'pipe'], env });
  child.stderr?.on('data', (c: Buffer) => {
    if (process.env.FLATNET_TEST_VERBOSE) process.stderr.write(c);
  });
  return child;
}

async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await f();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

function curlInPod(path: string): string {
  return sh(`ip netns exec ${NETNS} curl -s -m 5 http://127.0.0.1${path}`);
}

const root = { uid: 0, gid: 0, groups: [], capabilities: capabilitySet(false, undefined), noNewPrivileges: false, readOnlyRootFilesystem: false, privileged: false };

test('flatnet runtime: containers on a unix socket, outliving their client, stopped by a runtime restart', async (t) => {
  prerequisites();
  const work = mkdtempSync(join(tmpdir(), 'frt-'));
  const dataDir = join(work, 'node');
  sh(`ip netns add ${NETNS} && ip -n ${NETNS} link set lo up`);
  let runtime = startRuntime(dataDir);
  t.after(() => {
    runtime.kill('SIGKILL');
    spawnSync('sh', ['-c', `for p in $(ip netns pids ${NETNS}); do kill -9 $p; done; ip netns del ${NETNS}`]);
    rmSync(work, { recursive: true, force: true });
  });
  const socket = join(dataDir, 'runtime', 'runtime.sock');
  const client = new RuntimeClient(socket);
  const version = await until('the runtime socket', () => client.connect());
  assert.equal(version.using, 'v1');
  assert.equal(statSync(socket).mode & 0o777, 0o600, 'the socket is 0600');
  assert.equal(statSync(join(dataDir, 'runtime')).mode & 0o777, 0o700, 'its directory is 0700');

  // An unknown version and a bad field get clear errors, not a crash.
  const raw = (path: string, body: string) =>
    new Promise<{ status: number; body: string }>((done, fail) => {
      const req = http.request({ socketPath: socket, method: 'POST', path, headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => done({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', fail);
      req.end(body);
    });
  const v2 = await raw('/v2/ListContainers', '{}');
  assert.equal(v2.status, 404);
  assert.match((JSON.parse(v2.body) as { error: string }).error, /unsupported runtime API version "v2"/);
  const bad = await raw('/v1/CreateContainer', JSON.stringify({ config: { sandboxId: 'x', name: 'Bad_Name', run: { kind: 'builtin', image: 'nginx' } } }));
  assert.equal(bad.status, 400);
  assert.match((JSON.parse(bad.body) as { error: string }).error, /^config\.name: "Bad_Name" is not a DNS label/);

  const events: ContainerEvent[] = [];
  const stream = await client.events((e) => events.push(e));
  const uid = '11111111-2222-3333-4444-555555555555';
  await client.call('RunPodSandbox', { config: { uid, namespace: 'default', name: 'web', netns: NETNS, podIP: '127.0.0.1', hostname: 'web', logDir: join(dataDir, 'pods', `default_web_${uid}`) } });
  // PullImage loads a built-in image's workload before its container starts; an unknown image is refused by name.
  assert.deepEqual(await client.call('PullImage', { image: 'nginx:1.25' }), { imageRef: 'flatnet://builtin/nginx' });
  const unknownImage = await raw('/v1/PullImage', JSON.stringify({ image: 'example.com/no-such-image' }));
  assert.equal(unknownImage.status, 400);
  assert.match((JSON.parse(unknownImage.body) as { error: string }).error, /^image: "example\.com\/no-such-image" is not a built-in image/);
  const nginx: ContainerConfig = { sandboxId: uid, name: 'nginx', attempt: 0, env: {}, ports: [{ containerPort: 80 }], run: { kind: 'builtin', image: 'nginx:1.25', args: [] } };
  const nginxId = (await client.call('CreateContainer', { config: nginx })).containerId;
  await client.call('StartContainer', { containerId: nginxId });
  const httpd: ContainerConfig = { sandboxId: uid, name: 'httpd', attempt: 0, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, ports: [], run: { kind: 'process', argv: ['busybox', 'httpd', '-f', '-p', '8080', '-h', '/etc'], identity: root, hostPID: false, hostIPC: false, hidden: [dataDir], tty: false, stdin: false } };
  const httpdId = (await client.call('CreateContainer', { config: httpd })).containerId;
  const started = (await client.call('StartContainer', { containerId: httpdId })).container;
  assert.ok(started.pid > 0);
  assert.match(await until('nginx serving in the pod namespace', () => curlInPod('/')), /Welcome to nginx!/);
  assert.match(await until('busybox httpd serving in the pod namespace', () => curlInPod(':8080/hostname')), /\S/);

  // A second client (a restarted agent) sees the same containers, running, with their PIDs.
  const again = new RuntimeClient(socket);
  const listed = (await again.call('ListContainers', { sandboxId: uid })).containers;
  assert.deepEqual(listed.map((c) => [c.name, c.state]).sort(), [['httpd', 'RUNNING'], ['nginx', 'RUNNING']]);
  assert.equal(listed.find((c) => c.name === 'httpd')!.pid, started.pid);
  assert.ok(listed.find((c) => c.name === 'httpd')!.initPid > 0, 'the container PID 1 is reported for exec');

  // A workload that fails ends its own container with an exit code; the runtime keeps serving.
  const broken = (await client.call('CreateContainer', { config: { ...nginx, name: 'broken', run: { kind: 'builtin', image: 'agnhost', args: ['no-such-subcommand'] } } })).containerId;
  await client.call('StartContainer', { containerId: broken });
  const dead = await until('the broken workload to exit', async () => {
    const c = (await client.call('ContainerStatus', { containerId: broken })).container;
    return c.state === 'EXITED' ? c : undefined;
  });
  assert.notEqual(dead.exitCode, 0);
  // The event stream may deliver the exit a moment after the status call answered.
  await until('the exit as an event', () => events.some((e) => e.type === 'exited' && e.container.id === broken));
  assert.match(curlInPod('/'), /Welcome to nginx!/);

  // Logs: nginx logged the requests.
  const logs = await client.logs(nginxId);
  let text = '';
  for await (const chunk of logs) text += chunk;
  assert.match(text, /stdout F .*"GET \/ HTTP\/1.1" 200/);
  await assert.rejects(client.logs('nope'), (err: RuntimeCallError) => err.status === 404);

  // Attach: the request body is the container's stdin; its end closes it (stdinOnce).
  const cat = (await client.call('CreateContainer', { config: { ...httpd, name: 'cat', run: { ...(httpd.run as Extract<ContainerConfig['run'], { kind: 'process' }>), argv: ['busybox', 'cat'], stdin: true } } })).containerId;
  await client.call('StartContainer', { containerId: cat });
  const stdin = client.attachStdin(cat, true);
  stdin.end('hello from stdin\n');
  const catDone = await until('cat to exit after its stdin closed', async () => {
    const c = (await client.call('ContainerStatus', { containerId: cat })).container;
    return c.state === 'EXITED' ? c : undefined;
  });
  assert.equal(catDone.exitCode, 0);
  let catLog = '';
  for await (const chunk of await client.logs(cat)) catLog += chunk;
  assert.match(catLog, /stdout F hello from stdin/);

  // Stop and remove one container: its port closes.
  const stopped = (await client.call('StopContainer', { containerId: nginxId, graceSeconds: 5 })).container;
  assert.equal(stopped.state, 'EXITED');
  assert.equal(stopped.exitCode, 0);
  await client.call('RemoveContainer', { containerId: nginxId });
  assert.throws(() => curlInPod('/'));
  stream.close();

  // SIGKILL the runtime: the process container outlives it only until the next runtime starts,
  // which kills it and reports it EXITED; the sandbox record stays.
  const pid = started.pid;
  runtime.kill('SIGKILL');
  await until('the runtime to die', () => (runtime.exitCode !== null || runtime.signalCode !== null ? true : undefined));
  runtime = startRuntime(dataDir);
  const after = new RuntimeClient(socket);
  await until('the restarted runtime', () => after.connect());
  const httpdAfter = (await after.call('ContainerStatus', { containerId: httpdId })).container;
  assert.equal(httpdAfter.state, 'EXITED');
  assert.equal(httpdAfter.message, RUNTIME_RESTARTED);
  await until('the leftover process to be gone', () => (existsSync(`/proc/${pid}`) ? undefined : true));
  assert.deepEqual((await after.call('ListPodSandbox', {})).sandboxes.map((s) => s.id), [uid]);
  await after.call('RemovePodSandbox', { sandboxId: uid });
  assert.deepEqual((await after.call('ListContainers', {})).containers, []);
});
