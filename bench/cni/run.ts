// CNI ADD and DEL latency: the reference plugins (containernetworking-plugins in /usr/lib/cni)
// exec'd, flatnet's plugins exec'd, and flatnet's plugins called in-process (the agent's path),
// all driven by flatnet's runtime with the same chain (bridge + host-local + portmap + loopback,
// one host port per pod), in the same run and interleaved pod by pod so that load hits all three
// alike. Also: one VERSION exec of each plugin entry (Node.js start-up against a Go binary).
// Run: node --import tsx bench/cni/run.ts [--pods N] [--chain bridge|full]   (root)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { addNetns, deleteNetns, netnsPath } from '../../src/linux/netns.js';
import { bundlePluginEntry, installPluginWrappers } from '../../src/cni/install.js';
import { renderConflist } from '../../src/cni/conflist.js';
import { createCniRuntime, type AttachmentArgs, type CniRuntime } from '../../src/cni/runtime.js';
import type { NetworkConfigList } from '../../src/cni/types.js';

const repo = new URL('../../', import.meta.url).pathname;
const REFERENCE_DIR = '/usr/lib/cni';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const PODS = Number(flag('pods', '100'));
const CHAIN = flag('chain', 'full');
if (!Number.isInteger(PODS) || PODS < 1 || PODS > 250) throw new Error(`--pods ${flag('pods', '')} must be an integer 1-250`);
if (CHAIN !== 'full' && CHAIN !== 'bridge') throw new Error(`--chain ${CHAIN} must be "full" or "bridge"`);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function ms(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e6;
}

interface Variant {
  label: string;
  tag: string;
  plugins: 'flatnet' | 'reference';
  execOwnPlugins: boolean;
  dir: string;
  node: string;
  pods: string[];
  rt?: CniRuntime;
  add: number[];
  del: number[];
  load: number[];
}

