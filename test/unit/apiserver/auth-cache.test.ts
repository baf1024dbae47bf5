import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { VerifiedTokenCache } from '../../../src/apiserver/auth-cache.js';
import type { IncomingMessage } from 'node:http';
import { Authenticator, serviceAccountTokenAuthenticator, type ObjectLookup } from '../../../src/apiserver/auth.js';
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

/** A TLS connection's socket as the authenticator sees it: a verified client certificate, and how often it was read. */
function tlsSocket(subject: { CN: string; O?: string | string[] }, serial: string, validTo: string) {
  const socket = {
    authorized: true,
    reads: 0,
    getPeerCertificate() {
      socket.reads++;
      return { subject, serialNumber: serial, valid_to: validTo };
    },
  };
  return socket;
}

const request = (socket: object, extra: object = {}) => ({ socket, headers: {}, ...extra }) as unknown as IncomingMessage;

test('a connection\'s client certificate is read once (HTTP/1.1 socket, HTTP/2 session); revocation and expiry are still checked on every request', () => {
  const revoked = new Set<string>();
  const authn = new Authenticator([], (serial) => !revoked.has(serial));
  // HTTP/1.1: every request of a connection shares its socket.
  const h1 = tlsSocket({ CN: 'system:node:n1', O: 'system:nodes' }, 'AB01', 'Jan  1 00:00:00 2100 GMT');
  for (let i = 0; i < 5; i++) assert.equal(authn.authenticate(request(h1))?.username, 'system:node:n1');
  assert.equal(h1.reads, 1, 'the certificate was read once for five requests');
  revoked.add('AB01');
  assert.equal(authn.authenticate(request(h1)), undefined, 'revoked: the very next request on the same connection is refused');
  assert.equal(authn.authenticate(request(h1, { headers: { authorization: 'Bearer x' } })), undefined, 'a revoked certificate does not fall through to a token');
  revoked.delete('AB01');
  assert.equal(authn.authenticate(request(h1))?.username, 'system:node:n1');

  // HTTP/2: each stream's socket is a new proxy object; the session is the connection.
  const h2 = tlsSocket({ CN: 'alice', O: ['dev', 'ops'] }, 'CD02', 'Jan  1 00:00:00 2100 GMT');
  const session = {};
  for (let i = 0; i < 5; i++) {
    const user = authn.authenticate(request(new Proxy(h2, {}), { stream: { session } }));
    assert.deepEqual(user?.groups, ['dev', 'ops', 'system:authenticated']);
  }
  assert.equal(h2.reads, 1, 'the certificate was read once for five streams of one session');
  // Another connection with another certificate is its own entry.
  const other = tlsSocket({ CN: 'bob' }, 'EF03', 'Jan  1 00:00:00 2100 GMT');
  assert.equal(authn.authenticate(request(other, { stream: { session: {} } }))?.username, 'bob');

  // Expiry is checked against the clock on each request, as the x509 authenticator does.
  const expired = tlsSocket({ CN: 'carol' }, '0A04', 'Jan  1 00:00:00 2000 GMT');
  assert.equal(authn.authenticate(request(expired)), undefined);
  assert.equal(authn.authenticate(request(expired)), undefined);
  assert.equal(expired.reads, 1);

  // A connection without a verified certificate is remembered as such; its token still counts.
  const anonymous = { authorized: false, getPeerCertificate: () => assert.fail('an unverified certificate is never read') };
  const admin = new Authenticator([{ name: 't', authenticateToken: (t) => (t === 'good' ? { kind: 'admin', username: 'a', groups: [] } : undefined) }]);
  assert.equal(admin.authenticate(request(anonymous, { headers: { authorization: 'Bearer good' } }))?.username, 'a');
  assert.equal(admin.authenticate(request(anonymous)), undefined);
});
