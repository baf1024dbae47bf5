// The node's flow buffer: two bounded rings, one for drops and rejections and one for the rest,
// so a flood of connections never pushes a policy verdict out. A full ring sheds its oldest event
// and counts it; followers that cannot keep up are cut off with the count of what they missed.
import type { UnsequencedFlow } from './assemble.js';
import type { FlowEvent } from './types.js';

export type RingKind = 'verdicts' | 'connections';

export function ringKindOf(e: Pick<FlowEvent, 'verdict'>): RingKind {
  return e.verdict === 'dropped' || e.verdict === 'rejected' ? 'verdicts' : 'connections';
}

class Ring {
  private readonly slots: (FlowEvent | undefined)[];
  private next = 0;
  size = 0;
  shed = 0;

  constructor(readonly capacity: number) {
    this.slots = new Array<FlowEvent | undefined>(capacity);
  }

  push(e: FlowEvent): void {
    if (this.size === this.capacity) this.shed++;
    else this.size++;
    this.slots[this.next] = e;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Oldest first. */
  *events(): Generator<FlowEvent> {
    const start = (this.next - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size; i++) yield this.slots[(start + i) % this.capacity]!;
  }
}

export interface RingStats {
  /** The sequence number the next event gets (events seen so far). */
  nextSeq: number;
  stored: Record<RingKind, number>;
  capacity: Record<RingKind, number>;
  /** Events pushed out of a full ring. */
  shed: Record<RingKind, number>;
}

export type FlowListener = (e: FlowEvent) => void;

export class FlowRing {
  private seq = 0;
  private readonly rings: Record<RingKind, Ring>;
  private readonly listeners = new Set<FlowListener>();

  constructor(capacity: { verdicts: number; connections: number }) {
    for (const [k, n] of Object.entries(capacity)) if (!Number.isInteger(n) || n < 1) throw new Error(`flow buffer capacity for ${k} must be a positive integer, not ${n}`);
    this.rings = { verdicts: new Ring(capacity.verdicts), connections: new Ring(capacity.connections) };
  }

  push(u: UnsequencedFlow): FlowEvent {
    const e = { seq: this.seq++, ...u } as FlowEvent;
    this.rings[ringKindOf(e)].push(e);
    for (const l of this.listeners) l(e);
    return e;
  }

  /** Stored events with seq >= fromSeq, in order. */
  list(fromSeq = 0): FlowEvent[] {
    const a = [...this.rings.verdicts.events()].filter((e) => e.seq >= fromSeq);
    const b = [...this.rings.connections.events()].filter((e) => e.seq >= fromSeq);
    const out: FlowEvent[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) out.push(j >= b.length || (i < a.length && a[i].seq < b[j].seq) ? a[i++] : b[j++]);
    return out;
  }

  subscribe(l: FlowListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  stats(): RingStats {
    const r = this.rings;
    return {
      nextSeq: this.seq,
      stored: { verdicts: r.verdicts.size, connections: r.connections.size },
      capacity: { verdicts: r.verdicts.capacity, connections: r.connections.capacity },
      shed: { verdicts: r.verdicts.shed, connections: r.connections.shed },
    };
  }
}
