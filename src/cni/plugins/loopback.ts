// Plugin `flatnet-loopback`: brings `lo` up in the pod namespace. Chained after other plugins it
// passes prevResult through unchanged; alone it reports 127.0.0.1/8 on lo.
import { existsSync } from 'node:fs';
import type { CniEnv } from '../protocol.js';
import { CniError, CniErrorCode, type CniResult, type PluginConf } from '../types.js';
import { listAddressesAtPath } from '../../linux/ip.js';
import { THIS_NAMESPACE, sandboxIpBatch, type NodeHost } from '../node-host.js';
import { CommandError } from '../../linux/exec.js';

export async function loopbackAdd(conf: PluginConf, env: CniEnv, host: NodeHost = THIS_NAMESPACE): Promise<CniResult> {
  if (!existsSync(env.netns)) throw new CniError(CniErrorCode.InvalidEnvironment, `CNI_NETNS ${env.netns} does not exist`);
  try {
    // Without an `ip` process when the caller (the agent) can set links up itself.
    if (host.setLinkUp) host.setLinkUp(env.netns, 'lo');
    else await sandboxIpBatch(env.netns, ['link set dev lo up']);
  } catch (err) {
    throw new CniError(CniErrorCode.KernelFailure, `bringing lo up in ${env.netns} failed`, err instanceof CommandError ? err.stderr : String(err));
  }
  if (conf.prevResult) return { ...conf.prevResult, cniVersion: conf.cniVersion };
  return {
    cniVersion: conf.cniVersion,
    interfaces: [{ name: 'lo', mac: '00:00:00:00:00:00', sandbox: env.netns }],
    ips: [{ address: '127.0.0.1/8', interface: 0 }],
  };
}

export async function loopbackDel(_conf: PluginConf, env: CniEnv): Promise<void> {
  // The namespace may be gone already; then lo is gone with it.
  if (!env.netns || !existsSync(env.netns)) return;
  await sandboxIpBatch(env.netns, ['link set dev lo down']).catch(() => undefined);
}

export async function loopbackCheck(_conf: PluginConf, env: CniEnv): Promise<void> {
  let info;
  try {
    info = await listAddressesAtPath(env.netns, 'lo');
  } catch (err) {
    throw new CniError(CniErrorCode.UnknownContainer, `cannot inspect lo in ${env.netns}`, err instanceof CommandError ? err.stderr : String(err));
  }
  if (!info[0]?.flags?.includes('UP')) throw new CniError(CniErrorCode.InvalidNetworkConfig, `lo is down in ${env.netns}`);
}
