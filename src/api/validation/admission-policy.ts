// Validation of admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy and
// ValidatingAdmissionPolicyBinding as kube-apiserver 1.32 does it, with CEL expressions compiled
// (a 422 names the expression that does not), the policy's paramKind (an apiVersion and a kind) and
// the binding's paramRef (name or selector, namespace, parameterNotFoundAction) with upstream's rules
// and messages. `params` is declared only in the expressions of a policy with a paramKind.
import type { KubeObject } from '../types.js';
import type { FieldError } from './index.js';
import { admissionCelEnvironment } from '../crd/cel/library.js';
import { compileExpression } from '../crd/cel/expression.js';
import { isObject } from '../patch/json-value.js';
import { path, forbidden, invalid, notSupported, required } from './errors.js';
import { isDNS1035Label, isDNS1123Subdomain } from './names.js';
import { isValidPathSegmentName } from './meta.js';
import { validateLabelSelector } from './selectors.js';
import type { LabelSelector } from '../label-selector.js';

type Json = Record<string, unknown>;

const OPERATIONS = ['*', 'CREATE', 'UPDATE', 'DELETE', 'CONNECT'];
const SCOPES = ['*', 'Cluster', 'Namespaced'];
const REASONS = ['Unauthorized', 'Forbidden', 'Invalid', 'RequestEntityTooLarge'];
const ACTIONS = ['Deny', 'Warn', 'Audit'];
const CEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const quoted = (v: unknown) => JSON.stringify(v);
const list = (vs: string[]) => vs.map(quoted).join(', ');


function expression(value: unknown, at: string, want: 'bool' | 'string', out: FieldError[], hasParams: boolean): void {
  if (typeof value !== 'string' || value.trim() === '') {
    out.push({ type: 'FieldValueRequired', field: at, message: 'Required value: expression is not specified' });
    return;
  }
  const c = compileExpression(admissionCelEnvironment(hasParams), value, want);
  if ('error' in c) out.push({ type: 'FieldValueInvalid', field: at, message: `Invalid value: ${quoted(value)}: ${c.error}` });
}

function rules(value: unknown, at: string, out: FieldError[]): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) {
    out.push({ type: 'FieldValueTypeInvalid', field: at, message: 'Invalid value: must be a list of rules' });
    return;
  }
  value.forEach((rule: unknown, i) => {
    const r = isObject(rule) ? rule : {};
    for (const key of ['apiGroups', 'apiVersions', 'resources', 'operations']) {
      const v = r[key];
      if (!Array.isArray(v) || v.length === 0) out.push({ type: 'FieldValueRequired', field: `${at}[${i}].${key}`, message: 'Required value' });
    }
    for (const [j, op] of (Array.isArray(r.operations) ? r.operations : []).entries()) {
      if (!OPERATIONS.includes(op as string)) out.push({ type: 'FieldValueNotSupported', field: `${at}[${i}].operations[${j}]`, message: `Unsupported value: ${quoted(op)}: supported values: ${list(OPERATIONS)}` });
    }
    if (r.scope !== undefined && !SCOPES.includes(r.scope as string)) out.push({ type: 'FieldValueNotSupported', field: `${at}[${i}].scope`, message: `Unsupported value: ${quoted(r.scope)}: supported values: ${list(SCOPES)}` });
  });
}

function matchResources(value: unknown, at: string, out: FieldError[], required: boolean): void {
  if (value === undefined) {
    if (required) out.push({ type: 'FieldValueRequired', field: at, message: 'Required value' });
    return;
  }
  const m = isObject(value) ? value : {};
  if (required && (!Array.isArray(m.resourceRules) || m.resourceRules.length === 0)) out.push({ type: 'FieldValueRequired', field: `${at}.resourceRules`, message: 'Required value' });
  rules(m.resourceRules, `${at}.resourceRules`, out);
  rules(m.excludeResourceRules, `${at}.excludeResourceRules`, out);
  if (m.matchPolicy !== undefined && m.matchPolicy !== 'Exact' && m.matchPolicy !== 'Equivalent') {
    out.push({ type: 'FieldValueNotSupported', field: `${at}.matchPolicy`, message: `Unsupported value: ${quoted(m.matchPolicy)}: supported values: "Equivalent", "Exact"` });
  }
}

