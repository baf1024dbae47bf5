// X.509 v3 certificates (RFC 5280) and PKCS#10 certificate requests (RFC 2986), built and signed
// with Node's crypto: ECDSA (P-256, ecdsa-with-SHA256) or RSA (sha256WithRSAEncryption) keys.
// Requests are read and their self-signature checked here too; the values are DER (der.ts).
// Written here rather than taken from a library, measured: node-forge cannot make ECDSA certificates,
// and @peculiar/x509 is WebCrypto-async (tls.ts and the HA lab's PKI are synchronous), needs the
// global reflect-metadata polyfill and adds ~140 ms to start-up (0.24 s against 0.10 s for bare node).
import { X509Certificate, createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { formatIPv6, parseIPv4, parseIPv6 } from '../../dns/wire.js';
import { DerError, TAG, bitString, booleanTrue, children, decodeOid, explicit, namedBits, nullValue, octetString, oid, readElement, readOne, sequence, set, smallInteger, time, tlv, unsignedInteger, utf8String, type Element } from './der.js';

const OID = {
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  ecPublicKey: '1.2.840.10045.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

export interface Subject {
  commonName: string;
  organizations?: string[];
}

export interface AltNames {
  dnsNames?: string[];
  ips?: string[];
}

/** keyUsage bits (RFC 5280 4.2.1.3). */
export interface KeyUsage {
  digitalSignature?: boolean;
  keyEncipherment?: boolean;
  keyCertSign?: boolean;
  cRLSign?: boolean;
}

export interface CertificateTemplate {
  subject: Subject;
  /** The certified public key, as SubjectPublicKeyInfo DER. */
  publicKey: Buffer;
  /** Hex, positive (the top bit of the first byte clear). */
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  isCA: boolean;
  keyUsage: KeyUsage;
  extKeyUsage?: ('serverAuth' | 'clientAuth')[];
  altNames?: AltNames;
}

/** Who signs: the issuer's Name (DER, copied as it is in its certificate), key identifier and private key. */
export interface Issuer {
  name: Buffer;
  keyIdentifier: Buffer;
  key: KeyObject;
}

function encodeName(s: Subject): Buffer {
  const rdn = (type: string, value: string) => set(sequence(oid(type), utf8String(value)));
  return sequence(rdn(OID.commonName, s.commonName), ...(s.organizations ?? []).map((o) => rdn(OID.organizationName, o)));
}

function signatureAlgorithm(key: KeyObject): Buffer {
  if (key.asymmetricKeyType === 'ec') return sequence(oid(OID.ecdsaWithSha256));
  if (key.asymmetricKeyType === 'rsa') return sequence(oid(OID.sha256WithRsa), nullValue());
  throw new Error(`cannot sign with a ${key.asymmetricKeyType} key: only EC and RSA keys are supported`);
}

/** The key identifier of RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(spkiDer: Buffer): Buffer {
  const [, bits] = children(readOne(spkiDer, TAG.sequence, 'SubjectPublicKeyInfo').contents);
  if (bits?.tag !== TAG.bitString) throw new DerError('SubjectPublicKeyInfo: no public key bits');
  return createHash('sha1').update(bits.contents.subarray(1)).digest();
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [booleanTrue()] : []), octetString(value));
}

function generalNames(names: AltNames): Buffer {
  const out: Buffer[] = [];
  for (const d of names.dnsNames ?? []) out.push(tlv(0x82, Buffer.from(d, 'ascii')));
  for (const ip of names.ips ?? []) out.push(tlv(0x87, ipBytes(ip)));
  return sequence(...out);
}

function ipBytes(ip: string): Buffer {
  const bytes = isIP(ip) === 4 ? parseIPv4(ip) : parseIPv6(ip);
  if (!bytes) throw new Error(`${JSON.stringify(ip)} is not an IP address`);
  return Buffer.from(bytes);
}

/** A signed certificate (PEM) for `t`, by `issuer` (selfIssuer for a self-signed one). */
export function createCertificate(t: CertificateTemplate, issuer: Issuer): string {
  const usageBits: number[] = [];
  if (t.keyUsage.digitalSignature) usageBits.push(0);
  if (t.keyUsage.keyEncipherment) usageBits.push(2);
  if (t.keyUsage.keyCertSign) usageBits.push(5);
  if (t.keyUsage.cRLSign) usageBits.push(6);
  const extensions = [
    extension(OID.basicConstraints, true, t.isCA ? sequence(booleanTrue()) : sequence()),
    extension(OID.keyUsage, true, namedBits(usageBits)),
    ...(t.extKeyUsage?.length ? [extension(OID.extKeyUsage, false, sequence(...t.extKeyUsage.map((u) => oid(OID[u]))))] : []),
    extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(t.publicKey))),
    extension(OID.authorityKeyIdentifier, false, sequence(tlv(0x80, issuer.keyIdentifier))),
    ...((t.altNames?.dnsNames?.length ?? 0) + (t.altNames?.ips?.length ?? 0) > 0 ? [extension(OID.subjectAltName, false, generalNames(t.altNames!))] : []),
  ];
  const algorithm = signatureAlgorithm(issuer.key);
  const tbs = sequence(
    explicit(0, smallInteger(2)),
    unsignedInteger(Buffer.from(t.serialHex, 'hex')),
    algorithm,
    issuer.name,
    sequence(time(t.notBefore), time(t.notAfter)),
    encodeName(t.subject),
    t.publicKey,
    explicit(3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, issuer.key);
  return toPem('CERTIFICATE', sequence(tbs, algorithm, bitString(signature)));
}

/** The issuer a self-signed certificate for `subject` under `key` names. */
export function selfIssuer(subject: Subject, key: KeyObject): Issuer {
  return { name: encodeName(subject), keyIdentifier: keyIdentifier(spkiOf(key)), key };
}

/** The issuer a CA certificate (PEM) and its private key (PEM) make. */
export function issuerFromCertificate(caCertPem: string, caKeyPem: string): Issuer {
  const der = new X509Certificate(caCertPem).raw;
  const [tbs] = children(readOne(der, TAG.sequence, 'certificate').contents);
  const fields = children(tbs.contents);
  const at = fields[0]?.tag === 0xa0 ? 1 : 0; // [0] version is absent in v1 certificates
  const subject = fields[at + 4];
  const spki = fields[at + 5];
  if (subject?.tag !== TAG.sequence || spki?.tag !== TAG.sequence) throw new DerError('CA certificate: no subject or public key');
  return { name: subject.raw, keyIdentifier: keyIdentifier(spki.raw), key: createPrivateKey(caKeyPem) };
}

export function spkiOf(key: KeyObject): Buffer {
  return createPublicKey(key).export({ type: 'spki', format: 'der' });
}

/** A PKCS#10 request (PEM) for `subject` and `altNames`, signed by `key`. */
export function createCertificateRequest(key: KeyObject, subject: Subject, altNames: AltNames = {}): string {
  const wantsNames = (altNames.dnsNames?.length ?? 0) + (altNames.ips?.length ?? 0) > 0;
  const attributes = wantsNames ? [sequence(oid(OID.extensionRequest), set(sequence(extension(OID.subjectAltName, false, generalNames(altNames)))))] : [];
  const info = sequence(smallInteger(0), encodeName(subject), spkiOf(key), explicit(0, Buffer.concat(attributes)));
  const algorithm = signatureAlgorithm(key);
  return toPem('CERTIFICATE REQUEST', sequence(info, algorithm, bitString(sign('sha256', info, key))));
}

/** What a request asks for, read from its DER. */
export interface RequestContents {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  ips: string[];
  /** Names of other kinds (email, URI, ...), as `<kind>:<value>`. */
  otherNames: string[];
  /** SubjectPublicKeyInfo DER. */
  publicKey: Buffer;
}

/** Signature algorithms a request may use: the hash, and the kind of key that signs with it. */
const SIGNATURE_ALGORITHMS: Record<string, { hash: string; key: 'ec' | 'rsa'; name: string }> = {
  [OID.ecdsaWithSha256]: { hash: 'sha256', key: 'ec', name: 'ecdsa-with-SHA256' },
  '1.2.840.10045.4.3.3': { hash: 'sha384', key: 'ec', name: 'ecdsa-with-SHA384' },
  '1.2.840.10045.4.3.4': { hash: 'sha512', key: 'ec', name: 'ecdsa-with-SHA512' },
  [OID.sha256WithRsa]: { hash: 'sha256', key: 'rsa', name: 'sha256WithRSAEncryption' },
  '1.2.840.113549.1.1.12': { hash: 'sha384', key: 'rsa', name: 'sha384WithRSAEncryption' },
  '1.2.840.113549.1.1.13': { hash: 'sha512', key: 'rsa', name: 'sha512WithRSAEncryption' },
};

/**
 * The keys a request may certify: what kubelets (ECDSA P-256) and kubeadm (RSA 2048) make, and the
 * other NIST curves Go's and OpenSSL's TLS sign with (P-256 is prime256v1 to Node). Upstream takes
 * whatever Go's x509 parses (P-224 and Ed25519 too); no kubelet or kubeadm makes those.
 */
const CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);
const MIN_RSA_BITS = 2048;
const ACCEPTED_KEYS = `ECDSA P-256, P-384 or P-521, or RSA of ${MIN_RSA_BITS} bits or more`;

