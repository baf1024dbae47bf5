// A process named by its PID and its start time (field 22 of /proc/<pid>/stat, in clock ticks
// since boot), so that a PID recorded before a restart is never mistaken for a recycled one.
import { readFileSync } from 'node:fs';

export interface ProcessRef {
  pid: number;
  startTicks: number;
}

/** The start time of `pid` from a /proc/<pid>/stat line (the command may hold spaces and parens). */
export function startTicksOf(stat: string): number | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  // After "pid (comm) " come the fields from 3 (state) on: starttime is field 22.
  const fields = stat.slice(close + 2).split(' ');
  const n = Number(fields[22 - 3]);
  return Number.isInteger(n) ? n : undefined;
}

export function processRef(pid: number): ProcessRef | undefined {
  try {
    const ticks = startTicksOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return ticks === undefined ? undefined : { pid, startTicks: ticks };
  } catch {
    return undefined;
  }
}

/** Whether the process `ref` names still runs (same PID, same start time, not a zombie). */
export function stillRunning(ref: ProcessRef): boolean {
  try {
    const stat = readFileSync(`/proc/${ref.pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && startTicksOf(stat) === ref.startTicks;
  } catch {
    return false;
  }
}
