// Connection-tracking entries of a namespace: list and delete by filter (e.g. stale UDP flows to
// a removed endpoint).
import { runCommand, CommandError } from './exec.js';

export interface ConntrackFilter {
  proto?: 'tcp' | 'udp' | 'sctp' | 'icmp';
  /** Original source / destination address. */
  src?: string;
  dst?: string;
  /** Reply source (the DNAT'ed endpoint) / reply destination. */
  replySrc?: string;
  replyDst?: string;
  dport?: number;
}

function filterArgs(f: ConntrackFilter): string[] {
  const a: string[] = [];
  if (f.proto) a.push('-p', f.proto);
  if (f.src) a.push('--orig-src', f.src);
  if (f.dst) a.push('--orig-dst', f.dst);
  if (f.replySrc) a.push('--reply-src', f.replySrc);
  if (f.replyDst) a.push('--reply-dst', f.replyDst);
  if (f.dport !== undefined) a.push('--orig-port-dst', String(f.dport));
  return a;
}

/** Entries as conntrack prints them, one line each. */
export async function listConntrack(netns: string | undefined, filter: ConntrackFilter = {}): Promise<string[]> {
  const { stdout } = await runCommand(['conntrack', '-L', ...filterArgs(filter)], { netns });
  return stdout.split('\n').filter((l) => l.trim() !== '');
}

/** Deletes matching entries; answers how many were deleted (none is not an error). */
export async function deleteConntrack(netns: string | undefined, filter: ConntrackFilter): Promise<number> {
  try {
    const { stderr } = await runCommand(['conntrack', '-D', ...filterArgs(filter)], { netns });
    const m = /(\d+) flow entries have been deleted/.exec(stderr);
    return m ? Number(m[1]) : 0;
  } catch (err) {
    // conntrack exits 1 when nothing matched.
    if (err instanceof CommandError && /0 flow entries/.test(err.stderr)) return 0;
    throw err;
  }
}
