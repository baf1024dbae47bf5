// The hosts plugin's lookups as a pure index: A/AAAA by name, PTR by address (unless no_reverse),
// with the "name exists with other types" knowledge that turns a miss into NODATA, not NXDOMAIN.
import { isIPv4 } from 'node:net';
import type { HostsPlugin } from '../corefile/config.js';
import { reverseAddress } from '../query.js';
import { canonicalIP } from '../model.js';
import type { ResourceRecord } from '../wire.js';
import { RRType } from '../wire.js';

export type HostsLookup = { kind: 'answer'; records: ResourceRecord[] } | { kind: 'nodata' } | { kind: 'miss' };

export class HostsIndex {
  private readonly byName = new Map<string, { v4: string[]; v6: string[] }>();
  private readonly byAddress = new Map<string, string[]>();

  constructor(readonly plugin: HostsPlugin) {
    for (const e of plugin.entries) {
      const ip = canonicalIP(e.ip);
      for (const n of e.names) {
        let rec = this.byName.get(n);
        if (!rec) this.byName.set(n, (rec = { v4: [], v6: [] }));
        const list = isIPv4(ip) ? rec.v4 : rec.v6;
        if (!list.includes(ip)) list.push(ip);
      }
      if (!plugin.noReverse) {
        const names = this.byAddress.get(ip) ?? [];
        for (const n of e.names) if (!names.includes(n)) names.push(n);
        this.byAddress.set(ip, names);
      }
    }
  }

  /** `name` in lower case without the trailing dot; `labels` its labels. */
  lookup(name: string, labels: string[], type: number): HostsLookup {
    const ttl = this.plugin.ttl;
    if (type === RRType.PTR) {
      const ip = reverseAddress(labels);
      const names = ip ? this.byAddress.get(canonicalIP(ip)) : undefined;
      if (names) return { kind: 'answer', records: names.map((n) => ({ name, type: RRType.PTR, ttl, data: n })) };
    }
    const rec = this.byName.get(name);
    if (!rec) {
      const ip = reverseAddress(labels);
      return ip && this.byAddress.has(canonicalIP(ip)) ? { kind: 'nodata' } : { kind: 'miss' };
    }
    if (type === RRType.A && rec.v4.length) return { kind: 'answer', records: rec.v4.map((a) => ({ name, type: RRType.A, ttl, data: a })) };
    if (type === RRType.AAAA && rec.v6.length) return { kind: 'answer', records: rec.v6.map((a) => ({ name, type: RRType.AAAA, ttl, data: a })) };
    return { kind: 'nodata' };
  }
}
