// The in-server approver and signer of node CertificateSigningRequests (what csrapproving and
// csrsigning do in kube-controller-manager): watches the stored requests and writes, for each one
// csr-decision.ts says to sign, the Approved condition and the certificate issued by the cluster
// CA; for a malformed node request, a Failed condition saying why.
import { R } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import { createLogger } from '../../util/log.js';
import { clone, timestamp } from '../objects.js';
import { type Registry, type WriteContext, storeKey } from '../registry.js';
import { decideCsr } from './csr-decision.js';
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
    this.schedule();
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
        const certificate = Buffer.from(issueCertificate(this.ca, decision.request, decision.usages, decision.notAfter)).toString('base64');
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
