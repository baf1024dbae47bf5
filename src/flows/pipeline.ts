// One node's flow pipeline: kernel readers -> assembler (identities, verdicts) -> ring buffer and
// metrics. The identity index comes from outside (the agent's informers, or a fixed one in a bench).
import type { Logger } from '../util/log.js';
import { FlowAssembler, type UnsequencedFlow } from './assemble.js';
import type { IdentityIndex } from './identity.js';
import { KernelReaders } from './kernel-readers.js';
import { bufferedEvents, kernelLosses, recordFlow, shedEvents } from './metrics.js';
import { FlowRing, type RingStats } from './ring.js';

export interface FlowPipelineOptions {
  node: string;
  netns?: string;
  log: Logger;
  index: IdentityIndex;
  capacity?: { verdicts: number; connections: number };
  conntrackBufferBytes?: number;
  /** conntrack event types (KernelReaderOptions.conntrackEvents). */
  conntrackEvents?: string;
  /** KernelReaderOptions.conntrackReader. */
  conntrackReader?: 'socket' | 'conntrack-tool';
  /** KernelReaderOptions.conntrackBatchMs. */
  conntrackBatchMs?: number;
}

export interface PipelineStats extends RingStats {
  node: string;
  /** Losses the kernel readers reported: counted NFLOG drops, and conntrack overruns (each one or more events). */
  kernelLosses: { conntrack: number; nflog: number };
}

export const DEFAULT_CAPACITY = { verdicts: 8192, connections: 32768 };

export class FlowPipeline {
  readonly ring: FlowRing;
  private readonly assembler: FlowAssembler;
  private readers: KernelReaders | undefined;
  private readonly losses = { conntrack: 0, nflog: 0 };
  private lastShed = { verdicts: 0, connections: 0 };
  private readonly ready = new Set<string>();
  private readyWaiters: (() => void)[] = [];

  constructor(private readonly opts: FlowPipelineOptions) {
    this.ring = new FlowRing(opts.capacity ?? DEFAULT_CAPACITY);
    this.assembler = new FlowAssembler(opts.node, opts.index);
  }

  setIndex(index: IdentityIndex): void {
    this.assembler.setIndex(index);
  }

  /** Adds an assembled event (the readers call this; tests and benches may too). */
  accept(u: UnsequencedFlow | undefined): void {
    if (!u) return;
    recordFlow(this.ring.push(u));
    const shed = this.ring.stats().shed;
    for (const ring of ['verdicts', 'connections'] as const) {
      if (shed[ring] !== this.lastShed[ring]) shedEvents.inc({ ring, reason: 'buffer' }, shed[ring] - this.lastShed[ring]);
    }
    this.lastShed = shed;
  }

  start(): void {
    this.readers = new KernelReaders({
      netns: this.opts.netns,
      log: this.opts.log,
      conntrackBufferBytes: this.opts.conntrackBufferBytes,
      conntrackEvents: this.opts.conntrackEvents,
      conntrackReader: this.opts.conntrackReader,
      conntrackBatchMs: this.opts.conntrackBatchMs,
      onConntrack: (e) => this.accept(this.assembler.fromConntrack(e)),
      onNflog: (r) => this.accept(this.assembler.fromNflog(r)),
      onLoss: (source, n) => {
        this.losses[source] += n ?? 1;
        kernelLosses.inc({ source }, n ?? 1);
      },
      onReady: (source) => {
        this.ready.add(source);
        if (this.ready.size === 2) for (const w of this.readyWaiters.splice(0)) w();
      },
    });
    this.readers.start();
  }

  /** Resolves once both kernel readers run (or after `timeoutMs`). */
  whenReady(timeoutMs = 5000): Promise<void> {
    if (this.ready.size === 2) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.readyWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  stats(): PipelineStats {
    const s = this.ring.stats();
    bufferedEvents.set({ ring: 'verdicts' }, s.stored.verdicts);
    bufferedEvents.set({ ring: 'connections' }, s.stored.connections);
    return { node: this.opts.node, ...s, kernelLosses: { ...this.losses } };
  }

  stop(): void {
    this.readers?.stop();
  }
}
