// The agent's fast path to flatnet's own plugins: the same invocation a runtime would exec
// (CNI_* variables, the configuration as stdin text, the same checks and result shaping in
// main.ts) run as a call in this process, with the node-side kernel work sent to the node's
// namespace by name. Other plugin types are still executed from the plugin directories.
import { handleOrThrow, pluginName, type PluginName } from './main.js';
import type { PluginInvocation } from './exec-plugin.js';
import type { NodeHost } from './node-host.js';
import { CniError, type CniResult, type PluginConf } from './types.js';

/** The plugin a configuration's `type` names when it is one of flatnet's own (exact names only). */
export function ownPlugin(type: string): PluginName | undefined {
  const name = pluginName(type);
  return name === type ? name : undefined;
}

/** The CNI_* variables an exec of the same invocation would carry. */
export function invocationVars(inv: PluginInvocation): NodeJS.ProcessEnv {
  const vars: NodeJS.ProcessEnv = { CNI_COMMAND: inv.command, CNI_PATH: inv.path.join(':') };
  if (inv.containerId !== undefined) vars.CNI_CONTAINERID = inv.containerId;
  if (inv.netns !== undefined) vars.CNI_NETNS = inv.netns;
  if (inv.ifName !== undefined) vars.CNI_IFNAME = inv.ifName;
  if (inv.args !== undefined) vars.CNI_ARGS = inv.args;
  return vars;
}

/**
 * Runs one of flatnet's plugins in-process. A failure is the plugin's CniError, its message
 * prefixed with the plugin and verb as an exec'd plugin's failure is.
 */
export async function invokeInProcess(name: PluginName, inv: PluginInvocation, conf: PluginConf, host: NodeHost): Promise<CniResult | undefined> {
  try {
    // The configuration goes through the same text parser an exec'd plugin's stdin does.
    return (await handleOrThrow(name, invocationVars(inv), JSON.stringify(conf), host)) as CniResult | undefined;
  } catch (err) {
    const e = err as CniError;
    throw new CniError(e.code, `${name} ${inv.command}: ${e.message}`, e.details);
  }
}
