// Pod and PodSpec validation (upstream's ValidatePod, ValidatePodSpec, validateContainers, validateProbe,
// validateDNSPolicy/Config, ValidatePodUpdate).
import type { KubeObject } from '../types.js';
import type { Obj } from './defaults/util.js';
import { type FieldPath, duplicate, forbidden, invalid, notSupported, path, required } from './errors.js';
import type { FieldError } from './index.js';
import { validateLabels, validateAnnotations } from './meta.js';
import { PORT_PROTOCOLS, validatePortNumOrName } from './service.js';
import { isConfigMapKey, isDNS1123Label, isDNS1123Subdomain, isEnvVarName, isQualifiedName, isValidIP, isValidPortName, isValidPortNum } from './names.js';
import { QUANTITY_REGEX_MESSAGE, parseQuantity } from './quantity.js';

export const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const TERMINATION_MESSAGE_POLICIES = ['FallbackToLogsOnError', 'File'];
const URI_SCHEMES = ['HTTP', 'HTTPS'];
const MAX_DNS_NAMESERVERS = 3;
const MAX_DNS_SEARCH_PATHS = 32;
const MAX_DNS_SEARCH_LIST_CHARS = 2048;

function nonNegative(value: unknown, fld: FieldPath): FieldError[] {
  return typeof value === 'number' && value < 0 ? [invalid(fld, value, 'must be greater than or equal to 0')] : [];
}

function validateHandler(h: Obj, fld: FieldPath, kinds: string[]): FieldError[] {
  const errs: FieldError[] = [];
  const present = kinds.filter((k) => h[k] !== undefined && h[k] !== null);
  if (present.length === 0) errs.push(required(fld, 'must specify a handler type'));
  else if (present.length > 1) errs.push(forbidden(fld.child(present[1]), 'may not specify more than 1 handler type'));
  if (h.httpGet) {
    const hf = fld.child('httpGet');
    if (!h.httpGet.path) errs.push(required(hf.child('path'), ''));
    errs.push(...validatePortNumOrName(h.httpGet.port, hf.child('port')));
    if (h.httpGet.scheme !== undefined && !URI_SCHEMES.includes(h.httpGet.scheme)) errs.push(notSupported(hf.child('scheme'), h.httpGet.scheme, URI_SCHEMES));
  }
  if (h.tcpSocket) errs.push(...validatePortNumOrName(h.tcpSocket.port, fld.child('tcpSocket', 'port')));
  if (h.exec && (!Array.isArray(h.exec.command) || h.exec.command.length === 0)) errs.push(required(fld.child('exec', 'command'), ''));
  if (h.grpc) for (const msg of isValidPortNum(h.grpc.port)) errs.push(invalid(fld.child('grpc', 'port'), h.grpc.port ?? 0, msg));
  return errs;
}

function validateProbe(probe: unknown, fld: FieldPath, mustSucceedOnce: boolean): FieldError[] {
  if (probe === undefined || probe === null) return [];
  const p = probe as Obj;
  const errs = validateHandler(p, fld, ['exec', 'httpGet', 'tcpSocket', 'grpc']);
  for (const k of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) errs.push(...nonNegative(p[k], fld.child(k)));
  if (mustSucceedOnce && p.successThreshold !== undefined && p.successThreshold !== 1) errs.push(invalid(fld.child('successThreshold'), p.successThreshold, 'must be 1'));
  if (p.terminationGracePeriodSeconds !== undefined && p.terminationGracePeriodSeconds <= 0) {
    errs.push(invalid(fld.child('terminationGracePeriodSeconds'), p.terminationGracePeriodSeconds, 'must be greater than 0'));
  }
  return errs;
}

