// A built-in workload's API credentials: the node's server and CA, the pod's ServiceAccount token
// (re-read once a minute, as the agent rewrites it), never the node's client certificate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceAccountConnection, TOKEN_RELOAD_MS } from '../../../src/runtime/workload-credentials.js';

test('the connection keeps the server and CA, drops the node\'s certificate and reloads the token', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fn-wc-'));
  try {
    const file = join(dir, 'token');
    writeFileSync(file, 'first\n');
    let now = 1_000_000;
    const node = { server: 'https://127.0.0.1:6443', ca: Buffer.from('ca'), cert: Buffer.from('node-cert'), key: Buffer.from('node-key'), token: 'node-token' };
    const c = serviceAccountConnection(node, file, () => now);
    assert.equal(c.server, node.server);
    assert.deepEqual(c.ca, node.ca);
    assert.equal(c.cert, undefined, 'no node client certificate');
    assert.equal(c.key, undefined);
    assert.equal(c.token, 'first');
    writeFileSync(file, 'second\n');
    now += TOKEN_RELOAD_MS - 1;
    assert.equal(c.token, 'first', 'read at most once a minute');
    now += 1;
    assert.equal(c.token, 'second');
    rmSync(file);
    now += TOKEN_RELOAD_MS;
    assert.equal(c.token, 'second', 'a failed re-read keeps the last token');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing or empty token file is a clear error naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fn-wc-'));
  try {
    assert.throws(() => serviceAccountConnection({ server: 'https://x' }, join(dir, 'none')), /cannot read the ServiceAccount token .*none: ENOENT/);
    writeFileSync(join(dir, 'empty'), '\n');
    assert.throws(() => serviceAccountConnection({ server: 'https://x' }, join(dir, 'empty')), /the ServiceAccount token .*empty is empty/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
