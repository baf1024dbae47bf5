// Every node's published BGP sessions as a table (`flatnet bgp status`, `flatnet status`). Pure.
import type { KubeObject } from '../../api/types.js';
import { BGP_SESSIONS_ANNOTATION, parseSessionsAnnotation, type PublishedSession } from './session-annotation.js';

export interface NodeSessions {
  node: string;
  sessions: PublishedSession[];
  error?: string;
}

export function nodeSessions(nodes: readonly KubeObject[]): NodeSessions[] {
  return nodes
    .map((n) => ({ node: n.metadata.name ?? '', ...parseSessionsAnnotation(n.metadata.annotations?.[BGP_SESSIONS_ANNOTATION]) }))
    .sort((a, b) => a.node.localeCompare(b.node));
}

function uptime(since: string | undefined, now: number): string {
  if (!since) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(since)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

export function statusText(rows: readonly NodeSessions[], now: number): string {
  const table: string[][] = [['NODE', 'PEER', 'ASN', 'STATE', 'UPTIME', 'RECEIVED', 'SENT', 'LAST ERROR']];
  for (const r of rows) {
    if (r.error) table.push([r.node, '-', '-', 'unreadable', '-', '-', '-', r.error]);
    else if (r.sessions.length === 0) table.push([r.node, '-', '-', 'no peers', '-', '-', '-', '']);
    for (const s of r.sessions) table.push([r.node, s.peer, String(s.asn), s.state, uptime(s.since, now), String(s.received), String(s.sent), s.lastError ?? '']);
  }
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  return table.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}
