// Chained plugin `flatnet-portmap`: hostPort mappings (capability `portMappings`) as elements of
// nftables maps in table `ip flatnet-hostport` of the node namespace. Traffic to a local address
// and a mapped port is DNAT'ed to the pod; a pod reaching itself through its host port is
// masqueraded (hairpin). DEL removes exactly the elements ADD made; GC removes those of
// attachments that are gone. Which elements belong to whom is kept in <stateDir>/<id>.json.
import { mkdirSync, readFileSync, writeFileSync, renameSync, unlinkSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CniEnv } from '../protocol.js';
import { CniError, CniErrorCode, type Attachment, type CniResult, type PluginConf, type PortMapping } from '../types.js';
import { NftTransaction } from '../../linux/nft.js';
import { CommandError } from '../../linux/exec.js';
import { THIS_NAMESPACE, nodeNft, type NodeHost } from '../node-host.js';

export const HOSTPORT_TABLE = 'flatnet-hostport';
export const DEFAULT_PORTMAP_STATE_DIR = '/var/lib/cni/flatnet-portmap';
const T = HOSTPORT_TABLE;

export interface PortmapConf extends PluginConf {
  stateDir?: string;
  /** Masquerade hairpin traffic (default true). */
  snat?: boolean;
}

interface MappingState {
  containerID: string;
  ifname: string;
  podIP: string;
  /** nft element strings per map/set. */
  hostports: string[];
  hostipHostports: string[];
  hairpins: string[];
}

/** The transaction lines that create the table and its fixed chains (idempotent). */
export function hostportSkeleton(tx: NftTransaction, snat = true): NftTransaction {
  tx.addTable('ip', T)
    .addSet('ip', T, 'hostports', 'type inet_proto . inet_service : ipv4_addr . inet_service;', 'map')
    .addSet('ip', T, 'hostip-hostports', 'type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service;', 'map')
    .addSet('ip', T, 'hairpins', 'type ipv4_addr . ipv4_addr . inet_proto . inet_service;')
    .addChain('ip', T, 'hostports-dnat')
    .addChain('ip', T, 'prerouting', { type: 'nat', hook: 'prerouting', priority: -100 })
    .addChain('ip', T, 'output', { type: 'nat', hook: 'output', priority: -100 })
    .addChain('ip', T, 'postrouting', { type: 'nat', hook: 'postrouting', priority: 100 });
  for (const c of ['hostports-dnat', 'prerouting', 'output', 'postrouting']) tx.flushChain('ip', T, c);
  tx.addRule('ip', T, 'hostports-dnat', 'dnat ip addr . port to ip daddr . meta l4proto . th dport map @hostip-hostports')
    .addRule('ip', T, 'hostports-dnat', 'dnat ip addr . port to meta l4proto . th dport map @hostports')
    .addRule('ip', T, 'prerouting', 'fib daddr type local jump hostports-dnat')
    .addRule('ip', T, 'output', 'ip daddr != 127.0.0.0/8 fib daddr type local jump hostports-dnat');
  if (snat) tx.addRule('ip', T, 'postrouting', 'ct status dnat ip saddr . ip daddr . meta l4proto . th dport @hairpins masquerade');
  return tx;
}

