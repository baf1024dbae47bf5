// Shared by the DNS tests: a model built from slim objects (the spec-derived fixture), a way to
// ask the real handler a question, and a zone-file rendering of dns-packet's independent decode.
import dnsPacket from 'dns-packet';
import { ClusterDnsModel } from '../../../src/dns/model.js';
import { slimEndpointSlice, slimPod, slimService } from '../../../src/dns/objects.js';
import { DnsHandler, type HandlerConfig, type Transport } from '../../../src/dns/handler.js';
import { DnsMetrics } from '../../../src/dns/metrics.js';
import type { KubeObject } from '../../../src/api/types.js';

export function service(ns: string, name: string, spec: Record<string, unknown>, annotations?: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name, annotations }, spec };
}

export interface Ep {
  ip: string;
  hostname?: string;
  ready?: boolean;
}

export function slice(ns: string, name: string, svc: string, endpoints: Ep[], ports: { name?: string; protocol?: string; port: number }[] = [], addressType = 'IPv4'): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: ns, name, labels: { 'kubernetes.io/service-name': svc } },
    addressType,
    ports,
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], hostname: e.hostname, conditions: e.ready === undefined ? {} : { ready: e.ready } })),
  };
}

/** The fixture of cluster-dns.md 8.4, extended. */
export function fixtureModel(): ClusterDnsModel {
  const m = new ClusterDnsModel();
  m.setNamespace('ns1');
  m.setNamespace('empty-ns');
  m.setNamespace('kube-system');
  const svcs = [
    service('ns1', 'web', { type: 'ClusterIP', clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], ports: [{ name: 'http', protocol: 'TCP', port: 80 }, { port: 8080, protocol: 'TCP' }] }),
    service('ns1', 'dual', { clusterIP: '10.96.0.21', clusterIPs: ['10.96.0.21', 'fd00::21'], ports: [{ name: 'http', port: 80 }] }),
    service('ns1', 'v6', { clusterIP: 'fd00::22', clusterIPs: ['fd00::22'], ports: [{ name: 'http', port: 80 }] }),
    service('ns1', 'db', { clusterIP: 'None', ports: [{ name: 'tcp-pg', port: 5432 }] }),
    service('ns1', 'empty', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }),
    service('ns1', 'pnr', { clusterIP: 'None', publishNotReadyAddresses: true, ports: [{ name: 'http', port: 80 }] }),
    service('ns1', 'legacy', { clusterIP: 'None' }, { 'service.alpha.kubernetes.io/tolerate-unready-endpoints': 'true' }),
    service('ns1', 'ext', { type: 'ExternalName', externalName: 'www.example.com' }),
    service('ns1', 'ext-in', { type: 'ExternalName', externalName: 'web.ns1.svc.cluster.local.' }),
    service('kube-system', 'kube-dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', protocol: 'UDP', port: 53 }, { name: 'dns-tcp', protocol: 'TCP', port: 53 }] }),
  ];
  for (const s of svcs) m.setService(slimService(s)!);
  const slices = [
    slice('ns1', 'web-abc', 'web', [{ ip: '10.1.0.40', ready: true }], [{ name: 'http', protocol: 'TCP', port: 8000 }]),
    slice('ns1', 'db-abc', 'db', [{ ip: '10.1.0.10', hostname: 'db-0', ready: true }, { ip: '10.1.0.11', hostname: 'db-1' }, { ip: '10.1.0.12', ready: true }, { ip: '10.1.0.13', hostname: 'db-3', ready: false }], [{ name: 'tcp-pg', protocol: 'TCP', port: 5432 }]),
    slice('ns1', 'empty-abc', 'empty', [{ ip: '10.1.0.20', ready: false }], [{ name: 'http', protocol: 'TCP', port: 80 }]),
    slice('ns1', 'pnr-abc', 'pnr', [{ ip: '10.1.0.30', ready: false }], [{ name: 'http', protocol: 'TCP', port: 80 }]),
    slice('ns1', 'legacy-abc', 'legacy', [{ ip: '10.1.0.31', ready: false }]),
  ];
  for (const s of slices) m.setEndpointSlice(slimEndpointSlice(s)!);
  // pods for `pods verified`: client-0 in ns1 (dual-stack), one in kube-system
  m.setPod(slimPod({ metadata: { namespace: 'ns1', name: 'client-0' }, status: { podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }, { ip: 'fd00::1:5' }] } })!);
  m.setPod(slimPod({ metadata: { namespace: 'kube-system', name: 'coredns-0' }, status: { podIP: '10.244.2.7' } })!);
  return m;
}

