// The lab's processes: how to run `flatnet`, PID files, liveness, and stopping by PID (SIGTERM,
// then SIGKILL). A PID is only signalled when its command line still names the lab's data
// directory, so a recycled PID is never hit.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const fromDist = here.endsWith('/dist/src/lab');
const repo = fromDist ? resolve(here, '../../..') : resolve(here, '../..');
/** Set at build time in the esbuild bundle (scripts/bundle.mjs), which the lab's processes then run too. */
const fromBundle = process.env.FLATNET_BUNDLE === '1';

/** argv that runs the `flatnet` CLI with this build (dist) or these sources (tsx). */
export function flatnetCommand(): string[] {
  if (fromBundle) return [process.execPath, '--enable-source-maps', join(repo, 'dist/bundle/cli/main.js')];
  if (fromDist) return [process.execPath, '--enable-source-maps', join(repo, 'dist/src/cli/main.js')];
  return [process.execPath, '--import', join(repo, 'node_modules/tsx/dist/loader.mjs'), join(repo, 'src/cli/main.ts')];
}

/** argv that runs the lab supervisor. */
export function supervisorCommand(): string[] {
  if (fromBundle) return [process.execPath, '--enable-source-maps', join(repo, 'dist/bundle/lab/supervisor-main.js')];
  if (fromDist) return [process.execPath, '--enable-source-maps', join(repo, 'dist/src/lab/supervisor-main.js')];
  return [process.execPath, '--import', join(repo, 'node_modules/tsx/dist/loader.mjs'), join(repo, 'src/lab/supervisor-main.ts')];
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie is dead for our purposes.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** Whether `pid` is a flatnet process of the lab in `dataDir`. */
export function belongsToLab(pid: number, dataDir: string): boolean {
  const argv = cmdline(pid);
  // etcd members of an HA lab (`up --ha`) run their own binary, with data directories under the lab's.
  const isFlatnet = argv.some((a) => a.endsWith('/cli/main.js') || a.endsWith('/cli/main.ts') || a.endsWith('/lab/supervisor-main.js') || a.endsWith('/lab/supervisor-main.ts')) || basename(argv[0] ?? '') === 'etcd';
  if (!isFlatnet) return false;
  const root = resolve(dataDir);
  return argv.some((a) => a === root || a.startsWith(`${root}/`));
}

export function readPid(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** name -> pid for the PID files of a lab. */
export function readPidFiles(pidDir: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync(pidDir)) return out;
  for (const f of readdirSync(pidDir)) {
    if (!f.endsWith('.pid')) continue;
    const pid = readPid(join(pidDir, f));
    if (pid) out.set(f.slice(0, -4), pid);
  }
  return out;
}

/** Every running flatnet process of the lab in `dataDir`, found through /proc (for crashed labs without PID files). */
export function findLabProcesses(dataDir: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid !== process.pid && belongsToLab(pid, dataDir)) out.push(pid);
  }
  return out;
}

/** The data directory a flatnet lab process serves (its --data-dir, or its lab.json's directory). */
export function labDataDirOf(argv: string[]): string | undefined {
  const i = argv.indexOf('--data-dir');
  if (i >= 0 && argv[i + 1] && (argv.includes('server') || argv.includes('up'))) return resolve(argv[i + 1]);
  if (argv.includes('join') && i >= 0 && argv[i + 1]) {
    // A lab agent joins with --data-dir <data>/nodes/<node>.
    const dir = resolve(argv[i + 1]);
    return basename(dirname(dir)) === 'nodes' ? dirname(dirname(dir)) : dir;
  }
  const kubeconfig = argv.indexOf('--kubeconfig');
  if (argv.includes('agent') && kubeconfig >= 0 && argv[kubeconfig + 1]) {
    // A lab agent's kubeconfig is <data>/nodes/<node>/kubelet.kubeconfig.
    const dir = dirname(resolve(argv[kubeconfig + 1]));
    return basename(dirname(dir)) === 'nodes' ? dirname(dirname(dir)) : dir;
  }
  const state = argv.find((a) => a.endsWith('/lab.json'));
  if (state && argv.some((a) => /\/lab\/supervisor-main\.(js|ts)$/.test(a))) return dirname(resolve(state));
  return undefined;
}

/** Data directories of other labs whose processes run now (their namespaces are not ours to delete). */
export function otherLabDataDirs(dataDir: string): string[] {
  const mine = resolve(dataDir);
  const out = new Set<string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const argv = cmdline(Number(entry));
    if (!argv.some((a) => /\/(cli\/main|lab\/supervisor-main)\.(js|ts)$/.test(a))) continue;
    // Only a lab has a supervisor, and only lab agents program flatnet-node-* namespaces.
    const netns = argv[argv.indexOf('--netns') + 1] ?? '';
    const isLab = argv.some((a) => a.includes('lab/supervisor-main')) || ((argv.includes('agent') || argv.includes('join')) && netns.startsWith('flatnet-node-'));
    const dir = labDataDirOf(argv);
    if (isLab && dir && dir !== mine) out.add(dir);
  }
  return [...out];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, wait up to `graceMs`, then SIGKILL; resolves once the process is gone. */
export async function stopPid(pid: number, graceMs = 8000): Promise<'not-running' | 'terminated' | 'killed'> {
  if (!isAlive(pid)) return 'not-running';
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'not-running';
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'terminated';
    await sleep(50);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return 'terminated';
  }
  for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(20);
  return 'killed';
}
