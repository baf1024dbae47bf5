// ServiceAccount tokens as kube-apiserver issues them through TokenRequest: JWTs signed with
// ES256 under a P-256 key kept in `<dataDir>/sa-signer.key` (0600 from its first byte), with
// upstream's claims (iss, sub, aud, exp, iat, nbf, jti, kubernetes.io {namespace,
// serviceaccount {name, uid}, pod?}). Verification checks the signature, issuer, audience and
// lifetime here; the caller checks that the ServiceAccount (and the bound pod) still exist.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** kubeadm's --service-account-issuer; the API audiences default to it, as upstream. */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
const KEY_FILE = 'sa-signer.key';
/** Upstream's TokenRequest defaults and minimum (expirationSeconds). */
export const DEFAULT_EXPIRATION_SECONDS = 3600;
export const MIN_EXPIRATION_SECONDS = 600;
/** Allowed clock skew when checking exp and nbf (upstream: 60 s). */
const LEEWAY_SECONDS = 60;

export interface ServiceAccountClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  'kubernetes.io': {
    namespace: string;
    serviceaccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
    secret?: { name: string; uid: string };
    node?: { name: string; uid: string };
  };
}

export interface MintRequest {
  namespace: string;
  name: string;
  uid: string;
  audiences?: string[];
  expirationSeconds?: number;
  boundObject?: { kind: 'Pod' | 'Secret' | 'Node'; name: string; uid: string };
  /** Seconds since the epoch (tests). */
  now?: number;
}

/** The signing key, created at first use: a P-256 private key (PKCS#8 PEM), published with link() so no reader sees half a file. */
export function ensureSigningKey(dataDir: string): KeyObject {
  const file = join(dataDir, KEY_FILE);
  const existing = readKey(file);
  if (existing) return existing;
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}`;
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(temp);
  }
  return readKey(file)!;
}

function readKey(file: string): KeyObject | undefined {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new Error(`${file}: not a PEM private key (${(err as Error).message}); remove it to make a new key (tokens already issued stop working)`, { cause: err });
  }
}

function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export class ServiceAccountTokenIssuer {
  private readonly publicKey: KeyObject;
  /** The key id: SHA-256 of the public key (DER), as upstream derives it. */
  readonly keyId: string;

  constructor(
    private readonly privateKey: KeyObject,
    readonly issuer = DEFAULT_ISSUER,
    readonly apiAudiences: readonly string[] = [issuer],
  ) {
    this.publicKey = createPublicKey(privateKey);
    this.keyId = createHash('sha256').update(this.publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
  }

  /** A signed token and its claims. */
  mint(req: MintRequest): { token: string; claims: ServiceAccountClaims } {
    const now = req.now ?? Math.floor(Date.now() / 1000);
    const claims: ServiceAccountClaims = {
      aud: req.audiences && req.audiences.length > 0 ? [...req.audiences] : [...this.apiAudiences],
      exp: now + (req.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS),
      iat: now,
      iss: this.issuer,
      jti: randomUUID(),
      'kubernetes.io': { namespace: req.namespace, serviceaccount: { name: req.name, uid: req.uid } },
      nbf: now,
      sub: `system:serviceaccount:${req.namespace}:${req.name}`,
    };
    if (req.boundObject) {
      const key = req.boundObject.kind.toLowerCase() as 'pod' | 'secret' | 'node';
      claims['kubernetes.io'][key] = { name: req.boundObject.name, uid: req.boundObject.uid };
    }
    const signingInput = `${b64json({ alg: 'ES256', kid: this.keyId })}.${b64json(claims)}`;
    const signature = sign('sha256', Buffer.from(signingInput), { key: this.privateKey, dsaEncoding: 'ieee-p1363' });
    return { token: `${signingInput}.${signature.toString('base64url')}`, claims };
  }

  /**
   * The claims of a token this issuer signed that is valid now for one of `audiences`; undefined
   * for anything else (not a JWT, another key, expired, another audience).
   */
  verify(token: string, opts: { now?: number; audiences?: readonly string[] } = {}): ServiceAccountClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    let header: { alg?: unknown; kid?: unknown };
    let claims: ServiceAccountClaims;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as typeof header;
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as ServiceAccountClaims;
    } catch {
      return undefined;
    }
    if (header === null || typeof header !== 'object' || header.alg !== 'ES256') return undefined;
    if (header.kid !== undefined && header.kid !== this.keyId) return undefined;
    const ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key: this.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2], 'base64url'));
    if (!ok || claims === null || typeof claims !== 'object') return undefined;
    if (claims.iss !== this.issuer) return undefined;
    const now = opts.now ?? Math.floor(Date.now() / 1000);
    if (typeof claims.exp !== 'number' || now > claims.exp + LEEWAY_SECONDS) return undefined;
    if (typeof claims.nbf === 'number' && now + LEEWAY_SECONDS < claims.nbf) return undefined;
    const aud = Array.isArray(claims.aud) ? claims.aud : typeof claims.aud === 'string' ? [claims.aud] : [];
    const wanted = opts.audiences ?? this.apiAudiences;
    if (!aud.some((a) => wanted.includes(a))) return undefined;
    const k = claims['kubernetes.io'];
    if (!k || typeof k.namespace !== 'string' || typeof k.serviceaccount?.name !== 'string' || typeof k.serviceaccount?.uid !== 'string') return undefined;
    if (claims.sub !== `system:serviceaccount:${k.namespace}:${k.serviceaccount.name}`) return undefined;
    return claims;
  }
}