/** Throws saying why when `key` is not one a certificate is issued for. */
function checkRequestKey(key: KeyObject): void {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    if (!details.namedCurve || !CURVES.has(details.namedCurve)) throw new Error(`public key: ECDSA on ${details.namedCurve ?? 'an unnamed curve'} is not accepted (${ACCEPTED_KEYS})`);
  } else if (key.asymmetricKeyType === 'rsa') {
    if ((details.modulusLength ?? 0) < MIN_RSA_BITS) throw new Error(`public key: RSA of ${details.modulusLength} bits is not accepted (${ACCEPTED_KEYS})`);
  } else {
    throw new Error(`public key: ${key.asymmetricKeyType ?? 'an unknown kind of key'} is not accepted (${ACCEPTED_KEYS})`);
  }
}

function stringValue(e: Element): string {
  if (e.tag === TAG.utf8String || e.tag === TAG.printableString || e.tag === TAG.ia5String || e.tag === 0x14 /* T61 */) return e.contents.toString('utf8');
  throw new DerError(`unsupported string type 0x${e.tag.toString(16)} in the subject`);
}

function ipText(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  if (b.length === 16) return formatIPv6(b);
  throw new DerError(`an IP address of ${b.length} bytes`);
}

/**
 * Reads a PEM certificate request, checks its key (checkRequestKey) and its self-signature; throws
 * DerError (bad encoding) or Error (a key not accepted, a bad signature) saying what
 * is wrong, starting with the part of the request at fault.
 */
