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
import { ApiError, KubeClient } from '../client/client.js';
import { type ClusterConnection, loadKubeconfig } from '../client/kubeconfig.js';
import { WatchUntilTimeout, watchUntil } from '../client/watch-until.js';
import { GROUP_NODES, NODE_USER_PREFIX, SIGNER_KUBELET_CLIENT, SIGNER_KUBELET_SERVING } from '../apiserver/node-identity/csr-decision.js';
import { certificateFacts, createCertificateRequest, issuedBy, newEcdsaKey } from '../apiserver/node-identity/pki.js';
import type { Logger } from '../util/log.js';
import { removeStaleClientPairs } from './client-cert-files.js';

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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface CsrStatus {
  certificate?: string;
  conditions?: { type: string; status: string; message?: string }[];
}

/**
 * Creates a CertificateSigningRequest and waits for its certificate, watching the request
 * (fieldSelector=metadata.name) so the certificate is taken the moment the signer stores it;
 * throws with the server's reason when it is denied or fails.
 */
export async function requestCertificate(client: KubeClient, opts: { csrPem: string; signerName: string; usages: string[]; namePrefix: string; expirationSeconds?: number; timeoutMs?: number }): Promise<string> {
  const name = `${opts.namePrefix}-${randomBytes(5).toString('hex')}`;
  const body: KubeObject = {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: { request: Buffer.from(opts.csrPem).toString('base64'), signerName: opts.signerName, usages: opts.usages, ...(opts.expirationSeconds ? { expirationSeconds: opts.expirationSeconds } : {}) },
  };
  await client.create(R.certificatesigningrequests, body);
  const timeoutMs = opts.timeoutMs ?? WAIT_MS;
  try {
    return await watchUntil<KubeObject, string>(client, R.certificatesigningrequests, { fieldSelector: `metadata.name=${name}`, timeoutMs, what: `certificate request ${name}` }, (objects) => {
      const status = (objects.get(`/${name}`)?.status ?? {}) as CsrStatus;
      if (status.certificate) return Buffer.from(status.certificate, 'base64').toString('utf8');
      const refused = status.conditions?.find((c) => (c.type === 'Denied' || c.type === 'Failed') && c.status === 'True');
      if (refused) throw new Error(`certificate request ${name} was ${refused.type.toLowerCase()}: ${refused.message ?? ''}`);
      return undefined;
    });
  } catch (err) {
    if (err instanceof WatchUntilTimeout) {
      throw new Error(`certificate request ${name} (${opts.signerName}) was not signed within ${Math.round(timeoutMs / 1000)}s; is the server approving node certificates?`, { cause: err });
    }
    throw err;
  }
}

export interface NodeCredentialPaths {
  /** Where the node's own kubeconfig is (written here after a bootstrap). */
  kubeconfig: string;
  /** The bootstrap kubeconfig (a bootstrap token), used when `kubeconfig` is missing or expiring. */
  bootstrapKubeconfig?: string;
  /** Directory of kubelet-client.{crt,key} and kubelet-server.{crt,key}. */
  certDir: string;
}

/** Credentials the API server refused (401): the node certificate (revoked or expired) or the bootstrap token. */
export class CredentialsRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsRefused';
  }
}

const REVOKED_CAUSE = 'it was revoked (its Node was deleted, or its entry was removed from the ConfigMap kube-system/flatnet-node-client-certificates) or it has expired';

/**
 * Gets a new node client certificate with the bootstrap kubeconfig and writes the key, the
 * certificate and a kubeconfig naming them. `server` overrides the bootstrap kubeconfig's URL for
 * the request (an agent failing over between servers asks the one it uses).
 */
