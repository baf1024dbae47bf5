// The runtime side of CNI, as the agent uses it: executes the plugin chain of a conflist per the
// spec (CNI_* env + stdin, prevResult chaining, DEL in reverse order, CHECK/STATUS/GC), inside
// the node's namespace, and caches each attachment's final ADD result for DEL and CHECK the way
// libcni does. flatnet's own plugin types are called in-process (in-process.ts) unless asked to
// exec them; any other type is executed from the plugin directories.
import { mkdirSync, readFileSync, writeFileSync, renameSync, unlinkSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execPlugin, findPlugin, type PluginInvocation } from './exec-plugin.js';
import { invokeInProcess, ownPlugin } from './in-process.js';
import { prepareBridge, type BridgeConf } from './plugins/bridge.js';
import type { NodeHost } from './node-host.js';
import { netnsOps } from '../runtime/netns-ops.js';
import { CniError, CniErrorCode, compareVersions, type Attachment, type CniResult, type NetworkConfigList, type PluginConf, type PortMapping } from './types.js';

export interface CniRuntimeOptions {
  conflistPath: string;
  binDirs: string[];
  /** The node namespace the plugins run in (a name under /run/netns); undefined = this one. */
  hostNetns?: string;
  cacheDir: string;
  /**
   * Exec flatnet's own plugins from binDirs like any other plugin (default false: they are
   * called in-process, with the same configuration, checks and results, and no process start).
   */
  execOwnPlugins?: boolean;
}

export interface AttachmentArgs {
  containerId: string;
  netnsPath: string;
  ifName: string;
  podNamespace: string;
  podName: string;
  podUid: string;
  portMappings?: PortMapping[];
}

export interface CniRuntime {
  add(a: AttachmentArgs): Promise<CniResult>;
  del(a: AttachmentArgs): Promise<void>;
  check(a: AttachmentArgs): Promise<void>;
  /** Resolves when every plugin can serve ADD; throws the first plugin's CniError otherwise. */
  status(): Promise<void>;
  gc(validAttachments: Attachment[]): Promise<void>;
  /**
   * Readies the node side before the first ADD: the bridge of flatnet's bridge plugin (in-process
   * only; an exec'd plugin makes it at its first ADD). Resolves when done; the first ADD waits for it.
   */
  prepare(): Promise<void>;
  /** The network configuration list in use. */
  readonly network: NetworkConfigList;
  /** A loopback plugin in the list brings `lo` up in each pod namespace at ADD. */
  readonly configuresLoopback: boolean;
}

interface CacheEntry {
  kind: 'cniCacheV1';
  containerId: string;
  ifName: string;
  networkName: string;
  netnsPath: string;
  cniArgs: string;
  portMappings?: PortMapping[];
  result: CniResult;
}

/** Reads and checks a .conflist file. */
export function loadConflist(path: string): NetworkConfigList {
  let conf: NetworkConfigList;
  try {
    conf = JSON.parse(readFileSync(path, 'utf8')) as NetworkConfigList;
  } catch (err) {
    throw new CniError(CniErrorCode.DecodeFailure, `cannot read CNI network configuration ${path}`, (err as Error).message);
  }
  if (!conf.name) throw new CniError(CniErrorCode.InvalidNetworkConfig, `${path}: field name is missing`);
  if (!conf.cniVersion) throw new CniError(CniErrorCode.InvalidNetworkConfig, `${path}: field cniVersion is missing`);
  if (!Array.isArray(conf.plugins) || conf.plugins.length === 0) throw new CniError(CniErrorCode.InvalidNetworkConfig, `${path}: field plugins must list at least one plugin`);
  conf.plugins.forEach((p, i) => {
    if (typeof p.type !== 'string' || !p.type) throw new CniError(CniErrorCode.InvalidNetworkConfig, `${path}: plugins[${i}].type is missing`);
  });
  return conf;
}