/** flatnet's plugin entry from the current sources, in both forms the installer can write. */
function pluginEntries(dir: string): { bundled: string[]; moduleTree: string[] } {
  const bundled = bundlePluginEntry(join(dir, 'bundle'));
  if (!bundled) throw new Error('esbuild is not installed (npm ci installs it with tsx)');
  // The module tree the installer falls back to: the sources compiled file by file (as dist/ is).
  const tree = join(dir, 'tree');
  buildSync({ entryPoints: [join(repo, 'src/cni/**/*.ts'), join(repo, 'src/linux/*.ts')], outbase: join(repo, 'src'), outdir: join(tree, 'src'), platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning' });
  writeFileSync(join(tree, 'package.json'), '{"type":"module"}\n');
  return { bundled, moduleTree: [process.execPath, join(tree, 'src/cni/plugin-main.js')] };
}

async function setUp(v: Variant, pluginCommand: string[]): Promise<void> {
  await deleteNetns(v.node);
  await addNetns(v.node);
  for (const p of v.pods) {
    await deleteNetns(p);
    await addNetns(p);
  }
  const bin = join(v.dir, 'bin');
  installPluginWrappers(bin, pluginCommand);
  const list = renderConflist({ podCIDR: '10.250.0.0/16', mtu: 1450, plugins: v.plugins, dataDir: v.dir }) as NetworkConfigList;
  if (CHAIN === 'bridge') list.plugins = list.plugins.slice(0, 1);
  writeFileSync(join(v.dir, 'net.conflist'), JSON.stringify(list));
  v.rt = createCniRuntime({
    conflistPath: join(v.dir, 'net.conflist'),
    binDirs: v.plugins === 'flatnet' ? [bin] : [REFERENCE_DIR],
    hostNetns: v.node,
    cacheDir: join(v.dir, 'cache'),
    execOwnPlugins: v.execOwnPlugins,
  });
}

async function tearDown(v: Variant): Promise<void> {
  for (const p of [...v.pods, v.node]) await deleteNetns(p).catch(() => undefined);
  rmSync(v.dir, { recursive: true, force: true });
}

function attachment(v: Variant, i: number): AttachmentArgs {
  return { containerId: `bench${i}`, netnsPath: netnsPath(v.pods[i]), ifName: 'eth0', podNamespace: 'bench', podName: `p${i}`, podUid: `u${i}`, portMappings: [{ hostPort: 20000 + i, containerPort: 80, protocol: 'tcp' }] };
}

/** One VERSION exec, p50 over `n` runs, each command interleaved with the others. */
function versionExecs(cmds: Record<string, string[]>, n: number): Record<string, number> {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
  for (let i = 0; i < n; i++) {
    for (const [k, argv] of Object.entries(cmds)) {
      const t = process.hrtime.bigint();
      execFileSync(argv[0], argv.slice(1), { env: { CNI_COMMAND: 'VERSION', PATH: process.env.PATH }, input: '{"cniVersion":"1.0.0"}', stdio: ['pipe', 'pipe', 'pipe'] });
      times[k].push(ms(t));
    }
  }
  return Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, pct(xs, 50)]));
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the CNI bench needs root (network namespaces)');
  for (const p of ['bridge', 'host-local', 'portmap', 'loopback']) {
    if (!existsSync(join(REFERENCE_DIR, p))) throw new Error(`the reference plugin ${REFERENCE_DIR}/${p} is missing (Debian/Ubuntu: apt-get install containernetworking-plugins)`);
  }
  const work = mkdtempSync(join(tmpdir(), 'flatnet-bench-cni-'));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  const entries = pluginEntries(work);
  const pluginCommand = entries.bundled;
  const variant = (label: string, tag: string, plugins: Variant['plugins'], execOwnPlugins: boolean): Variant => ({
    label,
    tag,
    plugins,
    execOwnPlugins,
    dir: mkdtempSync(join(work, `${tag}-`)),
    node: `fnb-cni-${tag}`,
    pods: Array.from({ length: PODS }, (_, i) => `fnb-cni-${tag}-${i}`),
    add: [],
    del: [],
    load: [],
  });
  const variants = [variant("reference plugins, exec'd", 'ref', 'reference', true), variant("flatnet plugins, exec'd", 'fx', 'flatnet', true), variant('flatnet plugins, in-process (agent)', 'fi', 'flatnet', false)];
  const what = CHAIN === 'full' ? 'bridge + host-local + portmap + loopback, one host port per pod' : 'bridge + host-local';
  console.log(`CNI latency over ${PODS} pods per variant (${what}); sequential, interleaved pod by pod across variants; node namespace per variant`);
  try {
    for (const v of variants) await setUp(v, pluginCommand);
    // Pod i of every variant, starting with a different variant each round; the first ADD of a
    // node (bridge, tables) is measured like the others.
    for (let i = 0; i < PODS; i++) {
      const order = [...variants.slice(i % variants.length), ...variants.slice(0, i % variants.length)];
      for (const v of order) {
        const t = process.hrtime.bigint();
        await v.rt!.add(attachment(v, i));
        v.add.push(ms(t));
        v.load.push(loadavg()[0]);
      }
    }
    for (let i = 0; i < PODS; i++) {
      const order = [...variants.slice(i % variants.length), ...variants.slice(0, i % variants.length)];
      for (const v of order) {
        const t = process.hrtime.bigint();
        await v.rt!.del(attachment(v, i));
        v.del.push(ms(t));
      }
    }
  } finally {
    for (const v of variants) await tearDown(v);
  }
  const ref = variants[0];
  for (const v of variants) {
    const ratio = v === ref ? '' : `   (ADD p50 ${(pct(v.add, 50) / pct(ref.add, 50)).toFixed(2)}x reference)`;
    console.log(`${v.label.padEnd(38)} ADD p50 ${pct(v.add, 50).toFixed(1).padStart(6)} ms p99 ${pct(v.add, 99).toFixed(1).padStart(6)} ms   DEL p50 ${pct(v.del, 50).toFixed(1).padStart(6)} ms p99 ${pct(v.del, 99).toFixed(1).padStart(6)} ms${ratio}`);
  }
  const loads = variants.flatMap((v) => v.load);
  console.log(`load average (1 min) during ADDs: min ${Math.min(...loads).toFixed(1)}, median ${pct(loads, 50).toFixed(1)}, max ${Math.max(...loads).toFixed(1)} on ${(await import('node:os')).cpus().length} CPUs`);
  const version = versionExecs(
    {
      'node -e 0': [process.execPath, '-e', '0'],
      'flatnet-bridge (one-file CommonJS bundle, installed)': [...pluginCommand, 'flatnet-bridge'],
      'flatnet-bridge (ES module tree, as dist/)': [...entries.moduleTree, 'flatnet-bridge'],
      'reference bridge': [join(REFERENCE_DIR, 'bridge')],
    },
    15,
  );
  console.log(`one VERSION exec, p50 of 15: ${Object.entries(version).map(([k, t]) => `${k} ${t.toFixed(1)} ms`).join(', ')}; load average ${loadavg()[0].toFixed(1)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
