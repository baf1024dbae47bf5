// The lab supervisor with real processes: PID files, log files, waiting for a file before a
// start, environment variables from a file, a process inside a network namespace, restarting a
// process that exits, and stopping everything on request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabSupervisor } from '../../../src/lab/supervisor.js';
import { isAlive, readPidFiles } from '../../../src/lab/processes.js';
import type { LabState } from '../../../src/lab/plan.js';
import { requireRoot } from '../../support/prerequisites.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('supervisor: starts, waits for a file, restarts a crashed process, stops all', async (t) => {
  requireRoot('a supervised process runs inside a network namespace');
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-sup-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const netns = `fnsup-${process.pid}`;
  execFileSync('ip', ['netns', 'add', netns]);
  t.after(() => execFileSync('ip', ['netns', 'delete', netns]));
  const paths = { state: join(dir, 'lab.json'), pids: join(dir, 'pids'), logs: join(dir, 'logs'), nodes: join(dir, 'nodes'), join: join(dir, 'join.json') };
  const gate = join(dir, 'gate');
  const counter = join(dir, 'starts');
  const state: LabState = {
    version: 1,
    createdAt: new Date().toISOString(),
    preexisting: [],
    createdDataDir: true,
    command: ['/bin/sh', '-c'],
    plan: {
      options: { nodes: 1, overlay: 'vxlan', proxyMode: 'nftables', cniPlugins: 'flatnet', dataDir: dir },
      nodes: [],
      kubeconfig: gate,
      paths,
      processes: [
        // Crashes right away the first time, then stays up.
        { name: 'server', args: [`echo start >> ${counter}; if [ $(wc -l < ${counter}) -lt 2 ]; then echo crash; exit 3; fi; echo up; exec sleep 60`], log: join(paths.logs, 'server.log') },
        { name: 'agent-node-1', args: ['echo agent; exec sleep 60'], log: join(paths.logs, 'agent.log'), waitForFile: gate },
        // Waits for its environment file, and runs in its own network namespace.
        { name: 'agent-node-2', args: ['echo "token=$FLATNET_TOKEN netns=$(ip netns identify)"; exec sleep 60'], log: join(paths.logs, 'agent2.log'), envFile: paths.join, netns },
      ],
    },
  };
  const sup = new LabSupervisor(state);
  sup.start();
  t.after(() => sup.stop());
  await until('server restarted', () => existsSync(counter) && readFileSync(counter, 'utf8').split('\n').filter(Boolean).length === 2);
  await until('server pid file', () => {
    const pid = readPidFiles(paths.pids).get('server');
    return pid !== undefined && isAlive(pid);
  });
  await until('the restarted server logged', () => /crash\nup\n/.test(readFileSync(join(paths.logs, 'server.log'), 'utf8')));
  await sleep(300);
  assert.equal(readPidFiles(paths.pids).has('agent-node-1'), false, 'the agent waits for its file');
  assert.equal(readPidFiles(paths.pids).has('agent-node-2'), false, 'the second agent waits for its environment file');
  writeFileSync(gate, '');
  await until('agent started', () => readPidFiles(paths.pids).has('agent-node-1'));
  writeFileSync(paths.join, JSON.stringify({ FLATNET_TOKEN: 'abcdef.0123456789abcdef' }));
  await until('the second agent logged', () => existsSync(join(paths.logs, 'agent2.log')) && readFileSync(join(paths.logs, 'agent2.log'), 'utf8').includes('netns='));
  assert.equal(readFileSync(join(paths.logs, 'agent2.log'), 'utf8'), `token=abcdef.0123456789abcdef netns=${netns}\n`);
  // nsenter execs: the PID file names the supervised program itself, inside the namespace.
  assert.equal(execFileSync('ip', ['netns', 'identify', String(readPidFiles(paths.pids).get('agent-node-2'))], { encoding: 'utf8' }).trim(), netns);
  assert.equal(readPidFiles(paths.pids).get('supervisor'), process.pid);
  const pids = [...readPidFiles(paths.pids)].filter(([n]) => n !== 'supervisor').map(([, p]) => p);
  await sup.stop();
  for (const pid of pids) assert.equal(isAlive(pid), false);
  assert.deepEqual([...readPidFiles(paths.pids).keys()], []);
});