function validateContainerPorts(ports: Obj[], fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const pf = fld.index(i);
    if (typeof port.name === 'string' && port.name.length > 0) {
      const msgs = isValidPortName(port.name);
      if (msgs.length) for (const msg of msgs) errs.push(invalid(pf.child('name'), port.name, msg));
      else if (names.has(port.name)) errs.push(duplicate(pf.child('name'), port.name));
      else names.add(port.name);
    }
    if (!port.containerPort) errs.push(required(pf.child('containerPort'), ''));
    else for (const msg of isValidPortNum(port.containerPort)) errs.push(invalid(pf.child('containerPort'), port.containerPort, msg));
    if (port.hostPort) for (const msg of isValidPortNum(port.hostPort)) errs.push(invalid(pf.child('hostPort'), port.hostPort, msg));
    if (!port.protocol) errs.push(required(pf.child('protocol'), ''));
    else if (!PORT_PROTOCOLS.includes(port.protocol)) errs.push(notSupported(pf.child('protocol'), port.protocol, PORT_PROTOCOLS));
    if (port.hostIP !== undefined && port.hostIP !== '') for (const msg of isValidIP(String(port.hostIP))) errs.push(invalid(pf.child('hostIP'), port.hostIP, msg));
  });
  return errs;
}

function validateEnv(env: Obj[], fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  env.forEach((e, i) => {
    const ef = fld.index(i);
    if (!e.name) errs.push(required(ef.child('name'), ''));
    else for (const msg of isEnvVarName(e.name)) errs.push(invalid(ef.child('name'), e.name, msg));
    if (e.valueFrom) {
      const vf = e.valueFrom as Obj;
      const sources = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'].filter((k) => vf[k]);
      if (sources.length === 0) errs.push(invalid(ef.child('valueFrom'), '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
      else if (sources.length > 1) errs.push(invalid(ef.child('valueFrom'), '', 'may not have more than one field specified at a time'));
      if (e.value) errs.push(invalid(ef.child('valueFrom'), '', 'may not be specified when `value` is not empty'));
      for (const ref of ['configMapKeyRef', 'secretKeyRef']) {
        if (vf[ref]) {
          if (!vf[ref].key) errs.push(required(ef.child('valueFrom', ref, 'key'), ''));
          else for (const msg of isConfigMapKey(vf[ref].key)) errs.push(invalid(ef.child('valueFrom', ref, 'key'), vf[ref].key, msg));
        }
      }
      if (vf.fieldRef && !vf.fieldRef.fieldPath) errs.push(required(ef.child('valueFrom', 'fieldRef', 'fieldPath'), ''));
    }
  });
  return errs;
}

const STANDARD_CONTAINER_RESOURCES = ['cpu', 'memory', 'ephemeral-storage'];

function validateResourceName(name: string, fld: FieldPath): FieldError[] {
  if (STANDARD_CONTAINER_RESOURCES.includes(name) || name.startsWith('hugepages-')) return [];
  const errs = isQualifiedName(name).map((m) => invalid(fld, name, m));
  if (!errs.length && !name.includes('/')) errs.push(invalid(fld, name, 'must be a standard resource type or fully qualified'));
  return errs;
}

/** Container requests and limits: known names, valid non-negative quantities, requests within limits. */
function validateResources(resources: Obj | undefined, fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!resources) return errs;
  for (const kind of ['limits', 'requests']) {
    for (const [name, q] of Object.entries((resources[kind] as Obj | undefined) ?? {})) {
      const qf = fld.child(kind).key(name);
      errs.push(...validateResourceName(name, qf));
      const v = parseQuantity(q);
      if (v === undefined) errs.push(invalid(qf, q, QUANTITY_REGEX_MESSAGE));
      else if (v < 0) errs.push(invalid(qf, q, 'must be greater than or equal to 0'));
    }
  }
  const limits = (resources.limits as Obj | undefined) ?? {};
  for (const [name, q] of Object.entries((resources.requests as Obj | undefined) ?? {})) {
    if (limits[name] === undefined) continue;
    const req = parseQuantity(q);
    const lim = parseQuantity(limits[name]);
    if (req !== undefined && lim !== undefined && req > lim) {
      errs.push(invalid(fld.child('requests'), String(q), `must be less than or equal to ${name} limit of ${String(limits[name])}`));
    }
  }
  return errs;
}

function validateContainers(containers: Obj[], fld: FieldPath, names: Set<string>, volumes: Set<string>, isRegular: boolean): FieldError[] {
  const errs: FieldError[] = [];
  containers.forEach((c, i) => {
    const cf = fld.index(i);
    if (!c.name) errs.push(required(cf.child('name'), ''));
    else {
      for (const msg of isDNS1123Label(c.name)) errs.push(invalid(cf.child('name'), c.name, msg));
      if (names.has(c.name)) errs.push(duplicate(cf.child('name'), c.name));
      names.add(c.name);
    }
    if (!c.image) errs.push(required(cf.child('image'), ''));
    else if (String(c.image).trim() !== c.image) errs.push(invalid(cf.child('image'), c.image, 'must not have leading or trailing whitespace'));
    if (c.imagePullPolicy === undefined || c.imagePullPolicy === '') errs.push(required(cf.child('imagePullPolicy'), ''));
    else if (!PULL_POLICIES.includes(c.imagePullPolicy)) errs.push(notSupported(cf.child('imagePullPolicy'), c.imagePullPolicy, PULL_POLICIES));
    if (c.terminationMessagePolicy === undefined || c.terminationMessagePolicy === '') errs.push(required(cf.child('terminationMessagePolicy'), ''));
    else if (!TERMINATION_MESSAGE_POLICIES.includes(c.terminationMessagePolicy)) {
      errs.push(notSupported(cf.child('terminationMessagePolicy'), c.terminationMessagePolicy, TERMINATION_MESSAGE_POLICIES));
    }
    errs.push(...validateContainerPorts(Array.isArray(c.ports) ? c.ports : [], cf.child('ports')));
    errs.push(...validateResources(c.resources, cf.child('resources')));
    errs.push(...validateEnv(Array.isArray(c.env) ? c.env : [], cf.child('env')));
    const mounts = new Set<string>();
    (Array.isArray(c.volumeMounts) ? c.volumeMounts : []).forEach((m: Obj, j: number) => {
      const mf = cf.child('volumeMounts').index(j);
      if (!m.name) errs.push(required(mf.child('name'), ''));
      else if (!volumes.has(m.name)) errs.push({ type: 'FieldValueNotFound', field: String(mf.child('name')), message: `Not found: ${JSON.stringify(m.name)}` });
      if (!m.mountPath) errs.push(required(mf.child('mountPath'), ''));
      else if (mounts.has(m.mountPath)) errs.push(invalid(mf.child('mountPath'), m.mountPath, 'must be unique'));
      if (m.mountPath) mounts.add(m.mountPath);
    });
    if (isRegular) {
      errs.push(...validateProbe(c.livenessProbe, cf.child('livenessProbe'), true));
      errs.push(...validateProbe(c.readinessProbe, cf.child('readinessProbe'), false));
      errs.push(...validateProbe(c.startupProbe, cf.child('startupProbe'), true));
    }
    for (const hook of ['postStart', 'preStop']) {
      const h = c.lifecycle?.[hook];
      if (h) errs.push(...validateHandler(h, cf.child('lifecycle', hook), ['exec', 'httpGet', 'tcpSocket', 'sleep']));
    }
  });
  return errs;
}

function validateDNS(spec: Obj, fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const policy = spec.dnsPolicy;
  if (!policy) errs.push(required(fld.child('dnsPolicy'), ''));
  else if (!DNS_POLICIES.includes(policy)) errs.push(notSupported(fld.child('dnsPolicy'), policy, DNS_POLICIES));
  const cfg = spec.dnsConfig as Obj | undefined;
  if (policy === 'None' && !cfg) {
    errs.push(required(fld.child('dnsConfig'), 'must provide `dnsConfig` when `dnsPolicy` is None'));
    return errs;
  }
  if (!cfg) return errs;
  const cf = fld.child('dnsConfig');
  const nameservers: unknown[] = Array.isArray(cfg.nameservers) ? cfg.nameservers : [];
  if (policy === 'None' && nameservers.length === 0) errs.push(required(cf.child('nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None'));
  if (nameservers.length > MAX_DNS_NAMESERVERS) errs.push(invalid(cf.child('nameservers'), nameservers, `must not have more than ${MAX_DNS_NAMESERVERS} nameservers`));
  nameservers.forEach((ns, i) => {
    for (const msg of isValidIP(String(ns))) errs.push(invalid(cf.child('nameservers').index(i), ns, msg));
  });
  const searches: string[] = Array.isArray(cfg.searches) ? cfg.searches : [];
  if (searches.length > MAX_DNS_SEARCH_PATHS) errs.push(invalid(cf.child('searches'), searches, `must not have more than ${MAX_DNS_SEARCH_PATHS} search paths`));
  if (searches.join(' ').length > MAX_DNS_SEARCH_LIST_CHARS) {
    errs.push(invalid(cf.child('searches'), searches, `must not have more than ${MAX_DNS_SEARCH_LIST_CHARS} characters (including spaces) in the search list`));
  }
  searches.forEach((s, i) => {
    const clean = s === '.' ? s : s.endsWith('.') ? s.slice(0, -1) : s;
    if (clean !== '.') for (const msg of isDNS1123Subdomain(clean)) errs.push(invalid(cf.child('searches').index(i), s, msg));
  });
  (Array.isArray(cfg.options) ? cfg.options : []).forEach((o: Obj, i: number) => {
    if (!o.name) errs.push(required(cf.child('options').index(i), 'Option.Name must not be empty'));
  });
  return errs;
}

const VOLUME_SOURCES = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi', 'glusterfs',
  'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc', 'azureFile', 'configMap',
  'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected', 'portworxVolume', 'scaleIO', 'storageos',
  'csi', 'ephemeral', 'image',
];

function validateKeyToPaths(items: unknown, fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  (Array.isArray(items) ? items : []).forEach((it: Obj, i: number) => {
    const f = fld.index(i);
    if (!it?.key) errs.push(required(f.child('key'), ''));
    if (!it?.path) errs.push(required(f.child('path'), ''));
    else {
      if (String(it.path).startsWith('/')) errs.push(invalid(f.child('path'), it.path, 'must be a relative path'));
      if (String(it.path).split('/').includes('..')) errs.push(invalid(f.child('path'), it.path, "must not contain '..'"));
    }
  });
  return errs;
}

/** One source per volume and the fields each common source needs. */
function validateVolumeSource(v: Obj, fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const present = VOLUME_SOURCES.filter((k) => v[k] !== undefined && v[k] !== null);
  if (present.length === 0) errs.push(required(fld, 'must specify a volume type'));
  for (const extra of present.slice(1)) errs.push(forbidden(fld.child(extra), 'may not specify more than 1 volume type'));
  if (v.configMap) {
    if (!v.configMap.name) errs.push(required(fld.child('configMap', 'name'), ''));
    errs.push(...validateKeyToPaths(v.configMap.items, fld.child('configMap', 'items')));
  }
  if (v.secret) {
    if (!v.secret.secretName) errs.push(required(fld.child('secret', 'secretName'), ''));
    errs.push(...validateKeyToPaths(v.secret.items, fld.child('secret', 'items')));
  }
  if (v.hostPath && !v.hostPath.path) errs.push(required(fld.child('hostPath', 'path'), ''));
  if (v.persistentVolumeClaim && !v.persistentVolumeClaim.claimName) errs.push(required(fld.child('persistentVolumeClaim', 'claimName'), ''));
  if (v.hostPath?.type !== undefined) {
    const types = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];
    if (!types.includes(v.hostPath.type)) errs.push(notSupported(fld.child('hostPath', 'type'), v.hostPath.type, types));
  }
  return errs;
}

