// Rotation of the node's client certificate while the agent runs, as the kubelet's certificate
// manager does: at a jittered 70-90% of the certificate's lifetime the agent makes a new key, asks
// for a new certificate through a CertificateSigningRequest made with its current certificate (a
// renewal the server approves for the node itself), writes the key and certificate under new
// names (0600, in the 0700 cert dir), points its kubeconfig at them in one rename, and switches its
// API connections to the new certificate without a restart. The key is ECDSA P-256 and the usages
// asked for are the kubelet's for a non-RSA key (digital signature, client auth). The kubeconfig is
// what names the pair in use (the kubelet's kubelet-client-current.pem link); every other client
// pair in the cert dir (the bootstrap one, earlier rotations, a crash's temporary files) is deleted
// once the new one is in use. A failed attempt is retried with backoff, never later than the old
// certificate's end.
import { X509Certificate } from 'node:crypto';
import { resolve } from 'node:path';
import type { KubeClient } from '../client/client.js';
import { GROUP_NODES, NODE_USER_PREFIX, SIGNER_KUBELET_CLIENT } from '../apiserver/node-identity/csr-decision.js';
import { createCertificateRequest, newEcdsaKey } from '../apiserver/node-identity/pki.js';
import type { Logger } from '../util/log.js';
import { renderCertificateKubeconfig, requestCertificate, writePrivateFile } from './tls-bootstrap.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { removeStaleClientPairs } from './client-cert-files.js';

/** setTimeout's longest delay; a later deadline is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 5 * 60_000;

/** When to rotate a certificate valid from `notBefore` to `notAfter`: a random point in 70-90% of its lifetime (the kubelet's jitter). */
export function rotationDeadline(notBefore: Date, notAfter: Date, random: () => number = Math.random): Date {
  const lifetime = notAfter.getTime() - notBefore.getTime();
  return new Date(notBefore.getTime() + lifetime * (0.7 + 0.2 * random()));
}

/** The delay before retry `attempt` (0-based): doubling from 5 s, at most 5 min, never past `notAfter`. */
export function retryDelay(attempt: number, now: number, notAfter: Date): number {
  const backoff = Math.min(FIRST_RETRY_MS * 2 ** attempt, MAX_RETRY_MS);
  return Math.max(0, Math.min(backoff, notAfter.getTime() - now));
}

export interface RotatorOptions {
  nodeName: string;
  /** The agent's API client; its connections switch to each new certificate. */
  client: KubeClient;
  /** The node kubeconfig (rewritten to name the new files). */
  kubeconfig: string;
  certDir: string;
  log: Logger;
  /** The lifetime asked for in each CSR (spec.expirationSeconds); the signer's default when undefined. */
  expirationSeconds?: number;
}

export class NodeCertificateRotator {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private attempt = 0;
  private rotating: Promise<void> | undefined;

  constructor(private readonly opts: RotatorOptions) {}

  /** The certificate in use now. */
  current(): X509Certificate {
    const cert = this.opts.client.connection.cert;
    if (!cert) throw new Error('the node connection has no client certificate to rotate');
    return new X509Certificate(cert);
  }

  /** Schedules the next rotation from the certificate in use. */
  start(): void {
    const cert = this.current();
    const deadline = rotationDeadline(new Date(cert.validFrom), new Date(cert.validTo));
    this.opts.log.info('node client certificate rotation scheduled', { at: deadline.toISOString(), notAfter: new Date(cert.validTo).toISOString() });
    this.wakeAt(deadline.getTime());
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private wakeAt(at: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    const delay = at - Date.now();
    this.timer = setTimeout(() => (delay > MAX_TIMER_MS ? this.wakeAt(at) : void this.rotateOnSchedule()), Math.max(0, Math.min(delay, MAX_TIMER_MS)));
    this.timer.unref();
  }

  private async rotateOnSchedule(): Promise<void> {
    try {
      await this.rotateNow();
      this.attempt = 0;
      this.start();
    } catch (err) {
      const notAfter = new Date(this.current().validTo);
      const delay = retryDelay(this.attempt++, Date.now(), notAfter);
      this.opts.log.warn('node client certificate rotation failed; retrying', { err: (err as Error).message, inMs: delay, notAfter: notAfter.toISOString() });
      this.wakeAt(Date.now() + delay);
    }
  }

  /** Rotates now: a new key and certificate, the kubeconfig pointed at them, the connections switched. One rotation at a time. */
  rotateNow(): Promise<void> {
    this.rotating ??= this.rotate().finally(() => (this.rotating = undefined));
    return this.rotating;
  }

  private async rotate(): Promise<void> {
    const { nodeName, client, certDir, kubeconfig, log } = this.opts;
    const key = newEcdsaKey();
    const certPem = await requestCertificate(client, {
      csrPem: createCertificateRequest(key, `${NODE_USER_PREFIX}${nodeName}`, [GROUP_NODES]),
      signerName: SIGNER_KUBELET_CLIENT,
      usages: ['digital signature', 'client auth'],
      namePrefix: 'node-csr',
      expirationSeconds: this.opts.expirationSeconds,
    });
    // New files under new names, then one rename of the kubeconfig: a crash leaves either the old pair or the new one in use.
    const stamp = new Date().toISOString().replace(/[-:.]/g, '');
    const certFile = resolve(certDir, `kubelet-client-${stamp}.crt`);
    const keyFile = resolve(certDir, `kubelet-client-${stamp}.key`);
    writePrivateFile(keyFile, key.keyPem);
    writePrivateFile(certFile, certPem);
    const file = loadKubeconfig(kubeconfig);
    const caPem = file.ca?.toString('utf8');
    if (!caPem) throw new Error(`${kubeconfig}: certificate-authority-data is needed to write the rotated kubeconfig`);
    writePrivateFile(kubeconfig, renderCertificateKubeconfig({ server: file.server, caPem, certFile, keyFile, user: `${NODE_USER_PREFIX}${nodeName}` }));
    client.useClientCertificate(Buffer.from(certPem), Buffer.from(key.keyPem));
    // Older pairs are not needed any more: nothing reads them, and each is a credential until it ends.
    // Whatever the kubeconfig names now is kept too (a re-bootstrap by the credential guard may have just written it).
    const removed = removeStaleClientPairs(certDir, kubeconfig, [certFile, keyFile]);
    log.info('node client certificate rotated', { notAfter: new X509Certificate(certPem).validTo, certFile, removed });
  }
}

/** Starts rotating the agent's client certificate when it connects as this node with one; answers the rotator, if any. */
export function startCertificateRotation(nodeName: string, client: KubeClient, kubeconfig: string, certDir: string, log: Logger): NodeCertificateRotator | undefined {
  const cert = client.connection.cert;
  if (!cert) return undefined;
  const subject = new X509Certificate(cert).subject.split('\n');
  if (!subject.includes(`CN=${NODE_USER_PREFIX}${nodeName}`)) return undefined;
  const rotator = new NodeCertificateRotator({ nodeName, client, kubeconfig, certDir, log });
  rotator.start();
  return rotator;
}
