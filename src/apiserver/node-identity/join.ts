// The client side of joining: creating a bootstrap token Secret through the API (what
// `kubeadm token create` does) and the CA public key hash a joining node pins
// (`sha256:<hex of the CA's SubjectPublicKeyInfo>`, kubeadm's --discovery-token-ca-cert-hash).
import { X509Certificate, createHash } from 'node:crypto';
import { R } from '../../api/resources.js';
import type { KubeClient } from '../../client/client.js';
import { isAlreadyExists } from '../../client/client.js';
import { type BootstrapToken, bootstrapTokenSecret, formatToken, generateBootstrapToken } from './bootstrap-token.js';

/** Parses a Go-style duration of whole seconds (24h, 1h30m, 90s, 0). */
export function parseTtl(text: string): number {
  if (text === '0') return 0;
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (!m || text === '') throw new Error(`--ttl ${JSON.stringify(text)} is not a duration such as 24h, 30m, 1h30m or 0 (never expires)`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/** Stores a new bootstrap token and returns it as `<id>.<secret>`. */
export async function createBootstrapToken(client: KubeClient, opts: { ttlSeconds: number; description?: string; groups?: string[] }): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const token: BootstrapToken = generateBootstrapToken();
    try {
      await client.create(R.secrets, bootstrapTokenSecret(token, opts));
      return formatToken(token);
    } catch (err) {
      if (!isAlreadyExists(err) || attempt >= 3) throw err;
    }
  }
}

/** kubeadm's CA pin: sha256 over the DER SubjectPublicKeyInfo of the CA certificate. */
export function caCertHash(caPem: string): string {
  const spki = new X509Certificate(caPem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}
