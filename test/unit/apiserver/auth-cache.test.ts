import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { VerifiedTokenCache } from '../../../src/apiserver/auth-cache.js';
import { serviceAccountTokenAuthenticator, type ObjectLookup } from '../../../src/apiserver/auth.js';
import { ServiceAccountTokenIssuer, type ServiceAccountClaims } from '../../../src/apiserver/rbac/serviceaccount-token.js';

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

test('a verified token is served from the cache within the TTL, verified again after it, and a failure is never kept', () => {
  const c = clock();
  const cache = new VerifiedTokenCache<string>({ ttlMs: 10_000, now: c.now });
  let calls = 0;
  const verify = (t: string) => {
    calls++;
    return t.startsWith('good') ? `user-of-${t}` : undefined;
  };
  const farFuture = () => c.t + 3_600_000;
  assert.equal(cache.lookup('good-1', verify, farFuture), 'user-of-good-1');
  assert.equal(cache.lookup('good-1', verify, farFuture), 'user-of-good-1');
  assert.equal(calls, 1, 'second lookup from the cache');
  c.t += 10_000;
  assert.equal(cache.lookup('good-1', verify, farFuture), 'user-of-good-1');
  assert.equal(calls, 2, 'verified again once the TTL passed');
  assert.equal(cache.lookup('bad', verify, farFuture), undefined);
  assert.equal(cache.lookup('bad', verify, farFuture), undefined);
  assert.equal(calls, 4, 'failures are verified every time');
});

test('a cached token is not served past its own expiry, even inside the TTL', () => {
  const c = clock();
  const cache = new VerifiedTokenCache<string>({ ttlMs: 10_000, now: c.now });
  let valid = true;
  const expiresAt = c.t + 3_000;
  const verify = () => (valid ? 'u' : undefined);
  assert.equal(cache.lookup('tok', verify, () => expiresAt), 'u');
  valid = false; // what a verification after expiry says
  c.t += 2_999;
  assert.equal(cache.lookup('tok', verify, () => expiresAt), 'u', 'still before exp');
  c.t += 1;
  assert.equal(cache.lookup('tok', verify, () => expiresAt), undefined, 'at exp the token is verified again, and refused');
});

test('the cache is bounded: the oldest entry goes first', () => {
  const cache = new VerifiedTokenCache<string>({ maxEntries: 3 });
  let calls = 0;
  const verify = (t: string) => {
    calls++;
    return t;
  };
  const far = () => Date.now() + 3_600_000;
  for (const t of ['a', 'b', 'c', 'd']) cache.lookup(t, verify, far);
  assert.equal(cache.size, 3);
  calls = 0;
  cache.lookup('d', verify, far);
  assert.equal(calls, 0, 'the newest is kept');
  cache.lookup('a', verify, far);
  assert.equal(calls, 1, 'the oldest was dropped');
});

test('ServiceAccount token authenticator: a cached token stops at once when its ServiceAccount or pod is deleted or recreated', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const issuer = new ServiceAccountTokenIssuer(privateKey);
  const live = { sa: 'sa-uid' as string | undefined, pod: 'pod-uid' as string | undefined };
  const objects: ObjectLookup = { serviceAccountUid: () => live.sa, podUid: () => live.pod, secretUid: () => undefined, nodeUid: () => undefined };
  let verifications = 0;
  const counting = new Proxy(issuer, {
    get(target, prop, receiver) {
      if (prop === 'verify') return (t: string) => (verifications++, target.verify(t));
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  const cache = new VerifiedTokenCache<ServiceAccountClaims>();
  const authn = serviceAccountTokenAuthenticator(counting, objects, cache);
  const { token } = issuer.mint({ namespace: 'team', name: 'bot', uid: 'sa-uid', boundObject: { kind: 'Pod', name: 'p', uid: 'pod-uid' } });
  assert.equal(authn.authenticateToken(token)?.username, 'system:serviceaccount:team:bot');
  assert.equal(authn.authenticateToken(token)?.username, 'system:serviceaccount:team:bot');
  assert.equal(verifications, 1, 'the signature is checked once');
  live.pod = undefined;
  assert.equal(authn.authenticateToken(token), undefined, 'pod deleted: refused although cached');
  live.pod = 'pod-uid';
  live.sa = 'another-uid';
  assert.equal(authn.authenticateToken(token), undefined, 'ServiceAccount recreated: refused');
  live.sa = undefined;
  assert.equal(authn.authenticateToken(token), undefined, 'ServiceAccount deleted: refused');
  assert.equal(authn.authenticateToken('not-a-jwt'), undefined);
  const [h, , s] = token.split('.');
  const forged = Buffer.from(JSON.stringify({ sub: 'system:serviceaccount:kube-system:admin' })).toString('base64url');
  live.sa = 'sa-uid';
  assert.equal(authn.authenticateToken(`${h}.${forged}.${s}`), undefined, 'a forged token is not a cache hit');
});
