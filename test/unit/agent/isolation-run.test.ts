// The launch command line run for real (no lab, no network namespace): the kernel gives the
// process its own PID and mount namespaces, the hidden directory is empty, the token directory
// shows, the identity and capabilities are the plan's, and exec through nsenter lands beside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capabilitySet, containerLaunchArgv, execInContainerArgv, type ContainerIdentity } from '../../../src/agent/isolation-plan.js';
import { firstChild } from '../../../src/agent/container-process.js';

function prerequisites(): void {
  if (process.getuid?.() !== 0) throw new Error('this test needs root: it creates mount and PID namespaces');
  for (const tool of ['unshare', 'nsenter', 'setpriv', 'tini']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`this test needs "${tool}" (Debian: util-linux, tini; scripts/ensure-deps installs them)`);
  }
}

const user: ContainerIdentity = { uid: 1234, gid: 4321, groups: [4321], capabilities: capabilitySet(false, undefined), noNewPrivileges: true, readOnlyRootFilesystem: false, privileged: false };

test('an isolated process: own PID namespace, hidden data, token, user', (t) => {
  prerequisites();
  const work = mkdtempSync(join(tmpdir(), 'iso-run-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const data = join(work, 'data');
  const tokens = join(data, 'tokens', 'u-1');
  mkdirSync(tokens, { recursive: true });
  writeFileSync(join(data, 'secret.key'), 'KEY');
  writeFileSync(join(tokens, 'token'), 'TOKEN', { mode: 0o644 });
  const script = `id -u; id -g; cat /proc/1/comm; ls /proc | grep -cE '^[0-9]+$'; ls -A ${data} | wc -l; cat /var/run/secrets/kubernetes.io/serviceaccount/token; echo; grep CapEff /proc/self/status; grep NoNewPrivs /proc/self/status; touch /var/run/secrets/kubernetes.io/serviceaccount/x 2>/dev/null && echo writable || echo read-only`;
  const argv = containerLaunchArgv({ netns: '', hostPID: false, hostIPC: false, identity: user, hidden: [data], serviceAccountDir: tokens, argv: ['sh', '-c', script], tty: false });
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const [uid, gid, pid1, procs, hidden, token, capEff, nnp, ro] = r.stdout.trim().split('\n');
  assert.equal(uid, '1234');
  assert.equal(gid, '4321');
  assert.equal(pid1, 'tini');
  assert.ok(Number(procs) < 10, `processes visible: ${procs}`);
  assert.equal(hidden, '0');
  assert.equal(token, 'TOKEN');
  assert.match(capEff, /CapEff:\s+0000000000000000/);
  assert.match(nnp, /NoNewPrivs:\s+1/);
  assert.equal(ro, 'read-only');
});

test('root in the container keeps only the default capabilities and cannot uncover hidden paths', (t) => {
  prerequisites();
  const data = mkdtempSync(join(tmpdir(), 'iso-run-root-'));
  t.after(() => rmSync(data, { recursive: true, force: true }));
  writeFileSync(join(data, 'secret.key'), 'KEY');
  const root: ContainerIdentity = { ...user, uid: 0, gid: 0, groups: [], noNewPrivileges: false };
  const probe = join(tmpdir(), `iso-run-probe-${process.pid}`);
  t.after(() => rmSync(probe, { force: true }));
  const script = [
    'grep CapEff /proc/self/status',
    `umount ${data} 2>/dev/null && echo uncovered || echo covered`,
    `cat ${data}/secret.key 2>/dev/null || echo unreadable`,
    'touch /etc/flatnet-iso-probe 2>/dev/null && echo root-writable || echo root-read-only',
    `touch ${probe} && echo tmp-writable`,
    'echo 1 > /proc/sys/kernel/printk_ratelimit 2>/dev/null && echo sysctl-writable || echo sysctl-read-only',
    'ls /dev | tr "\\n" " "; echo',
    'echo hello > /dev/null && echo devnull',
  ].join('; ');
  const argv = containerLaunchArgv({ netns: '', hostPID: false, hostIPC: false, identity: root, hidden: [data], argv: ['sh', '-c', script], tty: false });
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(lines.slice(0, 6), ['CapEff:\t00000000a80425fb', 'covered', 'unreadable', 'root-read-only', 'tmp-writable', 'sysctl-read-only']);
  assert.deepEqual(lines[6].trim().split(' ').sort(), ['fd', 'full', 'null', 'ptmx', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero']);
  assert.equal(lines[7], 'devnull');
});

test('exec through nsenter joins the running container, and SIGTERM to its PID 1 ends it', async (t) => {
  prerequisites();
  const argv = containerLaunchArgv({ netns: '', hostPID: false, hostIPC: false, identity: user, hidden: [], argv: ['sleep', '300'], tty: false });
  const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore', detached: true });
  t.after(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let init: number | undefined;
  for (let i = 0; i < 200 && !init; i++) {
    await new Promise((r) => setTimeout(r, 25));
    const pid = firstChild(child.pid!);
    // The forked child is the container's PID 1 once it has exec'd tini.
    if (pid && spawnSync('cat', [`/proc/${pid}/comm`], { encoding: 'utf8' }).stdout.trim() === 'tini') init = pid;
  }
  assert.ok(init, 'the container PID 1 (tini) appeared');
  const e = execInContainerArgv(init, { hostPID: false, identity: user, argv: ['sh', '-c', 'id -u; ps -o comm | sort | tr "\\n" " "'], tty: false });
  const r = spawnSync(e[0], e.slice(1), { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const [uid, comms] = r.stdout.trim().split('\n');
  assert.equal(uid, '1234');
  assert.match(comms, /sleep/);
  assert.match(comms, /tini/);
  assert.doesNotMatch(comms, /node/);
  process.kill(init, 'SIGTERM');
  assert.equal(await exited, 143);
});
