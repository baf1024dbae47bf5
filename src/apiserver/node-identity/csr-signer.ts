// The in-server approver and signer of node CertificateSigningRequests (what csrapproving and
// csrsigning do in kube-controller-manager): watches the stored requests and writes, for each one
// csr-decision.ts says to sign, the Approved condition and the certificate issued by the cluster
// CA; for a malformed node request, a Failed condition saying why. Every node client certificate
// is recorded in the ledger (certificate-ledger.ts) before it is published: only recorded
// certificates authenticate.
import { R } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import { createLogger } from '../../util/log.js';
import { clone, timestamp } from '../objects.js';
import { type Registry, type WriteContext, storeKey } from '../registry.js';
import { X509Certificate } from 'node:crypto';
import { issuedSerials } from '../auth-node-certificates.js';
import { ApiStatusError } from '../errors.js';
import { LEDGER_NAME, LEDGER_NAMESPACE, type LedgerEntry, encodeEntry, ledgerConfigMap } from './certificate-ledger.js';
import { NODE_USER_PREFIX, SIGNER_KUBELET_CLIENT, decideCsr } from './csr-decision.js';
import { type CertificateAuthority, issueCertificate } from './pki.js';

const log = createLogger('csr-signer');

function systemContext(): WriteContext {
  return { dryRun: false, fieldValidation: 'Ignore', fieldManager: 'certificatesigningrequest-signing-controller', warnings: [] };
}

export class CsrSigner {
  private readonly stop: () => void;
  private readonly pending = new Set<string>();
  private scheduled = false;
  /** A pass over pending requests is under way (its writes are awaited; one pass at a time, so a request is never handled twice at once). */
  private running = false;
  /** The ledger exists when there was anything to record (made from the stored CSRs' certificates on the first start of a cluster made before it). */
  private readonly ledgerReady: Promise<void>;

  constructor(
    private readonly registry: Registry,
    private readonly ca: CertificateAuthority,
  ) {
    const key = storeKey(R.certificatesigningrequests);
    this.stop = registry.store.watch(key, registry.store.revision, (ev) => {
      if (ev.type === 'DELETED') return;
      this.pending.add(ev.entry.name);
      this.schedule();
    });
    for (const e of registry.store.list(key).entries) this.pending.add(e.name);
    this.ledgerReady = this.ensureLedger();
    this.schedule();
  }

