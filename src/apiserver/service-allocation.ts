// Service cluster IPs and node ports: the API server calls this synchronously on Service
// create, update and delete. Two bitmaps (one bit per address of the service CIDR, one per port
// of the node-port range) make every operation O(1) apart from a free-slot scan from a cursor.
// Messages follow upstream's wording so kubectl prints what users know.
import type { FieldError } from '../api/validation/index.js';
import type { KubeObject } from '../api/types.js';

interface ServicePort {
  name?: string;
  port?: number;
  protocol?: string;
  nodePort?: number;
}

interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  ipFamilies?: string[];
  ipFamilyPolicy?: string;
  ports?: ServicePort[];
  externalTrafficPolicy?: string;
  healthCheckNodePort?: number;
  allocateLoadBalancerNodePorts?: boolean;
}

/** A set of small integers [0, size) as bits, with a rolling cursor for "next free". */
class Bitmap {
  private readonly bits: Uint32Array;
  private cursor = 0;
  constructor(readonly size: number) {
    this.bits = new Uint32Array(Math.ceil(size / 32));
  }
  has(i: number): boolean {
    return (this.bits[i >>> 5]! & (1 << (i & 31))) !== 0;
  }
  set(i: number): void {
    this.bits[i >>> 5]! |= 1 << (i & 31);
  }
  clear(i: number): void {
    this.bits[i >>> 5]! &= ~(1 << (i & 31));
  }
  /** The next free index at or after the cursor (wrapping) that `skip` does not refuse. */
  nextFree(skip: (i: number) => boolean, taken: Set<number>): number | undefined {
    for (let n = 0; n < this.size; n++) {
      const i = (this.cursor + n) % this.size;
      if (!this.has(i) && !skip(i) && !taken.has(i)) {
        this.cursor = (i + 1) % this.size;
        return i;
      }
    }
    return undefined;
  }
}

export function parseIPv4(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCIDR(cidr: string): { base: number; prefix: number } {
  const [ip, len] = cidr.split('/');
  const base = ip === undefined ? undefined : parseIPv4(ip);
  const prefix = Number(len);
  if (base === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32 || len === undefined || len === '') {
    throw new Error(`invalid CIDR "${cidr}": want an IPv4 network such as 10.96.0.0/16`);
  }
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (base & mask) >>> 0, prefix };
}

export function parsePortRange(range: string): { first: number; last: number } {
  const m = /^(\d+)-(\d+)$/.exec(range.trim());
  const first = Number(m?.[1]);
  const last = Number(m?.[2]);
  if (!m || first < 1 || last > 65535 || first > last) {
    throw new Error(`invalid node port range "${range}": want <first>-<last> such as 30000-32767`);
  }
  return { first, last };
}

function needsNodePorts(spec: ServiceSpec): boolean {
  return spec.type === 'NodePort' || spec.type === 'LoadBalancer';
}

function needsHealthCheckNodePort(spec: ServiceSpec): boolean {
  return spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
}

function isHeadless(spec: ServiceSpec): boolean {
  return spec.clusterIP === 'None' || spec.clusterIPs?.[0] === 'None';
}

function specOf(svc: KubeObject | undefined): ServiceSpec {
  return ((svc?.spec as ServiceSpec | undefined) ?? {}) as ServiceSpec;
}

/** What a Service holds: an offset in the service CIDR (if any) and node ports. */
interface Holding {
  ip?: number;
  ports: number[];
}

export class ServiceAllocator {
  private readonly base: number;
  private readonly ips: Bitmap;
  private readonly portFirst: number;
  private readonly portLast: number;
  private readonly ports: Bitmap;
  private readonly cidr: string;
  private readonly range: string;

  constructor(opts: { serviceCIDR: string; nodePortRange: string }) {
    const { base, prefix } = parseCIDR(opts.serviceCIDR);
    if (prefix > 29) throw new Error(`service CIDR ${opts.serviceCIDR} is too small: use a /29 or larger`);
    this.base = base;
    this.cidr = `${formatIPv4(base)}/${prefix}`;
    this.ips = new Bitmap(2 ** (32 - prefix));
    const { first, last } = parsePortRange(opts.nodePortRange);
    this.portFirst = first;
    this.portLast = last;
    this.range = `${first}-${last}`;
    this.ports = new Bitmap(last - first + 1);
  }

  /** The address of the `kubernetes` Service (.1 of the range). */
  get kubernetesServiceIP(): string {
    return formatIPv4(this.base + 1);
  }

