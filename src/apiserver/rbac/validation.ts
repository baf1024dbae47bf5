// Validation of Roles, ClusterRoles, RoleBindings and ClusterRoleBindings with upstream's field
// paths and messages, registered with the kind rules every write runs.
import type { KubeObject } from '../../api/types.js';
import type { FieldError } from '../../api/validation/index.js';
import { registerKindRules } from '../../api/validation/kinds.js';
import { nameIsPathSegment } from '../../api/validation/meta.js';

const RBAC = 'rbac.authorization.k8s.io';
type Json = Record<string, unknown>;

const required = (field: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field, message: detail ? `Required value: ${detail}` : 'Required value' });
const invalid = (field: string, value: unknown, detail: string): FieldError => ({ type: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${detail}` });
const unsupported = (field: string, value: unknown, supported: string[]): FieldError => ({
  type: 'FieldValueNotSupported',
  field,
  message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
});

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function validatePolicyRules(obj: KubeObject, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  list((obj as Json).rules).forEach((raw, i) => {
    const rule = (raw ?? {}) as Json;
    const f = `rules[${i}]`;
    if (list(rule.verbs).length === 0) errs.push(required(`${f}.verbs`, 'verbs must contain at least one value'));
    const urls = list(rule.nonResourceURLs);
    if (urls.length > 0) {
      if (namespaced) errs.push(invalid(`${f}.nonResourceURLs`, urls, 'namespaced rules cannot apply to non-resource URLs'));
      if (list(rule.apiGroups).length > 0 || list(rule.resources).length > 0) errs.push(invalid(`${f}.nonResourceURLs`, urls, 'rules cannot apply to both regular resources and non-resource URLs'));
      return;
    }
    if (list(rule.apiGroups).length === 0) errs.push(required(`${f}.apiGroups`, 'resource rules must supply at least one api group'));
    if (list(rule.resources).length === 0) errs.push(required(`${f}.resources`, 'resource rules must supply at least one resource'));
  });
  return errs;
}

export function validateBinding(obj: KubeObject, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const b = obj as Json;
  const ref = (b.roleRef ?? {}) as Json;
  if (ref.apiGroup !== RBAC) errs.push(unsupported('roleRef.apiGroup', ref.apiGroup ?? '', [RBAC]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind as string)) errs.push(unsupported('roleRef.kind', ref.kind ?? '', kinds));
  if (!ref.name) errs.push(required('roleRef.name'));
  else for (const msg of nameIsPathSegment(String(ref.name), false)) errs.push(invalid('roleRef.name', ref.name, msg));
  list(b.subjects).forEach((raw, i) => {
    const s = (raw ?? {}) as Json;
    const f = `subjects[${i}]`;
    if (!s.name) errs.push(required(`${f}.name`));
    switch (s.kind) {
      case 'ServiceAccount':
        if (s.apiGroup) errs.push(unsupported(`${f}.apiGroup`, s.apiGroup, ['']));
        if (!namespaced && !s.namespace) errs.push(required(`${f}.namespace`));
        break;
      case 'User':
      case 'Group':
        if (s.apiGroup !== RBAC) errs.push(unsupported(`${f}.apiGroup`, s.apiGroup ?? '', [RBAC]));
        break;
      default:
        errs.push(unsupported(`${f}.kind`, s.kind ?? '', ['ServiceAccount', 'User', 'Group']));
    }
  });
  return errs;
}

function roleRefUnchanged(obj: KubeObject, old: KubeObject): FieldError[] {
  const a = JSON.stringify((obj as Json).roleRef ?? null);
  const b = JSON.stringify((old as Json).roleRef ?? null);
  return a === b ? [] : [invalid('roleRef', (obj as Json).roleRef, 'cannot change roleRef')];
}

export function registerRbacValidation(): void {
  registerKindRules('Role', { name: nameIsPathSegment, create: (o) => validatePolicyRules(o, true) });
  registerKindRules('ClusterRole', { name: nameIsPathSegment, create: (o) => validatePolicyRules(o, false) });
  registerKindRules('RoleBinding', { name: nameIsPathSegment, create: (o) => validateBinding(o, true), update: (o, old) => [...validateBinding(o, true), ...roleRefUnchanged(o, old)] });
  registerKindRules('ClusterRoleBinding', {
    name: nameIsPathSegment,
    create: (o) => validateBinding(o, false),
    update: (o, old) => [...validateBinding(o, false), ...roleRefUnchanged(o, old)],
  });
}

registerRbacValidation();