/** Checks the mappings and renders the elements for one pod address. */
export function mappingElements(mappings: PortMapping[], podIP: string): Pick<MappingState, 'hostports' | 'hostipHostports' | 'hairpins'> {
  const out = { hostports: [] as string[], hostipHostports: [] as string[], hairpins: [] as string[] };
  const seen = new Set<string>();
  mappings.forEach((m, i) => {
    const proto = (m.protocol ?? 'tcp').toLowerCase();
    if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') throw new CniError(CniErrorCode.InvalidNetworkConfig, `runtimeConfig.portMappings[${i}].protocol "${m.protocol}" must be tcp, udp or sctp`);
    for (const f of ['hostPort', 'containerPort'] as const) {
      if (!Number.isInteger(m[f]) || m[f] < 1 || m[f] > 65535) throw new CniError(CniErrorCode.InvalidNetworkConfig, `runtimeConfig.portMappings[${i}].${f} ${m[f]} must be a port number 1-65535`);
    }
    const hostIP = m.hostIP && m.hostIP !== '0.0.0.0' ? m.hostIP : undefined;
    if (hostIP?.includes(':')) return; // IPv6 host addresses do not apply to an IPv4 pod
    const key = `${hostIP ?? '*'} ${proto} ${m.hostPort}`;
    if (seen.has(key)) throw new CniError(CniErrorCode.InvalidNetworkConfig, `runtimeConfig.portMappings[${i}] repeats host port ${proto}/${m.hostPort}`);
    seen.add(key);
    if (hostIP) out.hostipHostports.push(`${hostIP} . ${proto} . ${m.hostPort} : ${podIP} . ${m.containerPort}`);
    else out.hostports.push(`${proto} . ${m.hostPort} : ${podIP} . ${m.containerPort}`);
    const hp = `${podIP} . ${podIP} . ${proto} . ${m.containerPort}`;
    if (!out.hairpins.includes(hp)) out.hairpins.push(hp);
  });
  return out;
}

function stateDir(conf: PortmapConf): string {
  return conf.stateDir ?? DEFAULT_PORTMAP_STATE_DIR;
}

function stateFile(conf: PortmapConf, a: Attachment): string {
  return join(stateDir(conf), `${conf.name}-${a.containerID}-${a.ifname}.json`);
}

function podAddress(prev: CniResult | undefined): string | undefined {
  if (!prev?.ips) return undefined;
  const sandboxIfaces = new Set((prev.interfaces ?? []).map((iface, i) => (iface.sandbox ? i : -1)).filter((i) => i >= 0));
  const candidates = prev.ips.filter((ip) => !ip.address.includes(':'));
  const inPod = candidates.find((ip) => ip.interface !== undefined && sandboxIfaces.has(ip.interface)) ?? candidates[0];
  return inPod?.address.split('/')[0];
}

function removeElements(tx: NftTransaction, s: MappingState): void {
  // Adding an element first makes its deletion valid even when it is already gone.
  tx.addElements('ip', T, 'hairpins', s.hairpins).deleteElements('ip', T, 'hairpins', s.hairpins);
  tx.addElements('ip', T, 'hostports', s.hostports).deleteElements('ip', T, 'hostports', s.hostports);
  tx.addElements('ip', T, 'hostip-hostports', s.hostipHostports).deleteElements('ip', T, 'hostip-hostports', s.hostipHostports);
}

// Node namespaces this process has put the hostport table in place in: a long-lived caller (the
// agent) then sends only the elements of each pod. When the table went away meanwhile, the
// transaction fails as a whole and is sent again with the table.
const skeletonIn = new Set<string>();

/** Applies `elements` (the per-pod statements), with the table's skeleton when it may be missing. */
async function applyWithSkeleton(host: NodeHost, snat: boolean, elements: (tx: NftTransaction) => void): Promise<void> {
  const key = host.netns ?? '';
  if (skeletonIn.has(key)) {
    const tx = new NftTransaction();
    elements(tx);
    try {
      await nodeNft(host, tx);
      return;
    } catch (err) {
      if (!(err instanceof CommandError && /No such file or directory/.test(err.stderr))) throw err;
      skeletonIn.delete(key);
    }
  }
  const tx = hostportSkeleton(new NftTransaction(), snat);
  elements(tx);
  await nodeNft(host, tx);
  skeletonIn.add(key);
}

