// A web view session is only as good as the credential it was made from: the credential is run
// through the real authenticator again (tokens through the token chain, certificates through their
// expiry and the revocation check), and a session whose credential no longer names its user ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Authenticator, adminTokenAuthenticator, bootstrapTokenAuthenticator, type CertificateIdentity } from '../../../src/apiserver/auth.js';
import type { RequestUser } from '../../../src/apiserver/authorize.js';
import type { KubeObject } from '../../../src/api/types.js';
import { bootstrapTokenSecret } from '../../../src/apiserver/node-identity/bootstrap-token.js';
import { currentUser, type SessionCredential } from '../../../src/ui/session-credential.js';

const ADMIN_TOKEN = 'a'.repeat(64);

test('a token credential names its user while the token authenticates, and nobody once its Secret is gone', () => {
  const secrets = new Map<string, KubeObject>([['bootstrap-token-abcdef', bootstrapTokenSecret({ id: 'abcdef', secret: '0123456789abcdef' }, { ttlSeconds: 3600 })]]);
  const auth = new Authenticator([adminTokenAuthenticator(ADMIN_TOKEN), bootstrapTokenAuthenticator((name) => secrets.get(name))]);
  const credential: SessionCredential = { kind: 'token', token: 'abcdef.0123456789abcdef' };
  const opened = auth.authenticateToken(credential.token)!;
  assert.equal(opened.username, 'system:bootstrap:abcdef');
  assert.equal(currentUser(auth, credential, opened)?.username, 'system:bootstrap:abcdef');
  secrets.clear();
  assert.equal(currentUser(auth, credential, opened), undefined);

  const admin = auth.authenticateToken(ADMIN_TOKEN)!;
  assert.equal(currentUser(auth, { kind: 'token', token: ADMIN_TOKEN }, admin)?.username, 'kubernetes-admin');
  assert.equal(currentUser(auth, { kind: 'token', token: 'b'.repeat(64) }, admin), undefined, 'another token');
});

test('a certificate credential names its user until it expires or the revocation check refuses its serial', () => {
  const revoked = new Set<string>();
  const auth = new Authenticator([], (serial) => !revoked.has(serial));
  const id: CertificateIdentity = { serial: '0A1B', commonName: 'system:node:n1', organizations: ['system:nodes'], notAfter: 2_000_000 };
  const credential: SessionCredential = { kind: 'certificate', ...id };
  const expected: RequestUser = { kind: 'certificate', username: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
  assert.deepEqual(currentUser(auth, credential, expected, 1_999_999), expected);
  assert.equal(currentUser(auth, credential, expected, 2_000_000), undefined, 'expired at notAfter');
  revoked.add('0A1B');
  assert.equal(currentUser(auth, credential, expected, 1_000_000), undefined, 'revoked');
  assert.equal(currentUser(auth, { ...credential, serial: '0A1C' }, expected, 1_000_000)?.username, 'system:node:n1');
  assert.equal(currentUser(auth, { ...credential, serial: '0A1C' }, { ...expected, username: 'someone-else' }, 1_000_000), undefined, 'a different user');
});
