// Record building: the answer to one question about a cluster name or a reverse address, as a
// pure function of the model and the configuration (Kubernetes DNS spec 1.1.0 plus the CoreDNS
// conventions noted in README: SOA fields, SRV weights, bare-name SRV, endpoint labels).
import type { ClusterDnsModel, EndpointAddress } from './model.js';
import type { ClusterName } from './query.js';
import { classifyClusterName } from './query.js';
import type { ResourceRecord, SoaData } from './wire.js';
import { RCode, RRType } from './wire.js';
import type { SlimPort, SlimService } from './objects.js';

export const SCHEMA_VERSION = '1.1.0';
export const SCHEMA_VERSION_TTL = 28800;

/** CoreDNS's `pods` option: insecure answers any dashed IP, verified only a pod's real one. */
export type PodsMode = 'insecure' | 'verified' | 'disabled';

export interface ResolverConfig {
  /** The cluster domain without a trailing dot, lower case (cluster.local). */
  zone: string;
  ttl: number;
  pods: PodsMode;
}

export interface Resolution {
  rcode: number;
  authoritative: boolean;
  answers: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
  /** An ExternalName target outside the zone still to be resolved (the CNAME is in answers). */
  chase?: { name: string; type: number };
}

const MAX_CNAME_CHAIN = 8;

export class ClusterResolver {
  constructor(
    private readonly model: ClusterDnsModel,
    readonly config: ResolverConfig,
  ) {}

  private fqdn(relative: string): string {
    return `${relative}.${this.config.zone}`;
  }

  soa(): ResourceRecord {
    const { zone, ttl } = this.config;
    const data: SoaData = { mname: `ns.dns.${zone}`, rname: `hostmaster.${zone}`, serial: this.model.serial >>> 0, refresh: 7200, retry: 1800, expire: 86400, minimum: ttl };
    return { name: zone, type: RRType.SOA, ttl: Math.min(ttl, 300), data };
  }

  private negative(rcode: number): Resolution {
    return { rcode, authoritative: true, answers: [], authority: [this.soa()], additional: [] };
  }

  /** Answers a question whose name is in the cluster zone. `owner` is the question name. */
  resolve(owner: string, type: number, name: ClusterName, depth = 0): Resolution {
    const found = this.recordsAt(owner, name);
    if (!found) return this.negative(RCode.NXDOMAIN);
    // ANY (RFC 8482): as CoreDNS's kubernetes plugin, only whether the name exists: NODATA, never
    // every record at the name (no amplification). The `any` plugin answers a HINFO instead.
    if (type === RRType.ANY) return this.negative(RCode.NOERROR);
    const cname = found.records.find((r) => r.type === RRType.CNAME);
    if (cname && type !== RRType.CNAME) return this.followCname(cname, type, depth);
    const answers = found.records.filter((r) => r.type === type);
    if (answers.length === 0) return this.negative(RCode.NOERROR);
    const additional = type === RRType.SRV || type === RRType.NS ? found.glue : [];
    return { rcode: RCode.NOERROR, authoritative: true, answers, authority: [], additional };
  }

  private followCname(cname: ResourceRecord, type: number, depth: number): Resolution {
    const target = cname.data as string;
    const zoneSuffix = `.${this.config.zone}`;
    if (!target.endsWith(zoneSuffix) || depth >= MAX_CNAME_CHAIN) {
      return { rcode: RCode.NOERROR, authoritative: true, answers: [cname], authority: [], additional: [], chase: target.endsWith(zoneSuffix) ? undefined : { name: target, type } };
    }
    const rel = target.slice(0, -zoneSuffix.length).split('.');
    const inner = this.resolve(target, type, classifyClusterName(rel), depth + 1);
    return { ...inner, answers: [cname, ...inner.answers] };
  }

  /** Answers a PTR question for an address; undefined when no service or endpoint has it. */
  resolveReverse(owner: string, type: number, ip: string): Resolution | undefined {
    const names = this.model.reverseNames(ip);
    if (names.length === 0) return undefined;
    if (type !== RRType.PTR) return { rcode: RCode.NOERROR, authoritative: true, answers: [], authority: [], additional: [] };
    const ttl = this.config.ttl;
    return { rcode: RCode.NOERROR, authoritative: true, answers: names.map((n) => ({ name: owner, type: RRType.PTR, ttl, data: this.fqdn(n) })), authority: [], additional: [] };
  }

  /** All records at a name (plus glue for SRV/NS), or undefined when the name does not exist. */
  private recordsAt(owner: string, name: ClusterName): { records: ResourceRecord[]; glue: ResourceRecord[] } | undefined {
    const { ttl, zone } = this.config;
    const empty = { records: [], glue: [] };
    switch (name.kind) {
      case 'apex': {
        const nsName = `kube-dns.kube-system.svc.${zone}`;
        const dnsSvc = this.model.service('kube-system', 'kube-dns');
        return {
          records: [{ ...this.soa(), name: owner }, { name: owner, type: RRType.NS, ttl, data: nsName }],
          glue: dnsSvc ? addressRecords(nsName, dnsSvc.clusterIPs, ttl) : [],
        };
      }
      case 'dns-version':
        return { records: [{ name: owner, type: RRType.TXT, ttl: SCHEMA_VERSION_TTL, data: [SCHEMA_VERSION] }], glue: [] };
      case 'svc-root':
      case 'pod-root':
        return empty;
      case 'namespace':
        return this.model.hasNamespace(name.ns) ? empty : undefined;
      case 'pod-namespace':
        if (this.config.pods === 'insecure') return empty;
        return this.config.pods === 'verified' && this.model.hasNamespace(name.ns) ? empty : undefined;
      case 'pod':
        if (!name.ip || this.config.pods === 'disabled') return undefined;
        if (this.config.pods === 'verified' && !this.model.hasPodIP(name.ns, name.ip)) return undefined;
        return { records: addressRecords(owner, [name.ip], ttl), glue: [] };
      case 'service':
        return this.serviceRecords(owner, name.ns, name.service);
      case 'port':
        return this.portRecords(owner, name.ns, name.service, name.port, name.protocol);
      case 'endpoint': {
        const svc = this.model.service(name.ns, name.service);
        if (!svc || svc.type === 'ExternalName') return undefined;
        const eps = this.model.endpoints(name.ns, name.service).filter((e) => e.label === name.endpoint);
        if (eps.length === 0) return undefined;
        return { records: addressRecords(owner, eps.map((e) => e.ip), ttl), glue: [] };
      }
      case 'nonexistent':
        return undefined;
    }
  }

