// The cluster the DNS bench serves: namespaces, ClusterIP Services with a named port, headless
// Services with hostname endpoints. The same names go into flatnet's model and into a bind9 zone
// file, and the query file mixes hits, SRV, headless, NODATA and search-path misses.
import { ClusterDnsModel } from '../../src/dns/model.js';
import { slimEndpointSlice, slimService } from '../../src/dns/objects.js';

export interface BenchCluster {
  namespaces: number;
  servicesPerNamespace: number;
  headlessPerNamespace: number;
  endpointsPerHeadless: number;
}

export const DEFAULT_CLUSTER: BenchCluster = { namespaces: 10, servicesPerNamespace: 100, headlessPerNamespace: 5, endpointsPerHeadless: 3 };

const svcIP = (ns: number, i: number) => `10.96.${ns + 1}.${i + 1}`;
const epIP = (ns: number, h: number, e: number) => `10.244.${ns + 1}.${h * 10 + e + 1}`;

export function buildModel(c: BenchCluster = DEFAULT_CLUSTER): ClusterDnsModel {
  const m = new ClusterDnsModel();
  for (let ns = 0; ns < c.namespaces; ns++) {
    m.setNamespace(`ns${ns}`);
    for (let i = 0; i < c.servicesPerNamespace; i++) {
      m.setService(slimService({ metadata: { namespace: `ns${ns}`, name: `svc${i}` }, spec: { clusterIP: svcIP(ns, i), ports: [{ name: 'http', protocol: 'TCP', port: 80 }] } })!);
    }
    for (let h = 0; h < c.headlessPerNamespace; h++) {
      m.setService(slimService({ metadata: { namespace: `ns${ns}`, name: `hl${h}` }, spec: { clusterIP: 'None', ports: [{ name: 'http', protocol: 'TCP', port: 80 }] } })!);
      m.setEndpointSlice(
        slimEndpointSlice({
          metadata: { namespace: `ns${ns}`, name: `hl${h}-a`, labels: { 'kubernetes.io/service-name': `hl${h}` } },
          addressType: 'IPv4',
          ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
          endpoints: Array.from({ length: c.endpointsPerHeadless }, (_, e) => ({ addresses: [epIP(ns, h, e)], hostname: `ep-${e}`, conditions: { ready: true } })),
        })!,
      );
    }
  }
  return m;
}

/** The same names as a bind9 zone file for cluster.local (TTL 30, CoreDNS-like SOA). */
export function zoneFile(c: BenchCluster = DEFAULT_CLUSTER): string {
  const lines = ['$ORIGIN cluster.local.', '$TTL 30', '@ IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 30', '@ IN NS ns.dns', 'ns.dns IN A 10.96.0.10', 'dns-version IN TXT "1.1.0"'];
  for (let ns = 0; ns < c.namespaces; ns++) {
    for (let i = 0; i < c.servicesPerNamespace; i++) {
      lines.push(`svc${i}.ns${ns}.svc IN A ${svcIP(ns, i)}`, `_http._tcp.svc${i}.ns${ns}.svc IN SRV 0 100 80 svc${i}.ns${ns}.svc.cluster.local.`);
    }
    for (let h = 0; h < c.headlessPerNamespace; h++) {
      for (let e = 0; e < c.endpointsPerHeadless; e++) {
        lines.push(`hl${h}.ns${ns}.svc IN A ${epIP(ns, h, e)}`, `ep-${e}.hl${h}.ns${ns}.svc IN A ${epIP(ns, h, e)}`);
        lines.push(`_http._tcp.hl${h}.ns${ns}.svc IN SRV 0 33 80 ep-${e}.hl${h}.ns${ns}.svc.cluster.local.`);
      }
    }
  }
  return lines.join('\n') + '\n';
}

/** dnsperf query lines: 60% service A, 10% SRV, 10% headless A, 5% endpoint A, 5% AAAA (NODATA), 10% search-path misses (NXDOMAIN). */
export function queryLines(c: BenchCluster = DEFAULT_CLUSTER): string {
  const out: string[] = [];
  for (let k = 0; k < 2000; k++) {
    const ns = k % c.namespaces;
    const i = Math.floor(k / c.namespaces) % c.servicesPerNamespace;
    const h = k % c.headlessPerNamespace;
    const r = k % 20;
    if (r < 12) out.push(`svc${i}.ns${ns}.svc.cluster.local A`);
    else if (r < 14) out.push(`_http._tcp.svc${i}.ns${ns}.svc.cluster.local SRV`);
    else if (r < 16) out.push(`hl${h}.ns${ns}.svc.cluster.local A`);
    else if (r === 16) out.push(`ep-${k % c.endpointsPerHeadless}.hl${h}.ns${ns}.svc.cluster.local A`);
    else if (r === 17) out.push(`svc${i}.ns${ns}.svc.cluster.local AAAA`);
    else out.push(`svc${i}.ns${ns}.svc.cluster.local.ns${ns}.svc.cluster.local A`);
  }
  return out.join('\n') + '\n';
}