  private async ensureLedger(): Promise<void> {
    const cmKey = storeKey(R.configmaps);
    for (;;) {
      if (this.registry.store.get(cmKey, LEDGER_NAMESPACE, LEDGER_NAME)) return;
      const entries = new Map<string, LedgerEntry>();
      const now = Date.now();
      for (const e of this.registry.store.list(storeKey(R.certificatesigningrequests)).entries) {
        if ((e.obj.spec as { signerName?: string } | undefined)?.signerName !== SIGNER_KUBELET_CLIENT) continue;
        const b64 = (e.obj.status as { certificate?: string } | undefined)?.certificate;
        if (!b64 || issuedSerials(e.obj).length !== 1) continue;
        const cert = new X509Certificate(Buffer.from(b64, 'base64'));
        const cn = /^CN=(.*)$/m.exec(cert.subject)?.[1] ?? '';
        if (!cn.startsWith(NODE_USER_PREFIX) || Date.parse(cert.validTo) <= now) continue;
        entries.set(cert.serialNumber.toUpperCase(), { node: cn.slice(NODE_USER_PREFIX.length), notAfter: new Date(cert.validTo).toISOString(), csr: e.name });
      }
      // Nothing to carry over (a new cluster): the first certificate issued creates the ledger, so a server writes nothing at start.
      if (entries.size === 0) return;
      try {
        await this.registry.createAsync(R.configmaps, LEDGER_NAMESPACE, ledgerConfigMap(entries), systemContext());
        log.info('recorded the node client certificates of stored CSRs in the certificate ledger', { certificates: entries.size });
        return;
      } catch (err) {
        if (err instanceof ApiStatusError && err.code === 409) return; // another API server made it
        // 404: kube-system does not exist yet (the server is starting); anything else: the store is away.
        if (!(err instanceof ApiStatusError && err.code === 404)) log.warn('could not create the node certificate ledger; retrying', { err: (err as Error).message });
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Records an issued node client certificate in the ledger (a merge patch: concurrent writers add their own keys). */
  private async recordIssued(certificatePem: string, csrName: string): Promise<void> {
    await this.ledgerReady;
    const cert = new X509Certificate(certificatePem);
    const node = (/^CN=(.*)$/m.exec(cert.subject)?.[1] ?? '').slice(NODE_USER_PREFIX.length);
    // A renewal by a registered node is bound to that Node at once; a bootstrap is bound by the csr-cleaner controller once the Node exists.
    const nodeUID = this.registry.store.get(storeKey(R.nodes), '', node)?.obj.metadata.uid;
    const entry: LedgerEntry = { node, notAfter: new Date(cert.validTo).toISOString(), csr: csrName, ...(nodeUID ? { nodeUID } : {}) };
    const serial = cert.serialNumber.toUpperCase();
    try {
      await this.registry.patchAsync(R.configmaps, LEDGER_NAMESPACE, LEDGER_NAME, 'merge', { data: { [serial]: encodeEntry(entry) } }, systemContext());
    } catch (err) {
      // Someone deleted the ledger (which revoked every node certificate): start a new one. A 409 here means another server just did; the caller retries.
      if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
      await this.registry.createAsync(R.configmaps, LEDGER_NAMESPACE, ledgerConfigMap(new Map([[serial, entry]])), systemContext());
    }
  }

  close(): void {
    this.stop();
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.running = true;
      void this.drain().finally(() => {
        this.running = false;
        if (this.pending.size > 0) this.schedule();
      });
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.size > 0) {
      const names = [...this.pending];
      this.pending.clear();
      for (const name of names) await this.process(name);
    }
  }

  private async process(name: string): Promise<void> {
    const entry = this.registry.store.get(storeKey(R.certificatesigningrequests), '', name);
    if (!entry) return;
    const decision = decideCsr(entry.obj);
    if (decision.action === 'ignore') return;
    const now = timestamp();
    // Approved goes through the approval subresource (as csrapproving does), the certificate and
    // Failed through status (as csrsigning does): a status write may not add Approved.
    const withStatus = (obj: KubeObject, change: (status: { conditions?: unknown[]; certificate?: string }) => void): KubeObject => {
      const next = clone(obj);
      const status = ((next.status as Record<string, unknown> | undefined) ?? {}) as { conditions?: unknown[]; certificate?: string };
      change(status);
      next.status = status;
      return next;
    };
    const hasApproved = ((entry.obj.status as { conditions?: { type?: string }[] } | undefined)?.conditions ?? []).some((c) => c?.type === 'Approved');
    try {
      if (decision.action === 'fail') {
        const next = withStatus(entry.obj, (s) => (s.conditions = [...(s.conditions ?? []), { type: 'Failed', status: 'True', reason: decision.reason, message: decision.message, lastUpdateTime: now, lastTransitionTime: now }]));
        await this.registry.updateAsync(R.certificatesigningrequests, '', name, next, systemContext(), 'status');
        log.warn('refused a node certificate request', { csr: name, reason: decision.message });
      } else {
        let current = entry.obj;
        if (!hasApproved) {
          const approved = withStatus(current, (s) => (s.conditions = [...(s.conditions ?? []), { type: 'Approved', status: 'True', reason: 'AutoApproved', message: decision.approvalMessage, lastUpdateTime: now, lastTransitionTime: now }]));
          current = (await this.registry.updateAsync(R.certificatesigningrequests, '', name, approved, { ...systemContext(), fieldManager: 'certificatesigningrequest-approving-controller' }, 'approval')).entry.obj;
        }
        const pem = issueCertificate(this.ca, decision.request, decision.usages, decision.notAfter);
        if ((entry.obj.spec as { signerName?: string }).signerName === SIGNER_KUBELET_CLIENT) await this.recordIssued(pem, name);
        const certificate = Buffer.from(pem).toString('base64');
        await this.registry.updateAsync(R.certificatesigningrequests, '', name, withStatus(current, (s) => (s.certificate = certificate)), systemContext(), 'status');
        log.info('signed a node certificate', { csr: name, subject: decision.request.commonName, signer: (entry.obj.spec as { signerName?: string }).signerName, notAfter: decision.notAfter.toISOString() });
      }
    } catch (err) {
      log.warn('could not store the outcome of a certificate request; retrying', { csr: name, err: (err as Error).message });
      setTimeout(() => {
        this.pending.add(name);
        this.schedule();
      }, 500).unref();
    }
  }
}
