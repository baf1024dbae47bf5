// Main plugin `flatnet-bridge`: a Linux bridge (default cni0) in the node namespace holding the
// gateway address, and per attachment a veth pair whose host end joins the bridge (hairpin on)
// and whose other end becomes CNI_IFNAME in the pod with the IPAM address and routes.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { CniEnv } from '../protocol.js';
import { CniError, CniErrorCode, type Attachment, type CniInterface, type CniResult, type CniRoute, type PluginConf } from '../types.js';
import { IpBatch, applyIpBatch, getLink, listAddressesAtPath, type LinkInfo } from '../../linux/ip.js';
import { CommandError, runCommand } from '../../linux/exec.js';
import { macFromIp } from '../../linux/ipv4.js';
import { THIS_NAMESPACE, ensureForwarding, nodeIpBatch, sandboxIpBatch, type NodeHost } from '../node-host.js';
import { ipamExecAdd, ipamExecCheck, ipamExecDel, ipamExecGc, ipamExecStatus } from '../ipam.js';
import { resolveRanges, type HostLocalConf } from './host-local.js';

export interface BridgeConf extends PluginConf {
  bridge?: string;
  isGateway?: boolean;
  isDefaultGateway?: boolean;
  hairpinMode?: boolean;
  promiscMode?: boolean;
  mtu?: number;
  ipMasq?: boolean;
}

interface Settings {
  bridge: string;
  isGateway: boolean;
  isDefaultGateway: boolean;
  hairpin: boolean;
  promisc: boolean;
  mtu?: number;
}

function settings(conf: BridgeConf): Settings {
  if (conf.ipMasq) throw new CniError(CniErrorCode.UnsupportedField, 'flatnet-bridge does not implement ipMasq; flatnet masquerades egress in the node overlay (remove "ipMasq")');
  if (!conf.ipam) throw new CniError(CniErrorCode.InvalidNetworkConfig, 'flatnet-bridge needs an "ipam" section');
  const bridge = conf.bridge ?? 'cni0';
  if (bridge.length > 15 || !/^[A-Za-z0-9_.-]+$/.test(bridge)) throw new CniError(CniErrorCode.InvalidNetworkConfig, `bridge name "${bridge}" is not a valid interface name (at most 15 characters)`);
  if (conf.mtu !== undefined && (!Number.isInteger(conf.mtu) || conf.mtu < 68 || conf.mtu > 65535)) throw new CniError(CniErrorCode.InvalidNetworkConfig, `mtu ${conf.mtu} must be an integer between 68 and 65535`);
  if (conf.hairpinMode && conf.promiscMode) throw new CniError(CniErrorCode.InvalidNetworkConfig, 'hairpinMode and promiscMode cannot both be on: choose one way for a pod to reach itself through a Service');
  const isDefaultGateway = conf.isDefaultGateway === true;
  return { bridge, isGateway: conf.isGateway === true || isDefaultGateway, isDefaultGateway, hairpin: conf.hairpinMode === true, promisc: conf.promiscMode === true, mtu: conf.mtu };
}

/** The host-side veth name: stable for (containerID, ifname), 15 characters. */
export function hostVethName(containerId: string, ifName: string): string {
  return 'veth' + createHash('sha1').update(`${containerId}/${ifName}`).digest('hex').slice(0, 11);
}

function kernelError(what: string, err: unknown): CniError {
  if (err instanceof CniError) return err;
  const detail = err instanceof CommandError ? err.stderr.trim() : (err as Error).message;
  return new CniError(CniErrorCode.KernelFailure, `${what} failed`, detail);
}

/** True when a batch failed at its first line because `dev` does not exist (nothing applied). */
function missingAtFirstLine(err: unknown, dev: string): boolean {
  return err instanceof CommandError && err.stderr.includes(`Cannot find device "${dev}"`) && /Command failed -:1\b/.test(err.stderr);
}

/** Creates the bridge (a concurrent ADD may win the race; that is fine). */
async function createBridge(host: NodeHost, s: Settings, gatewayCidrs: string[]): Promise<void> {
  const gw = gatewayCidrs[0]?.split('/')[0];
  try {
    await applyIpBatch(host.netns, [`link add ${s.bridge}${gw ? ` address ${macFromIp(gw)}` : ''} type bridge`]);
  } catch (err) {
    if (!(err instanceof CommandError && /File exists/.test(err.stderr))) throw kernelError(`creating bridge ${s.bridge}`, err);
  }
}

/**
 * The bridge of this runtime's host, made once: the first ADDs of a new node (a burst of them,
 * sharing one `ip` process through the coalescer) wait for the one creation instead of each
 * failing its batch on the missing bridge. Undefined for an exec'd plugin (no memory across ADDs).
 */
function bridgeMade(host: NodeHost, s: Settings, gatewayCidrs: string[]): Promise<void> | undefined {
  const made = host.bridges;
  if (!made) return undefined;
  let p = made.get(s.bridge);
  if (!p) {
    const creating = createBridge(host, s, gatewayCidrs);
    made.set(s.bridge, creating);
    creating.catch(() => {
      if (made.get(s.bridge) === creating) made.delete(s.bridge);
    });
    p = creating;
  }
  return p;
}

