// The credential a web view session was made from. A session acts as the user of the credential
// that asked for its login link, and only while that credential still authenticates: every request
// of the session runs it through the API server's own authenticator again, in process (a
// ServiceAccount token's signature is remembered for at most 10 s by the authenticator's cache;
// whether its ServiceAccount, pod, Secret or Node still exists is looked up each time; a client
// certificate is checked against its notAfter and the node certificate record each time). So a
// deleted ServiceAccount, pod or bootstrap token Secret, a deleted Node or revoked node certificate,
// or an expired token or certificate ends the session at its next request. The token stays in the
// server's memory with the session, as the server already holds every credential it checks.
import type { IncomingMessage } from 'node:http';
import { bearerToken, requestCertificateIdentity, type Authenticator, type CertificateIdentity } from '../apiserver/auth.js';
import type { RequestUser } from '../apiserver/authorize.js';

export type SessionCredential = { kind: 'token'; token: string } | ({ kind: 'certificate' } & CertificateIdentity);

/**
 * The credential `req` authenticates with, in the authenticator's order: a verified client
 * certificate first, else the bearer token.
 */
export function credentialOf(req: IncomingMessage): SessionCredential | undefined {
  const certificate = requestCertificateIdentity(req);
  if (certificate) return { kind: 'certificate', ...certificate };
  const token = bearerToken(req.headers.authorization);
  return token === undefined ? undefined : { kind: 'token', token };
}

/**
 * Who the credential authenticates as now: undefined when it no longer authenticates, or when it
 * names someone other than `expected` (the user the session was opened for).
 */
export function currentUser(authenticator: Authenticator, credential: SessionCredential, expected: RequestUser, now = Date.now()): RequestUser | undefined {
  const user = credential.kind === 'token' ? authenticator.authenticateToken(credential.token) : authenticator.authenticateCertificate(credential, now);
  return user && user.username === expected.username ? user : undefined;
}
