// Prometheus metrics of PodSecurity admission, named as kube-apiserver's:
// pod_security_evaluations_total by decision, mode, level, version, operation and resource kind.
// Evaluations are counted in a plain map (every pod write records one to three) and handed to the
// counter when the metrics are scraped.
import { Counter, Registry } from 'prom-client';
import { type LevelVersion, type Mode, formatVersion } from './policy.js';

export const podSecurityMetrics = new Registry();

type Labels = Record<'decision' | 'mode' | 'policy_level' | 'policy_version' | 'request_operation' | 'resource', string>;

const counts = new Map<string, { labels: Labels; n: number }>();

new Counter({
  name: 'pod_security_evaluations_total',
  help: 'PodSecurity policy evaluations by decision, mode, policy level and version, request operation and resource (pod or controller)',
  labelNames: ['decision', 'mode', 'policy_level', 'policy_version', 'request_operation', 'resource'],
  registers: [podSecurityMetrics],
  collect() {
    this.reset();
    for (const { labels, n } of counts.values()) this.inc(labels, n);
  },
});

export function recordEvaluation(decision: 'allow' | 'deny', mode: Mode, lv: LevelVersion, operation: 'create' | 'update', resource: 'pod' | 'controller'): void {
  const key = `${decision} ${mode} ${lv.level} ${lv.version} ${operation} ${resource}`;
  const seen = counts.get(key);
  if (seen) seen.n++;
  else counts.set(key, { labels: { decision, mode, policy_level: lv.level, policy_version: formatVersion(lv.version), request_operation: operation, resource }, n: 1 });
}