/**
 * Makes the node's bridge ahead of the first ADD (the agent's runtime calls it when it loads the
 * network, while the node is still getting ready), with the MAC the first ADD would give it: from
 * the host-local range's gateway. Nothing for a plugin that is not a gateway or another IPAM type
 * (the first ADD makes the bridge then).
 */
export async function prepareBridge(conf: BridgeConf, host: NodeHost): Promise<void> {
  const s = settings(conf);
  const ipam = conf.ipam as (HostLocalConf & { type?: string }) | undefined;
  if (!s.isGateway || !ipam || !['host-local', 'flatnet-host-local'].includes(ipam.type ?? '')) return;
  const gatewayCidrs = resolveRanges(ipam).map((r) => `${r.gateway}/${r.cidr.prefix}`);
  await bridgeMade(host, s, gatewayCidrs.slice(0, 1));
}

function macOf(shown: unknown[] | undefined): string | undefined {
  const link = shown?.[0] as LinkInfo | undefined;
  return link?.address;
}

/**
 * The node side of one attachment in one `ip -batch`: the bridge up with its gateway address,
 * the veth pair (peer created in the pod), the host end on the bridge; the batch ends with
 * `show` lines answering the bridge's and the veth's MAC. The bridge exists: made by this
 * runtime before (in-process, bridgeMade), or by an earlier ADD; when it does not (an exec'd
 * plugin's first ADD, a bridge deleted since), the batch fails at its first line with nothing
 * applied, the bridge is created and the batch runs again.
 */
async function plumbHostSide(host: NodeHost, s: Settings, gatewayCidrs: string[], veth: string, env: CniEnv, podMac: string): Promise<{ bridgeMac?: string; vethMac?: string }> {
  const batch = new IpBatch().setLink(s.bridge, { up: true, ...(s.promisc ? { promisc: true } : {}) });
  for (const cidr of gatewayCidrs) batch.replaceAddress(cidr, s.bridge);
  batch.addVeth(veth, env.ifName, { mtu: s.mtu, peerNetns: env.netns, peerMac: podMac }).setLink(veth, { master: s.bridge, up: true });
  if (s.hairpin) batch.setBridgePort(veth, { hairpin: true });
  batch.raw(`link show dev ${s.bridge}`).raw(`link show dev ${veth}`);
  await bridgeMade(host, s, gatewayCidrs)?.catch(() => undefined); // failed: the batch below finds out and tries again
  let shown: unknown[][];
  try {
    shown = await nodeIpBatch(host, batch.lines, { json: true });
  } catch (err) {
    if (!missingAtFirstLine(err, s.bridge)) throw err;
    await createBridge(host, s, gatewayCidrs);
    shown = await nodeIpBatch(host, batch.lines, { json: true });
  }
  return { bridgeMac: macOf(shown[0]), vethMac: macOf(shown[1]) };
}

export async function bridgeAdd(conf: BridgeConf, env: CniEnv, host: NodeHost = THIS_NAMESPACE): Promise<CniResult> {
  const s = settings(conf);
  if (!existsSync(env.netns)) throw new CniError(CniErrorCode.InvalidEnvironment, `CNI_NETNS ${env.netns} does not exist`);
  const ipamResult = await ipamExecAdd(conf, env, host);
  const v4 = (ipamResult.ips ?? []).filter((ip) => !ip.address.includes(':'));
  if (v4.length === 0) {
    await ipamExecDel(conf, env, host).catch(() => undefined);
    throw new CniError(CniErrorCode.UnsupportedField, 'the IPAM plugin returned no IPv4 address; flatnet-bridge configures IPv4 only');
  }
  const veth = hostVethName(env.containerId, env.ifName);
  try {
    const gatewayCidrs = s.isGateway ? v4.filter((ip) => ip.gateway).map((ip) => `${ip.gateway}/${ip.address.split('/')[1]}`) : [];
    if (s.isGateway) {
      await ensureForwarding(host).catch((err) => {
        throw kernelError('enabling net.ipv4.ip_forward in the node namespace', err);
      });
    }
    const podMac = macFromIp(v4[0].address.split('/')[0]);
    const macs = await plumbHostSide(host, s, gatewayCidrs, veth, env, podMac).catch((err) => {
      throw kernelError(`creating veth ${veth} for ${env.ifName}`, err);
    });
    const routes: CniRoute[] = [...(ipamResult.routes ?? [])];
    if (s.isDefaultGateway && v4[0].gateway && !routes.some((r) => r.dst === '0.0.0.0/0')) routes.push({ dst: '0.0.0.0/0', gw: v4[0].gateway });
    const pod = new IpBatch();
    for (const ip of v4) pod.raw(`address add ${ip.address} dev ${env.ifName}`);
    pod.setLink(env.ifName, { up: true });
    for (const r of routes) {
      if (r.dst.includes(':')) continue;
      const gw = r.gw ?? v4[0].gateway;
      pod.raw(`route replace ${r.dst}${gw ? ` via ${gw}` : ''} dev ${env.ifName}${r.mtu ? ` mtu ${r.mtu}` : ''}`);
    }
    await sandboxIpBatch(env.netns, pod.lines).catch((err) => {
      throw kernelError(`configuring ${env.ifName} in ${env.netns}`, err);
    });
    const interfaces: CniInterface[] = [
      { name: s.bridge, mac: macs.bridgeMac },
      { name: veth, mac: macs.vethMac, ...(s.mtu ? { mtu: s.mtu } : {}) },
      { name: env.ifName, mac: podMac, ...(s.mtu ? { mtu: s.mtu } : {}), sandbox: env.netns },
    ];
    const result: CniResult = {
      cniVersion: conf.cniVersion,
      interfaces,
      ips: v4.map((ip) => ({ address: ip.address, ...(ip.gateway ? { gateway: ip.gateway } : {}), interface: 2 })),
      routes,
    };
    const dns = conf.dns ?? ipamResult.dns;
    if (dns && Object.keys(dns).length > 0) result.dns = dns;
    return result;
  } catch (err) {
    await ipamExecDel(conf, env, host).catch(() => undefined);
    await applyIpBatch(host.netns, new IpBatch().deleteLink(veth)).catch(() => undefined);
    throw err;
  }
}

