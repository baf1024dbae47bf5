// The start-up timeline of a lab: when each process was spawned, listened, joined, registered,
// when nodes were Ready, the DNS pods started and DNS answered. Events come from the lab's JSON
// logs (<data>/logs/*.log) and from the lines `flatnet up` printed (stamped as they arrived).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface TimelineEvent {
  /** Milliseconds since the bench started `flatnet up`. */
  atMs: number;
  what: string;
}

interface LogLine {
  time?: string;
  msg?: string;
  process?: string;
  pod?: string;
  component?: string;
}

/** What a log line means for start-up, or undefined for lines that do not mark a step. */
export function stepOf(file: string, line: LogLine): string | undefined {
  const who = file.replace(/\.log$/, '');
  switch (line.msg) {
    case 'started':
      return line.component === 'lab-supervisor' ? `${line.process} spawned` : undefined;
    case 'API server reachable inside the lab':
      return 'supervisor: API bridge listening in flatnet-lab';
    case 'serving':
      return line.component === 'apiserver' ? 'server listening' : undefined;
    case 'controllers started':
      return line.component === 'controllers' ? 'server: controllers started' : undefined;
    case 'node runtime serving':
      return `${who} listening`;
    case 'joined':
      return `${who} joined (node client certificate)`;
    case 'node serving certificate issued':
      return `${who} has its serving certificate`;
    case 'registered node':
      return `${who} registered its Node`;
    case 'node has a pod CIDR':
      return `${who} has its pod CIDR`;
    case 'overlay ready':
      return `${who} overlay ready`;
    case 'connected to the node runtime':
      return `${who} connected to its runtime`;
    case 'agent running':
      return `${who} running (every component started)`;
    case 'pod started':
      return line.pod?.startsWith('kube-system/coredns-') ? `${who} started DNS pod ${line.pod.slice('kube-system/'.length)}` : undefined;
    case 'informers synced; serving cluster names':
      return `${who}: DNS server synced, serving names`;
    default:
      return undefined;
  }
}

/** Start-up events of the lab's logs, relative to `t0` (epoch ms), in time order. */
export function logTimeline(logDir: string, t0: number): TimelineEvent[] {
  const out: TimelineEvent[] = [];
  for (const file of readdirSync(logDir).filter((f) => f.endsWith('.log'))) {
    const seen = new Set<string>();
    for (const text of readFileSync(join(logDir, file), 'utf8').split('\n')) {
      if (!text.startsWith('{')) continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        continue;
      }
      const what = stepOf(file, line);
      if (!what || !line.time || seen.has(what)) continue; // the first time a step happened
      seen.add(what);
      out.push({ atMs: Date.parse(line.time) - t0, what });
    }
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

export function formatTimeline(events: TimelineEvent[]): string[] {
  let previous = 0;
  return events.map((e) => {
    const line = `${(e.atMs / 1000).toFixed(2).padStart(7)} s  (+${((e.atMs - previous) / 1000).toFixed(2)})  ${e.what}`;
    previous = e.atMs;
    return line;
  });
}
