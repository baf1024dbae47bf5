// A pod's /etc/resolv.conf as the kubelet composes it: the dnsPolicy chooses the base (the
// cluster DNS with the namespace search list, or the node's own resolver file, or nothing),
// the pod's dnsConfig is merged on top, then the kubelet's limits apply.
import type { PodDNSConfig } from './pod-types.js';

export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: { name: string; value?: string }[];
}

export interface PodDnsInput {
  namespace: string;
  dnsPolicy?: string;
  hostNetwork?: boolean;
  dnsConfig?: PodDNSConfig;
}

export interface NodeDnsSettings {
  clusterDomain: string;
  clusterDNS: string[];
  /** The node's resolver file, parsed. */
  host: ResolvConf;
}

export const MAX_NAMESERVERS = 3;
export const MAX_SEARCHES = 32;
export const MAX_SEARCH_LINE = 2048;
export const MAX_SEARCH_ENTRY = 253;

/** Parses a resolver file: nameservers accumulate, the last search and options lines win. */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const [key, ...fields] = line.split(/\s+/);
    if (key === 'nameserver' && fields[0]) out.nameservers.push(fields[0]);
    else if (key === 'search') out.searches = fields.map((f) => f.replace(/\.+$/, '')).filter((f) => f.length > 0);
    else if (key === 'options') out.options = fields.map(parseOption);
  }
  return out;
}

function parseOption(field: string): { name: string; value?: string } {
  const colon = field.indexOf(':');
  return colon === -1 ? { name: field } : { name: field.slice(0, colon), value: field.slice(colon + 1) };
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}

/** The resolver configuration of a pod, with the warnings the kubelet would emit for trimming. */
export function composePodResolvConf(pod: PodDnsInput, node: NodeDnsSettings): { conf: ResolvConf; warnings: string[] } {
  const warnings: string[] = [];
  const policy = pod.dnsPolicy ?? 'ClusterFirst';
  let base: ResolvConf;
  const clusterType = policy === 'ClusterFirstWithHostNet' || (policy === 'ClusterFirst' && !pod.hostNetwork);
  if (policy === 'None') {
    base = { nameservers: [], searches: [], options: [] };
  } else if (clusterType && node.clusterDNS.length > 0) {
    const domain = node.clusterDomain;
    const searches = domain ? unique([`${pod.namespace}.svc.${domain}`, `svc.${domain}`, domain, ...node.host.searches]) : [...node.host.searches];
    base = { nameservers: [...node.clusterDNS], searches, options: [{ name: 'ndots', value: '5' }] };
  } else {
    if (clusterType) warnings.push('MissingClusterDNS: the node has no cluster DNS address; using the node resolver (dnsPolicy Default)');
    base = { nameservers: [...node.host.nameservers], searches: [...node.host.searches], options: [...node.host.options] };
  }
  const cfg = pod.dnsConfig;
  if (cfg) {
    base.nameservers = unique([...base.nameservers, ...(cfg.nameservers ?? [])]);
    base.searches = unique([...base.searches, ...(cfg.searches ?? [])]);
    for (const opt of cfg.options ?? []) {
      const existing = base.options.findIndex((o) => o.name === opt.name);
      const merged = opt.value === undefined || opt.value === '' ? { name: opt.name } : { name: opt.name, value: opt.value };
      if (existing === -1) base.options.push(merged);
      else base.options[existing] = merged;
    }
  }
  if (base.nameservers.length > MAX_NAMESERVERS) {
    warnings.push(`DNSConfigForming: nameserver limits were exceeded, the applied nameserver line is: ${base.nameservers.slice(0, MAX_NAMESERVERS).join(' ')}`);
    base.nameservers = base.nameservers.slice(0, MAX_NAMESERVERS);
  }
  base.searches = trimSearches(base.searches, warnings);
  return { conf: base, warnings };
}

function trimSearches(searches: string[], warnings: string[]): string[] {
  let out = searches.filter((s) => s.length <= MAX_SEARCH_ENTRY);
  if (out.length > MAX_SEARCHES) out = out.slice(0, MAX_SEARCHES);
  while (out.length > 0 && out.join(' ').length > MAX_SEARCH_LINE) out = out.slice(0, -1);
  if (out.length !== searches.length) warnings.push(`DNSConfigForming: search line limits were exceeded, the applied search line is: ${out.join(' ')}`);
  return out;
}

export function renderResolvConf(conf: ResolvConf): string {
  const lines: string[] = [];
  if (conf.searches.length > 0) lines.push(`search ${conf.searches.join(' ')}`);
  for (const ns of conf.nameservers) lines.push(`nameserver ${ns}`);
  if (conf.options.length > 0) lines.push(`options ${conf.options.map((o) => (o.value === undefined ? o.name : `${o.name}:${o.value}`)).join(' ')}`);
  return lines.join('\n') + '\n';
}
