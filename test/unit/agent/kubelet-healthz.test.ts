// The runtime checks behind the node's Ready condition, on the real filesystem and `ip`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RuntimeHealthLoop, runtimeConnectionErrors, runtimeErrors } from '../../../src/agent/kubelet-healthz.js';

test('a writable sandbox directory and a present CNI config: no runtime errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fn-rt-'));
  try {
    writeFileSync(join(dir, 'cni.conflist'), '{}');
    assert.deepEqual(await runtimeErrors({ sandboxDir: dir, cniConfig: join(dir, 'cni.conflist') }), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unwritable sandbox directory and a missing CNI config are reported as the kubelet words them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fn-rt-'));
  try {
    writeFileSync(join(dir, 'file'), 'x');
    const errors = await runtimeErrors({ sandboxDir: join(dir, 'file'), cniConfig: join(dir, 'missing.conflist') });
    assert.equal(errors.length, 2, errors.join('\n'));
    assert.match(errors[0], /^container runtime not ready: RuntimeReady=false reason:SandboxRecordsUnwritable message:cannot write .*file: ENOTDIR/);
    assert.match(errors[1], /^container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni config .*missing.conflist is missing$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the runtime connection\'s state is worded as the kubelet\'s "container runtime is down"', () => {
  assert.deepEqual(runtimeConnectionErrors(undefined), [], 'no runtime connection (containers in the agent): nothing to report');
  assert.deepEqual(runtimeConnectionErrors({ up: true }), []);
  assert.deepEqual(runtimeConnectionErrors({ up: false, reason: 'the node runtime at /r.sock did not answer /version within 2s' }), ['container runtime is down: the node runtime at /r.sock did not answer /version within 2s']);
});

test('refresh() reports the connection\'s state at once, with the last results of the file checks', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fn-rt-'));
  let health: { up: true } | { up: false; reason: string } = { up: true };
  const reports: string[][] = [];
  let ticked!: () => void;
  const firstTick = new Promise<void>((r) => (ticked = r));
  const loop = new RuntimeHealthLoop({ sandboxDir: dir, cniConfig: join(dir, 'missing.conflist') }, (e) => {
    reports.push(e);
    ticked();
  }, () => health);
  try {
    loop.start();
    await firstTick;
    assert.equal(reports.at(-1)!.length, 1);
    assert.match(reports.at(-1)![0], /cni config .*missing\.conflist is missing/);
    health = { up: false, reason: 'gone' };
    loop.refresh();
    assert.equal(reports.at(-1)!.length, 2, 'reported synchronously, without waiting for the next tick');
    assert.equal(reports.at(-1)![0], 'container runtime is down: gone');
    assert.match(reports.at(-1)![1], /cni config/);
  } finally {
    loop.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
