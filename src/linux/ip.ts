// Links, addresses, routes, neighbours and FDB entries, written as lines of one `ip -batch -`
// (or `bridge -batch -`) run per change, inside a named namespace. Queries use `ip -j`.
import { runCommand } from './exec.js';

/** Lines for `ip -batch -`; each builder method adds one command. */
export class IpBatch {
  readonly lines: string[] = [];

  get empty(): boolean {
    return this.lines.length === 0;
  }

  raw(line: string): this {
    this.lines.push(line);
    return this;
  }

  addBridge(name: string, opts: { mtu?: number } = {}): this {
    return this.raw(`link add ${name}${opts.mtu ? ` mtu ${opts.mtu}` : ''} type bridge`);
  }

  /** A veth pair; the peer may be created directly in another namespace (a name or a path). */
  addVeth(name: string, peer: string, opts: { mtu?: number; peerNetns?: string; peerMac?: string; mac?: string } = {}): this {
    const mtu = opts.mtu ? ` mtu ${opts.mtu}` : '';
    const mac = opts.mac ? ` address ${opts.mac}` : '';
    const peerMac = opts.peerMac ? ` address ${opts.peerMac}` : '';
    const peerNs = opts.peerNetns ? ` netns ${opts.peerNetns}` : '';
    return this.raw(`link add ${name}${mtu}${mac} type veth peer name ${peer}${mtu}${peerMac}${peerNs}`);
  }

  addVxlan(name: string, opts: { vni: number; port: number; local?: string; device?: string; mtu?: number; mac?: string; learning?: boolean }): this {
    const parts = [`link add ${name}`];
    if (opts.mtu) parts.push(`mtu ${opts.mtu}`);
    if (opts.mac) parts.push(`address ${opts.mac}`);
    parts.push(`type vxlan id ${opts.vni} dstport ${opts.port}`);
    if (opts.local) parts.push(`local ${opts.local}`);
    if (opts.device) parts.push(`dev ${opts.device}`);
    parts.push(opts.learning ? 'learning' : 'nolearning');
    return this.raw(parts.join(' '));
  }

  deleteLink(name: string): this {
    return this.raw(`link del ${name}`);
  }

  setLink(name: string, opts: { up?: boolean; master?: string; mtu?: number; promisc?: boolean; netns?: string; name?: string }): this {
    const parts = [`link set dev ${name}`];
    if (opts.netns) parts.push(`netns ${opts.netns}`);
    if (opts.name) parts.push(`name ${opts.name}`);
    if (opts.mtu) parts.push(`mtu ${opts.mtu}`);
    if (opts.master) parts.push(`master ${opts.master}`);
    if (opts.promisc !== undefined) parts.push(`promisc ${opts.promisc ? 'on' : 'off'}`);
    if (opts.up !== undefined) parts.push(opts.up ? 'up' : 'down');
    return this.raw(parts.join(' '));
  }

  /** Bridge-port options of a link enslaved to a bridge. */
  setBridgePort(name: string, opts: { hairpin?: boolean }): this {
    if (opts.hairpin === undefined) return this;
    return this.raw(`link set dev ${name} type bridge_slave hairpin ${opts.hairpin ? 'on' : 'off'}`);
  }

  /** Adds or keeps an address (`replace` is idempotent). */
  replaceAddress(cidr: string, dev: string, opts: { noprefixroute?: boolean } = {}): this {
    return this.raw(`address replace ${cidr} dev ${dev}${opts.noprefixroute ? ' noprefixroute' : ''}`);
  }

  deleteAddress(cidr: string, dev: string): this {
    return this.raw(`address del ${cidr} dev ${dev}`);
  }

  replaceRoute(route: RouteSpec): this {
    return this.raw(`route replace ${routeArgs(route)}`);
  }

  deleteRoute(route: RouteSpec): this {
    return this.raw(`route del ${routeArgs(route)}`);
  }

  replaceNeighbour(ip: string, mac: string, dev: string): this {
    return this.raw(`neigh replace ${ip} lladdr ${mac} dev ${dev} nud permanent`);
  }

  deleteNeighbour(ip: string, dev: string): this {
    return this.raw(`neigh del ${ip} dev ${dev}`);
  }
}

export interface RouteSpec {
  dst: string;
  via?: string;
  dev?: string;
  onlink?: boolean;
  src?: string;
  /** A routing protocol number that marks the routes a component owns. */
  proto?: number;
  mtu?: number;
}

export function routeArgs(r: RouteSpec): string {
  const parts = [r.dst];
  if (r.via) parts.push(`via ${r.via}`);
  if (r.dev) parts.push(`dev ${r.dev}`);
  if (r.src) parts.push(`src ${r.src}`);
  if (r.proto !== undefined) parts.push(`proto ${r.proto}`);
  if (r.mtu) parts.push(`mtu ${r.mtu}`);
  if (r.onlink) parts.push('onlink');
  return parts.join(' ');
}

