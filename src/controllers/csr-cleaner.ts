// The csr-cleaner: removes CertificateSigningRequests that are done with (csr-cleaner-plan.ts,
// kube-controller-manager's csrcleaner) and keeps the node certificate ledger
// (src/apiserver/node-identity/certificate-ledger.ts) current: binds each new node certificate to
// its Node once that Node exists, and drops the entries of deleted Nodes (their certificates are
// already refused by every API server) and of expired certificates.
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { isNotFound } from '../client/client.js';
import { LEDGER_NAME, LEDGER_NAMESPACE, ledgerEntries, ledgerPatch } from '../apiserver/node-identity/certificate-ledger.js';
import type { Controller, ControllerContext } from './context.js';
import { CLEANER_PERIOD_MS, csrCleanupReason } from './csr-cleaner-plan.js';
import { WorkQueue } from './queue.js';

const LEDGER_KEY = 'ledger';
const CSR_PREFIX = 'csr/';

export interface CsrCleanerOptions {
  /** The clock (tests move it forward). */
  now?: () => Date;
  /** How often every CSR is looked at again (default CLEANER_PERIOD_MS). */
  periodMs?: number;
}

export class CsrCleanerController implements Controller {
  readonly name = 'csr-cleaner';
  private readonly queue: WorkQueue;
  private readonly csrs;
  private readonly nodes;
  private readonly configmaps;
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly opts: CsrCleanerOptions = {},
  ) {
    this.now = opts.now ?? (() => new Date());
    this.queue = new WorkQueue(this.name, (key) => this.sync(key), ctx.log.child({ controller: this.name }), { maxDelayMs: 30_000 });
    this.csrs = ctx.informers.for(R.certificatesigningrequests);
    this.nodes = ctx.informers.for(R.nodes);
    this.configmaps = ctx.informers.for(R.configmaps);
    const byCsr = (csr: KubeObject) => this.queue.add(CSR_PREFIX + csr.metadata.name!);
    this.csrs.addHandlers({ add: byCsr, update: byCsr });
    const ledger = () => this.queue.add(LEDGER_KEY);
    // A Node's uid is all the ledger needs of it: its status updates do not matter.
    this.nodes.addHandlers({ add: ledger, update: (next: KubeObject, prev: KubeObject) => next.metadata.uid !== prev.metadata.uid && ledger(), delete: ledger });
    const byConfigMap = (cm: KubeObject) => {
      if (cm.metadata.namespace === LEDGER_NAMESPACE && cm.metadata.name === LEDGER_NAME) ledger();
    };
    this.configmaps.addHandlers({ add: byConfigMap, update: byConfigMap });
  }

  start(): void {
    this.queue.start();
    this.queue.add(LEDGER_KEY);
    this.timer = setInterval(() => this.resync(), this.opts.periodMs ?? CLEANER_PERIOD_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.queue.stop();
  }

  /** Looks at every CSR and the ledger again (time passes even when nothing changes). */
  resync(): void {
    for (const csr of this.csrs.list()) this.queue.add(CSR_PREFIX + csr.metadata.name!);
    this.queue.add(LEDGER_KEY);
  }

  private async sync(key: string): Promise<void> {
    if (key === LEDGER_KEY) return this.syncLedger();
    const name = key.slice(CSR_PREFIX.length);
    const csr = this.csrs.get(undefined, name);
    if (!csr) return;
    const reason = csrCleanupReason(csr, this.now());
    if (!reason) return;
    try {
      await this.ctx.client.delete(R.certificatesigningrequests, undefined, name, { preconditions: { uid: csr.metadata.uid } });
      this.ctx.log.info('removed a certificate signing request', { csr: name, reason });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async syncLedger(): Promise<void> {
    const cm = this.configmaps.get(LEDGER_NAMESPACE, LEDGER_NAME);
    if (!cm) return;
    const entries = ledgerEntries(cm);
    const nodeUIDs = new Map<string, string>();
    for (const n of this.nodes.list()) if (n.metadata.uid) nodeUIDs.set(n.metadata.name!, n.metadata.uid);
    const patch = ledgerPatch(entries, nodeUIDs, this.now());
    if (!patch) return;
    try {
      await this.ctx.client.patch(R.configmaps, LEDGER_NAMESPACE, LEDGER_NAME, patch, 'merge');
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    for (const [serial, value] of Object.entries(patch.data)) {
      const e = entries.get(serial)!;
      if (value !== null) this.ctx.log.info('bound a node client certificate to its Node', { serial, node: e.node });
      else if (Date.parse(e.notAfter) <= this.now().getTime()) this.ctx.log.info('dropped an expired node client certificate from the ledger', { serial, node: e.node });
      else this.ctx.log.info('dropped the ledger entry of a deleted Node: its certificate stays revoked', { serial, node: e.node });
    }
  }
}
