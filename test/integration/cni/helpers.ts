// Shared fixtures of the CNI integration tests: namespaces named flatnet-t-cni-*, deleted after
// each test, and a temporary directory with the plugin wrappers and a conflist.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import { addNetns, deleteNetns } from '../../../src/linux/netns.js';
import { bundlePluginEntry, installPluginWrappers } from '../../../src/cni/install.js';
import { renderConflist } from '../../../src/cni/conflist.js';
import { requireTool } from '../../support/prerequisites.js';

// socat and ping answer the probes: without them a probe fails for the wrong reason, and a
// probe that must fail (no route, a closed port) would pass.
const SOCAT = 'socat (Debian/Ubuntu: apt-get install socat)';
const PING = 'ping (Debian/Ubuntu: apt-get install iputils-ping)';

let bundled: string[] | undefined;

/**
 * The plugin entry bundled from the current sources into one CommonJS file, as the installer
 * writes it for the agent's plugin directory, so tests run today's code in its installed form.
 */
export async function bundledPluginCommand(): Promise<string[]> {
  if (!bundled) {
    const dir = mkdtempSync(join(tmpdir(), 'flatnet-t-cni-bundle-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    const cmd = bundlePluginEntry(dir);
    if (!cmd) throw new Error('esbuild is missing: run npm ci (it comes with tsx)');
    bundled = cmd;
  }
  return bundled;
}

export interface Fixture {
  dir: string;
  binDir: string;
  conflistPath: string;
  netns: string[];
  newNetns(suffix: string): Promise<string>;
  cleanup(): Promise<void>;
}

export async function makeFixture(plugins: 'flatnet' | 'reference', tag: string, podCIDR = '10.244.1.0/24'): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), `flatnet-t-cni-${tag}-`));
  const binDir = join(dir, 'bin');
  installPluginWrappers(binDir, await bundledPluginCommand());
  const conflistPath = join(dir, '10-flatnet.conflist');
  writeFileSync(conflistPath, JSON.stringify(renderConflist({ podCIDR, mtu: 1450, plugins, dataDir: dir })));
  const netns: string[] = [];
  return {
    dir,
    binDir,
    conflistPath,
    netns,
    async newNetns(suffix) {
      const name = `flatnet-t-cni-${tag}-${suffix}`;
      await deleteNetns(name);
      await addNetns(name);
      netns.push(name);
      return name;
    },
    async cleanup() {
      for (const n of netns) await deleteNetns(n).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Fails unless the reference plugins of containernetworking/plugins the tests run are in `dir`. */
export function requireReferencePlugins(dir: string): void {
  const source = `the reference CNI plugins into ${dir} (Debian/Ubuntu: apt-get install containernetworking-plugins; elsewhere unpack a release of github.com/containernetworking/plugins there)`;
  for (const plugin of ['bridge', 'host-local', 'portmap', 'loopback']) requireTool(`${dir}/${plugin}`, source);
}

export function sh(argv: string[], input?: string): string {
  return execFileSync(argv[0], argv.slice(1), { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

/** A TCP server in `netns` that answers each connection with the peer's address, then closes. */
export function peerAddressServer(netns: string, port: number): { stop(): void; ready: Promise<void> } {
  requireTool('socat', SOCAT);
  const child = spawn('ip', ['netns', 'exec', netns, 'socat', `TCP-LISTEN:${port},fork,reuseaddr`, 'SYSTEM:echo $SOCAT_PEERADDR'], { stdio: 'ignore' });
  const ready = (async () => {
    for (let i = 0; i < 100; i++) {
      const out = sh(['ip', 'netns', 'exec', netns, 'ss', '-Htln', `sport = :${port}`]);
      if (out.trim()) return;
      await new Promise((r) => setTimeout(r, 30));
    }
    throw new Error(`socat did not listen on port ${port} in ${netns}`);
  })();
  return { stop: () => child.kill('SIGTERM'), ready };
}

/** Connects from `netns` to host:port and answers what the server said. */
export function tcpAsk(netns: string, host: string, port: number): string {
  requireTool('socat', SOCAT);
  return sh(['ip', 'netns', 'exec', netns, 'socat', '-T2', '-', `TCP:${host}:${port},connect-timeout=2`], '').trim();
}

export function ping(netns: string, ip: string): boolean {
  requireTool('ping', PING);
  try {
    sh(['ip', 'netns', 'exec', netns, 'ping', '-c1', '-W2', ip]);
    return true;
  } catch {
    return false;
  }
}
