// Prometheus metrics of PodSecurity admission, named as kube-apiserver's:
// pod_security_evaluations_total by decision, mode, level, version, operation and resource kind.
import { Counter, Registry } from 'prom-client';
import { type LevelVersion, type Mode, formatVersion } from './policy.js';

export const podSecurityMetrics = new Registry();

const evaluations = new Counter({
  name: 'pod_security_evaluations_total',
  help: 'PodSecurity policy evaluations by decision, mode, policy level and version, request operation and resource (pod or controller)',
  labelNames: ['decision', 'mode', 'policy_level', 'policy_version', 'request_operation', 'resource'],
  registers: [podSecurityMetrics],
});

export function recordEvaluation(decision: 'allow' | 'deny', mode: Mode, lv: LevelVersion, operation: 'create' | 'update', resource: 'pod' | 'controller'): void {
  evaluations.inc({ decision, mode, policy_level: lv.level, policy_version: formatVersion(lv.version), request_operation: operation, resource });
}