function named(value: unknown, at: string, out: FieldError[], check: (item: Json, at: string) => void): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) {
    out.push({ type: 'FieldValueTypeInvalid', field: at, message: 'Invalid value: must be a list' });
    return;
  }
  const seen = new Set<string>();
  value.forEach((item: unknown, i) => {
    const it = isObject(item) ? item : {};
    const name = it.name;
    if (typeof name !== 'string' || name === '') out.push({ type: 'FieldValueRequired', field: `${at}[${i}].name`, message: 'Required value' });
    else if (seen.has(name)) out.push({ type: 'FieldValueDuplicate', field: `${at}[${i}].name`, message: `Duplicate value: ${quoted(name)}` });
    else seen.add(name);
    check(it, `${at}[${i}]`);
  });
}

/** "group/version" or "version" split as upstream's parseGroupVersion does (an error for more than one slash). */
export function parseGroupVersion(apiVersion: string): { group: string; version: string } | { error: string } {
  if (apiVersion === '' || apiVersion === '/') return { group: '', version: '' };
  const parts = apiVersion.split('/');
  if (parts.length === 1) return { group: '', version: apiVersion };
  if (parts.length === 2) return { group: parts[0], version: parts[1] };
  return { error: `unexpected GroupVersion string: ${apiVersion}` };
}

/** spec.paramKind: an apiVersion whose group is a DNS subdomain and version a DNS-1035 label, and a kind. */
export function validateParamKind(value: unknown): FieldError[] {
  const out: FieldError[] = [];
  const at = path('spec', 'paramKind');
  const pk = isObject(value) ? value : {};
  const apiVersion = typeof pk.apiVersion === 'string' ? pk.apiVersion : '';
  const kind = typeof pk.kind === 'string' ? pk.kind : '';
  if (apiVersion === '') out.push(required(at.child('apiVersion')));
  else {
    const gv = parseGroupVersion(apiVersion);
    if ('error' in gv) out.push(invalid(at.child('apiVersion'), apiVersion, gv.error));
    else {
      if (gv.group !== '') {
        const errs = isDNS1123Subdomain(gv.group);
        if (errs.length > 0) out.push(invalid(at.child('apiVersion'), gv.group, errs.join(',')));
      }
      if (gv.version === '') out.push(invalid(at.child('apiVersion'), apiVersion, 'version must be specified'));
      else {
        const errs = isDNS1035Label(gv.version);
        if (errs.length > 0) out.push(invalid(at.child('apiVersion'), gv.version, errs.join(',')));
      }
    }
  }
  if (kind === '') out.push(required(at.child('kind')));
  else {
    const errs = isDNS1035Label(kind.toLowerCase());
    if (errs.length > 0) out.push(invalid(at.child('kind'), kind, `may have mixed case, but should otherwise match: ${errs.join(',')}`));
  }
  return out;
}

/** A binding's spec.paramRef: name or selector (not both), a path-segment namespace, parameterNotFoundAction Allow or Deny (required). */
export function validateParamRef(value: unknown): FieldError[] {
  const out: FieldError[] = [];
  if (value === undefined || value === null) return out;
  const at = path('spec', 'paramRef');
  const pr = isObject(value) ? value : {};
  const name = typeof pr.name === 'string' ? pr.name : '';
  const namespace = typeof pr.namespace === 'string' ? pr.namespace : '';
  const hasSelector = pr.selector !== undefined && pr.selector !== null;
  if (name !== '') {
    for (const msg of isValidPathSegmentName(name)) out.push(invalid(at.child('name'), name, msg));
    if (hasSelector) out.push(forbidden(at.child('name'), 'name and selector are mutually exclusive'));
  }
  if (namespace !== '') for (const msg of isValidPathSegmentName(namespace)) out.push(invalid(at.child('namespace'), namespace, msg));
  if (hasSelector) {
    out.push(...validateLabelSelector(pr.selector as LabelSelector, at.child('selector')));
    if (name !== '') out.push(forbidden(at.child('selector'), 'name and selector are mutually exclusive'));
  }
  if (name === '' && !hasSelector) out.push(required(at, 'one of name or selector must be specified'));
  const action = pr.parameterNotFoundAction;
  if (action === undefined || action === null || action === '') out.push(required(at.child('parameterNotFoundAction')));
  else if (action !== 'Deny' && action !== 'Allow') out.push(notSupported(at.child('parameterNotFoundAction'), action, ['Deny', 'Allow']));
  return out;
}