/** The `CNI_ARGS` Kubernetes runtimes pass. */
export function kubernetesCniArgs(a: AttachmentArgs): string {
  return [`IgnoreUnknown=1`, `K8S_POD_NAMESPACE=${a.podNamespace}`, `K8S_POD_NAME=${a.podName}`, `K8S_POD_INFRA_CONTAINER_ID=${a.containerId}`, `K8S_POD_UID=${a.podUid}`].join(';');
}

/** One plugin's stdin: its own config plus name, cniVersion, runtimeConfig and prevResult. */
export function pluginConfig(list: NetworkConfigList, plugin: NetworkConfigList['plugins'][number], extra: { prevResult?: CniResult; portMappings?: PortMapping[]; validAttachments?: Attachment[] }): PluginConf {
  const { capabilities, ...rest } = plugin as PluginConf;
  const conf: PluginConf = { ...rest, type: plugin.type, name: list.name, cniVersion: list.cniVersion };
  const runtimeConfig: Record<string, unknown> = {};
  if (capabilities?.portMappings && extra.portMappings?.length) runtimeConfig.portMappings = extra.portMappings;
  if (Object.keys(runtimeConfig).length > 0) conf.runtimeConfig = runtimeConfig;
  if (extra.prevResult) conf.prevResult = extra.prevResult;
  if (extra.validAttachments) conf['cni.dev/valid-attachments'] = extra.validAttachments;
  return conf;
}

