// Allowed traffic of one pod as boxes: (peer address range) x protocol x (port range). The
// kernel's concatenated interval sets do not reliably take overlapping elements, so every union
// of boxes is normalised here into disjoint boxes, with neighbours that allow the same ports
// merged so the element count stays small.
import type { AddressRange } from './match.js';
import { PROTOCOLS, type Protocol } from './model.js';

export interface PortRange {
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

function samePorts(a: PortRange[], b: PortRange[]): boolean {
  return a.length === b.length && a.every((r, i) => r.lo === b[i].lo && r.hi === b[i].hi);
}

/**
 * The union of `boxes` as disjoint boxes: a sweep over the address axis splits it at every box
 * edge; each slice gets the merged port ranges of the boxes covering it; neighbouring slices with
 * the same ports are joined. Deterministic: equal unions give equal output.
 */
export function disjointBoxes(boxes: readonly Box[]): Box[] {
  const out: Box[] = [];
  for (const protocol of PROTOCOLS) {
    const mine = boxes.filter((b) => b.protocol === protocol).sort((a, b) => a.addresses.lo - b.addresses.lo);
    if (mine.length === 0) continue;
    const points = new Set<number>();
    for (const b of mine) {
      points.add(b.addresses.lo);
      points.add(b.addresses.hi + 1);
    }
    const edges = [...points].sort((a, b) => a - b);
    let active: Box[] = [];
    let next = 0;
    let current: { lo: number; hi: number; ports: PortRange[] } | undefined;
    const flush = () => {
      if (!current) return;
      for (const ports of current.ports) out.push({ addresses: { lo: current.lo, hi: current.hi }, protocol, ports });
      current = undefined;
    };
    for (let i = 0; i + 1 < edges.length; i++) {
      const lo = edges[i];
      const hi = edges[i + 1] - 1;
      while (next < mine.length && mine[next].addresses.lo <= lo) active.push(mine[next++]);
      active = active.filter((b) => b.addresses.hi >= lo);
      if (active.length === 0) {
        flush();
        continue;
      }
      const ports = mergeRanges(active.map((b) => b.ports));
      if (current && current.hi + 1 === lo && samePorts(current.ports, ports)) current.hi = hi;
      else {
        flush();
        current = { lo, hi, ports };
      }
    }
    flush();
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
