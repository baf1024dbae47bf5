// IPAM plugin `flatnet-host-local`: hands out addresses from configured ranges and remembers each
// allocation as one file per address under <dataDir>/<network>/ holding "containerID\r\nifname"
// (the host-local layout). A file is created with link(2), which fails when the name exists, so
// concurrent ADDs never hand out the same address and need no lock.
import { mkdirSync, readdirSync, readFileSync, writeFileSync, renameSync, linkSync, unlinkSync, accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { CniError, CniErrorCode, type Attachment, type CniResult, type CniRoute, type PluginConf } from '../types.js';
import { parseCidr, intToIp, ipToInt, cidrContains, type Cidr } from '../../linux/ipv4.js';

export const DEFAULT_IPAM_DATA_DIR = '/var/lib/cni/networks';

export interface IpRange {
  subnet: string;
  rangeStart?: string;
  rangeEnd?: string;
  gateway?: string;
}

export interface HostLocalConf {
  type: string;
  ranges?: IpRange[][];
  subnet?: string;
  rangeStart?: string;
  rangeEnd?: string;
  gateway?: string;
  routes?: CniRoute[];
  dataDir?: string;
}

interface ResolvedRange {
  cidr: Cidr;
  subnet: string;
  start: number;
  end: number;
  gateway: string;
}

/** Checks the IPAM section and resolves each range's bounds and gateway. */
export function resolveRanges(conf: HostLocalConf): ResolvedRange[] {
  let sets: IpRange[][] = conf.ranges ?? [];
  if (sets.length === 0 && conf.subnet) sets = [[{ subnet: conf.subnet, rangeStart: conf.rangeStart, rangeEnd: conf.rangeEnd, gateway: conf.gateway }]];
  if (sets.length === 0) throw new CniError(CniErrorCode.InvalidNetworkConfig, 'ipam needs "ranges" (or "subnet"): e.g. "ranges": [[{"subnet": "10.244.1.0/24"}]]');
  const out: ResolvedRange[] = [];
  sets.forEach((set, i) => {
    if (!Array.isArray(set) || set.length === 0) throw new CniError(CniErrorCode.InvalidNetworkConfig, `ipam.ranges[${i}] must be a non-empty list of ranges`);
    if (set.length > 1) throw new CniError(CniErrorCode.UnsupportedField, `ipam.ranges[${i}] has ${set.length} ranges; flatnet-host-local supports one range per range set`);
    const r = set[0];
    if (typeof r.subnet !== 'string') throw new CniError(CniErrorCode.InvalidNetworkConfig, `ipam.ranges[${i}][0].subnet is missing`);
    if (r.subnet.includes(':')) throw new CniError(CniErrorCode.UnsupportedField, `ipam.ranges[${i}][0].subnet ${r.subnet}: flatnet-host-local serves IPv4 only`);
    let cidr: Cidr;
    try {
      cidr = parseCidr(r.subnet);
    } catch (err) {
      throw new CniError(CniErrorCode.InvalidNetworkConfig, `ipam.ranges[${i}][0].subnet: ${(err as Error).message}`);
    }
    if (cidr.prefix > 30) throw new CniError(CniErrorCode.InvalidNetworkConfig, `ipam.ranges[${i}][0].subnet ${r.subnet} is too small (need /30 or larger)`);
    const gateway = r.gateway ?? intToIp(cidr.first + 1);
    const start = r.rangeStart ? ipToInt(r.rangeStart) : cidr.first + 1;
    const end = r.rangeEnd ? ipToInt(r.rangeEnd) : cidr.last - 1;
    for (const [field, v] of [['rangeStart', start], ['rangeEnd', end]] as const) {
      if (v < cidr.first + 1 || v > cidr.last - 1) throw new CniError(CniErrorCode.InvalidNetworkConfig, `ipam.ranges[${i}][0].${field} ${intToIp(v)} is outside the usable addresses of ${r.subnet}`);
    }
    if (!cidrContains(cidr, gateway)) throw new CniError(CniErrorCode.InvalidNetworkConfig, `ipam.ranges[${i}][0].gateway ${gateway} is outside ${r.subnet}`);
    out.push({ cidr, subnet: r.subnet, start, end, gateway });
  });
  return out;
}

function networkDir(conf: PluginConf, ipam: HostLocalConf): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(conf.name)) throw new CniError(CniErrorCode.InvalidNetworkConfig, `network name "${conf.name}" cannot be used as a directory name`);
  return join(ipam.dataDir ?? DEFAULT_IPAM_DATA_DIR, conf.name);
}

function ownerText(a: Attachment): string {
  return `${a.containerID}\r\n${a.ifname}`;
}

function parseOwner(text: string): Attachment | undefined {
  const [containerID, ifname] = text.split(/\r?\n/);
  if (!containerID) return undefined;
  return { containerID: containerID.trim(), ifname: (ifname ?? '').trim() };
}

function isIpFileName(name: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(name);
}

