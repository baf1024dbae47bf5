// Authentication: a chain of bearer-token authenticators, the first that recognises the token
// naming the user, as kube-apiserver's union token authenticator:
// - the admin token, generated into the data directory on first start: user kubernetes-admin in
//   group system:masters (the identity kubeadm's admin.conf carries);
// - gateway proxy tokens signed with the data directory's proxy token key
//   (src/gateway/proxy-identity.ts): their ServiceAccount, authorized by built-in read rules and RBAC;
// - ServiceAccount tokens from TokenRequest (src/apiserver/rbac/serviceaccount-token.ts), valid
//   while the ServiceAccount (and the pod they are bound to) exist with the uid they name;
// - bootstrap tokens (src/apiserver/node-identity/bootstrap-token.ts): system:bootstrap:<id>.
// Before any token, a client certificate the TLS layer verified against the cluster CA (unexpired,
// a client-auth certificate) names the user by its subject: CN the username, O the groups, as
// kube-apiserver's x509 authenticator. Nodes authenticate this way.
// Health and version endpoints answer requests without credentials, as upstream allows.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { KubeObject } from '../api/types.js';
import { verifyProxyToken } from '../gateway/proxy-identity.js';
import { BOOTSTRAP_TOKEN_SECRET_PREFIX, bootstrapTokenUser, parseToken } from './node-identity/bootstrap-token.js';
import type { RequestUser } from './authorize.js';
import { GROUP_AUTHENTICATED, GROUP_MASTERS, serviceAccountUser } from './rbac/types.js';
import type { ServiceAccountClaims, ServiceAccountTokenIssuer } from './rbac/serviceaccount-token.js';
import { VerifiedTokenCache } from './auth-cache.js';

const ANONYMOUS_PATHS = new Set(['/healthz', '/readyz', '/livez', '/version']);

/** The admin token's identity, as kubeadm's admin.conf (a client certificate there). */
export const ADMIN_USERNAME = 'kubernetes-admin';

export function ensureAdminToken(dataDir: string): string {
  const file = join(dataDir, 'admin.token');
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token) return token;
  }
  const token = randomBytes(32).toString('hex');
  writeFileSync(file, token + '\n', { mode: 0o600 });
  return token;
}

/** One member of the chain: the user a bearer token proves, or undefined when it does not know the token. */
export interface TokenAuthenticator {
  readonly name: string;
  authenticateToken(token: string): RequestUser | undefined;
}

export function adminTokenAuthenticator(adminToken: string): TokenAuthenticator {
  const expected = Buffer.from(adminToken);
  return {
    name: 'admin-token',
    authenticateToken(token) {
      // The length is not secret (upstream compares the same way); the bytes are compared in constant time.
      if (token.length !== adminToken.length) return undefined;
      const got = Buffer.from(token);
      if (got.length !== expected.length || !timingSafeEqual(got, expected)) return undefined;
      return { kind: 'admin', username: ADMIN_USERNAME, groups: [GROUP_MASTERS, GROUP_AUTHENTICATED] };
    },
  };
}

export function proxyTokenAuthenticator(key: Buffer): TokenAuthenticator {
  return {
    name: 'gateway-proxy-token',
    authenticateToken(token) {
      const identity = verifyProxyToken(key, token);
      if (!identity) return undefined;
      const info = serviceAccountUser(identity.namespace, identity.name);
      return { kind: 'gateway-proxy', username: identity.username, groups: info.groups };
    },
  };
}

/** What the ServiceAccount token authenticator needs to know about stored objects: their uid, if they exist and are not being deleted. */
export interface ObjectLookup {
  serviceAccountUid(namespace: string, name: string): string | undefined;
  podUid(namespace: string, name: string): string | undefined;
  secretUid(namespace: string, name: string): string | undefined;
  nodeUid(name: string): string | undefined;
}

/** The user a verified ServiceAccount token names, when what it is bound to still exists. */
export function serviceAccountTokenUser(claims: ServiceAccountClaims, objects: ObjectLookup): RequestUser | undefined {
  const k = claims['kubernetes.io'];
  if (objects.serviceAccountUid(k.namespace, k.serviceaccount.name) !== k.serviceaccount.uid) return undefined;
  const extra: Record<string, string[]> = { 'authentication.kubernetes.io/credential-id': [`JTI=${claims.jti}`] };
  if (k.pod) {
    if (objects.podUid(k.namespace, k.pod.name) !== k.pod.uid) return undefined;
    extra['authentication.kubernetes.io/pod-name'] = [k.pod.name];
    extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid];
  }
  if (k.secret && objects.secretUid(k.namespace, k.secret.name) !== k.secret.uid) return undefined;
  if (k.node) {
    if (objects.nodeUid(k.node.name) !== k.node.uid) return undefined;
    extra['authentication.kubernetes.io/node-name'] = [k.node.name];
    extra['authentication.kubernetes.io/node-uid'] = [k.node.uid];
  }
  const info = serviceAccountUser(k.namespace, k.serviceaccount.name, k.serviceaccount.uid, extra);
  return { kind: 'serviceaccount', ...info };
}

/**
 * ServiceAccount tokens: the signature check (ES256, the costly part) is cached for at most 10 s
 * and never past the token's `exp`; what the token is bound to is looked up on every request.
 */
