// The in-memory model cluster DNS answers from: slim Services, their EndpointSlices and the set of
// namespaces, indexed so every lookup is a map access (service by namespace/name, endpoints by
// service, PTR targets by IP). Fed by informers (watch.ts) or directly by tests.
import type { SlimEndpointSlice, SlimPod, SlimPort, SlimService } from './objects.js';
import { sameEndpointSlice, sameService } from './objects.js';
import { formatIPv6, parseIPv6 } from './wire.js';

/** One address of a serving endpoint, with the label that names it under its service. */
export interface EndpointAddress {
  /** The endpoint's hostname, else its address with dashes (10-1-0-12, fd00--12). */
  label: string;
  ip: string;
  family: 4 | 6;
  /** The ports of the EndpointSlice the endpoint came from. */
  ports: SlimPort[];
}

/** The label of an endpoint without a hostname: its address with '.'/':' turned into '-'. */
export function dashedAddress(ip: string): string {
  let s = ip.replace(/[.:]/g, '-');
  if (s.startsWith('-')) s = '0' + s;
  if (s.endsWith('-')) s += '0';
  return s;
}

export class ClusterDnsModel {
  private readonly services = new Map<string, SlimService>();
  private readonly slices = new Map<string, Map<string, SlimEndpointSlice>>();
  private readonly sliceOwner = new Map<string, string>();
  private readonly namespaces = new Set<string>();
  private readonly servicesPerNamespace = new Map<string, number>();
  private readonly endpointMemo = new Map<string, EndpointAddress[]>();
  /** IP -> the keys (ns/name) of the services that hold it (one key as a plain string, the common case). */
  private readonly reverse = new Map<string, string | string[]>();
  private readonly reverseIPsBySource = new Map<string, string[]>();
  private readonly listeners: (() => void)[] = [];
  /** For `pods verified`: "<ns>/<canonical ip>" -> the pods (ns/name) holding it. */
  private readonly podAddresses = new Map<string, Set<string>>();
  private readonly podIPs = new Map<string, string[]>();
  /** Bumped on every change that can alter an answer. */
  generation = 0;
  /** Unix seconds of the last change (the SOA serial). */
  serial = Math.floor(Date.now() / 1000);

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    this.generation++;
    this.serial = Math.max(this.serial, Math.floor(Date.now() / 1000));
    for (const l of this.listeners) l();
  }

  // ---- updates

  setNamespace(name: string): void {
    if (this.namespaces.has(name)) return;
    this.namespaces.add(name);
    this.changed();
  }

  deleteNamespace(name: string): void {
    if (this.namespaces.delete(name)) this.changed();
  }

  setPod(pod: SlimPod): void {
    const key = `${pod.namespace}/${pod.name}`;
    const ips = pod.ips.map((ip) => `${pod.namespace}/${canonicalIP(ip)}`).sort();
    const old = this.podIPs.get(key) ?? [];
    if (old.length === ips.length && old.every((ip, i) => ip === ips[i])) return;
    this.unindexPod(key);
    for (const ip of ips) {
      let holders = this.podAddresses.get(ip);
      if (!holders) this.podAddresses.set(ip, (holders = new Set()));
      holders.add(key);
    }
    if (ips.length > 0) this.podIPs.set(key, ips);
    this.changed();
  }

  deletePod(namespace: string, name: string): void {
    if (this.unindexPod(`${namespace}/${name}`)) this.changed();
  }

  private unindexPod(key: string): boolean {
    const old = this.podIPs.get(key);
    if (!old) return false;
    for (const ip of old) {
      const holders = this.podAddresses.get(ip);
      holders?.delete(key);
      if (holders?.size === 0) this.podAddresses.delete(ip);
    }
    this.podIPs.delete(key);
    return true;
  }

  /** Whether a pod in `ns` has address `ip` (pods verified). */
  hasPodIP(ns: string, ip: string): boolean {
    return this.podAddresses.has(`${ns}/${canonicalIP(ip)}`);
  }

  setService(svc: SlimService): void {
    const key = `${svc.namespace}/${svc.name}`;
    const old = this.services.get(key);
    if (old && sameService(old, svc)) return;
    this.services.set(key, svc);
    if (!old) this.servicesPerNamespace.set(svc.namespace, (this.servicesPerNamespace.get(svc.namespace) ?? 0) + 1);
    this.endpointMemo.delete(key);
    this.refreshReverse(key);
    this.changed();
  }

  deleteService(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    if (!this.services.delete(key)) return;
    const n = (this.servicesPerNamespace.get(namespace) ?? 1) - 1;
    if (n > 0) this.servicesPerNamespace.set(namespace, n);
    else this.servicesPerNamespace.delete(namespace);
    this.endpointMemo.delete(key);
    this.refreshReverse(key);
    this.changed();
  }

  setEndpointSlice(slice: SlimEndpointSlice): void {
    const sliceKey = `${slice.namespace}/${slice.name}`;
    const owner = slice.serviceName ? `${slice.namespace}/${slice.serviceName}` : undefined;
    const oldOwner = this.sliceOwner.get(sliceKey);
    const oldSlice = oldOwner ? this.slices.get(oldOwner)?.get(slice.name) : undefined;
    if (oldSlice && oldOwner === owner && sameEndpointSlice(oldSlice, slice)) return;
    if (oldOwner && oldOwner !== owner) this.removeSlice(oldOwner, slice.name);
    if (owner) {
      let bySlice = this.slices.get(owner);
      if (!bySlice) this.slices.set(owner, (bySlice = new Map()));
      bySlice.set(slice.name, slice);
      this.sliceOwner.set(sliceKey, owner);
      this.endpointMemo.delete(owner);
      this.refreshReverse(owner);
    } else this.sliceOwner.delete(sliceKey);
    this.changed();
  }

  deleteEndpointSlice(namespace: string, name: string): void {
    const sliceKey = `${namespace}/${name}`;
    const owner = this.sliceOwner.get(sliceKey);
    if (!owner) return;
    this.sliceOwner.delete(sliceKey);
    this.removeSlice(owner, name);
    this.changed();
  }

  private removeSlice(owner: string, sliceName: string): void {
    const bySlice = this.slices.get(owner);
    bySlice?.delete(sliceName);
    if (bySlice?.size === 0) this.slices.delete(owner);
    this.endpointMemo.delete(owner);
    this.refreshReverse(owner);
  }

  private refreshReverse(serviceKey: string): void {
    for (const ip of this.reverseIPsBySource.get(serviceKey) ?? []) {
      const holders = this.reverse.get(ip);
      if (holders === serviceKey || holders === undefined) this.reverse.delete(ip);
      else if (Array.isArray(holders)) {
        const rest = holders.filter((k) => k !== serviceKey);
        if (rest.length === 1) this.reverse.set(ip, rest[0]);
        else this.reverse.set(ip, rest);
      }
    }
    this.reverseIPsBySource.delete(serviceKey);
    const svc = this.services.get(serviceKey);
    if (!svc || svc.type === 'ExternalName') return;
    const ips = new Set<string>();
    for (const ip of svc.clusterIPs) ips.add(canonicalIP(ip));
    for (const ep of this.computeEndpoints(serviceKey)) ips.add(canonicalIP(ep.ip));
    for (const ip of ips) {
      const holders = this.reverse.get(ip);
      if (holders === undefined) this.reverse.set(ip, serviceKey);
      else if (Array.isArray(holders)) holders.push(serviceKey);
      else this.reverse.set(ip, [holders, serviceKey]);
    }
    if (ips.size > 0) this.reverseIPsBySource.set(serviceKey, [...ips]);
  }

  // ---- lookups

  hasNamespace(ns: string): boolean {
    return this.namespaces.has(ns) || this.servicesPerNamespace.has(ns);
  }

  service(ns: string, name: string): SlimService | undefined {
    return this.services.get(`${ns}/${name}`);
  }

  /** Serving addresses of a service: ready endpoints, or all with publishNotReadyAddresses. */
  endpoints(ns: string, name: string): EndpointAddress[] {
    const key = `${ns}/${name}`;
    const memo = this.endpointMemo.get(key);
    if (memo) return memo;
    const out = this.computeEndpoints(key);
    this.endpointMemo.set(key, out);
    return out;
  }

  private computeEndpoints(key: string): EndpointAddress[] {
    const svc = this.services.get(key);
    const out: EndpointAddress[] = [];
    const seen = new Set<string>();
    const slices = [...(this.slices.get(key)?.values() ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const slice of slices) {
      if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
      for (const ep of slice.endpoints) {
        if (!ep.ready && !svc?.publishNotReady) continue;
        for (const ip of ep.addresses) {
          const family = ip.includes(':') ? 6 : 4;
          const id = `${ep.hostname ?? ''}/${ip}`;
          if (seen.has(id)) continue;
          seen.add(id);
          out.push({ label: ep.hostname ?? dashedAddress(ip), ip, family, ports: slice.ports });
        }
      }
    }
    return out;
  }

  /** Names (relative to the zone) that an IP's PTR record points at, sorted. */
  reverseNames(ip: string): string[] {
    const canonical = canonicalIP(ip);
    const holders = this.reverse.get(canonical);
    if (holders === undefined) return [];
    const out = new Set<string>();
    for (const key of Array.isArray(holders) ? holders : [holders]) {
      const svc = this.services.get(key);
      if (!svc) continue;
      const svcName = `${svc.name}.${svc.namespace}.svc`;
      if (svc.clusterIPs.some((c) => canonicalIP(c) === canonical)) out.add(svcName);
      for (const ep of this.endpoints(svc.namespace, svc.name)) if (canonicalIP(ep.ip) === canonical) out.add(`${ep.label}.${svcName}`);
    }
    return [...out].sort();
  }

  get serviceCount(): number {
    return this.services.size;
  }
}

/** One spelling per address, so reverse lookups match however the object wrote it. */
export function canonicalIP(ip: string): string {
  if (!ip.includes(':')) return ip;
  const bytes = parseIPv6(ip);
  return bytes ? formatIPv6(bytes) : ip.toLowerCase();
}