/** Reserves one free address of `range` for `owner`; undefined when the range is full. */
function reserve(dir: string, rangeIndex: number, range: ResolvedRange, owner: Attachment, requested?: string): string | undefined {
  const lastFile = join(dir, `last_reserved_ip.${rangeIndex}`);
  const tmp = join(dir, `.reserve-${process.pid}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(tmp, ownerText(owner));
  const gateway = ipToInt(range.gateway);
  const tryTake = (n: number): boolean => {
    if (n === gateway) return false;
    try {
      linkSync(tmp, join(dir, intToIp(n)));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  };
  try {
    if (requested) {
      const n = ipToInt(requested);
      if (n < range.start || n > range.end) throw new CniError(CniErrorCode.InvalidNetworkConfig, `requested IP ${requested} is outside the range ${intToIp(range.start)}-${intToIp(range.end)}`);
      if (!tryTake(n)) throw new CniError(CniErrorCode.InvalidNetworkConfig, `requested IP ${requested} is already allocated`);
      return requested;
    }
    let last = range.start - 1;
    try {
      const n = ipToInt(readFileSync(lastFile, 'utf8').trim());
      if (n >= range.start && n <= range.end) last = n;
    } catch {
      /* first allocation */
    }
    const size = range.end - range.start + 1;
    for (let i = 1; i <= size; i++) {
      const n = range.start + ((last - range.start + i) % size);
      if (tryTake(n)) {
        const lastTmp = `${tmp}.last`;
        writeFileSync(lastTmp, intToIp(n));
        renameSync(lastTmp, lastFile);
        return intToIp(n);
      }
    }
    return undefined;
  } finally {
    unlinkSync(tmp);
  }
}

/** Allocation files of a network: address -> owner. */
function listAllocations(dir: string): Map<string, Attachment | undefined> {
  const out = new Map<string, Attachment | undefined>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    if (!isIpFileName(name)) continue;
    try {
      out.set(name, parseOwner(readFileSync(join(dir, name), 'utf8')));
    } catch {
      /* released meanwhile */
    }
  }
  return out;
}

export interface IpamRequest {
  conf: PluginConf;
  containerId: string;
  ifName: string;
  args: Record<string, string>;
}

export function ipamAdd(req: IpamRequest): CniResult {
  const ipam = req.conf.ipam as HostLocalConf;
  const ranges = resolveRanges(ipam);
  const dir = networkDir(req.conf, ipam);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new CniError(CniErrorCode.IoFailure, `cannot create the IPAM directory ${dir}`, (err as Error).message);
  }
  const owner = { containerID: req.containerId, ifname: req.ifName };
  const requested = req.args.IP ? req.args.IP.split(',') : [];
  const taken: string[] = [];
  const ips: CniResult['ips'] = [];
  try {
    ranges.forEach((range, i) => {
      const want = requested.find((ip) => cidrContains(range.cidr, ip));
      const ip = reserve(dir, i, range, owner, want);
      if (!ip) throw new CniError(CniErrorCode.RangeExhausted, `no free address left in ${range.subnet} for network "${req.conf.name}"`, 'delete unused pods, or give the node a larger pod CIDR');
      taken.push(ip);
      ips.push({ address: `${ip}/${range.cidr.prefix}`, gateway: range.gateway });
    });
  } catch (err) {
    for (const ip of taken) unlinkQuiet(join(dir, ip));
    throw err;
  }
  const result: CniResult = { cniVersion: req.conf.cniVersion, ips };
  if (ipam.routes?.length) result.routes = ipam.routes;
  if (req.conf.dns) result.dns = req.conf.dns;
  return result;
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/** Releases every address held by (containerId, ifName); releasing nothing is fine. */
export function ipamDel(req: Omit<IpamRequest, 'args'>): string[] {
  const ipam = req.conf.ipam as HostLocalConf;
  const dir = networkDir(req.conf, ipam);
  const released: string[] = [];
  for (const [ip, owner] of listAllocations(dir)) {
    if (owner && owner.containerID === req.containerId && owner.ifname === req.ifName) {
      unlinkQuiet(join(dir, ip));
      released.push(ip);
    }
  }
  return released;
}

/** Verifies the addresses in prevResult are still allocated to this attachment. */
export function ipamCheck(req: Omit<IpamRequest, 'args'>): void {
  const ipam = req.conf.ipam as HostLocalConf;
  resolveRanges(ipam);
  const dir = networkDir(req.conf, ipam);
  const allocations = listAllocations(dir);
  const mine = [...allocations].filter(([, o]) => o?.containerID === req.containerId && o.ifname === req.ifName).map(([ip]) => ip);
  if (mine.length === 0) throw new CniError(CniErrorCode.UnknownContainer, `no address is allocated to container ${req.containerId} interface ${req.ifName} in network "${req.conf.name}"`);
  for (const ip of req.conf.prevResult?.ips ?? []) {
    const addr = ip.address.split('/')[0];
    if (!addr.includes(':') && !mine.includes(addr)) throw new CniError(CniErrorCode.InvalidNetworkConfig, `prevResult address ${addr} is not allocated to container ${req.containerId}`);
  }
}

/** Removes allocations of attachments not in `valid`; answers the released addresses. */
export function ipamGc(conf: PluginConf, valid: Attachment[]): string[] {
  const ipam = conf.ipam as HostLocalConf;
  const dir = networkDir(conf, ipam);
  const keep = new Set(valid.map((a) => `${a.containerID}\n${a.ifname}`));
  const released: string[] = [];
  for (const [ip, owner] of listAllocations(dir)) {
    if (!owner || !keep.has(`${owner.containerID}\n${owner.ifname}`)) {
      unlinkQuiet(join(dir, ip));
      released.push(ip);
    }
  }
  return released;
}

/** STATUS: ready when the configuration is valid and the data directory is writable. */
export function ipamStatus(conf: PluginConf): void {
  const ipam = conf.ipam as HostLocalConf;
  resolveRanges(ipam);
  const dir = networkDir(conf, ipam);
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new CniError(CniErrorCode.PluginNotAvailable, `the IPAM directory ${dir} is not writable`, (err as Error).message);
  }
}
