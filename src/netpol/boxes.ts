// Allowed traffic of one pod as boxes: (peer address range) x protocol x (port range). The
// kernel's concatenated interval sets do not reliably take overlapping elements, so every union
// of boxes is normalised here into disjoint boxes, each port range stretched over every
// neighbouring address that allows it, so the element count stays small.
import type { AddressRange } from './match.js';
import { PROTOCOLS, type Protocol } from './model.js';

export interface PortRange {
  lo: number;
  hi: number;
}

/** A port range growing over neighbouring address slices. */
interface Run {
  ports: PortRange;
  lo: number;
  hi: number;
}

export interface Box {
  addresses: AddressRange;
  protocol: Protocol;
  ports: PortRange;
}

/** Sorted, disjoint, merged ranges (touching ranges are joined). Works for addresses and ports. */
export function mergeRanges<R extends { lo: number; hi: number }>(ranges: readonly R[]): { lo: number; hi: number }[] {
  const sorted = [...ranges].sort((a, b) => a.lo - b.lo || a.hi - b.hi);
  const out: { lo: number; hi: number }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.lo <= last.hi + 1) last.hi = Math.max(last.hi, r.hi);
    else out.push({ lo: r.lo, hi: r.hi });
  }
  return out;
}

/**
 * The union of `boxes` as disjoint boxes: a sweep over the address axis splits it at every box
 * edge and gives each slice the merged port ranges of the boxes covering it. Each port range then
 * becomes one box over the longest run of neighbouring slices that all hold exactly that range
 * (a port allowed from everywhere is one box however many other rules cut the address axis).
 * Boxes stay disjoint: within any slice the boxes covering it are that slice's own, disjoint,
 * port ranges. Deterministic: the output depends only on the union (runs are maximal), sorted by
 * protocol, then address, then port.
 */
export function disjointBoxes(boxes: readonly Box[]): Box[] {
  const out: Box[] = [];
  // Scratch space reused across slices: the sweep visits one slice per box edge, and allocating per
  // slice made this the largest source of garbage of an incremental policy sync.
  const covering: PortRange[] = [];
  const merged: number[] = [];
  let open = new Map<number, Run>();
  let still = new Map<number, Run>();
  for (const protocol of PROTOCOLS) {
    const mine = boxes.filter((b) => b.protocol === protocol).sort((a, b) => a.addresses.lo - b.addresses.lo);
    if (mine.length === 0) continue;
    const edges = new Float64Array(2 * mine.length);
    for (let i = 0; i < mine.length; i++) {
      edges[2 * i] = mine[i].addresses.lo;
      edges[2 * i + 1] = mine[i].addresses.hi + 1;
    }
    edges.sort();
    const start = out.length;
    const active: Box[] = [];
    let next = 0;
    const close = (run: Run) => out.push({ addresses: { lo: run.lo, hi: run.hi }, protocol, ports: run.ports });
    for (let i = 0; i + 1 < edges.length; i++) {
      const lo = edges[i];
      if (edges[i + 1] === lo) continue; // a repeated edge: no slice
      const hi = edges[i + 1] - 1;
      while (next < mine.length && mine[next].addresses.lo <= lo) active.push(mine[next++]);
      let kept = 0;
      for (const b of active) if (b.addresses.hi >= lo) active[kept++] = b;
      active.length = kept;
      // The slice's ports: the merged union of the active boxes' port ranges, as lo, hi pairs.
      covering.length = 0;
      for (const b of active) covering.push(b.ports);
      covering.sort((a, b) => a.lo - b.lo || a.hi - b.hi);
      merged.length = 0;
      for (const r of covering) {
        const n = merged.length;
        if (n > 0 && r.lo <= merged[n - 1] + 1) merged[n - 1] = Math.max(merged[n - 1], r.hi);
        else merged.push(r.lo, r.hi);
      }
      still.clear();
      for (let m = 0; m < merged.length; m += 2) {
        const key = merged[m] * 65536 + merged[m + 1];
        const run = open.get(key);
        if (run) {
          run.hi = hi;
          open.delete(key);
          still.set(key, run);
        } else still.set(key, { ports: { lo: merged[m], hi: merged[m + 1] }, lo, hi });
      }
      for (const run of open.values()) close(run);
      [open, still] = [still, open];
    }
    for (const run of open.values()) close(run);
    open.clear();
    const sorted = out.splice(start).sort((a, b) => a.addresses.lo - b.addresses.lo || a.ports.lo - b.ports.lo);
    out.push(...sorted);
  }
  return out;
}

export function boxContains(box: Box, address: number, protocol: Protocol, port: number): boolean {
  return (
    box.protocol === protocol &&
    address >= box.addresses.lo &&
    address <= box.addresses.hi &&
    port >= box.ports.lo &&
    port <= box.ports.hi
  );
}
