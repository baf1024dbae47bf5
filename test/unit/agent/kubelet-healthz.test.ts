// The runtime checks behind the node's Ready condition, on the real filesystem and `ip`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runtimeErrors } from '../../../src/agent/kubelet-healthz.js';

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
