// The gateway proxy's credentials: a bearer token the server mints for each proxy Deployment,
// naming the proxy's ServiceAccount identity and the `gateway-proxy` scope, signed with
// HMAC-SHA256 under a key kept in the server's data directory. The API server verifies it and
// grants that identity read-only access to what the route model needs (see
// src/apiserver/authorize.ts); nothing else accepts it. In the pod the proxy finds the API
// server, its token and the CA in its environment (connectionFromEnvironment).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterConnection } from '../client/kubeconfig.js';

/** The proxy container's environment: its bearer token and the API server's CA (PEM). */
export const PROXY_TOKEN_ENV = 'FLATNET_PROXY_TOKEN';
export const PROXY_CA_ENV = 'FLATNET_PROXY_CA';
/** The proxy's health and metrics port (/healthz, /readyz, /metrics), as Istio's gateways use. */
export const PROXY_HEALTH_PORT = 15021;
/** The only scope proxy tokens carry. */
export const PROXY_TOKEN_SCOPE = 'gateway-proxy';

const KEY_FILE = 'proxy-token.key';
const KEY_BYTES = 32;
const TOKEN_PREFIX = 'fnp1';

export interface ProxySubject {
  namespace: string;
  name: string;
}

export interface ProxyIdentity extends ProxySubject {
  /** `system:serviceaccount:<namespace>:<name>`. */
  username: string;
  scope: typeof PROXY_TOKEN_SCOPE;
}

interface TokenPayload {
  sub: string;
  scope: string;
  iat: number;
}

/** DNS-1123 label/subdomain characters: what namespace and ServiceAccount names may hold. */
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function serviceAccountUsername(subject: ProxySubject): string {
  return `system:serviceaccount:${subject.namespace}:${subject.name}`;
}

/**
 * The signing key in `<dataDir>/proxy-token.key`: created once (32 random bytes, mode 0600 from
 * its first byte, published with link() so that no reader ever sees a partial file and two
 * creators cannot both win), read back afterwards.
 */
export function ensureProxyTokenKey(dataDir: string): Buffer {
  const file = join(dataDir, KEY_FILE);
  const existing = readKey(file);
  if (existing) return existing;
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}`;
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, randomBytes(KEY_BYTES));
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
  const key = readKey(file);
  if (!key) throw new Error(`${file}: the proxy token key must be ${KEY_BYTES} bytes; remove the file to make a new key (tokens already minted stop working)`);
  return key;
}

function readKey(file: string): Buffer | undefined {
  let key: Buffer;
  try {
    key = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (key.length !== KEY_BYTES) throw new Error(`${file}: the proxy token key must be ${KEY_BYTES} bytes, it has ${key.length}; remove the file to make a new key (tokens already minted stop working)`);
  return key;
}

function sign(key: Buffer, signed: string): Buffer {
  return createHmac('sha256', key).update(signed).digest();
}

function keyOf(dataDirOrKey: string | Buffer): Buffer {
  return typeof dataDirOrKey === 'string' ? ensureProxyTokenKey(dataDirOrKey) : dataDirOrKey;
}

/** A bearer token for the proxy running as ServiceAccount `subject`, scoped to `gateway-proxy`. */
export function mintProxyToken(dataDirOrKey: string | Buffer, subject: ProxySubject): string {
  if (!NAME.test(subject.namespace)) throw new Error(`proxy token subject: namespace ${JSON.stringify(subject.namespace)} is not a valid namespace name`);
  if (!NAME.test(subject.name)) throw new Error(`proxy token subject: name ${JSON.stringify(subject.name)} is not a valid ServiceAccount name`);
  const payload: TokenPayload = { sub: serviceAccountUsername(subject), scope: PROXY_TOKEN_SCOPE, iat: Math.floor(Date.now() / 1000) };
  const signed = `${TOKEN_PREFIX}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${signed}.${sign(keyOf(dataDirOrKey), signed).toString('base64url')}`;
}

/** The identity a proxy token names, or undefined when it is not one this key signed. */
export function verifyProxyToken(dataDirOrKey: string | Buffer, token: string): ProxyIdentity | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== TOKEN_PREFIX) return undefined;
  const expected = sign(keyOf(dataDirOrKey), `${parts[0]}.${parts[1]}`);
  const got = Buffer.from(parts[2], 'base64url');
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) return undefined;
  let payload: Partial<TokenPayload>;
  try {
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Partial<TokenPayload>;
  } catch {
    return undefined;
  }
  if (payload.scope !== PROXY_TOKEN_SCOPE || typeof payload.sub !== 'string') return undefined;
  const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(payload.sub);
  if (!m || !NAME.test(m[1]) || !NAME.test(m[2])) return undefined;
  return { username: payload.sub, namespace: m[1], name: m[2], scope: PROXY_TOKEN_SCOPE };
}

/**
 * The API connection of a proxy in a pod: the `kubernetes` Service from
 * KUBERNETES_SERVICE_HOST/PORT, the token from FLATNET_PROXY_TOKEN and the CA from
 * FLATNET_PROXY_CA (PEM text, or the path of a PEM file).
 */
export function connectionFromEnvironment(env: NodeJS.ProcessEnv): ClusterConnection {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const missing = [!host && 'KUBERNETES_SERVICE_HOST', !port && 'KUBERNETES_SERVICE_PORT', !env[PROXY_TOKEN_ENV] && PROXY_TOKEN_ENV, !env[PROXY_CA_ENV] && PROXY_CA_ENV].filter(Boolean);
  if (missing.length > 0) throw new Error(`not running in a proxy pod: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set (outside a pod, pass --kubeconfig)`);
  if (!/^\d+$/.test(port!) || Number(port) < 1 || Number(port) > 65535) throw new Error(`KUBERNETES_SERVICE_PORT ${JSON.stringify(port)} is not a port number`);
  const caText = env[PROXY_CA_ENV]!;
  let ca: Buffer;
  if (caText.includes('-----BEGIN')) ca = Buffer.from(caText);
  else {
    try {
      ca = readFileSync(caText);
    } catch (err) {
      throw new Error(`${PROXY_CA_ENV}: neither PEM text nor a readable file: ${(err as Error).message}`, { cause: err });
    }
  }
  const urlHost = host!.includes(':') ? `[${host}]` : host!;
  return { server: `https://${urlHost}:${port}`, token: env[PROXY_TOKEN_ENV]!.trim(), ca };
}
