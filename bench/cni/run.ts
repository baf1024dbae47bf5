// CNI ADD and DEL latency over 100 pods: flatnet's plugins against the reference plugins
// (/usr/lib/cni) in the same run, both driven by flatnet's runtime with the same chain layout.
// Run: node --import tsx bench/cni/run.ts [--pods N]   (root; builds dist/ first)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addNetns, deleteNetns, netnsPath } from '../../src/linux/netns.js';
import { installPluginWrappers, snapshotBuiltPlugin } from '../../src/cni/install.js';
import { renderConflist } from '../../src/cni/conflist.js';
import { createCniRuntime } from '../../src/cni/runtime.js';
import type { NetworkConfigList } from '../../src/cni/types.js';

const repo = new URL('../../', import.meta.url).pathname;
const podsArg = process.argv.indexOf('--pods');
const PODS = podsArg > 0 ? Number(process.argv[podsArg + 1]) : 100;

let pluginCommand: string[] = [];

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

interface Measured {
  add: number[];
  del: number[];
}

async function measure(label: string, plugins: 'flatnet' | 'reference', chain: 'bridge' | 'full'): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-bench-cni-'));
  const tag = `${plugins === 'flatnet' ? 'f' : 'r'}${chain === 'full' ? 'c' : 'b'}`;
  const node = `flatnet-t-cni-bench-${tag}`;
  const pods = Array.from({ length: PODS }, (_, i) => `flatnet-t-cni-bench-${tag}-${i}`);
  try {
    await deleteNetns(node);
    await addNetns(node);
    for (const p of pods) {
      await deleteNetns(p);
      await addNetns(p);
    }
    const bin = join(dir, 'bin');
    installPluginWrappers(bin, pluginCommand);
    const list = renderConflist({ podCIDR: '10.250.0.0/16', mtu: 1450, plugins, dataDir: dir }) as NetworkConfigList;
    if (chain === 'bridge') list.plugins = list.plugins.slice(0, 1);
    writeFileSync(join(dir, 'net.conflist'), JSON.stringify(list));
    const rt = createCniRuntime({ conflistPath: join(dir, 'net.conflist'), binDirs: plugins === 'flatnet' ? [bin] : ['/usr/lib/cni'], hostNetns: node, cacheDir: join(dir, 'cache') });
    const m: Measured = { add: [], del: [] };
    const att = (i: number) => ({ containerId: `bench${i}`, netnsPath: netnsPath(pods[i]), ifName: 'eth0', podNamespace: 'bench', podName: `p${i}`, podUid: `u${i}`, portMappings: [{ hostPort: 20000 + i, containerPort: 80, protocol: 'tcp' }] });
    for (let i = 0; i < PODS; i++) {
      const t = process.hrtime.bigint();
      await rt.add(att(i));
      m.add.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    for (let i = 0; i < PODS; i++) {
      const t = process.hrtime.bigint();
      await rt.del(att(i));
      m.del.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    console.log(`${label.padEnd(44)} ADD p50 ${pct(m.add, 50).toFixed(1)} ms  p99 ${pct(m.add, 99).toFixed(1)} ms   DEL p50 ${pct(m.del, 50).toFixed(1)} ms  p99 ${pct(m.del, 99).toFixed(1)} ms`);
    return m;
  } finally {
    for (const p of [...pods, node]) await deleteNetns(p).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the CNI bench needs root (network namespaces)');
  execFileSync(join(repo, 'scripts/ensure-deps'), { stdio: 'inherit' }); // dist/ current
  const snapDir = mkdtempSync(join(tmpdir(), 'flatnet-bench-cni-dist-'));
  pluginCommand = snapshotBuiltPlugin(snapDir);
  process.on('exit', () => rmSync(snapDir, { recursive: true, force: true }));
  console.log(`CNI latency over ${PODS} pods (sequential, through flatnet's runtime, plugins exec'd in the node namespace)`);
  for (const chain of ['bridge', 'full'] as const) {
    const what = chain === 'bridge' ? 'bridge + host-local' : 'bridge + host-local + portmap + loopback';
    const own = await measure(`flatnet  ${what}`, 'flatnet', chain);
    const ref = await measure(`reference ${what}`, 'reference', chain);
    const r = (a: number[], b: number[], p: number) => (pct(a, p) / pct(b, p)).toFixed(2);
    console.log(`  ratio flatnet/reference: ADD p50 ${r(own.add, ref.add, 50)}x p99 ${r(own.add, ref.add, 99)}x, DEL p50 ${r(own.del, ref.del, 50)}x p99 ${r(own.del, ref.del, 99)}x`);
  }
  const t = process.hrtime.bigint();
  execFileSync(pluginCommand[0], [pluginCommand[1], 'flatnet-bridge'], { env: { CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"1.1.0"}' });
  const plugin = Number(process.hrtime.bigint() - t) / 1e6;
  const t2 = process.hrtime.bigint();
  execFileSync('/usr/lib/cni/bridge', [], { env: { CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"1.0.0"}' });
  console.log(`one VERSION exec: flatnet-bridge ${plugin.toFixed(1)} ms, reference bridge ${(Number(process.hrtime.bigint() - t2) / 1e6).toFixed(1)} ms (node start-up dominates); load average ${(await import('node:os')).loadavg()[0].toFixed(1)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
