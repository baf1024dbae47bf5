// The agent's view of its node runtime's health against a real `flatnet runtime` process: the
// connection is healthy once connected; a runtime that stops answering (SIGSTOP) turns it
// unhealthy with the reason and healthy again when it answers (SIGCONT); a killed runtime is
// reported at once and the connection comes back by itself when a new runtime listens. The
// kubelet health loop turns each state into the node's Ready errors ("container runtime is down").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RuntimeConnection, type RuntimeHealth } from '../../../src/runtime/agent-connection.js';
import { RuntimeHealthLoop } from '../../../src/agent/kubelet-healthz.js';
import { createLogger } from '../../../src/util/log.js';

const repo = resolve(import.meta.dirname, '../../..');

function startRuntime(dataDir: string): ChildProcess {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  delete env.NODE_OPTIONS;
  return spawn(process.execPath, ['--import', join(repo, 'node_modules/tsx/dist/loader.mjs'), join(repo, 'src/cli/main.ts'), 'runtime', '--data-dir', dataDir], { stdio: ['ignore', 'ignore', 'ignore'], env });
}

/** Resolves with the first health change from index `seen` on that satisfies `want`. */
function nextHealth(changes: RuntimeHealth[], seen: number, want: (h: RuntimeHealth) => boolean, what: string, timeoutMs = 60_000): Promise<RuntimeHealth> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no health change to ${what} within ${timeoutMs / 1000}s; changes: ${JSON.stringify(changes.slice(seen))}`)), timeoutMs);
    const poll = setInterval(() => {
      const hit = changes.slice(seen).find(want);
      if (hit) {
        clearTimeout(timer);
        clearInterval(poll);
        resolve(hit);
      }
    }, 20);
  });
}

test('the runtime connection reports a hung, a killed and a restarted runtime; the health loop words it as the kubelet', async (t) => {
  if (process.getuid?.() !== 0) throw new Error('this test needs root: flatnet runtime runs as root');
  const dataDir = mkdtempSync(join(tmpdir(), 'frh-'));
  const socket = join(dataDir, 'runtime', 'runtime.sock');
  let runtime = startRuntime(dataDir);
  const conn = new RuntimeConnection(socket, createLogger('test'));
  const reports: string[][] = [];
  const loop = new RuntimeHealthLoop({ sandboxDir: dataDir }, (errors) => reports.push(errors), () => conn.health());
  t.after(() => {
    loop.stop();
    conn.stop();
    if (runtime.exitCode === null) {
      runtime.kill('SIGCONT');
      runtime.kill('SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
  const changes: RuntimeHealth[] = [];
  conn.onHealthChange((h) => {
    changes.push(h);
    loop.refresh();
  });
  assert.equal(conn.healthy, false, 'not healthy before it connected');
  loop.refresh();
  assert.match(reports.at(-1)![0], /^container runtime is down: not connected to the node runtime yet$/);
  await conn.open();
  assert.equal(conn.healthy, true);
  assert.deepEqual(changes.at(-1), { up: true });
  assert.deepEqual(reports.at(-1), [], 'Ready again: no errors');

  // Stops answering: the process lives and its socket is open, but nothing answers.
  let mark = changes.length;
  runtime.kill('SIGSTOP');
  const hung = await nextHealth(changes, mark, (h) => !h.up, 'down after SIGSTOP');
  assert.ok(!hung.up && /did not answer \/version within 2s/.test(hung.reason), JSON.stringify(hung));
  assert.equal(conn.healthy, false);
  assert.match(reports.at(-1)![0], /^container runtime is down: the node runtime at .*runtime\.sock did not answer \/version within 2s$/);
  mark = changes.length;
  runtime.kill('SIGCONT');
  await nextHealth(changes, mark, (h) => h.up, 'up after SIGCONT');
  assert.deepEqual(reports.at(-1), []);

  // Killed: reported at once (the event stream ends), and back once a new runtime listens.
  const exited = new Promise((r) => runtime.once('exit', r));
  mark = changes.length;
  runtime.kill('SIGKILL');
  await exited;
  const lost = await nextHealth(changes, mark, (h) => !h.up, 'down after SIGKILL');
  assert.ok(!lost.up && /lost the connection to the node runtime/.test(lost.reason), JSON.stringify(lost));
  assert.match(reports.at(-1)![0], /^container runtime is down: lost the connection to the node runtime at /);
  mark = changes.length;
  runtime = startRuntime(dataDir);
  await nextHealth(changes, mark, (h) => h.up, 'up after a new runtime started');
  assert.equal(conn.healthy, true);
  assert.deepEqual(reports.at(-1), []);
});
