// Routes learned from every peer (Adj-RIB-In) and the best path per prefix. Pure: the speaker feeds
// it UPDATEs and session events and applies the best-route changes it returns to the kernel.
// Graceful restart, receiving side (RFC 4724): when a peer that keeps forwarding over a restart
// drops, its routes stay, marked stale, until it comes back and sends End-of-RIB (stale ones it
// did not re-announce go) or until its restart time runs out.
import type { PathAttributes } from './messages.js';
import { prefixText, type Prefix } from './wire.js';

export interface LearnedRoute {
  prefix: string;
  peer: string;
  attributes: PathAttributes;
  stale: boolean;
}

/** A change of the best route of one prefix: `route` undefined = no route any more. */
export interface BestChange {
  prefix: string;
  route?: LearnedRoute;
}

function asPathLength(a: PathAttributes): number {
  return a.asPath.reduce((n, s) => n + (s.kind === 'set' ? 1 : s.asns.length), 0);
}

/** RFC 4271 9.1.2.2 in the order that matters here; the peer's address breaks ties. */
function better(a: LearnedRoute, b: LearnedRoute): boolean {
  if (a.stale !== b.stale) return !a.stale;
  const lp = (a.attributes.localPref ?? 100) - (b.attributes.localPref ?? 100);
  if (lp !== 0) return lp > 0;
  const path = asPathLength(a.attributes) - asPathLength(b.attributes);
  if (path !== 0) return path < 0;
  if (a.attributes.origin !== b.attributes.origin) return a.attributes.origin < b.attributes.origin;
  const med = (a.attributes.med ?? 0) - (b.attributes.med ?? 0);
  if (med !== 0) return med < 0;
  return a.peer < b.peer;
}

export class Rib {
  /** prefix -> peer -> route */
  private readonly routes = new Map<string, Map<string, LearnedRoute>>();
  private readonly best = new Map<string, LearnedRoute>();

  /** Applies one UPDATE from `peer`; returns the best-route changes. */
  update(peer: string, withdrawn: readonly Prefix[], nlri: readonly Prefix[], attributes: PathAttributes | undefined): BestChange[] {
    const touched = new Set<string>();
    for (const p of withdrawn) {
      const key = prefixText(p);
      if (this.routes.get(key)?.delete(peer)) touched.add(key);
    }
    if (attributes) {
      for (const p of nlri) {
        const key = prefixText(p);
        let byPeer = this.routes.get(key);
        if (!byPeer) this.routes.set(key, (byPeer = new Map()));
        byPeer.set(peer, { prefix: key, peer, attributes, stale: false });
        touched.add(key);
      }
    }
    return this.reselect(touched);
  }

  /** The peer's session dropped: its routes go, or stay stale if it restarts gracefully. */
  peerDown(peer: string, keepStale: boolean): BestChange[] {
    const touched = new Set<string>();
    for (const [key, byPeer] of this.routes) {
      const r = byPeer.get(peer);
      if (!r) continue;
      if (keepStale) byPeer.set(peer, { ...r, stale: true });
      else byPeer.delete(peer);
      touched.add(key);
    }
    return this.reselect(touched);
  }

  /** End-of-RIB from the peer, or its restart time ran out: what is still stale goes. */
  dropStale(peer: string): BestChange[] {
    const touched = new Set<string>();
    for (const [key, byPeer] of this.routes) {
      if (byPeer.get(peer)?.stale) {
        byPeer.delete(peer);
        touched.add(key);
      }
    }
    return this.reselect(touched);
  }

  bestRoutes(): LearnedRoute[] {
    return [...this.best.values()];
  }

  /** Routes from one peer (for status: prefixes received). */
  fromPeer(peer: string): LearnedRoute[] {
    const out: LearnedRoute[] = [];
    for (const byPeer of this.routes.values()) {
      const r = byPeer.get(peer);
      if (r) out.push(r);
    }
    return out;
  }

  private reselect(keys: Set<string>): BestChange[] {
    const changes: BestChange[] = [];
    for (const key of keys) {
      const byPeer = this.routes.get(key);
      let chosen: LearnedRoute | undefined;
      for (const r of byPeer?.values() ?? []) if (!chosen || better(r, chosen)) chosen = r;
      if (byPeer && byPeer.size === 0) this.routes.delete(key);
      const before = this.best.get(key);
      if (before === chosen) continue;
      if (chosen) this.best.set(key, chosen);
      else this.best.delete(key);
      if (!chosen || !before || before.attributes.nextHop !== chosen.attributes.nextHop || before.stale !== chosen.stale) changes.push({ prefix: key, route: chosen });
    }
    return changes;
  }
}
