// Evaluates a pod (its metadata and spec) against one level and version: the baseline checks,
// then, at restricted, the restricted checks in place of the baseline checks they replace, in
// upstream's order. The aggregate answers the wording of upstream's messages. Pure.
import { CHECKS, type PodMeta, type Violation, podView } from './checks.js';
import type { LevelVersion } from './policy.js';

export interface Evaluation {
  allowed: boolean;
  violations: Violation[];
}

const BASELINE = CHECKS.filter((c) => c.level === 'baseline' && !c.overlap);
const AT_BASELINE = [...BASELINE, ...CHECKS.filter((c) => c.level === 'baseline' && c.overlap)];
const AT_RESTRICTED = [...BASELINE, ...CHECKS.filter((c) => c.level === 'restricted')];

export function evaluatePod(lv: LevelVersion, meta: PodMeta, spec: Record<string, unknown>): Evaluation {
  if (lv.level === 'privileged') return { allowed: true, violations: [] };
  const checks = lv.level === 'baseline' ? AT_BASELINE : AT_RESTRICTED;
  let violations: Violation[] | undefined;
  // The checks read the same spec: its containers are gathered once for all of them.
  const view = podView(spec);
  for (const check of checks) {
    if (lv.version !== 'latest' && lv.version < check.since) continue;
    const v = check.run(meta, view, lv.version);
    if (v) (violations ??= []).push(v);
  }
  return violations ? { allowed: false, violations } : { allowed: true, violations: [] };
}

/** `host namespaces (hostNetwork=true), hostPort (container "c" uses hostPort 80)`: the detail of a refusal. */
export function forbiddenDetail(e: Evaluation): string {
  return e.violations.map((v) => (v.detail ? `${v.reason} (${v.detail})` : v.reason)).join(', ');
}

/** `host namespaces, hostPort`: the short form upstream uses for existing pods. */
export function forbiddenReason(e: Evaluation): string {
  return e.violations.map((v) => v.reason).join(', ');
}