export function makeHandler(model: ClusterDnsModel, overrides: Partial<HandlerConfig> = {}): DnsHandler {
  return new DnsHandler(model, { zone: 'cluster.local', ttl: 30, pods: 'insecure', ready: () => true, ...overrides }, new DnsMetrics());
}

export interface AskOptions {
  transport?: Transport;
  /** EDNS UDP size; undefined = no EDNS. */
  edns?: number;
  klass?: string;
  id?: number;
}

export function queryBytes(name: string, type: string, opts: AskOptions = {}): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: opts.id ?? 4242,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as dnsPacket.RecordType, class: (opts.klass ?? 'IN') as dnsPacket.RecordClass }],
    additionals: opts.edns ? [{ type: 'OPT', name: '.', udpPayloadSize: opts.edns, flags: 0 } as dnsPacket.Answer] : [],
  });
}

/** Sends raw bytes to the handler; resolves with the raw reply, or undefined when none came within `waitMs`. */
export function askRaw(handler: DnsHandler, msg: Buffer, transport: Transport = 'udp', waitMs = 3000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    handler.handle(msg, transport, (out) => {
      done = true;
      if (timer) clearTimeout(timer);
      resolve(out);
    });
    if (!done) timer = setTimeout(() => resolve(undefined), waitMs);
  });
}

export type Reply = dnsPacket.DecodedPacket & { rcode: string; answers: dnsPacket.Answer[]; authorities: dnsPacket.Answer[]; additionals: dnsPacket.Answer[] };

/** dns-packet's decode with the sections always present and the rcode typed. */
export function decode(raw: Buffer): Reply {
  const d = dnsPacket.decode(raw) as Reply;
  d.answers ??= [];
  d.authorities ??= [];
  d.additionals ??= [];
  return d;
}

export async function ask(handler: DnsHandler, name: string, type: string, opts: AskOptions = {}): Promise<Reply> {
  const raw = await askRaw(handler, queryBytes(name, type, opts), opts.transport ?? 'udp');
  if (!raw) throw new Error(`no reply for ${name} ${type}`);
  return decode(raw);
}

/** A record as one zone-file line: `name. ttl TYPE data` (SOA without its serial). */
export function rr(a: dnsPacket.Answer): string {
  const d = (a as { data?: unknown }).data;
  let data: string;
  switch (a.type) {
    case 'SRV': {
      const s = d as dnsPacket.SrvData;
      data = `${s.priority ?? 0} ${s.weight ?? 0} ${s.port} ${s.target}.`;
      break;
    }
    case 'SOA': {
      const s = d as dnsPacket.SoaData;
      data = `${s.mname}. ${s.rname}. ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`;
      break;
    }
    case 'TXT':
      data = (d as Buffer[]).map((b) => JSON.stringify(b.toString())).join(' ');
      break;
    case 'CNAME':
    case 'PTR':
    case 'NS':
      data = `${d as string}.`;
      break;
    default:
      data = String(d);
  }
  return `${a.name}. ${(a as { ttl?: number }).ttl} ${a.type} ${data}`;
}

export function section(list: dnsPacket.Answer[] | undefined): string[] {
  return (list ?? []).filter((a) => a.type !== 'OPT').map(rr).sort();
}
