// TLS: secure contexts built once per distinct certificate (cached across config updates by
// content), the certificate for an SNI name (exact > longest wildcard > `*` > first), and the SNI
// name read from a raw ClientHello before termination (for passthrough).
import { createHash } from 'node:crypto';
import tls from 'node:tls';
import type { TlsCertificate } from '../config.js';
import { hostMatches } from './match.js';

export class SecureContextCache {
  private contexts = new Map<string, tls.SecureContext>();

  /** The context for this cert/key pair; builds it only the first time the content is seen. */
  get(cert: TlsCertificate, field: string): tls.SecureContext {
    const key = createHash('sha256').update(cert.certPem).update('\0').update(cert.keyPem).digest('hex');
    let ctx = this.contexts.get(key);
    if (!ctx) {
      try {
        ctx = tls.createSecureContext({ cert: cert.certPem, key: cert.keyPem });
      } catch (err) {
        throw new Error(`${field}: certificate or key cannot be used: ${(err as Error).message}`, { cause: err });
      }
      this.contexts.set(key, ctx);
    }
    return ctx;
  }

  /** Drops contexts no longer referenced by the current config. */
  retain(used: Set<tls.SecureContext>): void {
    for (const [k, ctx] of this.contexts) if (!used.has(ctx)) this.contexts.delete(k);
  }
}

export interface CertChoice {
  hostnames: string[];
  context: tls.SecureContext;
}

/** Picks the certificate for an SNI name: exact > longest wildcard > `*` > the first one. */
export function selectCertificate<C extends { hostnames: string[] }>(certs: readonly C[], servername: string | undefined): C | undefined {
  if (certs.length === 0) return undefined;
  const name = servername?.toLowerCase();
  let best: C | undefined;
  let bestScore = -1;
  let fallback: C | undefined;
  for (const c of certs) {
    for (const h of c.hostnames) {
      const pattern = h.toLowerCase();
      if (pattern === '*') {
        fallback ??= c;
        continue;
      }
      if (!name) continue;
      if (pattern === name) return c;
      if (pattern.startsWith('*.') && hostMatches(pattern, name) && pattern.length > bestScore) {
        best = c;
        bestScore = pattern.length;
      }
    }
  }
  return best ?? fallback ?? certs[0];
}

export type ClientHelloPeek = { state: 'incomplete' } | { state: 'not-tls' } | { state: 'parsed'; servername?: string };

/** Reads the SNI host_name from the first TLS record if it is a ClientHello. */
export function peekClientHello(buf: Buffer): ClientHelloPeek {
  if (buf.length < 1) return { state: 'incomplete' };
  if (buf[0] !== 0x16) return { state: 'not-tls' };
  if (buf.length < 5) return { state: 'incomplete' };
  const recordLength = buf.readUInt16BE(3);
  if (buf.length < 5 + recordLength) return { state: 'incomplete' };
  const rec = buf.subarray(5, 5 + recordLength);
  try {
    if (rec[0] !== 0x01) return { state: 'not-tls' };
    let p = 4 + 2 + 32; // handshake header, client_version, random
    p += 1 + rec[p]; // session id
    p += 2 + rec.readUInt16BE(p); // cipher suites
    p += 1 + rec[p]; // compression methods
    if (p + 2 > rec.length) return { state: 'parsed' };
    const extEnd = Math.min(rec.length, p + 2 + rec.readUInt16BE(p));
    p += 2;
    while (p + 4 <= extEnd) {
      const type = rec.readUInt16BE(p);
      const len = rec.readUInt16BE(p + 2);
      p += 4;
      if (type === 0) {
        let q = p + 2; // server_name_list length
        const end = p + len;
        while (q + 3 <= end) {
          const nameType = rec[q];
          const nameLen = rec.readUInt16BE(q + 1);
          q += 3;
          if (nameType === 0) return { state: 'parsed', servername: rec.toString('ascii', q, q + nameLen).toLowerCase() };
          q += nameLen;
        }
        return { state: 'parsed' };
      }
      p += len;
    }
    return { state: 'parsed' };
  } catch {
    return { state: 'not-tls' };
  }
}
