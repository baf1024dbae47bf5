// Which names a pod's resolver asks for, in order, given its resolv.conf: the search list and
// `ndots` rule of the glibc stub resolver the pods' tools use. Pure.
import type { ResolvConf } from '../agent/resolv-conf.js';

const DEFAULT_NDOTS = 1;

export function ndotsOf(conf: ResolvConf): number {
  const opt = conf.options.find((o) => o.name === 'ndots');
  const n = opt?.value === undefined ? NaN : Number(opt.value);
  return Number.isInteger(n) && n >= 0 ? Math.min(n, 15) : DEFAULT_NDOTS;
}

/**
 * The fully qualified names tried for `name`, in order. A trailing dot means the name is absolute
 * (asked as is, only). Otherwise a name with at least `ndots` dots is asked as is first, then with
 * each search domain; a name with fewer dots goes through the search list first and is asked as
 * is last.
 */
export function searchCandidates(name: string, conf: ResolvConf): string[] {
  if (name.endsWith('.')) return [name];
  const dots = (name.match(/\./g) ?? []).length;
  const searched = conf.searches.map((domain) => `${name}.${domain}.`);
  const absolute = `${name}.`;
  return dots >= ndotsOf(conf) ? [absolute, ...searched.filter((s) => s !== absolute)] : [...searched.filter((s) => s !== absolute), absolute];
}

export interface DnsAnswer {
  /** The name asked. */
  name: string;
  /** NOERROR, NXDOMAIN, SERVFAIL... or TIMEOUT when no answer came. */
  status: string;
  addresses: string[];
}

/** The resolver's walk: it stops at the first answer with addresses, or at an error other than NXDOMAIN/NODATA. */
export function resolutionOutcome(answers: DnsAnswer[]): { address?: string; answeredBy?: string } {
  for (const a of answers) {
    if (a.status === 'NOERROR' && a.addresses.length > 0) return { address: a.addresses[0], answeredBy: a.name };
  }
  return {};
}

/** Whether the resolver keeps walking the search list after this answer (NXDOMAIN or an empty NOERROR). */
export function continuesAfter(a: DnsAnswer): boolean {
  return a.status === 'NXDOMAIN' || (a.status === 'NOERROR' && a.addresses.length === 0);
}
