// `flatnet cni <plugin>`: one entry point for flatnet's CNI plugins. It reads the CNI_*
// variables and the configuration on stdin, runs the verb, prints the result (or the spec's
// error object) on stdout and answers the exit code. Plugin modules load on demand.
import type { CniEnv, CniCommand } from './protocol.js';
import { THIS_NAMESPACE, type NodeHost } from './node-host.js';
import { CniError, CniErrorCode, type Attachment, type CniResult, type PluginConf } from './types.js';
import { normaliseResult, parseCniEnv, parsePluginConf, resultForVersion, versionResult } from './protocol.js';

export const PLUGIN_NAMES = ['flatnet-bridge', 'flatnet-host-local', 'flatnet-loopback', 'flatnet-portmap'] as const;
export type PluginName = (typeof PLUGIN_NAMES)[number];

/** One plugin's verbs; `host` says where its node-side kernel work goes. */
interface Plugin {
  add(conf: PluginConf, env: CniEnv, host: NodeHost): Promise<CniResult>;
  del(conf: PluginConf, env: CniEnv, host: NodeHost): Promise<void>;
  check(conf: PluginConf, env: CniEnv, host: NodeHost): Promise<void>;
  gc(conf: PluginConf, env: CniEnv, valid: Attachment[], host: NodeHost): Promise<void>;
  status(conf: PluginConf, env: CniEnv, host: NodeHost): Promise<void>;
}

async function loadPlugin(name: PluginName): Promise<Plugin> {
  switch (name) {
    case 'flatnet-bridge': {
      const m = await import('./plugins/bridge.js');
      return { add: m.bridgeAdd, del: m.bridgeDel, check: m.bridgeCheck, gc: m.bridgeGc, status: m.bridgeStatus };
    }
    case 'flatnet-host-local': {
      const m = await import('./plugins/host-local.js');
      return {
        add: async (conf, env) => m.ipamAdd({ conf, containerId: env.containerId, ifName: env.ifName, args: env.args }),
        del: async (conf, env) => void m.ipamDel({ conf, containerId: env.containerId, ifName: env.ifName }),
        check: async (conf, env) => m.ipamCheck({ conf, containerId: env.containerId, ifName: env.ifName }),
        gc: async (conf, _env, valid) => void m.ipamGc(conf, valid),
        status: async (conf) => m.ipamStatus(conf),
      };
    }
    case 'flatnet-loopback': {
      const m = await import('./plugins/loopback.js');
      return { add: m.loopbackAdd, del: m.loopbackDel, check: m.loopbackCheck, gc: async () => undefined, status: async () => undefined };
    }
    case 'flatnet-portmap': {
      const m = await import('./plugins/portmap.js');
      return { add: m.portmapAdd, del: m.portmapDel, check: m.portmapCheck, gc: (conf, _env, valid, host) => m.portmapGc(conf, valid, host), status: async () => undefined };
    }
  }
}

/** Accepts `bridge` as well as `flatnet-bridge`. */
export function pluginName(arg: string | undefined): PluginName | undefined {
  if (!arg) return undefined;
  const full = arg.startsWith('flatnet-') ? arg : `flatnet-${arg}`;
  return (PLUGIN_NAMES as readonly string[]).includes(full) ? (full as PluginName) : undefined;
}

export interface CniIo {
  env: NodeJS.ProcessEnv;
  stdin: string;
  write(text: string): void;
}

/** What one invocation printed on success: a result, VERSION's answer, or nothing. */
export type CniOutput = CniResult | ReturnType<typeof versionResult> | undefined;

/**
 * One CNI invocation from its CNI_* variables and stdin text: the whole protocol (checks,
 * version shaping) around the plugin's verb. Throws the CniError the plugin would print.
 * The exec'd entry and the agent's in-process path both come through here.
 */
export async function handle(name: PluginName, vars: NodeJS.ProcessEnv, stdin: string, host: NodeHost = THIS_NAMESPACE): Promise<{ version: string; output: CniOutput }> {
  const env = parseCniEnv(vars);
  const conf = parsePluginConf(stdin, env.command);
  const version = conf.cniVersion;
  try {
    if (env.command === 'VERSION') return { version, output: { ...versionResult(), cniVersion: conf.cniVersion === '0.1.0' ? '1.1.0' : conf.cniVersion } };
    conf.prevResult = normaliseResult(conf.prevResult);
    const plugin = await loadPlugin(name);
    const result = await runVerb(plugin, env.command, conf, env, host);
    return { version, output: result ? resultForVersion(result, conf.cniVersion) : undefined };
  } catch (err) {
    throw new VersionedError(asCniError(err), version);
  }
}

/** A plugin's error with the cniVersion of the configuration it failed on (for its JSON). */
class VersionedError extends Error {
  constructor(
    readonly error: CniError,
    readonly version: string,
  ) {
    super(error.message);
  }
}

function asCniError(err: unknown): CniError {
  if (err instanceof VersionedError) return err.error;
  return err instanceof CniError ? err : new CniError(CniErrorCode.IoFailure, (err as Error).message ?? String(err));
}

/** Runs `handle` and unwraps its error to the plugin's CniError. */
export async function handleOrThrow(name: PluginName, vars: NodeJS.ProcessEnv, stdin: string, host: NodeHost): Promise<CniOutput> {
  try {
    return (await handle(name, vars, stdin, host)).output;
  } catch (err) {
    throw asCniError(err);
  }
}

/** Runs one CNI invocation; answers the exit code. */
export async function invoke(name: PluginName, io: CniIo): Promise<number> {
  try {
    const { output } = await handle(name, io.env, io.stdin);
    if (output) io.write(JSON.stringify(output));
    return 0;
  } catch (err) {
    const version = err instanceof VersionedError ? err.version : '1.1.0';
    io.write(JSON.stringify(asCniError(err).toJSON(version)));
    return 1;
  }
}

async function runVerb(plugin: Plugin, command: CniCommand, conf: PluginConf, env: CniEnv, host: NodeHost): Promise<CniResult | undefined> {
  switch (command) {
    case 'ADD':
      return plugin.add(conf, env, host);
    case 'DEL':
      await plugin.del(conf, env, host);
      return undefined;
    case 'CHECK':
      await plugin.check(conf, env, host);
      return undefined;
    case 'STATUS':
      await plugin.status(conf, env, host);
      return undefined;
    case 'GC': {
      const valid = conf['cni.dev/valid-attachments'] ?? [];
      if (!Array.isArray(valid)) throw new CniError(CniErrorCode.InvalidNetworkConfig, 'cni.dev/valid-attachments must be a list of {containerID, ifname}');
      await plugin.gc(conf, env, valid, host);
      return undefined;
    }
    case 'VERSION':
      return undefined;
  }
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

/** `flatnet cni <plugin>`: the plugin named by the first argument. */
export async function run(args: string[]): Promise<number> {
  const name = pluginName(args[0]);
  if (!name) {
    process.stderr.write(`usage: flatnet cni <plugin>   (plugins: ${PLUGIN_NAMES.join(', ')})\n` + 'The CNI_* variables and the network configuration on stdin select what it does (CNI spec 1.1).\n');
    return 2;
  }
  const stdin = await readStdin();
  return invoke(name, { env: process.env, stdin, write: (t) => process.stdout.write(t + '\n') });
}