export async function portmapAdd(conf: PortmapConf, env: CniEnv, host: NodeHost = THIS_NAMESPACE): Promise<CniResult> {
  if (!conf.prevResult) throw new CniError(CniErrorCode.InvalidNetworkConfig, 'flatnet-portmap must be chained after a plugin that assigns the pod address (no prevResult)');
  const result: CniResult = { ...conf.prevResult, cniVersion: conf.cniVersion };
  const mappings = conf.runtimeConfig?.portMappings ?? [];
  if (mappings.length === 0) return result;
  const podIP = podAddress(conf.prevResult);
  if (!podIP) throw new CniError(CniErrorCode.InvalidNetworkConfig, 'prevResult has no IPv4 address to map host ports to');
  const els = mappingElements(mappings, podIP);
  const state: MappingState = { containerID: env.containerId, ifname: env.ifName, podIP, ...els };
  try {
    await applyWithSkeleton(host, conf.snat !== false, (tx) => {
      tx.createElements('ip', T, 'hostports', els.hostports).createElements('ip', T, 'hostip-hostports', els.hostipHostports).addElements('ip', T, 'hairpins', els.hairpins);
    });
  } catch (err) {
    const stderr = err instanceof CommandError ? err.stderr : String(err);
    if (/File exists/.test(stderr)) {
      const ports = mappings.map((m) => `${(m.protocol ?? 'tcp').toLowerCase()}/${m.hostPort}`).join(', ');
      throw new CniError(CniErrorCode.HostPortConflict, `host port ${ports} is already mapped to another pod on this node`, 'choose another hostPort or remove the pod that holds it');
    }
    throw new CniError(CniErrorCode.KernelFailure, 'programming host ports with nft failed', stderr);
  }
  try {
    mkdirSync(stateDir(conf), { recursive: true });
    const file = stateFile(conf, { containerID: env.containerId, ifname: env.ifName });
    writeFileSync(`${file}.tmp`, JSON.stringify(state));
    renameSync(`${file}.tmp`, file);
  } catch (err) {
    await applyWithSkeleton(host, conf.snat !== false, (tx) => removeElements(tx, state)).catch(() => undefined);
    throw new CniError(CniErrorCode.IoFailure, `cannot record host port state in ${stateDir(conf)}`, (err as Error).message);
  }
  return result;
}

function readState(file: string): MappingState | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as MappingState;
  } catch {
    return undefined;
  }
}

async function release(host: NodeHost, snat: boolean, file: string, s: MappingState): Promise<void> {
  try {
    await applyWithSkeleton(host, snat, (tx) => removeElements(tx, s));
  } catch (err) {
    throw new CniError(CniErrorCode.KernelFailure, `removing host ports of container ${s.containerID} failed`, err instanceof CommandError ? err.stderr : String(err));
  }
  try {
    unlinkSync(file);
  } catch {
    /* already gone */
  }
}

export async function portmapDel(conf: PortmapConf, env: CniEnv, host: NodeHost = THIS_NAMESPACE): Promise<void> {
  const file = stateFile(conf, { containerID: env.containerId, ifname: env.ifName });
  const s = readState(file);
  if (s) await release(host, conf.snat !== false, file, s);
}

export async function portmapCheck(conf: PortmapConf, env: CniEnv): Promise<void> {
  const mappings = conf.runtimeConfig?.portMappings ?? [];
  const s = readState(stateFile(conf, { containerID: env.containerId, ifname: env.ifName }));
  if (mappings.length > 0 && !s) throw new CniError(CniErrorCode.UnknownContainer, `no host ports are recorded for container ${env.containerId}`);
}

export async function portmapGc(conf: PortmapConf, valid: Attachment[], host: NodeHost = THIS_NAMESPACE): Promise<void> {
  const keep = new Set(valid.map((a) => `${conf.name}-${a.containerID}-${a.ifname}.json`));
  let names: string[];
  try {
    names = readdirSync(stateDir(conf));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(`${conf.name}-`) || !name.endsWith('.json') || keep.has(name)) continue;
    const file = join(stateDir(conf), name);
    const s = readState(file);
    if (s) await release(host, conf.snat !== false, file, s).catch(() => undefined);
  }
}
