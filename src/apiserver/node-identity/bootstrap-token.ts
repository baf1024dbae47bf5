// Bootstrap tokens as kubeadm makes them and kube-apiserver's bootstrap token authenticator reads
// them: a token `<id>.<secret>` (6 and 16 characters of [a-z0-9]) stored as the Secret
// kube-system/bootstrap-token-<id> of type bootstrap.kubernetes.io/token, with an expiration,
// usage flags and extra groups. A valid token authenticates as system:bootstrap:<id> in
// system:bootstrappers (plus its extra groups), which may only ask for a node client certificate.
import { randomInt, timingSafeEqual } from 'node:crypto';
import type { KubeObject } from '../../api/types.js';
import type { RequestUser } from '../authorize.js';
import { GROUP_AUTHENTICATED } from '../rbac/types.js';

export const BOOTSTRAP_TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
export const BOOTSTRAP_TOKEN_SECRET_PREFIX = 'bootstrap-token-';
export const GROUP_BOOTSTRAPPERS = 'system:bootstrappers';
/** kubeadm's group for node join tokens. */
export const DEFAULT_NODE_TOKEN_GROUP = 'system:bootstrappers:kubeadm:default-node-token';
export const BOOTSTRAP_USER_PREFIX = 'system:bootstrap:';
export const DEFAULT_TOKEN_TTL_SECONDS = 24 * 3600;

const TOKEN_RE = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const EXTRA_GROUP_RE = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomString(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

export interface BootstrapToken {
  id: string;
  secret: string;
}

export function generateBootstrapToken(): BootstrapToken {
  return { id: randomString(6), secret: randomString(16) };
}

export function formatToken(t: BootstrapToken): string {
  return `${t.id}.${t.secret}`;
}

export function parseToken(token: string): BootstrapToken | undefined {
  const m = TOKEN_RE.exec(token);
  return m ? { id: m[1], secret: m[2] } : undefined;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** The Secret that stores `token`, expiring `ttlSeconds` after `now` (0: never, as kubeadm's --ttl 0). */
export function bootstrapTokenSecret(token: BootstrapToken, opts: { ttlSeconds: number; now?: Date; groups?: string[]; description?: string }): KubeObject {
  const groups = opts.groups ?? [DEFAULT_NODE_TOKEN_GROUP];
  for (const g of groups) if (!EXTRA_GROUP_RE.test(g)) throw new Error(`--groups: ${JSON.stringify(g)} must start with system:bootstrappers: and use [a-z0-9:-]`);
  const data: Record<string, string> = {
    'token-id': b64(token.id),
    'token-secret': b64(token.secret),
    'usage-bootstrap-authentication': b64('true'),
    'usage-bootstrap-signing': b64('true'),
    'auth-extra-groups': b64(groups.join(',')),
  };
  if (opts.ttlSeconds > 0) {
    const expires = new Date((opts.now ?? new Date()).getTime() + opts.ttlSeconds * 1000);
    data.expiration = b64(expires.toISOString().replace(/\.\d{3}Z$/, 'Z'));
  }
  if (opts.description) data.description = b64(opts.description);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `${BOOTSTRAP_TOKEN_SECRET_PREFIX}${token.id}`, namespace: 'kube-system' },
    type: BOOTSTRAP_TOKEN_SECRET_TYPE,
    data,
  };
}

function field(secret: KubeObject, key: string): string | undefined {
  const v = (secret as { data?: Record<string, string> }).data?.[key];
  return typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : undefined;
}

/** The user `token` proves given its stored Secret, or undefined (wrong secret, expired, not for authentication). */
export function bootstrapTokenUser(token: BootstrapToken, secret: KubeObject | undefined, now = new Date()): RequestUser | undefined {
  if (!secret || secret.metadata.deletionTimestamp) return undefined;
  if ((secret as { type?: string }).type !== BOOTSTRAP_TOKEN_SECRET_TYPE) return undefined;
  if (field(secret, 'token-id') !== token.id) return undefined;
  const stored = Buffer.from(field(secret, 'token-secret') ?? '');
  const given = Buffer.from(token.secret);
  if (stored.length !== given.length || !timingSafeEqual(stored, given)) return undefined;
  if (field(secret, 'usage-bootstrap-authentication') !== 'true') return undefined;
  const expiration = field(secret, 'expiration');
  if (expiration !== undefined) {
    const t = Date.parse(expiration);
    if (Number.isNaN(t) || t <= now.getTime()) return undefined;
  }
  const extra = (field(secret, 'auth-extra-groups') ?? '').split(',').map((g) => g.trim()).filter((g) => EXTRA_GROUP_RE.test(g));
  return { kind: 'bootstrap', username: `${BOOTSTRAP_USER_PREFIX}${token.id}`, groups: [GROUP_BOOTSTRAPPERS, ...extra, GROUP_AUTHENTICATED] };
}

export function isBootstrapUser(user: Pick<RequestUser, 'groups'>): boolean {
  return (user.groups ?? []).includes(GROUP_BOOTSTRAPPERS);
}