export function readCertificateRequest(pem: string): RequestContents {
  const m = /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([\s\S]*?)-----END (?:NEW )?CERTIFICATE REQUEST-----/.exec(pem);
  if (!m) throw new DerError('no -----BEGIN CERTIFICATE REQUEST----- block');
  const der = Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
  const [info, algorithm, signature] = children(readOne(der, TAG.sequence, 'certificate request').contents);
  if (info?.tag !== TAG.sequence || algorithm?.tag !== TAG.sequence || signature?.tag !== TAG.bitString) throw new DerError('not a PKCS#10 certificate request');
  const [version, name, spki, attrs] = children(info.contents);
  if (version?.tag !== TAG.integer || name?.tag !== TAG.sequence || spki?.tag !== TAG.sequence) throw new DerError('malformed CertificationRequestInfo');
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: spki.raw, format: 'der', type: 'spki' });
  } catch (err) {
    throw new DerError(`public key: unreadable (${(err as Error).message})`);
  }
  checkRequestKey(publicKey);
  const algorithmOid = decodeOid(readElement(algorithm.contents).element.contents);
  const alg = SIGNATURE_ALGORITHMS[algorithmOid];
  if (!alg) throw new DerError(`signature: unsupported algorithm ${algorithmOid} (ECDSA or RSA with SHA-256, SHA-384 or SHA-512 are)`);
  if (alg.key !== publicKey.asymmetricKeyType) throw new DerError(`signature: ${alg.name} does not go with the request's ${publicKey.asymmetricKeyType === 'ec' ? 'ECDSA' : 'RSA'} key`);
  let valid: boolean;
  try {
    valid = verify(alg.hash, info.raw, publicKey, signature.contents.subarray(1));
  } catch {
    valid = false; // an ECDSA signature that is not even a DER pair of integers
  }
  if (!valid) throw new Error('signature: the request is not signed by its own key');
  const out: RequestContents = { commonName: '', organizations: [], dnsNames: [], ips: [], otherNames: [], publicKey: spki.raw };
  for (const rdn of children(name.contents)) {
    for (const atv of children(rdn.contents)) {
      const [type, value] = children(atv.contents);
      if (type?.tag !== TAG.oid || !value) throw new DerError('malformed subject');
      const t = decodeOid(type.contents);
      if (t === OID.commonName) out.commonName = stringValue(value);
      else if (t === OID.organizationName) out.organizations.push(stringValue(value));
    }
  }
  if (attrs?.tag === 0xa0) {
    for (const attr of children(attrs.contents)) {
      const [type, values] = children(attr.contents);
      if (type?.tag !== TAG.oid || decodeOid(type.contents) !== OID.extensionRequest || !values) continue;
      for (const exts of children(values.contents)) {
        for (const ext of children(exts.contents)) {
          const parts = children(ext.contents);
          if (parts[0]?.tag !== TAG.oid || decodeOid(parts[0].contents) !== OID.subjectAltName) continue;
          const value = parts[parts.length - 1];
          for (const gn of children(readOne(value.contents, TAG.sequence, 'subjectAltName').contents)) {
            if (gn.tag === 0x82) out.dnsNames.push(gn.contents.toString('ascii'));
            else if (gn.tag === 0x87) out.ips.push(ipText(gn.contents));
            else if (gn.tag === 0x81) out.otherNames.push(`email:${gn.contents.toString('ascii')}`);
            else if (gn.tag === 0x86) out.otherNames.push(`uri:${gn.contents.toString('ascii')}`);
            else out.otherNames.push(`[${gn.tag & 0x1f}]`);
          }
        }
      }
    }
  }
  return out;
}

function toPem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** A DNS name or IP address as its kind of alternative name. */
export function altNamesOf(names: string[]): AltNames {
  return { dnsNames: names.filter((n) => isIP(n) === 0), ips: names.filter((n) => isIP(n) !== 0) };
}