export interface PodSpecOptions {
  /** Pod templates of workloads: restartPolicy must then be Always (checked by the workload). */
  template: boolean;
}

export function validatePodSpec(spec: Obj | undefined, fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const s = spec ?? {};
  const volumes = new Set<string>();
  (Array.isArray(s.volumes) ? s.volumes : []).forEach((v: Obj, i: number) => {
    const vf = fld.child('volumes').index(i);
    if (!v.name) errs.push(required(vf.child('name'), ''));
    else {
      for (const msg of isDNS1123Label(v.name)) errs.push(invalid(vf.child('name'), v.name, msg));
      if (volumes.has(v.name)) errs.push(duplicate(vf.child('name'), v.name));
      volumes.add(v.name);
    }
    errs.push(...validateVolumeSource(v, vf));
  });
  const containers: Obj[] = Array.isArray(s.containers) ? s.containers : [];
  const names = new Set<string>();
  if (containers.length === 0) errs.push(required(fld.child('containers'), ''));
  errs.push(...validateContainers(Array.isArray(s.initContainers) ? s.initContainers : [], fld.child('initContainers'), names, volumes, false));
  errs.push(...validateContainers(containers, fld.child('containers'), names, volumes, true));
  if (!s.restartPolicy) errs.push(required(fld.child('restartPolicy'), ''));
  else if (!RESTART_POLICIES.includes(s.restartPolicy)) errs.push(notSupported(fld.child('restartPolicy'), s.restartPolicy, RESTART_POLICIES));
  errs.push(...validateDNS(s, fld));
  errs.push(...validateLabels(s.nodeSelector, fld.child('nodeSelector')));
  errs.push(...nonNegative(s.terminationGracePeriodSeconds, fld.child('terminationGracePeriodSeconds')));
  if (s.activeDeadlineSeconds !== undefined && s.activeDeadlineSeconds !== null && !(s.activeDeadlineSeconds > 0)) {
    errs.push(invalid(fld.child('activeDeadlineSeconds'), s.activeDeadlineSeconds, 'must be between 1 and 2147483647, inclusive'));
  }
  if (s.serviceAccountName) for (const msg of isDNS1123Subdomain(s.serviceAccountName)) errs.push(invalid(fld.child('serviceAccountName'), s.serviceAccountName, msg));
  if (s.hostname) for (const msg of isDNS1123Label(s.hostname)) errs.push(invalid(fld.child('hostname'), s.hostname, msg));
  if (s.subdomain) for (const msg of isDNS1123Label(s.subdomain)) errs.push(invalid(fld.child('subdomain'), s.subdomain, msg));
  if (s.hostNetwork === true) {
    containers.forEach((c, i) => {
      (Array.isArray(c.ports) ? c.ports : []).forEach((p: Obj, j: number) => {
        if (p.hostPort !== undefined && p.hostPort !== p.containerPort) {
          errs.push(invalid(fld.child('containers').index(i).child('ports').index(j).child('containerPort'), p.containerPort, '`hostPort` must match `containerPort` when `hostNetwork` is true'));
        }
      });
    });
  }
  (Array.isArray(s.tolerations) ? s.tolerations : []).forEach((t: Obj, i: number) => {
    const tf = fld.child('tolerations').index(i);
    if (t.operator !== undefined && !['Equal', 'Exists'].includes(t.operator)) errs.push(notSupported(tf.child('operator'), t.operator, ['Equal', 'Exists']));
    if (t.operator === 'Exists' && t.value) errs.push(invalid(tf.child('operator'), t.value, 'value must be empty when `operator` is \'Exists\''));
    if (t.effect !== undefined && t.effect !== '' && !['NoExecute', 'NoSchedule', 'PreferNoSchedule'].includes(t.effect)) {
      errs.push(notSupported(tf.child('effect'), t.effect, ['NoExecute', 'NoSchedule', 'PreferNoSchedule']));
    }
  });
  return errs;
}

