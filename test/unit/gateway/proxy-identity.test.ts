import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureProxyTokenKey, mintProxyToken, verifyProxyToken } from '../../../src/gateway/proxy-identity.js';

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'gwt-identity-'));
}

test('a minted token verifies as the ServiceAccount identity with the gateway-proxy scope', () => {
  const dir = freshDir();
  try {
    const token = mintProxyToken(dir, { namespace: 'team-a', name: 'gw-proxy' });
    assert.deepEqual(verifyProxyToken(dir, token), { username: 'system:serviceaccount:team-a:gw-proxy', namespace: 'team-a', name: 'gw-proxy', scope: 'gateway-proxy' });
    assert.deepEqual(verifyProxyToken(ensureProxyTokenKey(dir), token)?.username, 'system:serviceaccount:team-a:gw-proxy', 'the key itself verifies too');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the key is created once, 32 bytes, mode 0600, and reused', () => {
  const dir = freshDir();
  try {
    const key = ensureProxyTokenKey(dir);
    const file = join(dir, 'proxy-token.key');
    assert.equal(key.length, 32);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readFileSync(file), key);
    const token = mintProxyToken(dir, { namespace: 'ns', name: 'gw' });
    assert.deepEqual(ensureProxyTokenKey(dir), key, 'a second call reads the same key');
    assert.ok(verifyProxyToken(dir, token));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a tampered token, a token of another key and garbage do not verify', () => {
  const dir = freshDir();
  const other = freshDir();
  try {
    const token = mintProxyToken(dir, { namespace: 'ns', name: 'gw' });
    const [prefix, payload, sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'system:serviceaccount:kube-system:admin' })).toString('base64url');
    assert.equal(verifyProxyToken(dir, `${prefix}.${forged}.${sig}`), undefined, 'changed payload');
    const flipped = Buffer.from(sig, 'base64url');
    flipped[0] ^= 1;
    assert.equal(verifyProxyToken(dir, `${prefix}.${payload}.${flipped.toString('base64url')}`), undefined, 'changed signature');
    assert.equal(verifyProxyToken(dir, `${prefix}.${payload}.${sig.slice(0, 10)}`), undefined, 'short signature');
    assert.equal(verifyProxyToken(other, token), undefined, 'another key');
    for (const garbage of ['', 'garbage', 'a.b.c', 'fnp1..', `${prefix}.${payload}`]) assert.equal(verifyProxyToken(dir, garbage), undefined, garbage);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(other, { recursive: true, force: true });
  }
});

test('a key file of the wrong size is an error that names the file; bad subjects are refused', () => {
  const dir = freshDir();
  try {
    writeFileSync(join(dir, 'proxy-token.key'), 'short');
    assert.throws(() => ensureProxyTokenKey(dir), /proxy-token\.key: the proxy token key must be 32 bytes, it has 5/);
    const key = Buffer.alloc(32, 7);
    assert.throws(() => mintProxyToken(key, { namespace: 'Bad_NS', name: 'gw' }), /namespace "Bad_NS"/);
    assert.throws(() => mintProxyToken(key, { namespace: 'ns', name: 'a:b' }), /name "a:b"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
