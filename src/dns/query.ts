// Query-name parsing: which kind of cluster name a question asks about, as a pure function of its
// labels. Everything below the zone that cannot name a record kind is `nonexistent` (NXDOMAIN).
import { formatIPv6, parseIPv4, parseIPv6 } from './wire.js';

export type ClusterName =
  | { kind: 'apex' }
  | { kind: 'dns-version' }
  /** svc.<zone>: an empty non-terminal. */
  | { kind: 'svc-root' }
  /** <ns>.svc.<zone> */
  | { kind: 'namespace'; ns: string }
  /** <svc>.<ns>.svc.<zone> */
  | { kind: 'service'; ns: string; service: string }
  /** _<port>._<proto>.<svc>.<ns>.svc.<zone> (port and protocol without the underscore) */
  | { kind: 'port'; ns: string; service: string; port: string; protocol: string }
  /** <endpoint>.<svc>.<ns>.svc.<zone> */
  | { kind: 'endpoint'; ns: string; service: string; endpoint: string }
  /** pod.<zone> */
  | { kind: 'pod-root' }
  /** <ns>.pod.<zone> */
  | { kind: 'pod-namespace'; ns: string }
  /** <a-b-c-d>.<ns>.pod.<zone>; ip undefined when the label is not a dashed address. */
  | { kind: 'pod'; ns: string; ip: string | undefined }
  | { kind: 'nonexistent' };

export type NameScope =
  | { scope: 'cluster'; name: ClusterName }
  /** A full reverse name: d.c.b.a.in-addr.arpa or 32 nibbles under ip6.arpa. */
  | { scope: 'reverse'; ip: string }
  | { scope: 'outside' };

/** Splits a zone such as `cluster.local` (a trailing dot is fine) into lower-case labels. */
export function zoneLabels(zone: string): string[] {
  return zone.replace(/\.$/, '').toLowerCase().split('.').filter((l) => l !== '');
}

export function classifyName(labels: string[], zone: string[]): NameScope {
  const inZone = labels.length >= zone.length && zone.every((z, i) => labels[labels.length - zone.length + i] === z);
  if (inZone) return { scope: 'cluster', name: classifyClusterName(labels.slice(0, labels.length - zone.length)) };
  const ip = reverseAddress(labels);
  if (ip) return { scope: 'reverse', ip };
  return { scope: 'outside' };
}

/** `rel` holds the labels in front of the zone, most specific first. */
export function classifyClusterName(rel: string[]): ClusterName {
  const n = rel.length;
  if (n === 0) return { kind: 'apex' };
  const top = rel[n - 1];
  if (n === 1 && top === 'dns-version') return { kind: 'dns-version' };
  if (top === 'svc') {
    if (n === 1) return { kind: 'svc-root' };
    const ns = rel[n - 2];
    if (n === 2) return { kind: 'namespace', ns };
    const service = rel[n - 3];
    if (n === 3) return { kind: 'service', ns, service };
    if (n === 4 && !rel[0].startsWith('_')) return { kind: 'endpoint', ns, service, endpoint: rel[0] };
    if (n === 5 && rel[0].length > 1 && rel[1].length > 1 && rel[0].startsWith('_') && rel[1].startsWith('_'))
      return { kind: 'port', ns, service, port: rel[0].slice(1), protocol: rel[1].slice(1) };
    return { kind: 'nonexistent' };
  }
  if (top === 'pod') {
    if (n === 1) return { kind: 'pod-root' };
    const ns = rel[n - 2];
    if (n === 2) return { kind: 'pod-namespace', ns };
    if (n === 3) return { kind: 'pod', ns, ip: podLabelAddress(rel[0]) };
    return { kind: 'nonexistent' };
  }
  return { kind: 'nonexistent' };
}

/** `10-244-1-5` -> 10.244.1.5; `fd00--5` -> fd00::5; undefined when the label is no address. */
export function podLabelAddress(label: string): string | undefined {
  const v4 = label.split('-');
  if (v4.length === 4) {
    const parts = parseIPv4(v4.join('.'));
    if (parts) return parts.join('.');
  }
  if (!label.includes('-')) return undefined;
  const v6 = parseIPv6(label.replace(/-/g, ':'));
  return v6 ? formatIPv6(v6) : undefined;
}

/** The address a full reverse name stands for, or undefined. */
export function reverseAddress(labels: string[]): string | undefined {
  const n = labels.length;
  if (n === 6 && labels[4] === 'in-addr' && labels[5] === 'arpa') {
    const v4 = parseIPv4(`${labels[3]}.${labels[2]}.${labels[1]}.${labels[0]}`);
    return v4 ? v4.join('.') : undefined;
  }
  if (n === 34 && labels[32] === 'ip6' && labels[33] === 'arpa') {
    let hex = '';
    for (let i = 31; i >= 0; i--) {
      if (!/^[0-9a-f]$/.test(labels[i])) return undefined;
      hex += labels[i];
    }
    return formatIPv6(Buffer.from(hex, 'hex'));
  }
  return undefined;
}

/** The PTR owner name of an address (in-addr.arpa or ip6.arpa nibbles). */
export function reverseName(ip: string): string {
  const v4 = parseIPv4(ip);
  if (v4) return `${v4[3]}.${v4[2]}.${v4[1]}.${v4[0]}.in-addr.arpa`;
  const v6 = parseIPv6(ip);
  if (!v6) throw new Error(`"${ip}" is not an IP address`);
  return [...v6.toString('hex')].reverse().join('.') + '.ip6.arpa';
}
