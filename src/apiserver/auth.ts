// Bearer-token authentication: one admin token, generated into the data directory on first
// start. Health and version endpoints answer anonymous requests, as upstream allows.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';

const ANONYMOUS_PATHS = new Set(['/healthz', '/readyz', '/livez', '/version']);

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

export class TokenAuthenticator {
  private readonly expected: Buffer;
  constructor(token: string) {
    this.expected = Buffer.from(`Bearer ${token}`);
  }

  allowsAnonymous(pathname: string): boolean {
    return ANONYMOUS_PATHS.has(pathname) || pathname.startsWith('/healthz/') || pathname.startsWith('/readyz/') || pathname.startsWith('/livez/');
  }

  authenticated(req: IncomingMessage): boolean {
    const header = req.headers.authorization;
    if (!header) return false;
    const got = Buffer.from(header);
    return got.length === this.expected.length && timingSafeEqual(got, this.expected);
  }
}
