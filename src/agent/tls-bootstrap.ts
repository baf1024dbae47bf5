// The agent's credentials, as the kubelet's TLS bootstrap makes them: with a bootstrap kubeconfig
// (a bootstrap token), it generates a key, asks the API server for a node client certificate
// (CertificateSigningRequest, signer kubernetes.io/kube-apiserver-client-kubelet, subject
// system:node:<name> in system:nodes), waits for it and writes a kubeconfig that uses it; with
// those credentials it then asks for its serving certificate (kubernetes.io/kubelet-serving) for
// the node's addresses. Keys are made here and never leave the agent. Every file is written 0600
// (through a temporary file and a rename) in a 0700 directory.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { KubeClient } from '../client/client.js';
import { type ClusterConnection, loadKubeconfig } from '../client/kubeconfig.js';
import { GROUP_NODES, NODE_USER_PREFIX, SIGNER_KUBELET_CLIENT, SIGNER_KUBELET_SERVING } from '../apiserver/node-identity/csr-decision.js';
import { certificateFacts, createCertificateRequest, issuedBy, newRsaKey } from '../apiserver/node-identity/pki.js';
import type { Logger } from '../util/log.js';

/** A certificate that ends within a day is replaced. */
const RENEW_BEFORE_MS = 24 * 3600_000;
const WAIT_MS = 60_000;

/** A private directory: created 0700, and tightened if it exists. */
export function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** Writes `data` to `path` 0600 from its first byte (a fresh temporary file, then rename). */
export function writePrivateFile(path: string, data: string): void {
  privateDir(dirname(path));
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, path);
}

function usable(certPem: string, caPem: string | undefined, now = Date.now()): boolean {
  try {
    if (caPem && !issuedBy(certPem, caPem)) return false;
    return certificateFacts(certPem).notAfter.getTime() - now > RENEW_BEFORE_MS;
  } catch {
    return false;
  }
}

function caPemOf(conn: ClusterConnection): string | undefined {
  return conn.ca ? conn.ca.toString('utf8') : undefined;
}

/** A kubeconfig naming client certificate and key files (as the kubelet writes its own). */
export function renderCertificateKubeconfig(opts: { server: string; caPem: string; certFile: string; keyFile: string; user: string }): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: default-cluster',
    '  cluster:',
    `    server: ${opts.server}`,
    `    certificate-authority-data: ${Buffer.from(opts.caPem).toString('base64')}`,
    'users:',
    `- name: ${JSON.stringify(opts.user)}`,
    '  user:',
    `    client-certificate: ${opts.certFile}`,
    `    client-key: ${opts.keyFile}`,
    'contexts:',
    '- name: default-context',
    '  context:',
    '    cluster: default-cluster',
    `    user: ${JSON.stringify(opts.user)}`,
    'current-context: default-context',
    '',
  ].join('\n');
}

/** A kubeconfig holding a bootstrap token (what `flatnet token create` hands to a joining node). */
export function renderBootstrapKubeconfig(opts: { server: string; caPem: string; token: string }): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: default-cluster',
    '  cluster:',
    `    server: ${opts.server}`,
    `    certificate-authority-data: ${Buffer.from(opts.caPem).toString('base64')}`,
    'users:',
    '- name: tls-bootstrap-token-user',
    '  user:',
    `    token: ${opts.token}`,
    'contexts:',
    '- name: tls-bootstrap-token-user@default-cluster',
    '  context:',
    '    cluster: default-cluster',
    '    user: tls-bootstrap-token-user',
    'current-context: tls-bootstrap-token-user@default-cluster',
    '',
  ].join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Creates a CertificateSigningRequest and waits for its certificate; throws with the server's reason when it fails. */
export async function requestCertificate(client: KubeClient, opts: { csrPem: string; signerName: string; usages: string[]; namePrefix: string; expirationSeconds?: number; timeoutMs?: number }): Promise<string> {
  const name = `${opts.namePrefix}-${randomBytes(5).toString('hex')}`;
  const body: KubeObject = {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: { request: Buffer.from(opts.csrPem).toString('base64'), signerName: opts.signerName, usages: opts.usages, ...(opts.expirationSeconds ? { expirationSeconds: opts.expirationSeconds } : {}) },
  };
  await client.create(R.certificatesigningrequests, body);
  const deadline = Date.now() + (opts.timeoutMs ?? WAIT_MS);
  while (Date.now() < deadline) {
    const csr = await client.get(R.certificatesigningrequests, undefined, name);
    const status = (csr?.status ?? {}) as { certificate?: string; conditions?: { type: string; status: string; message?: string }[] };
    if (status.certificate) return Buffer.from(status.certificate, 'base64').toString('utf8');
    const refused = status.conditions?.find((c) => (c.type === 'Denied' || c.type === 'Failed') && c.status === 'True');
    if (refused) throw new Error(`certificate request ${name} was ${refused.type.toLowerCase()}: ${refused.message ?? ''}`);
    await sleep(200);
  }
  throw new Error(`certificate request ${name} (${opts.signerName}) was not signed within ${Math.round((opts.timeoutMs ?? WAIT_MS) / 1000)}s; is the server approving node certificates?`);
}

