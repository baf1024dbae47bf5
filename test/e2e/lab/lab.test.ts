// The whole lab through the `flatnet` command: up, a second up refused, status, pods on two
// nodes talking across the overlay, down; the root namespace's links, addresses, routes and
// nftables ruleset are identical before `up` and after `down`; `down` after an `up` killed
// mid-way (SIGKILL) leaves nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { listNetns } from '../../../src/linux/netns.js';
import { isLabNetns } from '../../../src/lab/plan.js';
import { findLabProcesses, readPidFiles } from '../../../src/lab/processes.js';
import { requireFreeLab, requireRoot } from '../../support/prerequisites.js';

const repo = new URL('../../../', import.meta.url).pathname;
const flatnet = join(repo, 'bin/flatnet');
/** One lab runs per machine: a test fails (saying why) while someone else's lab is running. */
function requireLabSlot(): void {
  requireRoot('it starts a flatnet lab: network namespaces, nftables');
  requireFreeLab();
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): { code: number; out: string; err: string } {
  const r = spawnSync(flatnet, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 240_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** The root namespace's network state, without counters and lifetimes that move on their own. */
function rootSnapshot(): string {
  const strip = (json: string) =>
    JSON.stringify(JSON.parse(json), (k, v) => (['valid_life_time', 'preferred_life_time', 'stats', 'stats64'].includes(k) ? undefined : v));
  return [
    strip(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })),
    strip(execFileSync('ip', ['-j', 'address', 'show'], { encoding: 'utf8' })),
    execFileSync('ip', ['route', 'show', 'table', 'all'], { encoding: 'utf8' }),
    execFileSync('nft', ['list', 'ruleset'], { encoding: 'utf8' }),
  ].join('\n---\n');
}

function assertNothingLeft(dataDir: string): void {
  assert.deepEqual(listNetns().filter(isLabNetns), [], 'no lab namespaces remain');
  assert.deepEqual(findLabProcesses(dataDir), [], 'no lab processes remain');
  assert.equal(existsSync(dataDir), false, 'the data directory up created is gone');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The first successful answer of `fn` within `ms` (a pod's server may start just after Running). */
async function eventually(fn: () => string, ms = 20_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return fn();
    } catch (err) {
      if (Date.now() > end) throw err;
      await sleep(500);
    }
  }
}

