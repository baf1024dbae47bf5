// Self-signed certificates for tests (TLS Secrets, servers a test dials, certificates from no
// cluster CA): an ECDSA P-256 key and a certificate made with the server's own x509.ts.
import { createPrivateKey } from 'node:crypto';
import { newEcdsaKey, serialNumber } from '../../src/apiserver/node-identity/pki.js';
import { altNamesOf, createCertificate, selfIssuer, spkiOf } from '../../src/apiserver/node-identity/x509.js';

export interface SelfSignedOptions {
  /** The subject CN when it is not the first name (such as system:node:n1). */
  commonName?: string;
  /** Subject O values. */
  organizations?: string[];
  /** Validity; from an hour ago for a day when not given. */
  notBefore?: Date;
  notAfter?: Date;
}

/** A self-signed serving and client certificate for `names` (DNS names or IP addresses; the first is the CN unless opts.commonName is given), PEM. */
export function selfSignedCertificate(names: string[], opts: SelfSignedOptions = {}): { certPem: string; keyPem: string } {
  const { keyPem } = newEcdsaKey();
  const key = createPrivateKey(keyPem);
  const subject = { commonName: opts.commonName ?? names[0], organizations: opts.organizations };
  const certPem = createCertificate(
    {
      subject,
      publicKey: spkiOf(key),
      serialHex: serialNumber(),
      notBefore: opts.notBefore ?? new Date(Date.now() - 3600_000),
      notAfter: opts.notAfter ?? new Date(Date.now() + 86400_000),
      isCA: false,
      keyUsage: { digitalSignature: true },
      extKeyUsage: ['serverAuth', 'clientAuth'],
      altNames: altNamesOf(names),
    },
    selfIssuer(subject, key),
  );
  return { certPem, keyPem };
}
