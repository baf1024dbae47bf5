// Trusting the cluster CA before sending a secret, as `kubeadm join --discovery-token-ca-cert-hash`
// does: a TLS handshake with the API server without verification, then the CA in the chain it
// presents must match the pin (sha256 of its SubjectPublicKeyInfo), must have signed the server's
// certificate, and that certificate must name the address dialed. Only then is the CA trusted
// and the bootstrap token sent (over TLS verified against it).
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { caCertHash } from './join.js';

const PIN_RE = /^sha256:[0-9a-f]{64}$/;

export class DiscoveryError extends Error {}

function pem(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

/** The PEM certificates the server at `url` presents, leaf first (nothing but a TLS handshake is sent). */
export function presentedChain(url: string, timeoutMs = 10_000): Promise<string[]> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 443), rejectUnauthorized: false });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new DiscoveryError(`no TLS handshake with ${url} within ${timeoutMs / 1000}s`));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const chain: string[] = [];
      let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      const seen = new Set<string>();
      while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
        seen.add(cert.fingerprint256);
        chain.push(pem(cert.raw));
        cert = cert.issuerCertificate;
      }
      socket.end();
      resolve(chain);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new DiscoveryError(`cannot reach ${url}: ${err.message}`));
    });
  });
}

/** The CA certificate of the server at `url`, checked against `pin`; throws DiscoveryError saying what did not match. */
export async function discoverClusterCA(url: string, pin: string): Promise<string> {
  const want = pin.toLowerCase();
  if (!PIN_RE.test(want)) throw new DiscoveryError(`--ca-cert-hash ${JSON.stringify(pin)} must be sha256:<64 hex digits> (flatnet token create --print-ca-hash prints it)`);
  const chain = await presentedChain(url);
  if (chain.length === 0) throw new DiscoveryError(`${url} presented no certificate`);
  const ca = chain.find((c) => caCertHash(c) === want);
  if (!ca) throw new DiscoveryError(`the server at ${url} presented no CA matching ${want} (it presented ${chain.map(caCertHash).join(', ')}); refusing to send the token`);
  const leaf = new X509Certificate(chain[0]);
  const caCert = new X509Certificate(ca);
  if (chain[0] !== ca && !leaf.verify(caCert.publicKey)) throw new DiscoveryError(`the server's certificate was not issued by the pinned CA; refusing to send the token`);
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const mismatch = tls.checkServerIdentity(host, { subject: {}, subjectaltname: leaf.subjectAltName ?? '' } as tls.PeerCertificate);
  if (mismatch) throw new DiscoveryError(`the server's certificate does not name ${host}: ${mismatch.message}`);
  return ca;
}
