// Validation of admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy and
// ValidatingAdmissionPolicyBinding as kube-apiserver 1.32 does it, with CEL expressions compiled
// (a 422 names the expression that does not). Parameter resources (paramKind, paramRef) are not
// supported by flatnet and are refused with a message saying so.
import type { KubeObject } from '../types.js';
import type { FieldError } from './index.js';
import { admissionCelEnvironment } from '../crd/cel/library.js';
import { compileExpression } from '../crd/cel/expression.js';
import { isObject } from '../patch/json-value.js';

type Json = Record<string, unknown>;

const OPERATIONS = ['*', 'CREATE', 'UPDATE', 'DELETE', 'CONNECT'];
const SCOPES = ['*', 'Cluster', 'Namespaced'];
const REASONS = ['Unauthorized', 'Forbidden', 'Invalid', 'RequestEntityTooLarge'];
const ACTIONS = ['Deny', 'Warn', 'Audit'];
const CEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const quoted = (v: unknown) => JSON.stringify(v);
const list = (vs: string[]) => vs.map(quoted).join(', ');


function expression(value: unknown, at: string, want: 'bool' | 'string', out: FieldError[]): void {
  if (typeof value !== 'string' || value.trim() === '') {
    out.push({ type: 'FieldValueRequired', field: at, message: 'Required value: expression is not specified' });
    return;
  }
  const c = compileExpression(admissionCelEnvironment(), value, want);
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

export function validateValidatingAdmissionPolicy(obj: KubeObject): FieldError[] {
  const out: FieldError[] = [];
  const spec = isObject(obj.spec) ? obj.spec : {};
  if (spec.paramKind !== undefined) out.push({ type: 'FieldValueForbidden', field: 'spec.paramKind', message: 'Forbidden: flatnet does not support parameter resources for ValidatingAdmissionPolicy' });
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
    expression(val.expression, `${at}.expression`, 'bool', out);
    if (val.messageExpression !== undefined) expression(val.messageExpression, `${at}.messageExpression`, 'string', out);
    if (typeof val.message === 'string' && /[\r\n]/.test(val.message)) out.push({ type: 'FieldValueInvalid', field: `${at}.message`, message: `Invalid value: ${quoted(val.message)}: message must not contain line breaks` });
    if (val.reason !== undefined && !REASONS.includes(val.reason as string)) out.push({ type: 'FieldValueNotSupported', field: `${at}.reason`, message: `Unsupported value: ${quoted(val.reason)}: supported values: ${list(REASONS)}` });
  });
  audits.forEach((a: unknown, i) => {
    const an = isObject(a) ? a : {};
    if (typeof an.key !== 'string' || an.key === '') out.push({ type: 'FieldValueRequired', field: `spec.auditAnnotations[${i}].key`, message: 'Required value' });
    expression(an.valueExpression, `spec.auditAnnotations[${i}].valueExpression`, 'string', out);
  });
  named(spec.matchConditions, 'spec.matchConditions', out, (c, at) => expression(c.expression, `${at}.expression`, 'bool', out));
  named(spec.variables, 'spec.variables', out, (v, at) => {
    if (typeof v.name === 'string' && v.name !== '' && !CEL_NAME.test(v.name)) out.push({ type: 'FieldValueInvalid', field: `${at}.name`, message: `Invalid value: ${quoted(v.name)}: name is not a valid CEL identifier` });
    if (typeof v.expression !== 'string' || v.expression === '') out.push({ type: 'FieldValueRequired', field: `${at}.expression`, message: 'Required value' });
    else {
      const c = compileExpression(admissionCelEnvironment(), v.expression, 'any');
      if ('error' in c) out.push({ type: 'FieldValueInvalid', field: `${at}.expression`, message: `Invalid value: ${quoted(v.expression)}: ${c.error}` });
    }
  });
  return out;
}

export function validateValidatingAdmissionPolicyBinding(obj: KubeObject): FieldError[] {
  const out: FieldError[] = [];
  const spec = isObject(obj.spec) ? obj.spec : {};
  if (typeof spec.policyName !== 'string' || spec.policyName === '') out.push({ type: 'FieldValueRequired', field: 'spec.policyName', message: 'Required value' });
  if (spec.paramRef !== undefined) out.push({ type: 'FieldValueForbidden', field: 'spec.paramRef', message: 'Forbidden: flatnet does not support parameter resources for ValidatingAdmissionPolicy' });
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
