// Which API server an agent dials when it was given several (`--server URL1,URL2`): pure logic.
// The agent sticks to the server it uses while that one works; when a dial or a health probe
// fails, the server is marked down for a back-off that grows with its consecutive failures and
// the agent moves on to the next one in the list. When every server is down, the one whose
// back-off ends first is tried anyway (an agent never stops trying).

export interface ServerState {
  url: string;
  /** Consecutive failed dials or probes. */
  failures: number;
  /** Epoch ms before which the server is not chosen while another is available. */
  downUntil: number;
}

export const MIN_DOWN_MS = 1_000;
export const MAX_DOWN_MS = 30_000;

/** Parses `--server URL[,URL...]`: https URLs, no duplicates; throws naming the flag and the bad value. */
export function parseServerList(value: string, flag = '--server'): string[] {
  const urls = value
    .split(',')
    .map((s) => s.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  if (urls.length === 0) throw new Error(`${flag} needs at least one URL such as https://192.0.2.10:6443`);
  for (const u of urls) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new Error(`${flag}: "${u}" is not a URL (want https://HOST:PORT)`);
    }
    if (parsed.protocol !== 'https:') throw new Error(`${flag}: "${u}" must be an https:// URL`);
    if (parsed.pathname !== '/' && parsed.pathname !== '') throw new Error(`${flag}: "${u}" must not have a path`);
  }
  const seen = new Set<string>();
  for (const u of urls) {
    if (seen.has(u)) throw new Error(`${flag}: "${u}" is listed twice`);
    seen.add(u);
  }
  return urls;
}

export function initialStates(urls: string[]): ServerState[] {
  return urls.map((url) => ({ url, failures: 0, downUntil: 0 }));
}

/**
 * The index of the server to dial: `current` while it is not down; else the next one after it
 * (wrapping) that is not down; else, all being down, the one whose back-off ends first.
 */
export function chooseServer(servers: readonly ServerState[], current: number, now: number): number {
  if (servers.length === 0) throw new Error('no API servers to choose from');
  const n = servers.length;
  const start = ((current % n) + n) % n;
  for (let step = 0; step < n; step++) {
    const i = (start + step) % n;
    if (servers[i].downUntil <= now) return i;
  }
  let best = start;
  for (let i = 0; i < n; i++) if (servers[i].downUntil < servers[best].downUntil) best = i;
  return best;
}

/** The server after a failed dial or probe: down for a back-off doubling from MIN_DOWN_MS to MAX_DOWN_MS. */
export function markFailed(s: ServerState, now: number): ServerState {
  const failures = s.failures + 1;
  const backoff = Math.min(MIN_DOWN_MS * 2 ** (failures - 1), MAX_DOWN_MS);
  return { ...s, failures, downUntil: now + backoff };
}

/** The server after a successful dial or probe. */
export function markHealthy(s: ServerState): ServerState {
  return { ...s, failures: 0, downUntil: 0 };
}
