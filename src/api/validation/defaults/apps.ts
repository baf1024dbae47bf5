// apps/v1 defaults (upstream's pkg/apis/apps/v1/defaults.go).
import { defaultPodTemplate } from './pod.js';
import { type Obj, ensureObj, isObj, setDefault } from './util.js';

export function defaultDeployment(d: Obj): void {
  const spec = ensureObj(d, 'spec');
  setDefault(spec, 'replicas', 1);
  const strategy = ensureObj(spec, 'strategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const ru = ensureObj(strategy, 'rollingUpdate');
    setDefault(ru, 'maxUnavailable', '25%');
    setDefault(ru, 'maxSurge', '25%');
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  setDefault(spec, 'progressDeadlineSeconds', 600);
  defaultPodTemplate(spec.template);
}

export function defaultReplicaSet(rs: Obj): void {
  const spec = ensureObj(rs, 'spec');
  setDefault(spec, 'replicas', 1);
  defaultPodTemplate(spec.template);
  if (isObj(rs.status)) setDefault(rs.status, 'replicas', 0);
}
