// Applies overlay state to a node namespace: the VXLAN device, forwarding, the masquerade table,
// and route/neighbour/FDB differences in one `ip -batch` and one `bridge -batch` each.
import { createHash } from 'node:crypto';
import { IpBatch, FdbBatch, applyIpBatch, applyFdbBatch, getLink, listAddresses, listRoutes, listNeighbours, listFdb } from '../linux/ip.js';
import { NftTransaction } from '../linux/nft.js';
import { setSysctls } from '../linux/sysctl.js';
import { CommandError } from '../linux/exec.js';
import {
  OVERLAY_ROUTE_PROTO,
  VXLAN_DEVICE,
  VXLAN_OVERHEAD,
  VXLAN_PORT,
  VXLAN_VNI,
  masqueradeRules,
  vtepAddress,
  type OverlayDiff,
  type OverlayMode,
  type OverlayState,
} from './model.js';

export const OVERLAY_TABLE = 'flatnet-overlay';

/** A stable, locally administered unicast MAC for a node's VTEP (the same across restarts). */
export function vtepMacForNode(nodeName: string): string {
  const h = createHash('sha256').update(`flatnet-vtep/${nodeName}`).digest();
  const bytes = [0x0e, h[0], h[1], h[2], h[3], h[4]];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export interface UnderlayInfo {
  address: string;
  mtu: number;
}

/** The underlay device's first IPv4 address and its MTU. */
export async function underlayInfo(netns: string | undefined, device: string): Promise<UnderlayInfo> {
  const addrs = await listAddresses(netns, device).catch((err) => {
    throw new Error(`underlay device ${device} not found in namespace ${netns ?? '(current)'}: ${err instanceof CommandError ? err.stderr.trim() : String(err)}`);
  });
  const a = addrs[0]?.addr_info.find((x) => x.family === 'inet');
  if (!a) throw new Error(`underlay device ${device} in namespace ${netns ?? '(current)'} has no IPv4 address; give it the node address first`);
  return { address: a.local, mtu: addrs[0].mtu };
}

/** Creates (or keeps, when it already matches) the VXLAN device with its /32 VTEP address. */
export async function ensureVxlanDevice(netns: string | undefined, opts: { underlayDevice: string; localIP: string; mtu: number; mac: string; podCIDR: string }): Promise<void> {
  const existing = await getLink(netns, VXLAN_DEVICE, { details: true });
  const data = existing?.linkinfo?.info_data as { id?: number; local?: string; port?: number } | undefined;
  const matches = existing && data?.id === VXLAN_VNI && data?.local === opts.localIP && data?.port === VXLAN_PORT && existing.address === opts.mac;
  const b = new IpBatch();
  if (existing && !matches) b.deleteLink(VXLAN_DEVICE);
  if (!matches) b.addVxlan(VXLAN_DEVICE, { vni: VXLAN_VNI, port: VXLAN_PORT, local: opts.localIP, device: opts.underlayDevice, mtu: opts.mtu, mac: opts.mac });
  b.setLink(VXLAN_DEVICE, { mtu: opts.mtu, up: true });
  b.replaceAddress(`${vtepAddress(opts.podCIDR)}/32`, VXLAN_DEVICE);
  await applyIpBatch(netns, b);
}

export async function removeVxlanDevice(netns: string | undefined): Promise<void> {
  if (await getLink(netns, VXLAN_DEVICE)) await applyIpBatch(netns, new IpBatch().deleteLink(VXLAN_DEVICE));
}

/** Forwarding on, and the masquerade table (replaced atomically). */
export async function programNodeBasics(netns: string | undefined, clusterCIDR: string): Promise<void> {
  await setSysctls(netns, { 'net.ipv4.ip_forward': 1 });
  const tx = new NftTransaction()
    .deleteTableIfExists('ip', OVERLAY_TABLE)
    .addTable('ip', OVERLAY_TABLE)
    .addChain('ip', OVERLAY_TABLE, 'postrouting', { type: 'nat', hook: 'postrouting', priority: 100 });
  for (const rule of masqueradeRules(clusterCIDR)) tx.addRule('ip', OVERLAY_TABLE, 'postrouting', rule);
  await tx.apply(netns);
}

export async function removeNodeBasics(netns: string | undefined): Promise<void> {
  await new NftTransaction().deleteTableIfExists('ip', OVERLAY_TABLE).apply(netns);
}

/** Applies a diff: deletions first (routes before neighbours and FDB), then additions in reverse. */
export async function applyOverlayDiff(netns: string | undefined, diff: OverlayDiff): Promise<void> {
  const del = new IpBatch();
  for (const r of diff.delRoutes) del.raw(`route del ${r.dst} proto ${OVERLAY_ROUTE_PROTO}`);
  for (const n of diff.delNeighbours) del.deleteNeighbour(n.ip, VXLAN_DEVICE);
  await applyIpBatch(netns, del);
  const fdbDel = new FdbBatch();
  for (const f of diff.delFdb) fdbDel.delete(f.mac, VXLAN_DEVICE, f.dst);
  await applyFdbBatch(netns, fdbDel);
  const fdbAdd = new FdbBatch();
  for (const f of diff.addFdb) fdbAdd.replace(f.mac, VXLAN_DEVICE, f.dst);
  await applyFdbBatch(netns, fdbAdd);
  const add = new IpBatch();
  for (const n of diff.addNeighbours) add.replaceNeighbour(n.ip, n.mac, VXLAN_DEVICE);
  for (const r of diff.addRoutes) add.replaceRoute({ dst: r.dst, via: r.via, dev: r.dev, onlink: r.onlink, proto: OVERLAY_ROUTE_PROTO });
  await applyIpBatch(netns, add);
}

/** Reads what the overlay owns from the kernel (its routes, the VXLAN device's entries). */
export async function readOverlayState(netns: string | undefined, mode: OverlayMode): Promise<OverlayState> {
  const routes = (await listRoutes(netns, { proto: OVERLAY_ROUTE_PROTO })).map((r) => ({
    dst: r.dst,
    via: r.gateway ?? '',
    dev: r.dev ?? '',
    onlink: (r.flags ?? []).includes('onlink'),
  }));
  if (mode !== 'vxlan' || !(await getLink(netns, VXLAN_DEVICE))) return { routes, neighbours: [], fdb: [] };
  const neighbours = (await listNeighbours(netns, VXLAN_DEVICE)).filter((n) => n.lladdr && (n.state ?? []).includes('PERMANENT')).map((n) => ({ ip: n.dst, mac: n.lladdr!.toLowerCase() }));
  const fdb = (await listFdb(netns, VXLAN_DEVICE)).filter((f) => f.dst && f.mac !== '00:00:00:00:00:00').map((f) => ({ mac: f.mac.toLowerCase(), dst: f.dst! }));
  return { routes, neighbours, fdb };
}

export function vxlanMtu(underlayMtu: number): number {
  return underlayMtu - VXLAN_OVERHEAD;
}