export async function bridgeDel(conf: BridgeConf, env: CniEnv, host: NodeHost = THIS_NAMESPACE): Promise<void> {
  settings(conf);
  let ipamErr: unknown;
  try {
    await ipamExecDel(conf, env, host);
  } catch (err) {
    ipamErr = err;
  }
  const veth = hostVethName(env.containerId, env.ifName);
  try {
    // Deletions of a burst of pods share one process (a lone failure still names its device).
    await nodeIpBatch(host, new IpBatch().deleteLink(veth).lines);
  } catch (err) {
    if (!(err instanceof CommandError && /Cannot find device|does not exist/.test(err.stderr))) throw kernelError(`deleting veth ${veth}`, err);
  }
  if (ipamErr) throw ipamErr;
}

export async function bridgeCheck(conf: BridgeConf, env: CniEnv, host: NodeHost = THIS_NAMESPACE): Promise<void> {
  const s = settings(conf);
  const prev = conf.prevResult!;
  const veth = hostVethName(env.containerId, env.ifName);
  if (!(await getLink(host.netns, s.bridge))) throw new CniError(CniErrorCode.InvalidNetworkConfig, `bridge ${s.bridge} does not exist`);
  const link = await getLink(host.netns, veth);
  if (!link) throw new CniError(CniErrorCode.UnknownContainer, `host veth ${veth} of container ${env.containerId} does not exist`);
  const master = link.master;
  if (master !== s.bridge) throw new CniError(CniErrorCode.InvalidNetworkConfig, `host veth ${veth} is attached to ${master ?? 'no bridge'}, expected ${s.bridge}`);
  let addrs;
  try {
    addrs = await listAddressesAtPath(env.netns, env.ifName);
  } catch (err) {
    throw new CniError(CniErrorCode.UnknownContainer, `interface ${env.ifName} is missing in ${env.netns}`, err instanceof CommandError ? err.stderr : String(err));
  }
  const have = new Set((addrs[0]?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`));
  for (const ip of prev.ips ?? []) {
    if (!ip.address.includes(':') && !have.has(ip.address)) throw new CniError(CniErrorCode.InvalidNetworkConfig, `interface ${env.ifName} in ${env.netns} lacks address ${ip.address}`);
  }
  await ipamExecCheck(conf, env, host);
}

export async function bridgeGc(conf: BridgeConf, env: CniEnv, valid: Attachment[], host: NodeHost = THIS_NAMESPACE): Promise<void> {
  settings(conf);
  await ipamExecGc(conf, env, valid, host);
  // Host veths of pods whose namespace is gone vanished with it; a veth still present whose
  // attachment is not valid is removed.
  const names = new Set(valid.map((a) => hostVethName(a.containerID, a.ifname)));
  const { stdout } = await runCommand(['ip', ...(host.netns ? ['-n', host.netns] : []), '-o', 'link', 'show', 'type', 'veth']).catch(() => ({ stdout: '' }));
  const stale = stdout
    .split('\n')
    .map((l) => /^\d+:\s+([^@:]+)/.exec(l)?.[1])
    .filter((n): n is string => !!n && /^veth[0-9a-f]{11}$/.test(n) && !names.has(n));
  if (stale.length) await applyIpBatch(host.netns, stale.map((n) => `link del ${n}`)).catch(() => undefined);
}

export async function bridgeStatus(conf: BridgeConf, env: CniEnv, host: NodeHost = THIS_NAMESPACE): Promise<void> {
  settings(conf);
  await ipamExecStatus(conf, env, host);
}