async function bootstrapClientCertificate(nodeName: string, paths: NodeCredentialPaths & { bootstrapKubeconfig: string }, log: Logger, server?: string): Promise<{ certPem: string; keyPem: string }> {
  const bootstrap = loadKubeconfig(paths.bootstrapKubeconfig);
  const caPem = caPemOf(bootstrap);
  if (!caPem) throw new Error(`${paths.bootstrapKubeconfig}: certificate-authority-data is needed to trust the API server`);
  const key = newEcdsaKey();
  const keyFile = resolve(paths.certDir, 'kubelet-client.key');
  const certFile = resolve(paths.certDir, 'kubelet-client.crt');
  const client = new KubeClient({ ...bootstrap, server: server ?? bootstrap.server });
  let certPem: string;
  try {
    certPem = await requestCertificate(client, {
      csrPem: createCertificateRequest(key, `${NODE_USER_PREFIX}${nodeName}`, [GROUP_NODES]),
      signerName: SIGNER_KUBELET_CLIENT,
      // An ECDSA key signs and agrees keys; it never enciphers one (the kubelet asks the same).
      usages: ['digital signature', 'client auth'],
      namePrefix: 'node-csr',
    });
  } catch (err) {
    if (err instanceof ApiError && err.code === 401) throw new CredentialsRefused(`the bootstrap token of ${paths.bootstrapKubeconfig} was refused (401 Unauthorized): it has expired or was deleted; make a new one with \`flatnet token create\` and join again`);
    throw err;
  } finally {
    client.close();
  }
  writePrivateFile(keyFile, key.keyPem);
  writePrivateFile(certFile, certPem);
  writePrivateFile(paths.kubeconfig, renderCertificateKubeconfig({ server: bootstrap.server, caPem, certFile, keyFile, user: `${NODE_USER_PREFIX}${nodeName}` }));
  // A pair rotated before this bootstrap was refused (revoked or expired): it goes now, not at the next rotation.
  const removed = removeStaleClientPairs(paths.certDir, paths.kubeconfig);
  log.info('node client certificate issued', { subject: `${NODE_USER_PREFIX}${nodeName}`, notAfter: certificateFacts(certPem).notAfter.toISOString(), kubeconfig: paths.kubeconfig, removed });
  return { certPem, keyPem: key.keyPem };
}

/** Whether the API server takes the client's credentials: 'refused' on 401, 'unknown' when it cannot be asked (down, unreachable). */
export async function credentialsAccepted(client: KubeClient, nodeName: string): Promise<'accepted' | 'refused' | 'unknown'> {
  try {
    // The node's own Node: any answer but 401 (200, 404 before it registers, 403) says the certificate authenticated.
    await client.request('GET', `/api/v1/nodes/${encodeURIComponent(nodeName)}`);
    return 'accepted';
  } catch (err) {
    if (err instanceof ApiError && err.code === 401) return 'refused';
    if (err instanceof ApiError && err.code < 500) return 'accepted';
    return 'unknown';
  }
}

/**
 * The node's connection to the API server: its kubeconfig when it holds a certificate that is
 * still good and the server takes it, else a new client certificate obtained with the bootstrap
 * kubeconfig (as the kubelet does with --bootstrap-kubeconfig). Throws CredentialsRefused when
 * the server refuses the certificate and no bootstrap token can replace it, or refuses the token.
 */
export async function nodeClientConnection(nodeName: string, paths: NodeCredentialPaths, log: Logger): Promise<ClusterConnection> {
  privateDir(paths.certDir);
  if (existsSync(paths.kubeconfig)) {
    const conn = loadKubeconfig(paths.kubeconfig);
    const caPem = caPemOf(conn);
    // A bootstrap kubeconfig naming another CA means the cluster was made anew: join it again.
    const sameCluster = !paths.bootstrapKubeconfig || !existsSync(paths.bootstrapKubeconfig) || caPemOf(loadKubeconfig(paths.bootstrapKubeconfig)) === caPem;
    let refused = false;
    if (sameCluster && (!conn.cert || usable(conn.cert.toString('utf8'), caPem))) {
      if (!conn.cert) return conn;
      const probe = new KubeClient(conn);
      try {
        refused = (await credentialsAccepted(probe, nodeName)) === 'refused';
      } finally {
        probe.close();
      }
      if (!refused) return conn;
    }
    const why = refused ? `the API server refuses the client certificate of ${paths.kubeconfig} (401 Unauthorized): ${REVOKED_CAUSE}` : `the client certificate of ${paths.kubeconfig} has expired or ends within a day`;
    if (!paths.bootstrapKubeconfig) throw new CredentialsRefused(`${why}, and no --bootstrap-kubeconfig was given to get a new one: join the node again with a new token (flatnet token create)`);
    log.info(!sameCluster ? 'the bootstrap kubeconfig names another cluster CA; joining again' : `${why}; bootstrapping a new one with the bootstrap token`, { kubeconfig: paths.kubeconfig });
  } else if (!paths.bootstrapKubeconfig) {
    throw new Error(`${paths.kubeconfig} does not exist; pass --bootstrap-kubeconfig to join with a bootstrap token (flatnet token create)`);
  }
  await bootstrapClientCertificate(nodeName, { ...paths, bootstrapKubeconfig: paths.bootstrapKubeconfig! }, log);
  return loadKubeconfig(paths.kubeconfig);
}

const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 5 * 60_000;

/** The delay before retry `attempt` (0-based): doubling from 5 s, at most 5 min. */
export function credentialRetryDelay(attempt: number): number {
  return Math.min(FIRST_RETRY_MS * 2 ** attempt, MAX_RETRY_MS);
}

/**
 * nodeClientConnection for a node that has joined before (its kubeconfig exists): while the
 * server refuses both its certificate and its bootstrap token, logs why and tries again with
 * backoff instead of exiting (an agent restarted in a loop would only repeat the error). A first
 * join with a refused token fails at once.
 */
