// Evaluates a pod (its metadata and spec) against one level and version: the baseline checks,
// then, at restricted, the restricted checks in place of the baseline checks they replace, in
// upstream's order. The aggregate answers the wording of upstream's messages. Pure.
import { CHECKS, type PodMeta, type Violation } from './checks.js';
import type { LevelVersion } from './policy.js';

export interface Evaluation {
  allowed: boolean;
  violations: Violation[];
}

const BASELINE = CHECKS.filter((c) => c.level === 'baseline' && !c.overlap);
const BASELINE_OVERLAP = CHECKS.filter((c) => c.level === 'baseline' && c.overlap);
const RESTRICTED = CHECKS.filter((c) => c.level === 'restricted');

export function evaluatePod(lv: LevelVersion, meta: PodMeta, spec: Record<string, unknown>): Evaluation {
  if (lv.level === 'privileged') return { allowed: true, violations: [] };
  const checks = [...BASELINE, ...(lv.level === 'baseline' ? BASELINE_OVERLAP : RESTRICTED)];
  const violations: Violation[] = [];
  for (const check of checks) {
    if (lv.version !== 'latest' && lv.version < check.since) continue;
    const v = check.run(meta, spec, lv.version);
    if (v) violations.push(v);
  }
  return { allowed: violations.length === 0, violations };
}

/** `host namespaces (hostNetwork=true), hostPort (container "c" uses hostPort 80)`: the detail of a refusal. */
export function forbiddenDetail(e: Evaluation): string {
  return e.violations.map((v) => (v.detail ? `${v.reason} (${v.detail})` : v.reason)).join(', ');
}

/** `host namespaces, hostPort`: the short form upstream uses for existing pods. */
export function forbiddenReason(e: Evaluation): string {
  return e.violations.map((v) => v.reason).join(', ');
}
