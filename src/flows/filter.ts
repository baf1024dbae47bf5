// Which flow events a reader asked for: the query of GET /flows on agents and on the API server,
// and the flags of `flatnet flows`. Pure.
import { VERDICTS, type FlowEvent, type FlowPeer, type Verdict } from './types.js';

export interface FlowFilter {
  namespace?: string;
  /** A pod name, or namespace/name. */
  pod?: string;
  /** A Service name, or namespace/name. */
  service?: string;
  /** forwarded also matches translated, replied and closed: every event of a forwarded connection. */
  verdict?: Verdict;
  /** Events at or after this time (ms since the epoch). */
  sinceMs?: number;
  node?: string;
}

export class FlowFilterError extends Error {}

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `5m`, `30s`, `1h` or an RFC 3339 time -> ms since the epoch. */
export function parseSince(text: string, now = Date.now()): number {
  const m = DURATION_RE.exec(text);
  if (m) return now - Number(m[1]) * UNIT_MS[m[2]];
  const t = Date.parse(text);
  if (Number.isNaN(t) || !/^\d{4}-\d\d-\d\dT/.test(text)) throw new FlowFilterError(`since: "${text}" is neither a duration (such as 30s, 5m, 1h) nor an RFC 3339 time`);
  return t;
}

const NAME_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function checkName(field: string, value: string, allowSlash: boolean): string {
  const parts = allowSlash ? value.split('/') : [value];
  if (parts.length > 2 || parts.some((p) => !NAME_RE.test(p) || p.length > 253)) throw new FlowFilterError(`${field}: "${value}" is not a valid ${allowSlash ? 'name or namespace/name' : 'name'}`);
  return value;
}

/** The filter of a query string (the names the API uses: namespace, pod, service, verdict, since, node). */
export function filterFromQuery(q: URLSearchParams, now = Date.now()): FlowFilter {
  const f: FlowFilter = {};
  const known = new Set(['namespace', 'pod', 'service', 'verdict', 'since', 'node', 'follow', 'limit']);
  for (const k of q.keys()) if (!known.has(k)) throw new FlowFilterError(`${k}: unknown parameter (use ${[...known].join(', ')})`);
  const ns = q.get('namespace');
  if (ns) f.namespace = checkName('namespace', ns, false);
  const pod = q.get('pod');
  if (pod) f.pod = checkName('pod', pod, true);
  const svc = q.get('service');
  if (svc) f.service = checkName('service', svc, true);
  const node = q.get('node');
  if (node) f.node = checkName('node', node, false);
  const verdict = q.get('verdict');
  if (verdict) {
    if (!(VERDICTS as readonly string[]).includes(verdict)) throw new FlowFilterError(`verdict: "${verdict}" is not one of ${VERDICTS.join(', ')}`);
    f.verdict = verdict as Verdict;
  }
  const since = q.get('since');
  if (since) f.sinceMs = parseSince(since, now);
  return f;
}

export function filterToQuery(f: FlowFilter): URLSearchParams {
  const q = new URLSearchParams();
  if (f.namespace) q.set('namespace', f.namespace);
  if (f.pod) q.set('pod', f.pod);
  if (f.service) q.set('service', f.service);
  if (f.verdict) q.set('verdict', f.verdict);
  if (f.node) q.set('node', f.node);
  if (f.sinceMs !== undefined) q.set('since', new Date(f.sinceMs).toISOString());
  return q;
}

function peerNamespace(p: FlowPeer): string | undefined {
  return p.identity.kind === 'pod' || p.identity.kind === 'service' ? p.identity.namespace : undefined;
}

function nameMatches(wanted: string, namespace: string, name: string, filterNamespace: string | undefined): boolean {
  const slash = wanted.indexOf('/');
  if (slash !== -1) return wanted === `${namespace}/${name}`;
  return wanted === name && (filterNamespace === undefined || filterNamespace === namespace);
}

const FORWARDED: ReadonlySet<Verdict> = new Set(['forwarded', 'translated', 'replied', 'closed']);

export function flowMatches(e: FlowEvent, f: FlowFilter): boolean {
  if (f.node && e.node !== f.node) return false;
  if (f.verdict && !(f.verdict === e.verdict || (f.verdict === 'forwarded' && FORWARDED.has(e.verdict)))) return false;
  if (f.sinceMs !== undefined && Date.parse(e.time) < f.sinceMs) return false;
  const peers = [e.source, e.destination, ...(e.endpoint ? [e.endpoint] : [])];
  if (f.namespace && !peers.some((p) => peerNamespace(p) === f.namespace) && e.service?.namespace !== f.namespace) return false;
  if (f.pod && !peers.some((p) => p.identity.kind === 'pod' && nameMatches(f.pod!, p.identity.namespace, p.identity.name, f.namespace))) return false;
  if (f.service && !(e.service && nameMatches(f.service, e.service.namespace, e.service.name, f.namespace))) return false;
  return true;
}
