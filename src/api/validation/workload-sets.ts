// apps/v1 StatefulSet and DaemonSet validation (upstream's pkg/apis/apps/validation, 1.32 wording).
import type { KubeObject } from '../types.js';
import type { Obj } from './defaults/util.js';
import { FIELD_IMMUTABLE, type FieldPath, forbidden, goStringMap, invalid, invalidRendered, notSupported, path, required } from './errors.js';
import type { FieldError } from './index.js';
import { validatePodTemplate } from './pod.js';
import { type LabelSelector, goLabelSelector, isEmptySelector, selectorMatches, validateLabelSelector } from './selectors.js';

function nonNegative(value: unknown, fld: FieldPath): FieldError[] {
  return typeof value === 'number' && value < 0 ? [invalid(fld, value, 'must be greater than or equal to 0')] : [];
}

/** Selector, template labels, the pod template, restartPolicy Always and no activeDeadlineSeconds. */
function validateSetTemplate(spec: Obj, fld: FieldPath, kindWord: string, template: Obj | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const selector = spec.selector as LabelSelector | undefined;
  if (!selector) errs.push(required(fld.child('selector'), ''));
  else {
    errs.push(...validateLabelSelector(selector, fld.child('selector')));
    if (isEmptySelector(selector)) errs.push(invalidRendered(fld.child('selector'), goLabelSelector(selector), `empty selector is invalid for ${kindWord}`));
  }
  if (!template) return [...errs, required(fld.child('template'), '')];
  if (selector && !isEmptySelector(selector) && !selectorMatches(selector, template.metadata?.labels)) {
    errs.push(invalidRendered(fld.child('template', 'metadata', 'labels'), goStringMap(template.metadata?.labels), '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplate(template, fld.child('template')));
  const restartPolicy = template.spec?.restartPolicy;
  if (restartPolicy !== undefined && restartPolicy !== 'Always') errs.push(notSupported(fld.child('template', 'spec', 'restartPolicy'), restartPolicy, ['Always']));
  return errs;
}

function intOrPercent(v: unknown, fld: FieldPath): { errs: FieldError[]; zero: boolean } {
  if (typeof v === 'string') {
    if (!/^[0-9]+%$/.test(v)) return { errs: [invalid(fld, v, "must be an integer or percentage (e.g '5%')")], zero: false };
    const n = parseInt(v, 10);
    return { errs: n > 100 ? [invalid(fld, v, 'must not be greater than 100%')] : [], zero: n === 0 };
  }
  if (typeof v === 'number') return { errs: nonNegative(v, fld), zero: v === 0 };
  return { errs: [], zero: true };
}

/** The template as the pods will have it: each volumeClaimTemplate stands in as a volume. */
function templateWithClaims(spec: Obj): Obj | undefined {
  const template = spec.template as Obj | undefined;
  const claims = (Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : []).map((c: Obj) => c?.metadata?.name).filter((n: unknown) => typeof n === 'string');
  if (!template || claims.length === 0) return template;
  const volumes: Obj[] = Array.isArray(template.spec?.volumes) ? [...template.spec.volumes] : [];
  for (const name of claims) if (!volumes.some((v) => v?.name === name)) volumes.push({ name, emptyDir: {} });
  return { ...template, spec: { ...(template.spec ?? {}), volumes } };
}

export function validateStatefulSet(sts: KubeObject): FieldError[] {
  const spec = (sts.spec ?? {}) as Obj;
  const fld = path('spec');
  const errs: FieldError[] = [];
  const policy = spec.podManagementPolicy;
  if (!policy) errs.push(required(fld.child('podManagementPolicy'), ''));
  else if (policy !== 'OrderedReady' && policy !== 'Parallel') errs.push(invalid(fld.child('podManagementPolicy'), policy, "must be 'OrderedReady' or 'Parallel'"));
  const strategy = (spec.updateStrategy ?? {}) as Obj;
  switch (strategy.type) {
    case undefined:
    case '':
      errs.push(required(fld.child('updateStrategy'), ''));
      break;
    case 'OnDelete':
      if (strategy.rollingUpdate) errs.push(invalidRendered(fld.child('updateStrategy', 'rollingUpdate'), '{...}', "only allowed for updateStrategy 'RollingUpdate'"));
      break;
    case 'RollingUpdate':
      if (strategy.rollingUpdate) errs.push(...nonNegative(strategy.rollingUpdate.partition, fld.child('updateStrategy', 'rollingUpdate', 'partition')));
      break;
    default:
      errs.push(invalid(fld.child('updateStrategy'), strategy.type, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const retention = spec.persistentVolumeClaimRetentionPolicy as Obj | undefined;
  for (const key of ['whenDeleted', 'whenScaled']) {
    const v = retention?.[key];
    if (v !== undefined && v !== 'Retain' && v !== 'Delete') errs.push(notSupported(fld.child('persistentVolumeClaimRetentionPolicy', key), v, ['Retain', 'Delete']));
  }
  errs.push(...nonNegative(spec.replicas, fld.child('replicas')));
  errs.push(...nonNegative(spec.minReadySeconds, fld.child('minReadySeconds')));
  errs.push(...nonNegative(spec.ordinals?.start, fld.child('ordinals', 'start')));
  (Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : []).forEach((c: Obj, i: number) => {
    if (!c?.metadata?.name) errs.push(required(fld.child('volumeClaimTemplates').index(i).child('metadata', 'name'), 'name or generateName is required'));
  });
  errs.push(...validateSetTemplate(spec, fld, 'statefulset', templateWithClaims(spec)));
  if (spec.template?.spec?.activeDeadlineSeconds != null) {
    errs.push(forbidden(fld.child('template', 'spec', 'activeDeadlineSeconds'), 'activeDeadlineSeconds in StatefulSet is not Supported'));
  }
  return errs;
}

const STS_UPDATABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

function stable(v: unknown): string {
  return JSON.stringify(v ?? null, (_k, val) => (val && typeof val === 'object' && !Array.isArray(val) ? Object.fromEntries(Object.entries(val).sort()) : val));
}

export function validateStatefulSetUpdate(sts: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateStatefulSet(sts);
  const strip = (o: KubeObject) => Object.fromEntries(Object.entries((o.spec ?? {}) as Obj).filter(([k]) => !STS_UPDATABLE.includes(k)));
  if (stable(strip(sts)) !== stable(strip(old))) {
    errs.push(
      forbidden(
        path('spec'),
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ),
    );
  }
  return errs;
}

export function validateDaemonSet(ds: KubeObject): FieldError[] {
  const spec = (ds.spec ?? {}) as Obj;
  const fld = path('spec');
  const errs: FieldError[] = [];
  errs.push(...validateSetTemplate(spec, fld, 'daemonset', spec.template));
  if (spec.template?.spec?.activeDeadlineSeconds != null) {
    errs.push(invalid(fld.child('template', 'spec', 'activeDeadlineSeconds'), spec.template.spec.activeDeadlineSeconds, 'activeDeadlineSeconds must be nil for daemonset'));
  }
  errs.push(...nonNegative(spec.minReadySeconds, fld.child('minReadySeconds')));
  errs.push(...nonNegative(spec.revisionHistoryLimit, fld.child('revisionHistoryLimit')));
  const strategy = (spec.updateStrategy ?? {}) as Obj;
  const sf = fld.child('updateStrategy');
  switch (strategy.type) {
    case 'OnDelete':
      break;
    case 'RollingUpdate': {
      if (!strategy.rollingUpdate) {
        errs.push(required(sf.child('rollingUpdate'), ''));
        break;
      }
      const rf = sf.child('rollingUpdate');
      const mu = intOrPercent(strategy.rollingUpdate.maxUnavailable, rf.child('maxUnavailable'));
      const ms = intOrPercent(strategy.rollingUpdate.maxSurge, rf.child('maxSurge'));
      errs.push(...mu.errs, ...ms.errs);
      if (mu.zero && ms.zero) errs.push(invalid(rf.child('maxUnavailable'), strategy.rollingUpdate.maxUnavailable ?? 0, 'may not be 0 when `maxSurge` is 0'));
      if (!mu.zero && !ms.zero) errs.push(invalid(rf.child('maxSurge'), strategy.rollingUpdate.maxSurge, 'may not be set when maxUnavailable is non-zero'));
      break;
    }
    default:
      errs.push(notSupported(sf.child('type'), strategy.type ?? '', ['OnDelete', 'RollingUpdate']));
  }
  return errs;
}

function selectorUnchanged(obj: KubeObject, old: KubeObject): FieldError[] {
  const sel = (obj.spec as Obj | undefined)?.selector;
  if (stable(sel) === stable((old.spec as Obj | undefined)?.selector)) return [];
  return [invalidRendered(path('spec', 'selector'), goLabelSelector(sel), FIELD_IMMUTABLE)];
}

export function validateDaemonSetUpdate(ds: KubeObject, old: KubeObject): FieldError[] {
  return [...validateDaemonSet(ds), ...selectorUnchanged(ds, old)];
}

/** upstream's ValidateControllerRevision: data is required, revision not negative. */
export function validateControllerRevision(cr: KubeObject): FieldError[] {
  const o = cr as KubeObject & { data?: unknown; revision?: unknown };
  const errs: FieldError[] = [];
  if (o.data === undefined || o.data === null) errs.push(required(path('data'), 'data is mandatory'));
  errs.push(...nonNegative(o.revision, path('revision')));
  return errs;
}

export function validateControllerRevisionUpdate(cr: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateControllerRevision(cr);
  const data = (cr as { data?: unknown }).data;
  if (stable(data) !== stable((old as { data?: unknown }).data)) errs.push(invalidRendered(path('data'), 'runtime.RawExtension{...}', FIELD_IMMUTABLE));
  return errs;
}
