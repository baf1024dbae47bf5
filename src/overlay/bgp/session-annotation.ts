// A node's BGP sessions as it publishes them in its Node annotation `flatnet.dev/bgp-sessions`
// (JSON), which `flatnet bgp status` and `kubectl get node -o yaml` read. Only what changes with a
// session (state, since, prefix counts, last error) is in it, so it is rewritten on changes only.
import type { PeerStatus } from './speaker.js';

export const BGP_SESSIONS_ANNOTATION = 'flatnet.dev/bgp-sessions';

export interface PublishedSession {
  peer: string;
  asn: number;
  state: PeerStatus['state'];
  /** When the session was established (ISO 8601, seconds), while it is. */
  since?: string;
  received: number;
  sent: number;
  lastError?: string;
}

export function publishedSessions(status: readonly PeerStatus[], now: number, previous: readonly PublishedSession[] = []): PublishedSession[] {
  return status.map((s) => {
    const before = previous.find((p) => p.peer === s.address && p.state === 'Established');
    const since =
      s.state !== 'Established' ? undefined : (before?.since ?? new Date(Math.floor(now / 1000 - (s.establishedSec ?? 0)) * 1000).toISOString().replace('.000Z', 'Z'));
    return {
      peer: s.address,
      asn: s.asn,
      state: s.state,
      ...(since ? { since } : {}),
      received: s.prefixesReceived,
      sent: s.prefixesSent,
      ...(s.lastError ? { lastError: s.lastError.slice(0, 200) } : {}),
    };
  });
}

/** The sessions a Node annotation holds; [] when absent, [] and a reason when unreadable. */
export function parseSessionsAnnotation(value: string | undefined): { sessions: PublishedSession[]; error?: string } {
  if (!value) return { sessions: [] };
  try {
    const parsed = JSON.parse(value) as unknown;
    if (!Array.isArray(parsed)) return { sessions: [], error: `${BGP_SESSIONS_ANNOTATION} is not a JSON array` };
    return { sessions: parsed as PublishedSession[] };
  } catch (err) {
    return { sessions: [], error: `${BGP_SESSIONS_ANNOTATION}: ${(err as Error).message}` };
  }
}