  /** Marks what existing Services hold (at start, from the store). Conflicts are ignored. */
  load(existing: KubeObject[]): void {
    for (const svc of existing) {
      const h = this.holding(svc);
      if (h.ip !== undefined) this.ips.set(h.ip);
      for (const p of h.ports) this.ports.set(p - this.portFirst);
    }
  }

  /**
   * Fills spec.clusterIP(s), spec.ports[].nodePort and spec.healthCheckNodePort of `svc` (mutated)
   * and records them; with `old` (an update) keeps what `old` holds and releases what `svc` no
   * longer needs. Answers field errors (the API server answers 422) and then changes nothing.
   * With `dryRun` it fills the fields but records nothing.
   */
  allocate(svc: KubeObject, old?: KubeObject, opts: { dryRun?: boolean } = {}): FieldError[] {
    const spec = (svc.spec ??= {}) as ServiceSpec;
    const oldSpec = specOf(old);
    const before = old ? this.holding(old) : { ports: [] };
    const errors: FieldError[] = [];
    if (old) this.keepOldValues(spec, oldSpec);

    // Cluster IP.
    let wantIP: number | undefined;
    const newIPs = new Set<number>();
    if (spec.type === 'ExternalName') {
      // no cluster IP
    } else if (isHeadless(spec)) {
      spec.clusterIP = 'None';
      spec.clusterIPs = ['None'];
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
    } else {
      const requested = spec.clusterIP || spec.clusterIPs?.[0] || '';
      if (requested) {
        const r = this.checkRequestedIP(requested, before.ip);
        if (typeof r === 'string') {
          errors.push({ type: 'FieldValueInvalid', field: 'spec.clusterIPs', message: `Invalid value: []string{"${requested}"}: failed to allocate IP ${requested}: ${r}` });
        } else {
          wantIP = r;
          if (r !== before.ip) newIPs.add(r);
        }
      } else {
        const free = this.ips.nextFree((i) => this.reservedIP(i), newIPs);
        if (free === undefined) {
          errors.push({ type: 'FieldValueInvalid', field: 'spec.clusterIPs', message: `Invalid value: []string{}: failed to allocate a serviceIP: range is full` });
        } else {
          wantIP = free;
          newIPs.add(free);
        }
      }
      if (wantIP !== undefined) {
        spec.clusterIP = formatIPv4(this.base + wantIP);
        spec.clusterIPs = [spec.clusterIP];
      }
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
    }

    // Node ports.
    const wantPorts = new Set<number>();
    const newPorts = new Set<number>();
    const held = new Set(before.ports);
    const takePort = (requested: number | undefined, field: string): number | undefined => {
      if (requested) {
        if (requested < this.portFirst || requested > this.portLast) {
          errors.push({ type: 'FieldValueInvalid', field, message: `Invalid value: ${requested}: provided port is not in the valid range. The range of valid ports is ${this.range}` });
          return undefined;
        }
        const free = (!this.ports.has(requested - this.portFirst) || held.has(requested)) && !wantPorts.has(requested);
        if (!free) {
          errors.push({ type: 'FieldValueInvalid', field, message: `Invalid value: ${requested}: provided port is already allocated` });
          return undefined;
        }
        if (!held.has(requested)) newPorts.add(requested);
        wantPorts.add(requested);
        return requested;
      }
      const free = this.ports.nextFree(() => false, new Set([...newPorts].map((p) => p - this.portFirst)));
      if (free === undefined) {
        errors.push({ type: 'FieldValueInvalid', field, message: `Invalid value: 0: failed to allocate a nodePort: range is full` });
        return undefined;
      }
      const port = free + this.portFirst;
      newPorts.add(port);
      wantPorts.add(port);
      return port;
    };
    const ports = spec.ports ?? [];
    if (needsNodePorts(spec)) {
      const dynamic = !(spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === false);
      // Ports with the same number and different protocols share one node port, as upstream.
      const byServicePort = new Map<number, number>();
      const seen = new Map<string, number>();
      ports.forEach((p, i) => {
        const field = `spec.ports[${i}].nodePort`;
        if (p.nodePort) {
          const key = `${p.nodePort}/${p.protocol ?? 'TCP'}`;
          if (seen.has(key)) {
            errors.push({ type: 'FieldValueDuplicate', field, message: `Duplicate value: "${p.nodePort}"` });
            return;
          }
          seen.set(key, i);
          if (wantPorts.has(p.nodePort)) return; // shared by another protocol of this Service
          const got = takePort(p.nodePort, field);
          if (got !== undefined && p.port !== undefined) byServicePort.set(p.port, got);
        }
      });
      ports.forEach((p, i) => {
        if (p.nodePort || !dynamic) return;
        const shared = p.port !== undefined ? byServicePort.get(p.port) : undefined;
        if (shared !== undefined && !seen.has(`${shared}/${p.protocol ?? 'TCP'}`)) {
          p.nodePort = shared;
          seen.set(`${shared}/${p.protocol ?? 'TCP'}`, i);
          return;
        }
        const got = takePort(undefined, `spec.ports[${i}].nodePort`);
        if (got !== undefined) {
          p.nodePort = got;
          seen.set(`${got}/${p.protocol ?? 'TCP'}`, i);
          if (p.port !== undefined) byServicePort.set(p.port, got);
        }
      });
    } else {
      for (const p of ports) delete p.nodePort;
    }
    if (needsHealthCheckNodePort(spec)) {
      const got = takePort(spec.healthCheckNodePort, 'spec.healthCheckNodePort');
      if (got !== undefined) spec.healthCheckNodePort = got;
    } else {
      delete spec.healthCheckNodePort;
    }

    if (errors.length > 0 || opts.dryRun) return errors;
    // Commit: record the new, release what the old held and the new does not.
    for (const ip of newIPs) this.ips.set(ip);
    if (before.ip !== undefined && before.ip !== wantIP) this.ips.clear(before.ip);
    for (const p of newPorts) this.ports.set(p - this.portFirst);
    for (const p of before.ports) if (!wantPorts.has(p)) this.ports.clear(p - this.portFirst);
    return errors;
  }