export function createCniRuntime(opts: CniRuntimeOptions): CniRuntime {
  const network = loadConflist(opts.conflistPath);
  const cacheFile = (containerId: string, ifName: string) => join(opts.cacheDir, `${network.name}-${containerId}-${ifName}`);

  // In-process plugins set pod links up through the netns-ops addon when it is built.
  const ops = netnsOps();
  const host: NodeHost = { netns: opts.hostNetns, bridges: new Map(), ...(ops ? { setLinkUp: (nsPath: string, ifName: string) => ops.linkUp(nsPath, ifName) } : {}) };
  const invoke = async (type: string, inv: Omit<PluginInvocation, 'path'>, conf: PluginConf): Promise<CniResult | undefined> => {
    const own = opts.execOwnPlugins ? undefined : ownPlugin(type);
    if (own) return invokeInProcess(own, { ...inv, path: opts.binDirs }, conf, host);
    const bin = findPlugin(type, opts.binDirs);
    const argv = opts.hostNetns ? ['ip', 'netns', 'exec', opts.hostNetns, bin] : [bin];
    return execPlugin<CniResult>(argv, { ...inv, path: opts.binDirs }, JSON.stringify(conf));
  };

  const readCache = (containerId: string, ifName: string): CacheEntry | undefined => {
    try {
      return JSON.parse(readFileSync(cacheFile(containerId, ifName), 'utf8')) as CacheEntry;
    } catch {
      return undefined;
    }
  };

  const supports = (min: string) => compareVersions(network.cniVersion, min) >= 0;

  return {
    network,
    async prepare() {
      if (opts.execOwnPlugins) return;
      for (const plugin of network.plugins) {
        if (ownPlugin(plugin.type) === 'flatnet-bridge') await prepareBridge(pluginConfig(network, plugin, {}) as BridgeConf, host);
      }
    },
    configuresLoopback: network.plugins.some((p) => p.type === 'loopback' || p.type === 'flatnet-loopback'),
    async add(a) {
      const args = kubernetesCniArgs(a);
      let prevResult: CniResult | undefined;
      try {
        for (const plugin of network.plugins) {
          const conf = pluginConfig(network, plugin, { prevResult, portMappings: a.portMappings });
          const r = await invoke(plugin.type, { command: 'ADD', containerId: a.containerId, netns: a.netnsPath, ifName: a.ifName, args }, conf);
          if (!r) throw new CniError(CniErrorCode.IoFailure, `CNI plugin ${plugin.type} ADD returned no result`);
          prevResult = r;
        }
      } catch (err) {
        // A failed ADD leaves nothing behind: the chain is torn down as a DEL would (best effort).
        for (const plugin of [...network.plugins].reverse()) {
          const conf = pluginConfig(network, plugin, { prevResult, portMappings: a.portMappings });
          await invoke(plugin.type, { command: 'DEL', containerId: a.containerId, netns: a.netnsPath, ifName: a.ifName, args }, conf).catch(() => undefined);
        }
        throw err;
      }
      const entry: CacheEntry = { kind: 'cniCacheV1', containerId: a.containerId, ifName: a.ifName, networkName: network.name, netnsPath: a.netnsPath, cniArgs: args, portMappings: a.portMappings, result: prevResult! };
      mkdirSync(opts.cacheDir, { recursive: true });
      const file = cacheFile(a.containerId, a.ifName);
      writeFileSync(`${file}.tmp`, JSON.stringify(entry));
      renameSync(`${file}.tmp`, file);
      return prevResult!;
    },
    async del(a) {
      const cached = readCache(a.containerId, a.ifName);
      const args = kubernetesCniArgs(a);
      let firstErr: unknown;
      for (const plugin of [...network.plugins].reverse()) {
        const conf = pluginConfig(network, plugin, { prevResult: cached?.result, portMappings: a.portMappings ?? cached?.portMappings });
        try {
          await invoke(plugin.type, { command: 'DEL', containerId: a.containerId, netns: a.netnsPath, ifName: a.ifName, args }, conf);
        } catch (err) {
          firstErr ??= err;
        }
      }
      if (firstErr) throw firstErr;
      try {
        unlinkSync(cacheFile(a.containerId, a.ifName));
      } catch {
        /* nothing cached */
      }
    },
    async check(a) {
      if (network.disableCheck) return;
      if (!supports('0.4.0')) throw new CniError(CniErrorCode.IncompatibleVersion, `CHECK needs cniVersion 0.4.0 or later; ${opts.conflistPath} says ${network.cniVersion}`);
      const cached = readCache(a.containerId, a.ifName);
      if (!cached) throw new CniError(CniErrorCode.UnknownContainer, `no cached ADD result for container ${a.containerId} interface ${a.ifName}`);
      const args = kubernetesCniArgs(a);
      for (const plugin of network.plugins) {
        const conf = pluginConfig(network, plugin, { prevResult: cached.result, portMappings: a.portMappings ?? cached.portMappings });
        await invoke(plugin.type, { command: 'CHECK', containerId: a.containerId, netns: a.netnsPath, ifName: a.ifName, args }, conf);
      }
    },
    async status() {
      // STATUS exists from spec 1.1.0; older plugins are assumed ready once they are found.
      for (const plugin of network.plugins) {
        if (!supports('1.1.0')) {
          if (opts.execOwnPlugins || !ownPlugin(plugin.type)) findPlugin(plugin.type, opts.binDirs);
          continue;
        }
        await invoke(plugin.type, { command: 'STATUS' }, pluginConfig(network, plugin, {}));
      }
    },
    async gc(valid) {
      const keep = new Set(valid.map((v) => `${v.containerID}\n${v.ifname}`));
      // Cached results of attachments that are not valid any more go first (libcni does the same).
      let names: string[];
      try {
        names = readdirSync(opts.cacheDir);
      } catch {
        names = [];
      }
      for (const name of names) {
        if (!name.startsWith(`${network.name}-`) || name.endsWith('.tmp')) continue;
        try {
          const entry = JSON.parse(readFileSync(join(opts.cacheDir, name), 'utf8')) as CacheEntry;
          if (!keep.has(`${entry.containerId}\n${entry.ifName}`)) unlinkSync(join(opts.cacheDir, name));
        } catch {
          /* unreadable or gone */
        }
      }
      if (network.disableGC || !supports('1.1.0')) return;
      let firstErr: unknown;
      for (const plugin of network.plugins) {
        try {
          await invoke(plugin.type, { command: 'GC' }, pluginConfig(network, plugin, { validAttachments: valid }));
        } catch (err) {
          firstErr ??= err;
        }
      }
      if (firstErr) throw firstErr;
    },
  };
}