test('up, up again (refused), status, cross-node pods, down: root namespace unchanged', { timeout: 300_000 }, async (t) => {
  requireLabSlot();
  const dataDir = join(mkdtempSync(join(tmpdir(), 'flatnet-e2e-lab-')), 'data');
  t.after(() => {
    run(['down', '--data-dir', dataDir]);
    rmSync(dirname(dataDir), { recursive: true, force: true });
  });
  const before = rootSnapshot();

  const up = run(['up', '--nodes', '2', '--data-dir', dataDir]);
  assert.equal(up.code, 0, up.out + up.err);
  assert.match(up.out, /node node-1 Ready/);
  assert.match(up.out, /node node-2 Ready/);
  assert.match(up.out, /cluster DNS answers \(kubernetes\.default\.svc\.cluster\.local -> 10\.96\.0\.1/);
  // The API server is reachable inside the lab at its advertised address.
  assert.equal(execFileSync('ip', ['netns', 'exec', 'flatnet-node-node-1', 'curl', '-sk', '--max-time', '5', 'https://172.18.0.1:6443/readyz'], { encoding: 'utf8' }), 'ok');
  assert.match(up.out, new RegExp(`export KUBECONFIG=${dataDir}/admin.kubeconfig`));
  // Each agent runs inside its node's namespace and reaches the server only at its underlay
  // address (nothing listens on the node's loopback); its data directory is its own (0700) and
  // holds no admin credential.
  const adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  for (const node of ['node-1', 'node-2']) {
    const pid = readPidFiles(join(dataDir, 'pids')).get(`agent-${node}`)!;
    assert.equal(execFileSync('ip', ['netns', 'identify', String(pid)], { encoding: 'utf8' }).trim(), `flatnet-node-${node}`);
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.ok(argv.includes('https://172.18.0.1:6443'), argv.join(' '));
    assert.ok(!argv.some((a) => a.includes('admin') || a.includes(adminToken)), argv.join(' '));
    const nodeDir = join(dataDir, 'nodes', node);
    assert.equal((statSync(nodeDir).mode & 0o777).toString(8), '700');
    assert.match(readFileSync(join(nodeDir, 'kubelet.kubeconfig'), 'utf8'), /server: https:\/\/172\.18\.0\.1:6443\n[\s\S]*client-certificate: /);
    assert.equal(spawnSync('grep', ['-rlF', adminToken, nodeDir]).status, 1, `no file in ${nodeDir} holds the admin token`);
  }
  assert.notEqual(spawnSync('ip', ['netns', 'exec', 'flatnet-node-node-1', 'curl', '-sk', '--max-time', '3', 'https://127.0.0.1:6443/readyz']).status, 0, 'the API server is not on the node\'s loopback');
  assert.ok(listNetns().includes('flatnet-lab') && listNetns().includes('flatnet-ext') && listNetns().includes('flatnet-node-node-1'));

  const again = run(['up', '--data-dir', dataDir]);
  assert.equal(again.code, 1);
  assert.match(again.err, /already running.*flatnet down/s);

  const status = run(['status', '--data-dir', dataDir]);
  assert.equal(status.code, 0, status.out + status.err);
  assert.match(status.out, /node-1\s+Ready/);
  assert.match(status.out, /API https:\/\/127\.0\.0\.1:6443: ready/);
  assert.match(status.out, /cluster DNS 10\.96\.0\.10: answers/);

  // Two pods on two nodes: the server sees the client's pod address across the overlay.
  const kubectl = (...args: string[]) => execFileSync('kubectl', args, { encoding: 'utf8', env: { ...process.env, KUBECONFIG: `${dataDir}/admin.kubeconfig` } });
  for (const i of [1, 2]) kubectl('run', `web${i}`, '--image=registry.k8s.io/e2e-test-images/agnhost:2.53', `--overrides={"spec":{"nodeName":"node-${i}"}}`, '--', 'netexec', '--http-port=8080');
  kubectl('wait', '--for=jsonpath={.status.phase}=Running', 'pod/web1', 'pod/web2', '--timeout=60s');
  const ip1 = kubectl('get', 'pod', 'web1', '-o', 'jsonpath={.status.podIP}');
  const ip2 = kubectl('get', 'pod', 'web2', '-o', 'jsonpath={.status.podIP}');
  const seen = await eventually(() => kubectl('exec', 'web1', '--', 'wget', '-qO-', '-T', '2', `http://${ip2}:8080/clientip`));
  assert.equal(seen.split(':')[0], ip1);

  // The supervisor restarts a process that dies.
  const serverPid = readPidFiles(join(dataDir, 'pids')).get('server')!;
  process.kill(serverPid, 'SIGKILL');
  const restarted = await eventually(() => {
    const pid = readPidFiles(join(dataDir, 'pids')).get('server');
    if (!pid || pid === serverPid) throw new Error('not restarted yet');
    // Ready once its informers synced again (until then /readyz answers 500 with the failed check).
    const ready = execFileSync('curl', ['-sk', '--max-time', '2', 'https://127.0.0.1:6443/readyz'], { encoding: 'utf8' });
    if (ready !== 'ok') throw new Error(`not ready yet: ${ready}`);
    return ready;
  }, 120_000);
  assert.equal(restarted, 'ok');

  const down = run(['down', '--data-dir', dataDir]);
  assert.equal(down.code, 0, down.out + down.err);
  assertNothingLeft(dataDir);
  assert.equal(rootSnapshot(), before, 'root namespace links, addresses, routes and nftables are as before');
  // A second down is harmless.
  assert.equal(run(['down', '--data-dir', dataDir]).code, 0);
});

test('host-gw overlay with the reference CNI plugins: cross-node pods and the kubernetes Service', { timeout: 300_000 }, async (t) => {
  requireLabSlot();
  const dataDir = join(mkdtempSync(join(tmpdir(), 'flatnet-e2e-hostgw-')), 'data');
  t.after(() => {
    run(['down', '--data-dir', dataDir]);
    rmSync(dirname(dataDir), { recursive: true, force: true });
  });
  const up = run(['up', '--nodes', '2', '--overlay', 'host-gw', '--cni-plugins', 'reference', '--data-dir', dataDir]);
  assert.equal(up.code, 0, up.out + up.err);
  assert.match(up.out, /overlay host-gw, proxy nftables, CNI plugins reference/);
  assert.match(execFileSync('ip', ['-n', 'flatnet-node-node-1', 'route'], { encoding: 'utf8' }), /via 172\.18\.0\.12 dev eth0 proto 77/);
  const kubectl = (...args: string[]) => execFileSync('kubectl', args, { encoding: 'utf8', env: { ...process.env, KUBECONFIG: `${dataDir}/admin.kubeconfig` } });
  for (const i of [1, 2]) kubectl('run', `web${i}`, '--image=registry.k8s.io/e2e-test-images/agnhost:2.53', `--overrides={"spec":{"nodeName":"node-${i}"}}`, '--', 'netexec', '--http-port=8080');
  kubectl('wait', '--for=jsonpath={.status.phase}=Running', 'pod/web1', 'pod/web2', '--timeout=60s');
  const ip1 = kubectl('get', 'pod', 'web1', '-o', 'jsonpath={.status.podIP}');
  const ip2 = kubectl('get', 'pod', 'web2', '-o', 'jsonpath={.status.podIP}');
  assert.equal((await eventually(() => kubectl('exec', 'web1', '--', 'wget', '-qO-', '-T', '2', `http://${ip2}:8080/clientip`))).split(':')[0], ip1);
  // A pod reaches the API server through the kubernetes Service (proxy DNAT + the lab's API bridge).
  assert.equal(kubectl('exec', 'web2', '--', 'wget', '-qO-', '--no-check-certificate', 'https://10.96.0.1/readyz'), 'ok');
  assert.equal(run(['down', '--data-dir', dataDir]).code, 0);
  assertNothingLeft(dataDir);
});

for (const stage of ['namespaces', 'supervisor'] as const) {
  test(`down after up was killed (SIGKILL) once ${stage === 'namespaces' ? 'node namespaces existed' : 'the supervisor was running'} leaves nothing`, { timeout: 300_000 }, async (t) => {
    requireLabSlot();
    const dataDir = join(mkdtempSync(join(tmpdir(), 'flatnet-e2e-kill-')), 'data');
    t.after(() => {
      run(['down', '--data-dir', dataDir]);
      rmSync(dirname(dataDir), { recursive: true, force: true });
    });
    const before = rootSnapshot();
    run(['--help']); // build first, then run the build directly, so the kill lands during up itself (not a rebuild)
    const child = spawn(process.execPath, ['--enable-source-maps', join(repo, 'dist/src/cli/main.js'), 'up', '--nodes', '3', '--data-dir', dataDir], { stdio: 'ignore' });
    const deadline = Date.now() + 60_000;
    const reached = () => (stage === 'namespaces' ? listNetns().includes('flatnet-node-node-1') : existsSync(join(dataDir, 'pids', 'server.pid')));
    while (!reached() && Date.now() < deadline) await sleep(5);
    assert.ok(reached(), `up reached the ${stage} stage`);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    if (stage === 'supervisor') assert.ok(findLabProcesses(dataDir).length > 0, 'the lab processes outlived the killed up');
    const down = run(['down', '--data-dir', dataDir]);
    assert.equal(down.code, 0, down.out + down.err);
    assertNothingLeft(dataDir);
    assert.equal(rootSnapshot(), before);
  });
}
