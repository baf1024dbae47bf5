// Lab start-up: time from `flatnet up` to every node Ready and to the first pod Running, and the
// lab's total memory (RSS of the supervisor, server, agents and node runtimes). Published numbers of other
// local clusters are printed beside them (not measured here: no Docker on this machine).
// Run: node --import tsx bench/up/run.ts [--nodes N]   (root)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { findLabProcesses } from '../../src/lab/processes.js';
import { KubeClient } from '../../src/client/client.js';
import { loadKubeconfig } from '../../src/client/kubeconfig.js';
import { R } from '../../src/api/resources.js';
import type { KubeObject } from '../../src/api/types.js';

const repo = new URL('../../', import.meta.url).pathname;
const flatnet = join(repo, 'bin/flatnet');
const nodesArg = process.argv.indexOf('--nodes');
const NODES = nodesArg > 0 ? Number(process.argv[nodesArg + 1]) : 2;

function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function routeFor(cidr: string): string {
  return execFileSync('ip', ['-n', 'flatnet-node-node-1', 'route', 'show', cidr], { encoding: 'utf8' }).trim();
}

/**
 * Time from a Node write (pod CIDR, InternalIP, VTEP MAC) to its route on node-1, and from its
 * deletion to the route's removal (API client calls, no kubectl start-up in the timing).
 */
async function measureOverlayConvergence(kubeconfig: string): Promise<{ joinMs: number; leaveMs: number }> {
  const client = new KubeClient(loadKubeconfig(kubeconfig));
  const cidr = '10.244.200.0/24';
  const waitFor = async (want: boolean, since: number): Promise<number> => {
    while ((routeFor(cidr) !== '') !== want) {
      if (Date.now() - since > 30_000) throw new Error(`overlay did not ${want ? 'add' : 'remove'} the route for ${cidr}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return Date.now() - since;
  };
  try {
    const created = await client.create<KubeObject>(R.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'bench-peer', annotations: { 'flatnet.dev/vtep-mac': '0e:00:00:00:02:00' } }, spec: { podCIDR: cidr, podCIDRs: [cidr] } } as KubeObject);
    const t0 = Date.now();
    await client.updateStatus(R.nodes, { ...created, status: { addresses: [{ type: 'InternalIP', address: '172.18.0.99' }] } } as KubeObject);
    const joinMs = await waitFor(true, t0);
    const t1 = Date.now();
    await client.delete(R.nodes, undefined, 'bench-peer');
    const leaveMs = await waitFor(false, t1);
    return { joinMs, leaveMs };
  } finally {
    client.close();
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the up bench needs root');
  spawnSync(flatnet, ['--help'], { stdio: 'ignore' }); // build outside the timed part
  const dataDir = join(mkdtempSync(join(tmpdir(), 'flatnet-bench-up-')), 'data');
  const env = { ...process.env, KUBECONFIG: join(dataDir, 'admin.kubeconfig') };
  try {
    const t0 = Date.now();
    const up = spawnSync(flatnet, ['up', '--nodes', String(NODES), '--data-dir', dataDir], { encoding: 'utf8' });
    if (up.status !== 0) throw new Error(`flatnet up failed:\n${up.stdout}\n${up.stderr}`);
    const readyMs = Date.now() - t0; // up returns once nodes are Ready and cluster DNS answers
    const nodeReadyMs = Math.max(...[...up.stdout.matchAll(/node \S+ Ready \((\d+\.\d)s/g)].map((m) => Number(m[1]) * 1000));
    execFileSync('kubectl', ['run', 'bench', '--image=registry.k8s.io/e2e-test-images/agnhost:2.53', '--', 'netexec', '--http-port=8080'], { env, stdio: 'ignore' });
    const tPod = Date.now();
    execFileSync('kubectl', ['wait', '--for=jsonpath={.status.phase}=Running', 'pod/bench', '--timeout=120s'], { env, stdio: 'ignore' });
    const podMs = Date.now() - tPod;
    const firstPodMs = Date.now() - t0;
    // Let start-up settle before reading memory.
    execFileSync('sleep', ['2']);
    const pids = findLabProcesses(dataDir);
    const totalKiB = pids.reduce((sum, pid) => sum + rssKiB(pid), 0);
    const perProcess = pids.map((pid) => {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const role = argv.includes('server')
        ? 'server'
        : argv.includes('agent') || argv.includes('join')
          ? `agent ${argv[argv.indexOf('--node') + 1]}`
          : argv.includes('runtime')
            ? `runtime ${argv[argv.indexOf('--data-dir') + 1]?.split('/').at(-1) ?? '?'}`
            : 'supervisor';
      return `${role} ${(rssKiB(pid) / 1024).toFixed(0)} MiB`;
    });
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const overlay = await measureOverlayConvergence(join(dataDir, 'admin.kubeconfig'));
    console.log(`flatnet lab, ${NODES} nodes (load average ${loadavg()[0].toFixed(1)} on this machine):`);
    console.log(`  up -> all nodes Ready         ${s(nodeReadyMs)}`);
    console.log(`  up -> cluster DNS answers     ${s(readyMs)}   (up returns)`);
    console.log(`  up -> first pod Running       ${s(firstPodMs)}   (pod create -> Running ${s(podMs)})`);
    console.log(`  lab memory (RSS)              ${(totalKiB / 1024).toFixed(0)} MiB total: ${perProcess.join(', ')}`);
    console.log(`  overlay: Node added -> route on node-1 ${overlay.joinMs} ms; Node deleted -> route gone ${overlay.leaveMs} ms (target <= 1000 ms)`);
    console.log('published anchors (other tools, other machines; not measured in this run):');
    console.log(`  kind v0.29.0 cluster start 33.0 s -> flatnet (up returns) ratio ${(readyMs / 33000).toFixed(2)}x; k3d 19.9 s -> ${(readyMs / 19900).toFixed(2)}x; minikube 50.8 s -> ${(readyMs / 50800).toFixed(2)}x`);
    console.log(`  k3s agent 275 MB / k0s controller 510 MB / MicroK8s min 540 MB -> flatnet whole lab ${(totalKiB / 1024 / 275).toFixed(2)}x of a k3s agent`);
  } finally {
    spawnSync(flatnet, ['down', '--data-dir', dataDir], { stdio: 'ignore' });
    rmSync(join(dataDir, '..'), { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
