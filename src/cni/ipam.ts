// Delegation to the IPAM plugin a main plugin's `ipam.type` names. flatnet's own host-local runs
// in-process (same files, same semantics, one process less per pod); any other IPAM plugin is
// executed from CNI_PATH as the spec describes, in the node's namespace.
import type { CniEnv } from './protocol.js';
import { execPlugin, findPlugin } from './exec-plugin.js';
import { THIS_NAMESPACE, type NodeHost } from './node-host.js';
import { CniError, CniErrorCode, type Attachment, type CniResult, type PluginConf } from './types.js';
import { ipamAdd, ipamCheck, ipamDel, ipamGc, ipamStatus } from './plugins/host-local.js';

export const OWN_IPAM = 'flatnet-host-local';

function ipamType(conf: PluginConf): string {
  const t = conf.ipam?.type;
  if (typeof t !== 'string' || t === '') throw new CniError(CniErrorCode.InvalidNetworkConfig, 'field ipam.type is missing (e.g. "ipam": {"type": "flatnet-host-local", ...})');
  return t;
}

async function delegate(command: string, conf: PluginConf, env: CniEnv, host: NodeHost): Promise<CniResult | undefined> {
  const bin = findPlugin(ipamType(conf), env.path);
  const args = Object.entries(env.args).map(([k, v]) => `${k}=${v}`).join(';');
  const argv = host.netns ? ['ip', 'netns', 'exec', host.netns, bin] : [bin];
  return execPlugin<CniResult>(argv, { command, containerId: env.containerId, netns: env.netns, ifName: env.ifName, args, path: env.path }, JSON.stringify(conf));
}

export async function ipamExecAdd(conf: PluginConf, env: CniEnv, host: NodeHost = THIS_NAMESPACE): Promise<CniResult> {
  if (ipamType(conf) === OWN_IPAM) return ipamAdd({ conf, containerId: env.containerId, ifName: env.ifName, args: env.args });
  const r = await delegate('ADD', conf, env, host);
  if (!r) throw new CniError(CniErrorCode.IoFailure, `IPAM plugin ${conf.ipam?.type} returned no result`);
  return r;
}

export async function ipamExecDel(conf: PluginConf, env: CniEnv, host: NodeHost = THIS_NAMESPACE): Promise<void> {
  if (ipamType(conf) === OWN_IPAM) {
    ipamDel({ conf, containerId: env.containerId, ifName: env.ifName });
    return;
  }
  await delegate('DEL', conf, env, host);
}

export async function ipamExecCheck(conf: PluginConf, env: CniEnv, host: NodeHost = THIS_NAMESPACE): Promise<void> {
  if (ipamType(conf) === OWN_IPAM) return ipamCheck({ conf, containerId: env.containerId, ifName: env.ifName });
  await delegate('CHECK', conf, env, host);
}

export async function ipamExecGc(conf: PluginConf, env: CniEnv, valid: Attachment[], host: NodeHost = THIS_NAMESPACE): Promise<void> {
  if (ipamType(conf) === OWN_IPAM) {
    ipamGc(conf, valid);
    return;
  }
  await delegate('GC', conf, env, host);
}

export async function ipamExecStatus(conf: PluginConf, env: CniEnv, host: NodeHost = THIS_NAMESPACE): Promise<void> {
  if (ipamType(conf) === OWN_IPAM) return ipamStatus(conf);
  await delegate('STATUS', conf, env, host);
}
