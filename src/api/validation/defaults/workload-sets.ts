// apps/v1 StatefulSet and DaemonSet defaults (upstream's SetDefaults_StatefulSet and
// SetDefaults_DaemonSet, k8s.io/kubernetes pkg/apis/apps/v1/defaults.go, 1.32 feature gates).
import { defaultPodTemplate } from './pod.js';
import { type Obj, ensureObj, isObj, objItems, setDefault } from './util.js';

export function defaultStatefulSet(sts: Obj): void {
  const spec = ensureObj(sts, 'spec');
  setDefault(spec, 'podManagementPolicy', 'OrderedReady');
  const strategy = ensureObj(spec, 'updateStrategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') setDefault(ensureObj(strategy, 'rollingUpdate'), 'partition', 0);
  const retention = ensureObj(spec, 'persistentVolumeClaimRetentionPolicy');
  setDefault(retention, 'whenDeleted', 'Retain');
  setDefault(retention, 'whenScaled', 'Retain');
  setDefault(spec, 'replicas', 1);
  setDefault(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplate(spec.template);
  for (const claim of objItems(spec, 'volumeClaimTemplates')) {
    setDefault(claim, 'apiVersion', 'v1');
    setDefault(claim, 'kind', 'PersistentVolumeClaim');
    if (isObj(claim.spec)) setDefault(claim.spec, 'volumeMode', 'Filesystem');
    setDefault(ensureObj(claim, 'status'), 'phase', 'Pending');
  }
  // Status counters without omitempty upstream: always present, 0 before the controller acts.
  if (isObj(sts.status)) for (const k of ['replicas', 'availableReplicas']) setDefault(sts.status, k, 0);
}

export function defaultDaemonSet(ds: Obj): void {
  const spec = ensureObj(ds, 'spec');
  const strategy = ensureObj(spec, 'updateStrategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const ru = ensureObj(strategy, 'rollingUpdate');
    setDefault(ru, 'maxUnavailable', 1);
    setDefault(ru, 'maxSurge', 0);
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplate(spec.template);
  // Status counters without omitempty upstream: always present, 0 before the controller acts.
  if (isObj(ds.status)) for (const k of ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady']) setDefault(ds.status, k, 0);
}
