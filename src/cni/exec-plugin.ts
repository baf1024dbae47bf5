// Executes a CNI plugin binary the way the spec says a runtime (or a delegating plugin) does:
// CNI_* variables in the environment, the configuration on stdin, the result on stdout.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { CniError, CniErrorCode } from './types.js';

export interface PluginInvocation {
  command: string;
  containerId?: string;
  netns?: string;
  ifName?: string;
  args?: string;
  path: string[];
}

/** The first executable named `type` in `dirs`. */
export function findPlugin(type: string, dirs: string[]): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(type)) throw new CniError(CniErrorCode.InvalidNetworkConfig, `plugin type "${type}" is not a valid executable name`);
  for (const dir of dirs) {
    const p = join(dir, type);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next dir */
    }
  }
  throw new CniError(CniErrorCode.InvalidNetworkConfig, `CNI plugin "${type}" was not found in ${dirs.join(':') || '(empty CNI_PATH)'}`, 'install the plugin or fix the plugin directories');
}

export interface ExecOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `argv` (a plugin path, possibly wrapped by `ip netns exec`) with the protocol's env and stdin. */
export function execPluginRaw(argv: string[], inv: PluginInvocation, stdin: string): Promise<ExecOutcome> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: inv.command,
    CNI_PATH: inv.path.join(':'),
  };
  if (inv.containerId !== undefined) env.CNI_CONTAINERID = inv.containerId;
  if (inv.netns !== undefined) env.CNI_NETNS = inv.netns;
  if (inv.ifName !== undefined) env.CNI_IFNAME = inv.ifName;
  if (inv.args !== undefined) env.CNI_ARGS = inv.args;
  if (process.env.FLATNET_LOG) env.FLATNET_LOG = process.env.FLATNET_LOG;
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => reject(new CniError(CniErrorCode.IoFailure, `cannot run CNI plugin ${argv.join(' ')}`, e.message)));
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.on('error', () => {
      /* exit code tells */
    });
    child.stdin.end(stdin);
  });
}

/** Runs a plugin and parses its answer; a failure becomes the plugin's CniError. */
export async function execPlugin<T = unknown>(argv: string[], inv: PluginInvocation, stdin: string): Promise<T | undefined> {
  const res = await execPluginRaw(argv, inv, stdin);
  const text = res.stdout.trim();
  if (res.code === 0) return text ? (JSON.parse(text) as T) : undefined;
  let parsed: { code?: number; msg?: string; details?: string } | undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const name = argv.find((a) => a.includes('/')) ?? argv[0];
  if (parsed && typeof parsed.code === 'number') throw new CniError(parsed.code, `${name} ${inv.command}: ${parsed.msg ?? 'failed'}`, parsed.details);
  throw new CniError(CniErrorCode.IoFailure, `${name} ${inv.command} exited with ${res.code}`, (res.stderr || res.stdout).trim().slice(0, 2000));
}