export function validateValidatingAdmissionPolicy(obj: KubeObject): FieldError[] {
  const out: FieldError[] = [];
  const spec = isObject(obj.spec) ? obj.spec : {};
  const hasParams = spec.paramKind !== undefined && spec.paramKind !== null;
  if (hasParams) out.push(...validateParamKind(spec.paramKind));
  if (spec.failurePolicy !== undefined && spec.failurePolicy !== 'Fail' && spec.failurePolicy !== 'Ignore') {
    out.push({ type: 'FieldValueNotSupported', field: 'spec.failurePolicy', message: `Unsupported value: ${quoted(spec.failurePolicy)}: supported values: "Fail", "Ignore"` });
  }
  matchResources(spec.matchConstraints, 'spec.matchConstraints', out, true);
  const validations = Array.isArray(spec.validations) ? spec.validations : [];
  const audits = Array.isArray(spec.auditAnnotations) ? spec.auditAnnotations : [];
  if (validations.length === 0 && audits.length === 0) out.push({ type: 'FieldValueRequired', field: 'spec.validations', message: 'Required value: validations or auditAnnotations must contain at least one item' });
  validations.forEach((v: unknown, i) => {
    const at = `spec.validations[${i}]`;
    const val = isObject(v) ? v : {};
    expression(val.expression, `${at}.expression`, 'bool', out, hasParams);
    if (val.messageExpression !== undefined) expression(val.messageExpression, `${at}.messageExpression`, 'string', out, hasParams);
    if (typeof val.message === 'string' && /[\r\n]/.test(val.message)) out.push({ type: 'FieldValueInvalid', field: `${at}.message`, message: `Invalid value: ${quoted(val.message)}: message must not contain line breaks` });
    if (val.reason !== undefined && !REASONS.includes(val.reason as string)) out.push({ type: 'FieldValueNotSupported', field: `${at}.reason`, message: `Unsupported value: ${quoted(val.reason)}: supported values: ${list(REASONS)}` });
  });
  audits.forEach((a: unknown, i) => {
    const an = isObject(a) ? a : {};
    if (typeof an.key !== 'string' || an.key === '') out.push({ type: 'FieldValueRequired', field: `spec.auditAnnotations[${i}].key`, message: 'Required value' });
    expression(an.valueExpression, `spec.auditAnnotations[${i}].valueExpression`, 'string', out, hasParams);
  });
  named(spec.matchConditions, 'spec.matchConditions', out, (c, at) => expression(c.expression, `${at}.expression`, 'bool', out, hasParams));
  named(spec.variables, 'spec.variables', out, (v, at) => {
    if (typeof v.name === 'string' && v.name !== '' && !CEL_NAME.test(v.name)) out.push({ type: 'FieldValueInvalid', field: `${at}.name`, message: `Invalid value: ${quoted(v.name)}: name is not a valid CEL identifier` });
    if (typeof v.expression !== 'string' || v.expression === '') out.push({ type: 'FieldValueRequired', field: `${at}.expression`, message: 'Required value' });
    else {
      const c = compileExpression(admissionCelEnvironment(hasParams), v.expression, 'any');
      if ('error' in c) out.push({ type: 'FieldValueInvalid', field: `${at}.expression`, message: `Invalid value: ${quoted(v.expression)}: ${c.error}` });
    }
  });
  return out;
}

export function validateValidatingAdmissionPolicyBinding(obj: KubeObject): FieldError[] {
  const out: FieldError[] = [];
  const spec = isObject(obj.spec) ? obj.spec : {};
  if (typeof spec.policyName !== 'string' || spec.policyName === '') out.push({ type: 'FieldValueRequired', field: 'spec.policyName', message: 'Required value' });
  out.push(...validateParamRef(spec.paramRef));
  matchResources(spec.matchResources, 'spec.matchResources', out, false);
  const actions = Array.isArray(spec.validationActions) ? spec.validationActions : [];
  if (actions.length === 0) out.push({ type: 'FieldValueRequired', field: 'spec.validationActions', message: 'Required value: at least one validation action is required' });
  const seen = new Set<unknown>();
  actions.forEach((a: unknown, i) => {
    if (!ACTIONS.includes(a as string)) out.push({ type: 'FieldValueNotSupported', field: `spec.validationActions[${i}]`, message: `Unsupported value: ${quoted(a)}: supported values: ${list(ACTIONS)}` });
    else if (seen.has(a)) out.push({ type: 'FieldValueDuplicate', field: `spec.validationActions[${i}]`, message: `Duplicate value: ${quoted(a)}` });
    seen.add(a);
  });
  if (seen.has('Deny') && seen.has('Warn')) out.push({ type: 'FieldValueInvalid', field: 'spec.validationActions', message: 'Invalid value: ["Deny","Warn"]: must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)' });
  return out;
}
