// apps/v1 Deployment and ReplicaSet validation (upstream's pkg/apis/apps/validation).
import type { KubeObject } from '../types.js';
import type { Obj } from './defaults/util.js';
import { FIELD_IMMUTABLE, type FieldPath, forbidden, goStringMap, invalid, invalidRendered, notSupported, notSupportedRendered, path, required } from './errors.js';
import type { FieldError } from './index.js';
import { validatePodTemplate } from './pod.js';
import { type LabelSelector, goLabelSelector, isEmptySelector, selectorMatches, validateLabelSelector } from './selectors.js';

function nonNegative(value: unknown, fld: FieldPath): FieldError[] {
  return typeof value === 'number' && value < 0 ? [invalid(fld, value, 'must be greater than or equal to 0')] : [];
}

function validateSelectorAndTemplate(spec: Obj, fld: FieldPath, kindWord: string): FieldError[] {
  const errs: FieldError[] = [];
  const selector = spec.selector as LabelSelector | undefined;
  if (!selector) {
    errs.push(required(fld.child('selector'), ''));
  } else {
    errs.push(...validateLabelSelector(selector, fld.child('selector')));
    if (isEmptySelector(selector)) errs.push(invalidRendered(fld.child('selector'), goLabelSelector(selector), `empty selector is invalid for ${kindWord}`));
  }
  const template = spec.template as Obj | undefined;
  if (!template) {
    errs.push(required(fld.child('template'), ''));
    return errs;
  }
  if (selector && !isEmptySelector(selector) && !selectorMatches(selector, template.metadata?.labels)) {
    errs.push(invalidRendered(fld.child('template', 'metadata', 'labels'), goStringMap(template.metadata?.labels), '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplate(template, fld.child('template')));
  const restartPolicy = template.spec?.restartPolicy;
  if (restartPolicy !== undefined && restartPolicy !== 'Always') errs.push(notSupported(fld.child('template', 'spec', 'restartPolicy'), restartPolicy, ['Always']));
  if (template.spec?.activeDeadlineSeconds !== undefined && template.spec?.activeDeadlineSeconds !== null) {
    errs.push(forbidden(fld.child('template', 'spec', 'activeDeadlineSeconds'), 'activeDeadlineSeconds in ReplicaSet is not Supported'));
  }
  return errs;
}

function isPercent(v: string): boolean {
  return /^[0-9]+%$/.test(v);
}

function intOrPercent(v: unknown, fld: FieldPath): { errs: FieldError[]; zero: boolean } {
  const errs: FieldError[] = [];
  let zero = false;
  if (typeof v === 'string') {
    if (!isPercent(v)) errs.push(invalid(fld, v, "must be an integer or percentage (e.g '5%')"));
    else {
      const n = parseInt(v, 10);
      zero = n === 0;
      if (n > 100) errs.push(invalid(fld, v, 'must not be greater than 100%'));
    }
  } else if (typeof v === 'number') {
    errs.push(...nonNegative(v, fld));
    zero = v === 0;
  }
  return { errs, zero };
}

/** Go's %#v of the internal apps.DeploymentStrategy upstream reports. */
function goStrategy(s: Obj): string {
  const ru = s.rollingUpdate ? '&apps.RollingUpdateDeployment{...}' : '(*apps.RollingUpdateDeployment)(nil)';
  return `apps.DeploymentStrategy{Type:${JSON.stringify(s.type ?? '')}, RollingUpdate:${ru}}`;
}

function validateStrategy(strategy: Obj | undefined, fld: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const s = strategy ?? {};
  switch (s.type) {
    case 'Recreate':
      if (s.rollingUpdate) errs.push(forbidden(fld.child('rollingUpdate'), "may not be specified when strategy `type` is 'Recreate'"));
      break;
    case 'RollingUpdate': {
      if (!s.rollingUpdate) {
        errs.push(required(fld.child('rollingUpdate'), 'this should be defaulted and never be nil'));
        break;
      }
      const rf = fld.child('rollingUpdate');
      const mu = intOrPercent(s.rollingUpdate.maxUnavailable, rf.child('maxUnavailable'));
      const ms = intOrPercent(s.rollingUpdate.maxSurge, rf.child('maxSurge'));
      errs.push(...mu.errs, ...ms.errs);
      if (mu.zero && ms.zero) errs.push(invalid(rf.child('maxUnavailable'), s.rollingUpdate.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
      break;
    }
    default:
      errs.push(notSupportedRendered(fld, goStrategy(s), ['Recreate', 'RollingUpdate']));
  }
  return errs;
}

export function validateDeployment(d: KubeObject): FieldError[] {
  const spec = (d.spec ?? {}) as Obj;
  const fld = path('spec');
  const errs: FieldError[] = [];
  errs.push(...nonNegative(spec.replicas, fld.child('replicas')));
  errs.push(...validateSelectorAndTemplate(spec, fld, 'deployment'));
  errs.push(...validateStrategy(spec.strategy, fld.child('strategy')));
  errs.push(...nonNegative(spec.minReadySeconds, fld.child('minReadySeconds')));
  errs.push(...nonNegative(spec.revisionHistoryLimit, fld.child('revisionHistoryLimit')));
  if (typeof spec.progressDeadlineSeconds === 'number') {
    errs.push(...nonNegative(spec.progressDeadlineSeconds, fld.child('progressDeadlineSeconds')));
    if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
      errs.push(invalid(fld.child('progressDeadlineSeconds'), spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
  }
  return errs;
}

export function validateReplicaSet(rs: KubeObject): FieldError[] {
  const spec = (rs.spec ?? {}) as Obj;
  const fld = path('spec');
  const errs: FieldError[] = [];
  errs.push(...nonNegative(spec.replicas, fld.child('replicas')));
  errs.push(...nonNegative(spec.minReadySeconds, fld.child('minReadySeconds')));
  errs.push(...validateSelectorAndTemplate(spec, fld, 'deployment'));
  return errs;
}

function selectorUnchanged(obj: KubeObject, old: KubeObject): FieldError[] {
  const sel = (obj.spec as Obj | undefined)?.selector;
  const oldSel = (old.spec as Obj | undefined)?.selector;
  if (JSON.stringify(normalizeSelector(sel)) === JSON.stringify(normalizeSelector(oldSel))) return [];
  return [invalidRendered(path('spec', 'selector'), goLabelSelector(sel), FIELD_IMMUTABLE)];
}

function normalizeSelector(sel: LabelSelector | undefined): unknown {
  if (!sel) return null;
  const ml = Object.entries(sel.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  return [ml, sel.matchExpressions ?? []];
}

export function validateDeploymentUpdate(d: KubeObject, old: KubeObject): FieldError[] {
  return [...validateDeployment(d), ...selectorUnchanged(d, old)];
}

export function validateReplicaSetUpdate(rs: KubeObject, old: KubeObject): FieldError[] {
  return [...validateReplicaSet(rs), ...selectorUnchanged(rs, old)];
}
