// X.509 certificates and PKCS#10 requests built by x509.ts: read back by Node's crypto and by the
// openssl command line, for ECDSA and RSA keys, and the server's CA and certificates made with them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { children, decodeOid, oid, readOne, sequence, TAG, time, tlv } from '../../../src/apiserver/node-identity/der.js';
import { createCertificateRequest, readCertificateRequest } from '../../../src/apiserver/node-identity/x509.js';
import { createCertificateRequest as nodeCertificateRequest, certificateFacts, issueCertificate, issuedBy, newEcdsaKey, parseCertificateRequest, RequestError } from '../../../src/apiserver/node-identity/pki.js';
import { ensureKubeletClientCertificate, ensureServingCertificate, loadCertificateAuthority } from '../../../src/apiserver/tls.js';

function openssl(args: string[], input?: string): string {
  return execFileSync('openssl', args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

test('DER: object identifiers round-trip, times switch to GeneralizedTime in 2050', () => {
  for (const id of ['2.5.4.3', '1.2.840.10045.4.3.2', '1.3.6.1.5.5.7.3.1', '2.999.1']) {
    assert.equal(decodeOid(readOne(oid(id), TAG.oid, id).contents), id);
  }
  assert.equal(time(new Date('2036-02-03T04:05:06.789Z')).toString('latin1').slice(2), '360203040506Z');
  assert.equal(time(new Date('2050-01-01T00:00:00Z'))[0], TAG.generalizedTime);
});

test('the server CA, serving and kubelet-client certificates are ECDSA P-256, chain up, and openssl agrees', () => {
  const dir = mkdtempSync(join(tmpdir(), 'x509-test-'));
  try {
    const serving = ensureServingCertificate(dir, ['127.0.0.1', 'localhost', '10.96.0.1', 'kubernetes.default.svc', '::1', '2001:db8::7']);
    const ca = new X509Certificate(serving.caPem);
    const leaf = new X509Certificate(serving.certPem);
    assert.equal(ca.publicKey.asymmetricKeyType, 'ec');
    assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.ok(ca.ca, 'the CA is a CA');
    assert.ok(ca.verify(ca.publicKey), 'the CA is self-signed');
    assert.ok(leaf.verify(ca.publicKey), 'the serving certificate is signed by the CA');
    assert.equal(leaf.ca, false);
    assert.equal(leaf.checkIssued(ca), true);
    assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    const facts = certificateFacts(serving.certPem);
    assert.deepEqual(facts.dnsNames, ['localhost', 'kubernetes.default.svc']);
    assert.equal(facts.ips.length, 4);
    assert.ok(leaf.checkIP('2001:db8::7') && leaf.checkIP('10.96.0.1') && leaf.checkHost('kubernetes.default.svc'));
    writeFileSync(join(dir, 'chain.pem'), serving.certPem);
    assert.match(openssl(['verify', '-CAfile', join(dir, 'ca.crt'), '-purpose', 'sslserver', join(dir, 'chain.pem')]), /OK/);
    const text = openssl(['x509', '-noout', '-text', '-in', join(dir, 'apiserver.crt')]);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature/);
    assert.match(text, /X509v3 Authority Key Identifier/);
    assert.match(openssl(['x509', '-noout', '-text', '-in', join(dir, 'ca.crt')]), /CA:TRUE[\s\S]*Certificate Sign, CRL Sign/);
    // The key on disk matches the certificate.
    const key = createPrivateKey(readFileSync(join(dir, 'apiserver.key'), 'utf8'));
    assert.equal(key.asymmetricKeyType, 'ec');
    const kubelet = ensureKubeletClientCertificate(dir, loadCertificateAuthority(dir));
    assert.ok(issuedBy(kubelet.certPem, serving.caPem));
    assert.deepEqual(new X509Certificate(kubelet.certPem).keyUsage, ['1.3.6.1.5.5.7.3.2']);
    writeFileSync(join(dir, 'kubelet.pem'), kubelet.certPem);
    assert.match(openssl(['verify', '-CAfile', join(dir, 'ca.crt'), '-purpose', 'sslclient', join(dir, 'kubelet.pem')]), /OK/);
    // Every key and certificate is 0600 (written through a temporary file: none is left), and openssl reads each.
    const written = readdirSync(dir).filter((f) => /\.(crt|key)$/.test(f)).sort();
    assert.deepEqual(written, ['apiserver-kubelet-client.crt', 'apiserver-kubelet-client.key', 'apiserver.crt', 'apiserver.key', 'ca.crt', 'ca.key']);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
    for (const f of written) {
      assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
      if (f.endsWith('.crt')) assert.match(openssl(['x509', '-noout', '-text', '-in', join(dir, f)]), /Public Key Algorithm: id-ecPublicKey[\s\S]*NIST CURVE: P-256/, f);
      else assert.match(openssl(['pkey', '-noout', '-text', '-in', join(dir, f)]), /ASN1 OID: prime256v1/, f);
    }
    // A second start with the same names keeps every file.
    assert.equal(ensureServingCertificate(dir, ['127.0.0.1', 'localhost']).certPem, serving.certPem);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('requests: ECDSA and RSA requests read back with their names; openssl reads ours and we read openssl\'s', () => {
  for (const kind of ['ec', 'rsa'] as const) {
    const { privateKey } = kind === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = createCertificateRequest(privateKey, { commonName: 'system:node:n1', organizations: ['system:nodes', 'team é'] }, { dnsNames: ['n1.example'], ips: ['10.0.0.5', 'fd00::1'] });
    const got = readCertificateRequest(pem);
    assert.equal(got.commonName, 'system:node:n1');
    assert.deepEqual(got.organizations, ['system:nodes', 'team é']);
    assert.deepEqual(got.dnsNames, ['n1.example']);
    assert.deepEqual(got.ips, ['10.0.0.5', 'fd00::1']);
    assert.match(openssl(['req', '-noout', '-verify', '-text'], pem), /verify OK|Certificate request self-signature verify OK|Subject: CN/);
  }
  const dir = mkdtempSync(join(tmpdir(), 'x509-test-'));
  try {
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', join(dir, 'k.pem')]);
    const pem = openssl(['req', '-new', '-key', join(dir, 'k.pem'), '-subj', '/O=system:nodes/CN=system:node:n9', '-addext', 'subjectAltName=DNS:n9,IP:172.18.0.19']);
    assert.deepEqual(readCertificateRequest(pem), { ...readCertificateRequest(pem), commonName: 'system:node:n9', organizations: ['system:nodes'], dnsNames: ['n9'], ips: ['172.18.0.19'] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('requests: a tampered request, garbage and a wrong block are refused with the reason', () => {
  const pem = createCertificateRequest(createPrivateKey(newEcdsaKey().keyPem), { commonName: 'alice' });
  const der = Buffer.from(pem.split('\n').filter((l) => !l.startsWith('-----')).join(''), 'base64');
  const i = der.indexOf(Buffer.from('alice'));
  der[i] = 'b'.charCodeAt(0);
  const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  assert.throws(() => parseCertificateRequest(tampered), (err: Error) => err instanceof RequestError && /not signed by its own key/.test(err.message));
  assert.throws(() => parseCertificateRequest('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n'), RequestError);
  assert.throws(() => parseCertificateRequest('hello'), /spec.request: .*no -----BEGIN CERTIFICATE REQUEST----- block/);
});

test('requests: a key the kubelet signer would not certify, or a signature algorithm that does not go with the key, is refused naming the part at fault', () => {
  const refused = (pem: string, why: RegExp) => assert.throws(() => parseCertificateRequest(pem), (err: Error) => err instanceof RequestError && why.test(err.message), why.source);
  const subject = { commonName: 'system:node:n1', organizations: ['system:nodes'] };
  refused(createCertificateRequest(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey, subject), /^spec\.request: public key: ECDSA on secp256k1 is not accepted \(ECDSA P-256, P-384 or P-521, or RSA of 2048 bits or more\)$/);
  refused(createCertificateRequest(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey, subject), /^spec\.request: public key: RSA of 1024 bits is not accepted/);
  const dir = mkdtempSync(join(tmpdir(), 'x509-test-'));
  try {
    openssl(['genpkey', '-algorithm', 'ed25519', '-out', join(dir, 'ed.pem')]);
    refused(openssl(['req', '-new', '-key', join(dir, 'ed.pem'), '-subj', '/O=system:nodes/CN=system:node:n1']), /^spec\.request: public key: ed25519 is not accepted/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // An ECDSA request relabelled as signed with sha256WithRSAEncryption.
  const pem = createCertificateRequest(createPrivateKey(newEcdsaKey().keyPem), subject);
  const [info, , signature] = children(readOne(Buffer.from(pem.split('\n').filter((l) => !l.startsWith('-----')).join(''), 'base64'), TAG.sequence, 'request').contents);
  const relabelled = sequence(info.raw, sequence(oid('1.2.840.113549.1.1.11'), tlv(TAG.null, Buffer.alloc(0))), signature.raw);
  refused(`-----BEGIN CERTIFICATE REQUEST-----\n${relabelled.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`, /^spec\.request: not a valid PEM CERTIFICATE REQUEST: signature: sha256WithRSAEncryption does not go with the request's ECDSA key$/);
  // What is accepted: the kubelet's P-256, the other NIST curves, RSA 2048.
  for (const key of [generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey]) {
    assert.equal(parseCertificateRequest(createCertificateRequest(key, subject)).commonName, 'system:node:n1');
  }
});

test('a cluster made with an RSA CA (before ECDSA) keeps issuing: sha256WithRSA certificates for ECDSA requests', () => {
  const dir = mkdtempSync(join(tmpdir(), 'x509-test-'));
  try {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'), '-subj', '/CN=flatnet-ca', '-days', '30', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    const ca = loadCertificateAuthority(dir);
    const req = parseCertificateRequest(nodeCertificateRequest(newEcdsaKey(), 'system:node:n1', ['system:nodes']));
    const cert = issueCertificate(ca, req, ['digital signature', 'client auth'], new Date(Date.now() + 365 * 86400_000));
    assert.ok(issuedBy(cert, ca.certPem));
    // Capped at the CA's own end.
    assert.ok(Date.parse(new X509Certificate(cert).validTo) <= Date.parse(new X509Certificate(ca.certPem).validTo));
    writeFileSync(join(dir, 'leaf.pem'), cert);
    assert.match(openssl(['verify', '-CAfile', join(dir, 'ca.crt'), join(dir, 'leaf.pem')]), /OK/);
    assert.match(openssl(['x509', '-noout', '-text', '-in', join(dir, 'leaf.pem')]), /Signature Algorithm: sha256WithRSAEncryption[\s\S]*Subject: CN ?= ?system:node:n1, O ?= ?system:nodes/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