export function serviceAccountTokenAuthenticator(issuer: ServiceAccountTokenIssuer, objects: ObjectLookup, cache = new VerifiedTokenCache<ServiceAccountClaims>()): TokenAuthenticator {
  const verify = (token: string) => issuer.verify(token);
  const expiresAt = (claims: ServiceAccountClaims) => claims.exp * 1000;
  return {
    name: 'serviceaccount-token',
    authenticateToken(token) {
      // Only a JWT (three dot-separated parts) is worth hashing and verifying.
      if (token.indexOf('.') < 0) return undefined;
      const claims = cache.lookup(token, verify, expiresAt);
      return claims ? serviceAccountTokenUser(claims, objects) : undefined;
    },
  };
}

export function bootstrapTokenAuthenticator(secret: (name: string) => KubeObject | undefined): TokenAuthenticator {
  return {
    name: 'bootstrap-token',
    authenticateToken(token) {
      const parsed = parseToken(token);
      return parsed ? bootstrapTokenUser(parsed, secret(`${BOOTSTRAP_TOKEN_SECRET_PREFIX}${parsed.id}`)) : undefined;
    },
  };
}

/**
 * Whether a verified client certificate may still be used (revocation): `serial` is its serial
 * number in upper-case hex. Node identities answer through src/apiserver/auth-node-certificates.ts.
 */
export type CertificateRevocationCheck = (serial: string, commonName: string, organizations: readonly string[]) => boolean;

/** What a verified client certificate says: its serial (upper-case hex), subject and end of validity. */
export interface CertificateIdentity {
  serial: string;
  commonName: string;
  organizations: readonly string[];
  /** notAfter, ms since the epoch (NaN when the certificate does not say). */
  notAfter: number;
}

/** The identity of the client certificate the TLS layer verified on `socket`, if any. */
export function peerCertificateIdentity(socket: IncomingMessage['socket']): CertificateIdentity | undefined {
  const tlsSocket = socket as TLSSocket;
  if (typeof tlsSocket.getPeerCertificate !== 'function' || tlsSocket.authorized !== true) return undefined;
  const cert = tlsSocket.getPeerCertificate();
  const cn = cert?.subject?.CN;
  if (!cn || typeof cn !== 'string') return undefined;
  const o = cert.subject.O as string | string[] | undefined;
  const organizations = o === undefined ? [] : Array.isArray(o) ? o : [o];
  return { serial: String(cert.serialNumber ?? '').toUpperCase(), commonName: cn, organizations, notAfter: Date.parse(cert.valid_to ?? '') };
}

/**
 * The user a certificate names (CN the username, each O a group), or undefined when it has expired
 * (checked per request, as upstream's x509 authenticator: a kept-alive connection outlives it) or
 * `stillValid` refuses it (revoked).
 */
export function certificateIdentityUser(id: CertificateIdentity, stillValid?: CertificateRevocationCheck, now = Date.now()): RequestUser | undefined {
  if (now >= id.notAfter) return undefined;
  if (stillValid && !stillValid(id.serial, id.commonName, id.organizations)) return undefined;
  return { kind: 'certificate', username: id.commonName, groups: [...id.organizations.filter((g) => g !== GROUP_AUTHENTICATED), GROUP_AUTHENTICATED] };
}

/**
 * The client certificate of each connection, read once: a TLS connection's peer certificate is
 * fixed at its handshake (HTTP/2 forbids renegotiation, and the server refuses it over HTTP/1.1
 * too: server.ts), so every later request on the connection shows the same one, and reading it
 * (getPeerCertificate builds the whole certificate as an object) is the costly part. Keyed by the
 * connection: an HTTP/2 request's socket is a new proxy per stream, so there the session is the key.
 * What may change while a connection lives, expiry and revocation, is checked on every request
 * (certificateIdentityUser).
 */
const connectionCertificates = new WeakMap<object, CertificateIdentity | null>();

/** The connection a request came on: its HTTP/2 session, or its TLS socket (HTTP/1.1). */
function connectionOf(req: IncomingMessage): object {
  return (req as unknown as { stream?: { session?: object } }).stream?.session ?? req.socket;
}

/** The verified client certificate of the connection `req` came on, if any (read once per connection). */
export function requestCertificateIdentity(req: IncomingMessage): CertificateIdentity | undefined {
  const connection = connectionOf(req);
  let id = connectionCertificates.get(connection);
  if (id === undefined) {
    id = peerCertificateIdentity(req.socket) ?? null;
    connectionCertificates.set(connection, id);
  }
  return id ?? undefined;
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
}

export class Authenticator {
  constructor(
    readonly tokens: readonly TokenAuthenticator[],
    private readonly certificateStillValid?: CertificateRevocationCheck,
  ) {}

  /** Who sent the request, or undefined when its credentials are missing or not valid. */
  authenticate(req: IncomingMessage): RequestUser | undefined {
    const certificate = requestCertificateIdentity(req);
    // A revoked or expired certificate is a failed login, not a reason to fall through to a token.
    if (certificate) return certificateIdentityUser(certificate, this.certificateStillValid);
    const token = bearerToken(req.headers.authorization);
    return token === undefined ? undefined : this.authenticateToken(token);
  }

  /** The user a client certificate seen earlier still names now (undefined once it is revoked or expired). */
  authenticateCertificate(id: CertificateIdentity, now = Date.now()): RequestUser | undefined {
    return certificateIdentityUser(id, this.certificateStillValid, now);
  }

  authenticateToken(token: string): RequestUser | undefined {
    for (const a of this.tokens) {
      const user = a.authenticateToken(token);
      if (user) return user;
    }
    return undefined;
  }

  /** What upstream's system:public-info-viewer grants everyone (not /readyz/<check>: that is system:monitoring). */
  allowsAnonymous(pathname: string): boolean {
    return ANONYMOUS_PATHS.has(pathname);
  }
}