export async function nodeClientConnectionWithRetry(nodeName: string, paths: NodeCredentialPaths, log: Logger, sleepMs: (ms: number) => Promise<void> = sleep): Promise<ClusterConnection> {
  for (let attempt = 0; ; attempt++) {
    const joinedBefore = existsSync(paths.kubeconfig);
    try {
      return await nodeClientConnection(nodeName, paths, log);
    } catch (err) {
      if (!(err instanceof CredentialsRefused) || !joinedBefore) throw err;
      const delay = credentialRetryDelay(attempt);
      log.error('the node has no credentials the API server accepts; retrying', { err: err.message, inMs: delay });
      await sleepMs(delay);
    }
  }
}

export interface CredentialGuardOptions {
  /** How often the server is asked whether it still takes the node certificate (default 30 s). */
  periodMs?: number;
  /** Called after a new certificate replaced a refused one (the rotator reschedules from it). */
  onRenewed?: () => void;
}

/**
 * Watches a running agent's node certificate: when the API server refuses it (401: revoked while
 * the agent runs, or expired), gets a new one with the bootstrap token and switches the client's
 * connections to it, as the kubelet falls back to its bootstrap kubeconfig. Without a bootstrap
 * token, or when the token is refused too, logs the cause and tries again with backoff.
 */
export class NodeCredentialGuard {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failures = 0;
  private checking: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly nodeName: string,
    private readonly client: KubeClient,
    private readonly paths: NodeCredentialPaths,
    private readonly log: Logger,
    private readonly opts: CredentialGuardOptions = {},
  ) {}

  start(): void {
    this.schedule(this.opts.periodMs ?? 30_000);
    // Any 401 the agent gets (a heartbeat, a watch) checks at once instead of at the next period; not while backing off.
    this.unsubscribe = this.client.onUnauthorized(() => {
      if (this.failures === 0) void this.checkNow();
    });
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.checkNow(), ms);
    this.timer.unref();
  }

  /** Checks the certificate now (and replaces it when refused); one check at a time. */
  checkNow(): Promise<void> {
    this.checking ??= this.check().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async check(): Promise<void> {
    const period = this.opts.periodMs ?? 30_000;
    if ((await credentialsAccepted(this.client, this.nodeName)) !== 'refused') {
      if (this.failures > 0) this.log.info('the API server accepts the node client certificate again');
      this.failures = 0;
      return this.schedule(period);
    }
    const cause = `the API server refuses the node client certificate (401 Unauthorized): ${REVOKED_CAUSE}`;
    try {
      const bootstrapKubeconfig = this.paths.bootstrapKubeconfig;
      if (!bootstrapKubeconfig || !existsSync(bootstrapKubeconfig)) throw new CredentialsRefused(`${cause}, and the agent has no bootstrap kubeconfig to get a new one: join the node again with a new token (flatnet token create)`);
      this.log.warn(`${cause}; asking for a new one with the bootstrap token`, { bootstrapKubeconfig });
      const { certPem, keyPem } = await bootstrapClientCertificate(this.nodeName, { ...this.paths, bootstrapKubeconfig }, this.log, this.client.connection.server);
      this.client.useClientCertificate(Buffer.from(certPem), Buffer.from(keyPem));
      this.failures = 0;
      this.opts.onRenewed?.();
      this.schedule(period);
    } catch (err) {
      const delay = credentialRetryDelay(this.failures++);
      this.log.error('the node has no credentials the API server accepts; retrying', { err: (err as Error).message, inMs: delay });
      this.schedule(delay);
    }
  }
}

/** Starts a NodeCredentialGuard over the agent's client when it connects with a node certificate. */
export function startNodeCredentialGuard(nodeName: string, client: KubeClient, paths: NodeCredentialPaths, log: Logger, opts: CredentialGuardOptions = {}): NodeCredentialGuard | undefined {
  if (!client.connection.cert) return undefined;
  const guard = new NodeCredentialGuard(nodeName, client, paths, log, opts);
  guard.start();
  return guard;
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
  const key = newEcdsaKey();
  const certPem = await requestCertificate(client, {
    csrPem: createCertificateRequest(key, `${NODE_USER_PREFIX}${nodeName}`, [GROUP_NODES], { dnsNames: [nodeName], ips }),
    signerName: SIGNER_KUBELET_SERVING,
    usages: ['digital signature', 'server auth'],
    namePrefix: `csr-${nodeName}`.slice(0, 40),
  });
  writePrivateFile(keyFile, key.keyPem);
  writePrivateFile(certFile, certPem);
  log.info('node serving certificate issued', { names: [nodeName, ...ips], notAfter: certificateFacts(certPem).notAfter.toISOString() });
  return { certPem, keyPem: key.keyPem, caPem };
}