export function validatePodTemplate(template: Obj | undefined, fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!template) return [required(fld, '')];
  errs.push(...validateLabels(template.metadata?.labels, fld.child('metadata', 'labels')));
  errs.push(...validateAnnotations(template.metadata?.annotations, fld.child('metadata', 'annotations')));
  errs.push(...validatePodSpec(template.spec, fld.child('spec')));
  return errs;
}

export function validatePod(pod: KubeObject): FieldError[] {
  return validatePodSpec(pod.spec as Obj, path('spec'));
}

const POD_UPDATE_FORBIDDEN =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

function stable(v: unknown): string {
  return JSON.stringify(v, (_k, val) => (val && typeof val === 'object' && !Array.isArray(val) ? Object.fromEntries(Object.entries(val).sort()) : val));
}

/** Upstream's ValidatePodUpdate: only images, activeDeadlineSeconds, added tolerations and scheduling gates may change. */
export function validatePodUpdate(pod: KubeObject, old: KubeObject): FieldError[] {
  const errs = validatePod(pod);
  const spec = (pod.spec ?? {}) as Obj;
  const oldSpec = (old.spec ?? {}) as Obj;
  const fld = path('spec');
  const ad = spec.activeDeadlineSeconds;
  const oldAd = oldSpec.activeDeadlineSeconds;
  if (oldAd !== undefined && (ad === undefined || ad > oldAd)) {
    errs.push(invalid(fld.child('activeDeadlineSeconds'), ad ?? null, 'must be less than or equal to previous value'));
  }
  const oldTol: Obj[] = Array.isArray(oldSpec.tolerations) ? oldSpec.tolerations : [];
  const newTol: Obj[] = Array.isArray(spec.tolerations) ? spec.tolerations : [];
  for (const t of oldTol) {
    if (!newTol.some((n) => stable(n) === stable(t))) {
      errs.push(forbidden(fld.child('tolerations'), 'existing toleration can not be modified except its tolerationSeconds'));
      break;
    }
  }
  // Compare the rest with the mutable fields copied over from the old spec.
  const mutated: Obj = structuredClone(spec);
  const copyImages = (key: string) => {
    const now: Obj[] = Array.isArray(mutated[key]) ? mutated[key] : [];
    const before: Obj[] = Array.isArray(oldSpec[key]) ? oldSpec[key] : [];
    now.forEach((c, i) => {
      if (before[i]) c.image = before[i].image;
    });
  };
  copyImages('containers');
  copyImages('initContainers');
  mutated.activeDeadlineSeconds = oldSpec.activeDeadlineSeconds;
  mutated.tolerations = oldSpec.tolerations;
  mutated.schedulingGates = oldSpec.schedulingGates;
  if (oldSpec.terminationGracePeriodSeconds < 0 && spec.terminationGracePeriodSeconds === 1) mutated.terminationGracePeriodSeconds = oldSpec.terminationGracePeriodSeconds;
  if (!oldSpec.nodeName && spec.nodeName) mutated.nodeName = oldSpec.nodeName; // binding sets it once
  for (const k of Object.keys(mutated)) if (mutated[k] === undefined) delete mutated[k];
  const oldClean: Obj = structuredClone(oldSpec);
  for (const k of Object.keys(oldClean)) if (oldClean[k] === undefined) delete oldClean[k];
  if (stable(mutated) !== stable(oldClean)) errs.push(forbidden(fld, POD_UPDATE_FORBIDDEN));
  if (oldSpec.nodeName && spec.nodeName !== oldSpec.nodeName) errs.push(invalid(fld.child('nodeName'), spec.nodeName ?? '', 'field is immutable'));
  return errs;
}
