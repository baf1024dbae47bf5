// The log and errors plugins' lines, in CoreDNS's common log format:
//   [INFO] <client> - <id> "<TYPE> <CLASS> <name>. <proto> <size> <do> <bufsize>" <RCODE> <flags> <rsize> <duration>s
// (flatnet's transports do not hand the client address to the handler, so <client> is "-").
import type { LogClass } from '../corefile/config.js';
import { RCODE_NAMES, RRClass, RRType } from '../wire.js';

const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(RRType).map(([k, v]) => [v, k]));
const CLASS_NAMES: Record<number, string> = Object.fromEntries(Object.entries(RRClass).map(([k, v]) => [v, k]));

export function typeName(t: number): string {
  return TYPE_NAMES[t] ?? `TYPE${t}`;
}

export interface QueryLogFields {
  id: number;
  type: number;
  klass: number;
  name: string;
  proto: 'udp' | 'tcp';
  size: number;
  dnssecOk: boolean;
  bufsize: number;
  rcode: number;
  response: Buffer;
  durationMs: number;
}

function responseFlags(r: Buffer): string {
  const f: string[] = [];
  if (r[2] & 0x80) f.push('qr');
  if (r[2] & 0x04) f.push('aa');
  if (r[2] & 0x02) f.push('tc');
  if (r[2] & 0x01) f.push('rd');
  if (r[3] & 0x80) f.push('ra');
  return f.join(',');
}

export function queryLogLine(q: QueryLogFields): string {
  const rcode = RCODE_NAMES[q.rcode] ?? `RCODE${q.rcode}`;
  return `[INFO] - - ${q.id} "${typeName(q.type)} ${CLASS_NAMES[q.klass] ?? `CLASS${q.klass}`} ${q.name}. ${q.proto} ${q.size} ${q.dnssecOk} ${q.bufsize}" ${rcode} ${responseFlags(q.response)} ${q.response.length} ${(q.durationMs / 1000).toFixed(6)}s`;
}

/** Whether the log plugin's classes select an answer with this rcode. */
export function logClassSelects(classes: LogClass[], rcode: number): boolean {
  for (const c of classes) {
    if (c === 'all') return true;
    if (c === 'success' && rcode === 0) return true;
    if (c === 'denial' && rcode === 3) return true;
    if (c === 'error' && rcode !== 0 && rcode !== 3) return true;
  }
  return false;
}
