// upstream's SetDefaults_Pod / _PodSpec / _Container / _Probe / _Volume (k8s.io/kubernetes pkg/apis/core/v1/defaults.go).
import { type Obj, ensureObj, isObj, objItems, setDefault } from './util.js';

function defaultProbe(probe: unknown): void {
  if (!isObj(probe)) return;
  setDefault(probe, 'timeoutSeconds', 1);
  setDefault(probe, 'periodSeconds', 10);
  setDefault(probe, 'successThreshold', 1);
  setDefault(probe, 'failureThreshold', 3);
  defaultHandler(probe);
}

function defaultHandler(handler: Obj): void {
  if (isObj(handler.httpGet)) {
    setDefault(handler.httpGet, 'path', '/');
    setDefault(handler.httpGet, 'scheme', 'HTTP');
  }
}

/** :latest or no tag (and no digest) means Always, else IfNotPresent. */
export function defaultImagePullPolicy(image: string): string {
  if (image === '' || image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const nameAndTag = image.slice(lastSlash + 1);
  const colon = nameAndTag.lastIndexOf(':');
  const tag = colon >= 0 ? nameAndTag.slice(colon + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(c: Obj): void {
  setDefault(c, 'imagePullPolicy', defaultImagePullPolicy(typeof c.image === 'string' ? c.image : ''));
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  setDefault(c, 'resources', {});
  for (const port of objItems(c, 'ports')) setDefault(port, 'protocol', 'TCP');
  for (const env of objItems(c, 'env')) {
    if (isObj(env.valueFrom) && isObj(env.valueFrom.fieldRef)) setDefault(env.valueFrom.fieldRef, 'apiVersion', 'v1');
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  if (isObj(c.lifecycle)) {
    if (isObj(c.lifecycle.postStart)) defaultHandler(c.lifecycle.postStart);
    if (isObj(c.lifecycle.preStop)) defaultHandler(c.lifecycle.preStop);
  }
}

const VOLUME_SOURCES = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi', 'glusterfs',
  'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc', 'azureFile', 'configMap',
  'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected', 'portworxVolume', 'scaleIO', 'storageos',
  'csi', 'ephemeral', 'image',
];

function defaultVolume(v: Obj): void {
  if (!VOLUME_SOURCES.some((s) => v[s] !== undefined && v[s] !== null)) v.emptyDir = {};
  if (isObj(v.configMap)) setDefault(v.configMap, 'defaultMode', 0o644);
  if (isObj(v.secret)) setDefault(v.secret, 'defaultMode', 0o644);
  if (isObj(v.projected)) setDefault(v.projected, 'defaultMode', 0o644);
  if (isObj(v.downwardAPI)) setDefault(v.downwardAPI, 'defaultMode', 0o644);
  if (isObj(v.hostPath)) setDefault(v.hostPath, 'type', '');
}

/** Defaults of a PodSpec, shared by pods and pod templates. */
export function defaultPodSpec(spec: Obj): void {
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
  if (spec.hostNetwork === true) {
    // upstream: a host-network pod's container ports get hostPort = containerPort
    for (const c of [...objItems(spec, 'containers'), ...objItems(spec, 'initContainers')]) {
      for (const p of objItems(c, 'ports')) if (p.hostPort === undefined && typeof p.containerPort === 'number') p.hostPort = p.containerPort;
    }
  }
  for (const c of objItems(spec, 'initContainers')) defaultContainer(c);
  for (const c of objItems(spec, 'containers')) defaultContainer(c);
  for (const c of objItems(spec, 'ephemeralContainers')) defaultContainer(c);
  for (const v of objItems(spec, 'volumes')) defaultVolume(v);
}

export function defaultPodTemplate(template: unknown): void {
  if (!isObj(template)) return;
  defaultPodSpec(ensureObj(template, 'spec'));
}

/**
 * What the ServiceAccount and Priority admission plugins (without a PriorityClass) set on a pod.
 * Admission, not defaulting: on a create it runs after the field manager has recorded the request,
 * so no manager owns these fields (src/apiserver/strategy/pods.ts).
 */
export function admitPodDefaults(pod: Obj): void {
  const spec = ensureObj(pod, 'spec');
  if (!spec.serviceAccountName && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  setDefault(spec, 'serviceAccountName', 'default');
  setDefault(spec, 'serviceAccount', spec.serviceAccountName);
  if (spec.priorityClassName === undefined) setDefault(spec, 'priority', 0);
}

/** Pod-only defaults: the PodSpec ones plus those of SetDefaults_Pod (admission's are admitPodDefaults). */
export function defaultPod(pod: Obj): void {
  const spec = ensureObj(pod, 'spec');
  defaultPodSpec(spec);
  setDefault(spec, 'enableServiceLinks', true);
  setDefault(spec, 'preemptionPolicy', 'PreemptLowerPriority');
  // SetDefaults_Pod: limits without requests become requests
  for (const c of [...objItems(spec, 'containers'), ...objItems(spec, 'initContainers')]) {
    const r = c.resources;
    if (isObj(r) && isObj(r.limits)) {
      const requests = ensureObj(r, 'requests');
      for (const [k, v] of Object.entries(r.limits)) setDefault(requests, k, v);
    }
  }
  const status = ensureObj(pod, 'status');
  setDefault(status, 'phase', 'Pending');
  setDefault(status, 'qosClass', qosClass(spec));
}

/** The pod's QoS class as upstream computes it from requests and limits. */
const setsCpuOrMemory = (o: Obj): boolean => Object.keys(o).some((k) => k === 'cpu' || k === 'memory');

export function qosClass(spec: Obj): string {
  const containers = [...objItems(spec, 'containers'), ...objItems(spec, 'initContainers')];
  let anySet = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const req = isObj(c.resources?.requests) ? (c.resources.requests as Obj) : {};
    const lim = isObj(c.resources?.limits) ? (c.resources.limits as Obj) : {};
    if (setsCpuOrMemory(req) || setsCpuOrMemory(lim)) anySet = true;
    for (const k of ['cpu', 'memory']) {
      if (lim[k] === undefined || (req[k] !== undefined && String(req[k]) !== String(lim[k]))) guaranteed = false;
    }
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