export interface NodeCredentialPaths {
  /** Where the node's own kubeconfig is (written here after a bootstrap). */
  kubeconfig: string;
  /** The bootstrap kubeconfig (a bootstrap token), used when `kubeconfig` is missing or expiring. */
  bootstrapKubeconfig?: string;
  /** Directory of kubelet-client.{crt,key} and kubelet-server.{crt,key}. */
  certDir: string;
}

/**
 * The node's connection to the API server: its kubeconfig when it holds a certificate that is
 * still good, else a new client certificate obtained with the bootstrap kubeconfig.
 */
export async function nodeClientConnection(nodeName: string, paths: NodeCredentialPaths, log: Logger): Promise<ClusterConnection> {
  privateDir(paths.certDir);
  if (existsSync(paths.kubeconfig)) {
    const conn = loadKubeconfig(paths.kubeconfig);
    const caPem = caPemOf(conn);
    // A bootstrap kubeconfig naming another CA means the cluster was made anew: join it again.
    const sameCluster = !paths.bootstrapKubeconfig || !existsSync(paths.bootstrapKubeconfig) || caPemOf(loadKubeconfig(paths.bootstrapKubeconfig)) === caPem;
    if (sameCluster && (!conn.cert || usable(conn.cert.toString('utf8'), caPem))) return conn;
    if (!paths.bootstrapKubeconfig) throw new Error(`the client certificate of ${paths.kubeconfig} has expired or ends within a day, and no --bootstrap-kubeconfig was given to get a new one`);
    log.info(sameCluster ? 'the node client certificate ends soon; bootstrapping a new one' : 'the bootstrap kubeconfig names another cluster CA; joining again', { kubeconfig: paths.kubeconfig });
  } else if (!paths.bootstrapKubeconfig) {
    throw new Error(`${paths.kubeconfig} does not exist; pass --bootstrap-kubeconfig to join with a bootstrap token (flatnet token create)`);
  }
  const bootstrap = loadKubeconfig(paths.bootstrapKubeconfig!);
  const caPem = caPemOf(bootstrap);
  if (!caPem) throw new Error(`${paths.bootstrapKubeconfig}: certificate-authority-data is needed to trust the API server`);
  const key = newRsaKey();
  const keyFile = resolve(paths.certDir, 'kubelet-client.key');
  const certFile = resolve(paths.certDir, 'kubelet-client.crt');
  const client = new KubeClient(bootstrap);
  let certPem: string;
  try {
    certPem = await requestCertificate(client, {
      csrPem: createCertificateRequest(key, `${NODE_USER_PREFIX}${nodeName}`, [GROUP_NODES]),
      signerName: SIGNER_KUBELET_CLIENT,
      usages: ['digital signature', 'key encipherment', 'client auth'],
      namePrefix: 'node-csr',
    });
  } finally {
    client.close();
  }
  writePrivateFile(keyFile, key.keyPem);
  writePrivateFile(certFile, certPem);
  writePrivateFile(paths.kubeconfig, renderCertificateKubeconfig({ server: bootstrap.server, caPem, certFile, keyFile, user: `${NODE_USER_PREFIX}${nodeName}` }));
  log.info('node client certificate issued', { subject: `${NODE_USER_PREFIX}${nodeName}`, notAfter: certificateFacts(certPem).notAfter.toISOString(), kubeconfig: paths.kubeconfig });
  return loadKubeconfig(paths.kubeconfig);
}

export interface ServingCredentials {
  certPem: string;
  keyPem: string;
  caPem: string;
}

/** The node's serving certificate for `ips` (and its name), kept in certDir and re-requested when names change or it ends soon. */
export async function nodeServingCertificate(client: KubeClient, nodeName: string, ips: string[], certDir: string, log: Logger): Promise<ServingCredentials> {
  const caPem = caPemOf(client.connection);
  if (!caPem) throw new Error('the node kubeconfig has no certificate-authority-data; the kubelet endpoint needs the cluster CA to check the API server');
  privateDir(certDir);
  const certFile = join(certDir, 'kubelet-server.crt');
  const keyFile = join(certDir, 'kubelet-server.key');
  if (existsSync(certFile) && existsSync(keyFile)) {
    const certPem = readFileSync(certFile, 'utf8');
    const facts = (() => {
      try {
        return certificateFacts(certPem);
      } catch {
        return undefined;
      }
    })();
    if (facts && usable(certPem, caPem) && ips.every((ip) => facts.ips.includes(ip)) && facts.commonName === `${NODE_USER_PREFIX}${nodeName}`) {
      return { certPem, keyPem: readFileSync(keyFile, 'utf8'), caPem };
    }
  }
  const key = newRsaKey();
  const certPem = await requestCertificate(client, {
    csrPem: createCertificateRequest(key, `${NODE_USER_PREFIX}${nodeName}`, [GROUP_NODES], { dnsNames: [nodeName], ips }),
    signerName: SIGNER_KUBELET_SERVING,
    usages: ['digital signature', 'key encipherment', 'server auth'],
    namePrefix: `csr-${nodeName}`.slice(0, 40),
  });
  writePrivateFile(keyFile, key.keyPem);
  writePrivateFile(certFile, certPem);
  log.info('node serving certificate issued', { names: [nodeName, ...ips], notAfter: certificateFacts(certPem).notAfter.toISOString() });
  return { certPem, keyPem: key.keyPem, caPem };
}