/** Runs an `ip -batch -` inside `netns` (a name; undefined = this process's namespace). */
export async function applyIpBatch(netns: string | undefined, batch: IpBatch | string[]): Promise<void> {
  const lines = batch instanceof IpBatch ? batch.lines : batch;
  if (lines.length === 0) return;
  await runCommand(['ip', ...(netns ? ['-n', netns] : []), '-batch', '-'], { input: lines.join('\n') + '\n' });
}

/** Lines for `bridge -batch -` (forwarding database entries of a VXLAN device). */
export class FdbBatch {
  readonly lines: string[] = [];
  get empty(): boolean {
    return this.lines.length === 0;
  }
  replace(mac: string, dev: string, dst: string): this {
    this.lines.push(`fdb replace ${mac} dev ${dev} dst ${dst} self permanent`);
    return this;
  }
  delete(mac: string, dev: string, dst?: string): this {
    this.lines.push(`fdb del ${mac} dev ${dev}${dst ? ` dst ${dst}` : ''} self`);
    return this;
  }
}

export async function applyFdbBatch(netns: string | undefined, batch: FdbBatch): Promise<void> {
  if (batch.empty) return;
  await runCommand(['bridge', ...(netns ? ['-n', netns] : []), '-batch', '-'], { input: batch.lines.join('\n') + '\n' });
}

export interface LinkInfo {
  ifindex: number;
  ifname: string;
  mtu: number;
  address?: string;
  master?: string;
  operstate?: string;
  flags?: string[];
  link_type?: string;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown>; info_slave_kind?: string; info_slave_data?: Record<string, unknown> };
}

export interface AddressInfo extends LinkInfo {
  addr_info: { family: string; local: string; prefixlen: number; scope?: string }[];
}

export interface RouteInfo {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  flags?: string[];
  prefsrc?: string;
}

export interface NeighbourInfo {
  dst: string;
  dev: string;
  lladdr?: string;
  state?: string[];
}

export interface FdbInfo {
  mac: string;
  ifname?: string;
  dst?: string;
  flags?: string[];
  state?: string;
}

async function ipJson<T>(netns: string | undefined, args: string[], tool = 'ip'): Promise<T> {
  const { stdout } = await runCommand([tool, ...(netns ? ['-n', netns] : []), '-j', ...args]);
  const text = stdout.trim();
  return (text ? JSON.parse(text) : []) as T;
}

export function listLinks(netns?: string, opts: { details?: boolean } = {}): Promise<LinkInfo[]> {
  return ipJson<LinkInfo[]>(netns, [...(opts.details ? ['-d'] : []), 'link', 'show']);
}

export async function getLink(netns: string | undefined, name: string, opts: { details?: boolean } = {}): Promise<LinkInfo | undefined> {
  try {
    const links = await ipJson<LinkInfo[]>(netns, [...(opts.details ? ['-d'] : []), 'link', 'show', 'dev', name]);
    return links[0];
  } catch {
    return undefined;
  }
}

export function listAddresses(netns?: string, dev?: string): Promise<AddressInfo[]> {
  return ipJson<AddressInfo[]>(netns, ['address', 'show', ...(dev ? ['dev', dev] : [])]);
}

export function listRoutes(netns?: string, opts: { table?: string; proto?: number } = {}): Promise<RouteInfo[]> {
  const args = ['route', 'show'];
  if (opts.table) args.push('table', opts.table);
  if (opts.proto !== undefined) args.push('proto', String(opts.proto));
  return ipJson<RouteInfo[]>(netns, args);
}

export function listNeighbours(netns?: string, dev?: string): Promise<NeighbourInfo[]> {
  return ipJson<NeighbourInfo[]>(netns, ['neigh', 'show', ...(dev ? ['dev', dev] : [])]);
}

export function listFdb(netns: string | undefined, dev: string): Promise<FdbInfo[]> {
  return ipJson<FdbInfo[]>(netns, ['fdb', 'show', 'dev', dev], 'bridge');
}

/** Runs an `ip -batch -` inside the namespace at a file path (e.g. a CNI_NETNS like /proc/123/ns/net). */
export async function applyIpBatchAtPath(netnsPath: string, batch: IpBatch | string[]): Promise<void> {
  const lines = batch instanceof IpBatch ? batch.lines : batch;
  if (lines.length === 0) return;
  await runCommand(['nsenter', `--net=${netnsPath}`, 'ip', '-batch', '-'], { input: lines.join('\n') + '\n' });
}

/** Addresses of one device in the namespace at a file path. */
export async function listAddressesAtPath(netnsPath: string, dev: string): Promise<AddressInfo[]> {
  const { stdout } = await runCommand(['nsenter', `--net=${netnsPath}`, 'ip', '-j', '-d', 'address', 'show', 'dev', dev]);
  return JSON.parse(stdout.trim() || '[]') as AddressInfo[];
}