  private serviceRecords(owner: string, ns: string, name: string): { records: ResourceRecord[]; glue: ResourceRecord[] } | undefined {
    const svc = this.model.service(ns, name);
    if (!svc) return undefined;
    const { ttl } = this.config;
    if (svc.type === 'ExternalName') {
      if (!svc.externalName) return undefined;
      return { records: [{ name: owner, type: RRType.CNAME, ttl, data: svc.externalName }], glue: [] };
    }
    const target = this.fqdn(`${name}.${ns}.svc`);
    if (svc.headless) {
      const eps = this.model.endpoints(ns, name);
      // Spec 2.4.1: a headless service without ready endpoints does not exist.
      if (eps.length === 0) return undefined;
      const srv = headlessSrv(eps, target, ttl, () => true);
      return { records: [...addressRecords(owner, eps.map((e) => e.ip), ttl), ...srv.records.map((r) => ({ ...r, name: owner }))], glue: srv.glue };
    }
    // Extension (as CoreDNS): SRV at the bare service name lists every port.
    const srv = clusterIPSrv(svc, svc.ports, target, ttl);
    return { records: [...addressRecords(owner, svc.clusterIPs, ttl), ...srv.map((s) => ({ ...s, name: owner }))], glue: addressRecords(target, svc.clusterIPs, ttl) };
  }

  private portRecords(owner: string, ns: string, name: string, port: string, protocol: string): { records: ResourceRecord[]; glue: ResourceRecord[] } | undefined {
    const svc = this.model.service(ns, name);
    if (!svc || svc.type === 'ExternalName' || port === '') return undefined;
    const { ttl } = this.config;
    const target = this.fqdn(`${name}.${ns}.svc`);
    const matches = (p: SlimPort) => p.name !== '' && p.name.toLowerCase() === port && p.protocol === protocol;
    if (svc.headless) {
      const srv = headlessSrv(this.model.endpoints(ns, name), target, ttl, matches);
      if (srv.records.length === 0) return undefined;
      return { records: srv.records.map((r) => ({ ...r, name: owner })), glue: srv.glue };
    }
    const ports = svc.ports.filter(matches);
    if (ports.length === 0) return undefined;
    return { records: clusterIPSrv(svc, ports, target, ttl).map((r) => ({ ...r, name: owner })), glue: addressRecords(target, svc.clusterIPs, ttl) };
  }
}

export function addressRecords(owner: string, ips: string[], ttl: number): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  const seen = new Set<string>();
  for (const ip of ips) {
    if (seen.has(ip)) continue;
    seen.add(ip);
    out.push({ name: owner, type: ip.includes(':') ? RRType.AAAA : RRType.A, ttl, data: ip });
  }
  return out;
}

/** SRV weight as CoreDNS: 100 split evenly over the records at one priority, at least 1. */
function srvWeight(n: number): number {
  return Math.max(1, Math.floor(100 / Math.max(1, n)));
}

function clusterIPSrv(_svc: SlimService, ports: SlimPort[], target: string, ttl: number): ResourceRecord[] {
  const w = srvWeight(ports.length);
  return ports.map((p) => ({ name: target, type: RRType.SRV, ttl, data: { priority: 0, weight: w, port: p.port, target } }));
}

/** One SRV per (endpoint label, matching port of its slice), targets <label>.<svc>, glue their addresses. */
function headlessSrv(eps: EndpointAddress[], serviceFqdn: string, ttl: number, matches: (p: SlimPort) => boolean): { records: ResourceRecord[]; glue: ResourceRecord[] } {
  const pairs = new Map<string, { target: string; port: number }>();
  const glueIPs = new Map<string, string[]>();
  for (const ep of eps) {
    const target = `${ep.label}.${serviceFqdn}`;
    let used = false;
    for (const p of ep.ports) {
      if (!matches(p)) continue;
      used = true;
      pairs.set(`${target}/${p.port}`, { target, port: p.port });
    }
    if (used) glueIPs.set(target, [...(glueIPs.get(target) ?? []), ep.ip]);
  }
  const w = srvWeight(pairs.size);
  const records: ResourceRecord[] = [...pairs.values()].map((p) => ({ name: serviceFqdn, type: RRType.SRV, ttl, data: { priority: 0, weight: w, port: p.port, target: p.target } }));
  const glue: ResourceRecord[] = [];
  for (const [target, ips] of glueIPs) glue.push(...addressRecords(target, ips, ttl));
  return { records, glue };
}
