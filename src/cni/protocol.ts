// The plugin side of the CNI protocol: read CNI_* variables and the stdin configuration, check
// them, and shape results for the requested spec version.
import { CniError, CniErrorCode, SUPPORTED_VERSIONS, compareVersions, type CniResult, type PluginConf } from './types.js';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'VERSION' | 'GC';
const COMMANDS: CniCommand[] = ['ADD', 'DEL', 'CHECK', 'STATUS', 'VERSION', 'GC'];

export interface CniEnv {
  command: CniCommand;
  containerId: string;
  netns: string;
  ifName: string;
  args: Record<string, string>;
  path: string[];
}

/** Reads and validates the CNI_* variables the command needs. */
export function parseCniEnv(env: NodeJS.ProcessEnv): CniEnv {
  const command = env.CNI_COMMAND as CniCommand | undefined;
  if (!command) throw new CniError(CniErrorCode.InvalidEnvironment, 'CNI_COMMAND is not set', 'set CNI_COMMAND to one of ' + COMMANDS.join(', '));
  if (!COMMANDS.includes(command)) throw new CniError(CniErrorCode.InvalidEnvironment, `unknown CNI_COMMAND "${command}"`, 'expected one of ' + COMMANDS.join(', '));
  const need = (name: string, when: CniCommand[]) => {
    const v = env[name] ?? '';
    if (when.includes(command) && v === '') throw new CniError(CniErrorCode.InvalidEnvironment, `${name} is required for ${command}`);
    return v;
  };
  const containerId = need('CNI_CONTAINERID', ['ADD', 'DEL', 'CHECK']);
  if (containerId && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(containerId)) {
    throw new CniError(CniErrorCode.InvalidEnvironment, `CNI_CONTAINERID "${containerId}" has characters other than letters, digits, _ . -`);
  }
  const netns = need('CNI_NETNS', ['ADD', 'CHECK']);
  const ifName = need('CNI_IFNAME', ['ADD', 'DEL', 'CHECK']);
  if (ifName && (ifName.length > 15 || /[/\s:]/.test(ifName) || ifName === '.' || ifName === '..')) {
    throw new CniError(CniErrorCode.InvalidEnvironment, `CNI_IFNAME "${ifName}" is not a valid interface name (at most 15 characters, no / : or spaces)`);
  }
  return { command, containerId, netns, ifName, args: parseCniArgs(env.CNI_ARGS ?? ''), path: (env.CNI_PATH ?? '').split(':').filter(Boolean) };
}

/** "K=V;K2=V2" into a record. */
export function parseCniArgs(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of s.split(';')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CniError(CniErrorCode.InvalidEnvironment, `CNI_ARGS entry "${pair}" is not KEY=VALUE`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** Parses stdin and checks the fields every plugin needs. */
export function parsePluginConf(text: string, command: CniCommand): PluginConf {
  let conf: PluginConf;
  try {
    conf = JSON.parse(text) as PluginConf;
  } catch (err) {
    throw new CniError(CniErrorCode.DecodeFailure, 'the network configuration on stdin is not valid JSON', (err as Error).message);
  }
  if (typeof conf !== 'object' || conf === null || Array.isArray(conf)) throw new CniError(CniErrorCode.DecodeFailure, 'the network configuration on stdin must be a JSON object');
  if (typeof conf.cniVersion !== 'string' || conf.cniVersion === '') {
    // VERSION may come with an empty config; everything else needs a version.
    if (command !== 'VERSION') throw new CniError(CniErrorCode.InvalidNetworkConfig, 'field cniVersion is missing from the network configuration');
    conf.cniVersion = '0.1.0';
  } else if (command !== 'VERSION' && !SUPPORTED_VERSIONS.includes(conf.cniVersion)) {
    throw new CniError(CniErrorCode.IncompatibleVersion, `cniVersion ${conf.cniVersion} is not supported`, `supported versions: ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  if (command === 'VERSION') return conf;
  if (typeof conf.name !== 'string' || conf.name === '') throw new CniError(CniErrorCode.InvalidNetworkConfig, 'field name is missing from the network configuration');
  if (typeof conf.type !== 'string' || conf.type === '') throw new CniError(CniErrorCode.InvalidNetworkConfig, 'field type is missing from the network configuration');
  if ((command === 'GC' || command === 'STATUS') && compareVersions(conf.cniVersion, '1.1.0') < 0) {
    throw new CniError(CniErrorCode.IncompatibleVersion, `${command} needs cniVersion 1.1.0 or later, the configuration says ${conf.cniVersion}`);
  }
  if (command === 'CHECK' && compareVersions(conf.cniVersion, '0.4.0') < 0) {
    throw new CniError(CniErrorCode.IncompatibleVersion, `CHECK needs cniVersion 0.4.0 or later, the configuration says ${conf.cniVersion}`);
  }
  if (command === 'CHECK' && !conf.prevResult) throw new CniError(CniErrorCode.InvalidNetworkConfig, 'CHECK needs prevResult in the network configuration');
  return conf;
}

/** A result in the shape of the requested version (0.3.x/0.4.0 carry ips[].version). */
export function resultForVersion(result: CniResult, cniVersion: string): CniResult {
  const out: CniResult = { ...result, cniVersion };
  if (compareVersions(cniVersion, '1.0.0') < 0 && out.ips) {
    out.ips = out.ips.map((ip) => ({ ...ip, version: ip.address.includes(':') ? '6' : '4' }) as typeof ip);
  }
  return out;
}

/** Normalises a prevResult of any version to the 1.x shape. */
export function normaliseResult(result: CniResult | undefined): CniResult | undefined {
  if (!result) return undefined;
  const out: CniResult = { ...result };
  if (out.ips) out.ips = out.ips.map(({ address, gateway, interface: iface }) => ({ address, ...(gateway ? { gateway } : {}), ...(iface !== undefined ? { interface: iface } : {}) }));
  return out;
}

export function versionResult(): { cniVersion: string; supportedVersions: string[] } {
  return { cniVersion: '1.1.0', supportedVersions: SUPPORTED_VERSIONS };
}
