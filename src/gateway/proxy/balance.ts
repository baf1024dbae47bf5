// Backend choice by weight (weighted random) and endpoint choice by round robin.
import type { Endpoint, WeightedBackend } from '../config.js';

/** A backend chosen with probability weight/total; undefined when every weight is 0 or none. */
export function pickWeighted<B extends { weight: number }>(backends: readonly B[], random: () => number = Math.random): B | undefined {
  if (backends.length === 1) return backends[0].weight > 0 ? backends[0] : undefined;
  let total = 0;
  for (const b of backends) total += Math.max(0, b.weight);
  if (total <= 0) return undefined;
  let r = random() * total;
  for (const b of backends) {
    const w = Math.max(0, b.weight);
    if (r < w) return b;
    r -= w;
  }
  for (let i = backends.length - 1; i >= 0; i--) if (backends[i].weight > 0) return backends[i];
  return undefined;
}

/** Round-robin position per backend, kept across config updates (keyed by backend name). */
export class RoundRobin {
  private positions = new Map<string, number>();

  pick(backend: WeightedBackend): Endpoint | undefined {
    const eps = backend.endpoints;
    if (eps.length === 0) return undefined;
    const i = this.positions.get(backend.name) ?? 0;
    this.positions.set(backend.name, (i + 1) % 1_000_000_007);
    return eps[i % eps.length];
  }
}

export function endpointKey(e: Endpoint): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}
