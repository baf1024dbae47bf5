// Flow events as text lines for a terminal, in the spirit of `hubble observe`:
//   Dec  6 19:01:25.123456 [flatnet-1] default/client:43210 -> default/web:80 (Service) => default/web-7c9:8080 TRANSLATED TCP new SYN_SENT
import type { FlowEvent, FlowPeer } from './types.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function timeLabel(iso: string): string {
  const frac = /\.(\d+)Z$/.exec(iso)?.[1] ?? '000';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${frac.padEnd(6, '0').slice(0, 6)}`;
}

export function peerLabel(p: FlowPeer): string {
  const port = p.port === undefined ? '' : `:${p.port}`;
  const id = p.identity;
  switch (id.kind) {
    case 'pod':
      return `${id.namespace}/${id.name}${port}`;
    case 'service':
      return `${id.namespace}/${id.name}${port} (Service)`;
    case 'node':
      return `node/${id.name}(${p.ip})${port}`;
    case 'world':
      return `${p.ip}${port} (world)`;
  }
}

export function flowLine(e: FlowEvent): string {
  const parts = [timeLabel(e.time), `[${e.node}]`, peerLabel(e.source), '->', peerLabel(e.destination)];
  if (e.service && e.destination.identity.kind !== 'service') parts.push(`(Service ${e.service.namespace}/${e.service.name}${e.service.port ? `:${e.service.port}` : ''})`);
  if (e.endpoint) parts.push('=>', peerLabel(e.endpoint));
  parts.push(e.verdict.toUpperCase(), e.protocol.toUpperCase(), e.summary);
  return parts.join(' ');
}