  /** Frees what `svc` holds (on delete, or after a dry-run create). */
  release(svc: KubeObject): void {
    const h = this.holding(svc);
    if (h.ip !== undefined) this.ips.clear(h.ip);
    for (const p of h.ports) this.ports.clear(p - this.portFirst);
  }

  /** On update, an empty clusterIP or nodePort means "keep what it has" (the user did not ask to change it). */
  private keepOldValues(spec: ServiceSpec, oldSpec: ServiceSpec): void {
    const oldHasIP = oldSpec.clusterIP && oldSpec.clusterIP !== 'None';
    if (spec.type !== 'ExternalName' && oldHasIP && !spec.clusterIP && !spec.clusterIPs?.length) {
      spec.clusterIP = oldSpec.clusterIP;
      spec.clusterIPs = oldSpec.clusterIPs ?? [oldSpec.clusterIP!];
    }
    if (needsNodePorts(spec) && needsNodePorts(oldSpec)) {
      for (const p of spec.ports ?? []) {
        if (p.nodePort) continue;
        const match = oldSpec.ports?.find((o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP') && o.nodePort);
        if (match) p.nodePort = match.nodePort;
      }
    }
    if (needsHealthCheckNodePort(spec) && needsHealthCheckNodePort(oldSpec) && !spec.healthCheckNodePort) {
      spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
    }
  }

  /** An offset for a requested IP, or the reason it cannot be had. */
  private checkRequestedIP(ip: string, heldByThis: number | undefined): number | string {
    const n = parseIPv4(ip);
    const offset = n === undefined ? -1 : n - this.base;
    if (n === undefined || offset <= 0 || offset >= this.ips.size - 1) {
      return `the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.cidr}`;
    }
    if (this.ips.has(offset) && offset !== heldByThis) return 'provided IP is already allocated';
    return offset;
  }

  /** Offsets dynamic allocation never picks: the network and broadcast addresses, .1 (kubernetes), .10 (kube-dns). */
  private reservedIP(offset: number): boolean {
    return offset === 0 || offset === this.ips.size - 1 || offset === 1 || offset === 10;
  }

  private holding(svc: KubeObject): Holding {
    const spec = specOf(svc);
    const h: Holding = { ports: [] };
    if (spec.type !== 'ExternalName' && spec.clusterIP && spec.clusterIP !== 'None') {
      const n = parseIPv4(spec.clusterIP);
      if (n !== undefined && n - this.base > 0 && n - this.base < this.ips.size) h.ip = n - this.base;
    }
    const inRange = (p: number | undefined): p is number => p !== undefined && p >= this.portFirst && p <= this.portLast;
    if (needsNodePorts(spec)) {
      for (const p of spec.ports ?? []) if (inRange(p.nodePort) && !h.ports.includes(p.nodePort)) h.ports.push(p.nodePort);
    }
    if (needsHealthCheckNodePort(spec) && inRange(spec.healthCheckNodePort) && !h.ports.includes(spec.healthCheckNodePort)) {
      h.ports.push(spec.healthCheckNodePort);
    }
    return h;
  }
}
