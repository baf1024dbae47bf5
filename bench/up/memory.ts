// Memory of the lab's processes, measured honestly: RSS counts the node binary's text and the
// shared libraries once per process, so summing RSS over processes overcounts. PSS divides each
// shared page among the processes that map it (sums to the real total), USS is what a process
// alone holds (what stopping it would free). Read from /proc/PID/smaps_rollup.
import { readFileSync } from 'node:fs';

export interface ProcessMemory {
  pid: number;
  role: string;
  rssKiB: number;
  pssKiB: number;
  ussKiB: number;
  /** Anonymous memory (heap, V8 spaces, stacks): what the program itself allocated. */
  anonKiB: number;
}

/** Parses /proc/PID/smaps_rollup text into its kB fields. */
export function parseSmapsRollup(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^(\w+):\s+(\d+) kB$/gm)) out[m[1]] = Number(m[2]);
  return out;
}

export function memoryOf(pid: number, role: string): ProcessMemory | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return undefined;
  }
  const f = parseSmapsRollup(text);
  return { pid, role, rssKiB: f.Rss ?? 0, pssKiB: f.Pss ?? 0, ussKiB: (f.Private_Clean ?? 0) + (f.Private_Dirty ?? 0), anonKiB: f.Anonymous ?? 0 };
}

/**
 * CPU time of process `pid` so far, in ms: its own user and system time and that of its children
 * it waited for (`ip`, `nft` and the like), from /proc/PID/stat (10 ms clock ticks).
 */
export function cpuMsOf(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after "(comm) ": state is [0], utime [11], stime [12], cutime [13], cstime [14].
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 10;
}

/** One line per role and a total: CPU seconds between two readings of `cpuMsOf` per pid. */
export function formatCpu(roles: Map<number, string>, before: Map<number, number>, after: Map<number, number>): string[] {
  const rows = [...roles].map(([pid, role]) => ({ role, ms: (after.get(pid) ?? 0) - (before.get(pid) ?? 0) })).sort((a, b) => a.role.localeCompare(b.role));
  const width = Math.max(10, ...rows.map((r) => r.role.length));
  const total = rows.reduce((t, r) => t + r.ms, 0);
  return [...rows.map((r) => `${r.role.padEnd(width)}  ${(r.ms / 1000).toFixed(2).padStart(7)} s`), `${'in all'.padEnd(width)}  ${(total / 1000).toFixed(2).padStart(7)} s`];
}

/** The lab role of a flatnet process from its command line. */
export function labRole(argv: string[]): string {
  const after = (flag: string) => argv[argv.indexOf(flag) + 1] ?? '?';
  if (argv.includes('server')) return 'server';
  if (argv.includes('agent') || argv.includes('join')) return `agent ${after('--node')}`;
  if (argv.includes('runtime')) return `runtime ${after('--data-dir').split('/').at(-1) ?? '?'}`;
  if (argv.some((a) => a.includes('supervisor-main'))) return 'supervisor';
  return argv.slice(0, 3).join(' ');
}

export interface MemoryTotals {
  rssKiB: number;
  pssKiB: number;
  ussKiB: number;
}

export function totals(list: ProcessMemory[]): MemoryTotals {
  return list.reduce((t, p) => ({ rssKiB: t.rssKiB + p.rssKiB, pssKiB: t.pssKiB + p.pssKiB, ussKiB: t.ussKiB + p.ussKiB }), { rssKiB: 0, pssKiB: 0, ussKiB: 0 });
}

const mib = (kib: number) => (kib / 1024).toFixed(1);

/** One line per process and a total line: RSS / PSS / USS in MiB. */
export function formatMemory(list: ProcessMemory[]): string[] {
  const width = Math.max(10, ...list.map((p) => p.role.length));
  const lines = [`${'process'.padEnd(width)}   RSS MiB  PSS MiB  USS MiB`];
  for (const p of [...list].sort((a, b) => a.role.localeCompare(b.role))) {
    lines.push(`${p.role.padEnd(width)}  ${mib(p.rssKiB).padStart(8)} ${mib(p.pssKiB).padStart(8)} ${mib(p.ussKiB).padStart(8)}`);
  }
  const t = totals(list);
  lines.push(`${'in all'.padEnd(width)}  ${mib(t.rssKiB).padStart(8)} ${mib(t.pssKiB).padStart(8)} ${mib(t.ussKiB).padStart(8)}   (sum of RSS counts shared pages once per process; PSS sums to the real total)`);
  return lines;
}
