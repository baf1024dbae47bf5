// Container logs kept as the kubelet keeps them: one file per container run, in the CRI line
// format `<RFC3339Nano> <stream> <F|P> <text>` (P = a partial line continued by the next
// entry), rotated at a size limit; read back for `kubectl logs` with tailLines, sinceTime,
// timestamps and limitBytes, and followed live.
import { EventEmitter } from 'node:events';
import { closeSync, existsSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';

export interface LogEntry {
  time: string;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  text: string;
}

export interface LogQuery {
  tailLines?: number;
  sinceTime?: string;
  timestamps?: boolean;
  limitBytes?: number;
}

/** Nanosecond RFC 3339 time as the CRI writes it. */
export function criTimestamp(date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

export function formatLogEntry(e: LogEntry): string {
  return `${e.time} ${e.stream} ${e.partial ? 'P' : 'F'} ${e.text}\n`;
}

export function parseLogLine(line: string): LogEntry | undefined {
  const m = /^(\S+) (stdout|stderr) ([FP]) (.*)$/s.exec(line);
  if (!m) return undefined;
  return { time: m[1], stream: m[2] as LogEntry['stream'], partial: m[3] === 'P', text: m[4] };
}

/** Splits written text into whole-line entries and the unfinished rest. */
export function splitIntoEntries(text: string, stream: LogEntry['stream'], time: string): { entries: LogEntry[]; rest: string } {
  const entries: LogEntry[] = [];
  const parts = text.split('\n');
  const rest = parts.pop() ?? '';
  for (const p of parts) entries.push({ time, stream, partial: false, text: p });
  return { entries, rest };
}

/** The text `kubectl logs` prints for these entries. */
export function renderLogEntries(entries: LogEntry[], q: LogQuery): string {
  let selected = entries;
  if (q.sinceTime) {
    const since = Date.parse(q.sinceTime);
    selected = selected.filter((e) => Date.parse(e.time) >= since);
  }
  if (q.tailLines !== undefined && q.tailLines >= 0) {
    // Count whole lines: a partial entry belongs to the line its next full entry ends.
    let lines = 0;
    let start = selected.length;
    for (let i = selected.length - 1; i >= 0; i--) {
      if (!selected[i].partial) {
        if (lines === q.tailLines) break;
        lines++;
      }
      start = i;
    }
    selected = selected.slice(start);
  }
  let out = selected.map((e) => renderEntry(e, q.timestamps === true)).join('');
  if (q.limitBytes !== undefined && q.limitBytes >= 0) out = truncateBytes(out, q.limitBytes);
  return out;
}

export function renderEntry(e: LogEntry, timestamps: boolean): string {
  return `${timestamps ? `${e.time} ` : ''}${e.text}${e.partial ? '' : '\n'}`;
}

function truncateBytes(text: string, limit: number): string {
  const buf = Buffer.from(text);
  return buf.length <= limit ? text : buf.subarray(0, limit).toString('utf8');
}

export const DEFAULT_MAX_LOG_BYTES = 10 * 1024 * 1024;

/** The log of one run of one container: written by the runtime, read and followed by the endpoint. */
export class ContainerLog extends EventEmitter {
  private fd: number | undefined;
  private size = 0;
  closed = false;

  constructor(
    readonly path: string,
    private readonly maxBytes = DEFAULT_MAX_LOG_BYTES,
  ) {
    super();
    this.setMaxListeners(0);
    this.fd = openSync(path, 'a');
    this.size = statSync(path).size;
  }

  write(stream: LogEntry['stream'], data: string | Buffer): void {
    if (this.closed) return;
    const time = criTimestamp();
    const { entries, rest } = splitIntoEntries(data.toString(), stream, time);
    for (const e of entries) this.append(e);
    // Text without a newline (a shell prompt) is written at once as a partial entry.
    if (rest.length > 0) this.append({ time, stream, partial: true, text: rest });
  }

  private append(e: LogEntry): void {
    if (this.fd === undefined) return;
    const line = formatLogEntry(e);
    if (this.size + line.length > this.maxBytes) this.rotate();
    this.size += writeSync(this.fd, line);
    this.emit('entry', e);
  }

  private rotate(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    renameSync(this.path, `${this.path}.1`);
    this.fd = openSync(this.path, 'a');
    this.size = 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.emit('end');
  }
}

/** Every entry of a log file (and its rotated predecessor). */
export function readLogFile(path: string): LogEntry[] {
  const entries: LogEntry[] = [];
  for (const p of [`${path}.1`, path]) {
    if (!existsSync(p)) continue;
    for (const line of readFileSync(p, 'utf8').split('\n')) {
      const e = parseLogLine(line);
      if (e) entries.push(e);
    }
  }
  return entries;
}
