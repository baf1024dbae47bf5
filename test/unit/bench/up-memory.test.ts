import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMemory, labRole, parseSmapsRollup, totals } from '../../../bench/up/memory.js';
import { stepOf } from '../../../bench/up/timeline.js';

test('smaps_rollup fields in kB', () => {
  const f = parseSmapsRollup('55729b505000-7ffe37d98000 ---p 00000000 00:00 0   [rollup]\nRss:                1696 kB\nPss:                 207 kB\nPrivate_Clean:        40 kB\nPrivate_Dirty:       112 kB\n');
  assert.deepEqual(f, { Rss: 1696, Pss: 207, Private_Clean: 40, Private_Dirty: 112 });
});

test('lab roles from command lines, and totals of RSS, PSS and USS', () => {
  assert.equal(labRole(['node', '/r/dist/src/cli/main.js', 'join', '--node', 'node-2', '--data-dir', '/d/nodes/node-2']), 'agent node-2');
  assert.equal(labRole(['node', '/r/dist/src/cli/main.js', 'runtime', '--data-dir', '/d/nodes/node-1']), 'runtime node-1');
  assert.equal(labRole(['node', '/r/dist/src/lab/supervisor-main.js', '/d/lab.json']), 'supervisor');
  const list = [
    { pid: 1, role: 'server', rssKiB: 2048, pssKiB: 1024, ussKiB: 512, anonKiB: 400 },
    { pid: 2, role: 'supervisor', rssKiB: 1024, pssKiB: 512, ussKiB: 256, anonKiB: 200 },
  ];
  assert.deepEqual(totals(list), { rssKiB: 3072, pssKiB: 1536, ussKiB: 768 });
  assert.match(formatMemory(list).at(-1) ?? '', /^in all\s+3\.0\s+1\.5\s+0\.8/);
});

test('start-up steps from the lab logs', () => {
  assert.equal(stepOf('supervisor.log', { component: 'lab-supervisor', msg: 'started', process: 'server' }), 'server spawned');
  assert.equal(stepOf('agent-node-1.log', { msg: 'pod started', pod: 'kube-system/coredns-5847479c8d-nqljx' }), 'agent-node-1 started DNS pod coredns-5847479c8d-nqljx');
  assert.equal(stepOf('agent-node-1.log', { msg: 'pod started', pod: 'default/web' }), undefined);
  assert.equal(stepOf('server.log', { component: 'apiserver', msg: 'serving' }), 'server listening');
});
