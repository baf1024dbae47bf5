// The web view's logins: a one-time code (what `flatnet ui` prints inside a link) that a browser
// trades once, within its lifetime, for a session bound to the identity that asked for the code.
// Each keeps the credential the identity authenticated with, so that the HTTP side
// (src/ui/routes.ts) checks it again on every request (src/ui/session-credential.ts).
// Pure bookkeeping with an injected clock. One identity holds at
// most a fixed number of live codes and of sessions (a new one replaces its oldest), so no client
// can make the server keep an unbounded number of them.
import { randomBytes } from 'node:crypto';
import type { RequestUser } from '../apiserver/authorize.js';
import type { SessionCredential } from './session-credential.js';

export const LOGIN_CODE_TTL_MS = 60_000;
export const SESSION_TTL_MS = 8 * 3600_000;
/** Live login codes one identity may hold. */
export const MAX_CODES_PER_USER = 8;
/** Browser sessions one identity may hold. */
export const MAX_SESSIONS_PER_USER = 32;

export type Clock = () => number;

/** Who a code or session stands for, and the credential that proved it. */
export interface Holder {
  user: RequestUser;
  credential: SessionCredential;
}

interface Grant extends Holder {
  expires: number;
}

export type Redemption = ({ ok: true } & Holder) | { ok: false; reason: string };

/** A random, URL-safe secret of 32 bytes. */
function secret(): string {
  return randomBytes(32).toString('base64url');
}

/** Secrets -> the identity each stands for until it expires; at most `perUser` live per identity. */
class Grants {
  private readonly bySecret = new Map<string, Grant>();
  /** Per username, its secrets oldest first. */
  private readonly byUser = new Map<string, string[]>();

  constructor(
    readonly clock: Clock,
    readonly ttlMs: number,
    private readonly perUser: number,
  ) {}

  issue({ user, credential }: Holder): { id: string; expires: number } {
    this.sweep();
    const id = secret();
    const expires = this.clock() + this.ttlMs;
    this.bySecret.set(id, { user, credential, expires });
    const mine = this.byUser.get(user.username) ?? [];
    mine.push(id);
    while (mine.length > this.perUser) this.bySecret.delete(mine.shift()!);
    this.byUser.set(user.username, mine);
    return { id, expires };
  }

  get(id: string): Grant | undefined {
    return this.bySecret.get(id);
  }

  delete(id: string): void {
    const g = this.bySecret.get(id);
    if (!g) return;
    this.bySecret.delete(id);
    const rest = (this.byUser.get(g.user.username) ?? []).filter((s) => s !== id);
    if (rest.length > 0) this.byUser.set(g.user.username, rest);
    else this.byUser.delete(g.user.username);
  }

  get size(): number {
    return this.bySecret.size;
  }

  private sweep(): void {
    const now = this.clock();
    for (const [id, g] of this.bySecret) if (now >= g.expires) this.delete(id);
  }
}

/** One-time login codes: each is valid for `ttlMs` after it is issued and can be redeemed once. */
export class LoginCodes {
  private readonly grants: Grants;

  constructor(clock: Clock = Date.now, ttlMs = LOGIN_CODE_TTL_MS) {
    this.grants = new Grants(clock, ttlMs, MAX_CODES_PER_USER);
  }

  get ttlMs(): number {
    return this.grants.ttlMs;
  }

  issue(holder: Holder): { code: string; expires: number } {
    const { id, expires } = this.grants.issue(holder);
    return { code: id, expires };
  }

  /** The identity a code was issued for; the code is spent whether or not it was still valid. */
  redeem(code: string): Redemption {
    const grant = this.grants.get(code);
    if (!grant) return { ok: false, reason: 'the login code is unknown or was already used: run `flatnet ui` for a new link' };
    this.grants.delete(code);
    if (this.grants.clock() >= grant.expires) return { ok: false, reason: `the login code expired (a link is valid for ${Math.round(this.ttlMs / 1000)} s): run \`flatnet ui\` for a new link` };
    return { ok: true, user: grant.user, credential: grant.credential };
  }

  get size(): number {
    return this.grants.size;
  }
}

/** Browser sessions: an opaque id (the cookie's value) -> the identity it acts as and its credential, until it expires. */
export class Sessions {
  private readonly grants: Grants;

  constructor(clock: Clock = Date.now, ttlMs = SESSION_TTL_MS) {
    this.grants = new Grants(clock, ttlMs, MAX_SESSIONS_PER_USER);
  }

  get ttlMs(): number {
    return this.grants.ttlMs;
  }

  open(holder: Holder): { id: string; expires: number } {
    return this.grants.issue(holder);
  }

  /** The live session `id` names (its user and credential), if any. */
  get(id: string | undefined): Holder | undefined {
    if (!id) return undefined;
    const s = this.grants.get(id);
    if (!s) return undefined;
    if (this.grants.clock() >= s.expires) {
      this.grants.delete(id);
      return undefined;
    }
    return { user: s.user, credential: s.credential };
  }

  close(id: string | undefined): void {
    if (id) this.grants.delete(id);
  }

  get size(): number {
    return this.grants.size;
  }
}
export const SESSION_COOKIE = 'flatnet_ui_session';

/** The Set-Cookie value of a session: HttpOnly, SameSite=Strict, Secure when served over TLS, only for /ui. */
export function sessionCookie(id: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/ui; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** The session id in a Cookie header, if any. */
export function sessionIdFromCookie(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}
