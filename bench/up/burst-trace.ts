// Where the pods of a burst waited: per pod, the bench's own marks (create call issued and
// answered, the binding seen on its watch, Running seen) joined with the agent's start-up marks
// (its "observed pod startup" log line: seen, set-up, netns, UTS, CNI slot, CNI ADD, policy,
// token, runtime sandbox, container create/start, status PATCH sent/answered), and for each step
// the percentiles of the time spent reaching it from the step before.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { STARTUP_STEPS } from '../../src/agent/pod-startup-trace.js';

/** The bench's marks of one pod (epoch ms). */
export interface BenchMarks {
  issued: number;
  created?: number;
  scheduled?: number;
  running?: number;
}

export const BURST_STEPS = ['issued', 'created', 'scheduled', ...STARTUP_STEPS, 'running'] as const;
export type BurstStep = (typeof BURST_STEPS)[number];

/** The agents' start-up marks of the pods of `names`, from the lab's JSON logs. */
export function agentStartupMarks(logDir: string, names: ReadonlySet<string>): Map<string, Partial<Record<BurstStep, number>>> {
  const out = new Map<string, Partial<Record<BurstStep, number>>>();
  for (const file of readdirSync(logDir).filter((f) => f.endsWith('.log'))) {
    for (const text of readFileSync(join(logDir, file), 'utf8').split('\n')) {
      if (!text.includes('"observed pod startup"')) continue;
      try {
        const line = JSON.parse(text) as { msg?: string; pod?: string; at?: Partial<Record<BurstStep, number>> };
        const name = line.pod?.split('/')[1];
        if (line.msg === 'observed pod startup' && name && names.has(name) && line.at) out.set(name, line.at);
      } catch {
        // not a log line of ours
      }
    }
  }
  return out;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

export interface StepStats {
  step: BurstStep;
  /** Pods that have this step and the one before it. */
  pods: number;
  /** Time from the previous step a pod has to this one: p50, p99, max (ms). */
  p50: number;
  p99: number;
  max: number;
  /** Time from the create call to this step: p50 and p99 (ms). */
  sinceIssuedP50: number;
  sinceIssuedP99: number;
}

/** For each step: how long pods took from their previous recorded step, and from the create call. Pure. */
export function stepStats(pods: Partial<Record<BurstStep, number>>[]): StepStats[] {
  const out: StepStats[] = [];
  for (let i = 1; i < BURST_STEPS.length; i++) {
    const step = BURST_STEPS[i];
    const deltas: number[] = [];
    const since: number[] = [];
    for (const p of pods) {
      const at = p[step];
      if (at === undefined || p.issued === undefined) continue;
      let prev: number | undefined;
      for (let j = i - 1; j >= 0 && prev === undefined; j--) prev = p[BURST_STEPS[j]];
      if (prev === undefined) continue;
      deltas.push(at - prev);
      since.push(at - p.issued);
    }
    if (deltas.length === 0) continue;
    deltas.sort((a, b) => a - b);
    since.sort((a, b) => a - b);
    out.push({ step, pods: deltas.length, p50: pct(deltas, 50), p99: pct(deltas, 99), max: deltas[deltas.length - 1], sinceIssuedP50: pct(since, 50), sinceIssuedP99: pct(since, 99) });
  }
  return out;
}

export function formatStepStats(stats: StepStats[]): string[] {
  const ms = (n: number) => `${Math.round(n)}`.padStart(6);
  const lines = [`${'step'.padEnd(18)} ${'pods'.padStart(4)}   from previous step p50/p99/max ms   since create call p50/p99 ms`];
  for (const s of stats) lines.push(`${s.step.padEnd(18)} ${String(s.pods).padStart(4)}   ${ms(s.p50)} ${ms(s.p99)} ${ms(s.max)}              ${ms(s.sinceIssuedP50)} ${ms(s.sinceIssuedP99)}`);
  return lines;
}
