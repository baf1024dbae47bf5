// The ValidatingAdmissionPolicy admission plugin (admissionregistration.k8s.io/v1), as
// kube-apiserver 1.32 runs it: every create, update and delete (and its subresource writes) is
// matched against each binding's policy (matchConstraints, then the binding's matchResources: rules
// by group, version, resource, subresource, operation and scope, excluded rules, namespace and
// object label selectors); a matching policy's matchConditions must all hold; then each validation
// expression runs with `object`, `oldObject`, `request`, `namespaceObject`, `variables` and
// `params`: once per param the binding's paramRef finds (policy-params.ts), or once with params null
// when the policy has no paramKind or the binding no paramRef. A failed validation is denied (Deny:
// 422 for reason Invalid, 403 Forbidden, 401, 413) or returned as a Warning header (Warn); Audit is
// accepted (flatnet keeps no audit log). An expression that errors, a paramKind that is not served
// and params not found under Deny follow the policy's failurePolicy (Fail denies, Ignore skips). Compiled policies are cached by resourceVersion; each
// evaluation is bounded like the CRD rules (src/api/crd/cel/cost.ts).
import { R, type ResourceInfo } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import { labelSelectorMatches, type LabelSelector } from '../../api/label-selector.js';
import { admissionCelEnvironment } from '../../api/crd/cel/library.js';
import { compileExpression, type CompiledExpression } from '../../api/crd/cel/expression.js';
import { costBound, inputShape, PER_CALL_LIMIT } from '../../api/crd/cel/cost.js';
import { toCelValue } from '../../api/crd/cel/values.js';
import { isObject } from '../../api/patch/json-value.js';
import type { JSONSchemaProps } from '../../api/crd/types.js';
import type { Store } from '../../store/types.js';
import { collectParams, resolveParamKind, type ParamRef, type ParamResource } from './policy-params.js';
import { ApiStatusError, statusOf } from '../errors.js';
import { storeKey } from '../registry.js';

type Json = Record<string, unknown>;
export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE';

export interface AdmissionRequest {
  operation: AdmissionOperation;
  r: ResourceInfo;
  subresource?: string;
  namespace: string;
  name: string;
  object?: KubeObject;
  oldObject?: KubeObject;
  user?: { username: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  dryRun: boolean;
}

interface Rule {
  apiGroups?: string[];
  apiVersions?: string[];
  resources?: string[];
  operations?: string[];
  scope?: string;
  resourceNames?: string[];
}

interface MatchResources {
  resourceRules?: Rule[];
  excludeResourceRules?: Rule[];
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
}

interface CompiledValidation {
  expression: CompiledExpression | { error: string; source: string };
  message?: string;
  messageExpression?: CompiledExpression;
  reason: string;
}

interface CompiledPolicy {
  resourceVersion: string;
  paramKind?: { apiVersion?: string; kind?: string };
  failurePolicy: 'Fail' | 'Ignore';
  match: MatchResources;
  conditions: { name: string; expression: CompiledExpression | { error: string; source: string } }[];
  variables: { name: string; expression: CompiledExpression | { error: string; source: string } }[];
  validations: CompiledValidation[];
}

const CODES: Record<string, number> = { Unauthorized: 401, Forbidden: 403, Invalid: 422, RequestEntityTooLarge: 413 };


function compileWith(source: unknown, want: 'bool' | 'string' | 'any', hasParams: boolean): CompiledExpression | { error: string; source: string } {
  const text = String(source ?? '');
  const c = compileExpression(admissionCelEnvironment(hasParams), text, want);
  return 'error' in c ? { error: c.error, source: text } : c;
}

function compilePolicy(policy: KubeObject): CompiledPolicy {
  const spec = (isObject(policy.spec) ? policy.spec : {}) as Json;
  const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);
  const paramKind = isObject(spec.paramKind) ? (spec.paramKind as CompiledPolicy['paramKind']) : undefined;
  const compile = (source: unknown, want: 'bool' | 'string' | 'any') => compileWith(source, want, paramKind !== undefined);
  return {
    resourceVersion: policy.metadata.resourceVersion ?? '',
    paramKind,
    failurePolicy: spec.failurePolicy === 'Ignore' ? 'Ignore' : 'Fail',
    match: (isObject(spec.matchConstraints) ? spec.matchConstraints : {}) as MatchResources,
    conditions: list(spec.matchConditions).map((c) => ({ name: String(c.name), expression: compile(c.expression, 'bool') })),
    variables: list(spec.variables).map((v) => ({ name: String(v.name), expression: compile(v.expression, 'any') })),
    validations: list(spec.validations).map((v) => {
      const messageExpression = v.messageExpression === undefined ? undefined : compile(v.messageExpression, 'string');
      return {
        expression: compile(v.expression, 'bool'),
        message: typeof v.message === 'string' ? v.message : undefined,
        messageExpression: messageExpression && !('error' in messageExpression) ? messageExpression : undefined,
        reason: typeof v.reason === 'string' && v.reason in CODES ? v.reason : 'Invalid',
      };
    }),
  };
}

const matchesAny = (patterns: string[] | undefined, value: string) => (patterns ?? []).some((p) => p === '*' || p === value);

/** Whether a rule covers the request (resource `pods`, `pods/status`, `*`, `*\/status`, `pods/*`, `*\/*`). */
export function ruleMatches(rule: Rule, req: Pick<AdmissionRequest, 'operation' | 'r' | 'subresource' | 'name'>): boolean {
  if (!matchesAny(rule.operations, req.operation)) return false;
  if (!matchesAny(rule.apiGroups, req.r.group) || !matchesAny(rule.apiVersions, req.r.version)) return false;
  const sub = req.subresource ?? '';
  const resourceOk = (rule.resources ?? []).some((p) => {
    const [res, subPattern] = p.split('/', 2) as [string, string | undefined];
    if (res !== '*' && res !== req.r.plural) return false;
    if (subPattern === undefined) return sub === '';
    return subPattern === '*' || subPattern === sub;
  });
  if (!resourceOk) return false;
  const scope = rule.scope ?? '*';
  if (scope === 'Cluster' && req.r.namespaced) return false;
  if (scope === 'Namespaced' && !req.r.namespaced) return false;
  return !rule.resourceNames?.length || rule.resourceNames.includes(req.name);
}

/** One failed validation (or configuration error) that a Deny action turns into the answer. */
interface Denial {
  policy: string;
  binding?: string;
  message: string;
  reason: string;
}

/** A failed validation of one policy evaluation: its message and reason ('' for an evaluation error: Invalid). */
interface Failure {
  message: string;
  reason: string;
}

export class ValidatingPolicies {
  private readonly compiled = new Map<string, CompiledPolicy>();

  constructor(private readonly store: Store) {}

  /**
   * Evaluates every binding that matches the request; pushes the warnings of Warn bindings and throws
   * the first denial (a Deny binding's failed validation, or a configuration error under Fail).
   */
  admit(req: AdmissionRequest, warnings: string[]): void {
    if (this.store.count(storeKey(R.validatingadmissionpolicybindings)) === 0) return;
    // Policies and bindings are not themselves subject to policies, so a bad policy cannot lock out its own repair.
    if (req.r.group === 'admissionregistration.k8s.io') return;
    // The request's namespace (or the Namespace it writes): read once for every binding.
    const ns = this.namespaceOf(req);
    const bindingsByPolicy = new Map<string, KubeObject[]>();
    for (const e of this.store.list(storeKey(R.validatingadmissionpolicybindings)).entries) {
      const policyName = String((isObject(e.obj.spec) ? e.obj.spec : {}).policyName ?? '');
      bindingsByPolicy.set(policyName, [...(bindingsByPolicy.get(policyName) ?? []), e.obj]);
    }
    const denials: Denial[] = [];
    for (const [policyName, bindings] of bindingsByPolicy) {
      const policyEntry = this.store.get(storeKey(R.validatingadmissionpolicies), '', policyName);
      if (!policyEntry) continue;
      const policy = this.policy(policyEntry.obj);
      if (!this.matches(policy.match, req, ns)) continue;
      const configError = (message: string, binding?: string) => {
        if (policy.failurePolicy === 'Fail') denials.push({ policy: policyName, binding, message, reason: 'Invalid' });
      };
      let paramResource: ParamResource | undefined;
      if (policy.paramKind) {
        const resolved = resolveParamKind(this.store, policy.paramKind);
        if ('error' in resolved) {
          configError(`failed to configure policy: ${resolved.error}`);
          continue;
        }
        paramResource = resolved;
      }
      for (const binding of bindings) {
        const spec = (isObject(binding.spec) ? binding.spec : {}) as Json;
        const bindingName = binding.metadata.name ?? '';
        if (isObject(spec.matchResources) && !this.matches(spec.matchResources as MatchResources, req, ns)) continue;
        const params = paramResource ? collectParams(this.store, paramResource, isObject(spec.paramRef) ? (spec.paramRef as ParamRef) : undefined, paramNamespaceOf(req)) : [null];
        if ('error' in params) {
          configError(`failed to configure binding: ${params.error}`, bindingName);
          continue;
        }
        const actions = Array.isArray(spec.validationActions) ? (spec.validationActions as string[]) : [];
        for (const param of params) {
          for (const failure of this.validate(policy, req, ns, param, paramResource?.schema)) {
            if (actions.includes('Deny')) denials.push({ policy: policyName, binding: bindingName, ...failure });
            if (actions.includes('Warn')) warnings.push(`Validation failed for ValidatingAdmissionPolicy '${policyName}' with binding '${bindingName}': ${failure.message}`);
          }
        }
      }
    }
    if (denials.length > 0) throw deny(denials[0], req);
  }

  private policy(obj: KubeObject): CompiledPolicy {
    const key = obj.metadata.uid ?? obj.metadata.name ?? '';
    const cached = this.compiled.get(key);
    if (cached && cached.resourceVersion === obj.metadata.resourceVersion) return cached;
    const fresh = compilePolicy(obj);
    this.compiled.set(key, fresh);
    if (this.compiled.size > 4 * (this.store.count(storeKey(R.validatingadmissionpolicies)) + 8)) this.compiled.clear();
    return fresh;
  }

  private namespaceOf(req: AdmissionRequest): KubeObject | undefined {
    if (!req.r.namespaced) return req.r === R.namespaces ? (req.object ?? req.oldObject) : undefined;
    return this.store.get(storeKey(R.namespaces), '', req.namespace)?.obj;
  }

  private matches(m: MatchResources, req: AdmissionRequest, ns: KubeObject | undefined): boolean {
    if (m.resourceRules && !m.resourceRules.some((rule) => ruleMatches(rule, req))) return false;
    if (m.excludeResourceRules?.some((rule) => ruleMatches(rule, req))) return false;
    if (m.namespaceSelector && ns && !labelSelectorMatches(m.namespaceSelector, ns.metadata.labels)) return false;
    if (m.objectSelector) {
      const objects = [req.object, req.oldObject].filter((o): o is KubeObject => o !== undefined);
      if (!objects.some((o) => labelSelectorMatches(m.objectSelector!, o.metadata.labels))) return false;
    }
    return true;
  }

  /**
   * One evaluation of a policy (with one param, or none): its matchConditions, variables and
   * validations. Answers the failures; an expression that errors is a failure under Fail and
   * nothing under Ignore, as upstream's validator decides.
   */
  private validate(policy: CompiledPolicy, req: AdmissionRequest, ns: KubeObject | undefined, param: KubeObject | null, paramSchema: JSONSchemaProps | undefined): Failure[] {
    const vars: Json = {
      object: req.object === undefined ? null : toCelValue(req.object, undefined),
      oldObject: req.oldObject === undefined ? null : toCelValue(req.oldObject, undefined),
      request: toCelValue(requestOf(req), undefined),
      namespaceObject: ns ? toCelValue(ns, undefined) : null,
      params: param === null ? null : toCelValue(param, paramSchema),
      variables: {},
    };
    const input = inputShape(vars.object, vars.oldObject, vars.params);
    const run = (e: CompiledExpression | { error: string; source: string }, scope: Json): { value?: unknown; error?: string } => {
      if ('error' in e) return { error: `expression '${e.source}' resulted in error: ${e.error}` };
      if (costBound(e.shape, input) > PER_CALL_LIMIT) return { error: `expression '${e.source}' resulted in error: operation cancelled: the cost bound of this request exceeds ${PER_CALL_LIMIT}` };
      try {
        return { value: e.program(scope) };
      } catch (err) {
        return { error: `expression '${e.source}' resulted in error: ${String((err as Error).message).split('\n')[0]}` };
      }
    };
    const erred = (message: string): Failure[] => (policy.failurePolicy === 'Ignore' ? [] : [{ message, reason: 'Invalid' }]);
    const variables: Json = {};
    for (const v of policy.variables) {
      const r = run(v.expression, { ...vars, variables });
      if (r.error !== undefined) return erred(r.error);
      variables[v.name] = r.value;
    }
    const scope = { ...vars, variables };
    for (const c of policy.conditions) {
      const r = run(c.expression, scope);
      if (r.error !== undefined) return erred(r.error);
      if (r.value !== true) return []; // a condition that does not hold: the policy does not apply
    }
    const failures: Failure[] = [];
    for (const v of policy.validations) {
      const r = run(v.expression, scope);
      if (r.error !== undefined) {
        failures.push(...erred(r.error));
        continue;
      }
      if (r.value === true) continue;
      let message = '';
      if (v.messageExpression) {
        const m = run(v.messageExpression, scope);
        if (typeof m.value === 'string' && !/[\r\n]/.test(m.value.trim())) message = m.value.trim();
      }
      if (message === '') message = v.message?.trim() || `failed expression: ${v.expression.source.trim()}`;
      failures.push({ message, reason: v.reason });
    }
    return failures;
  }
}

/** The namespace a namespaced paramKind is looked up in by default: the request's (a Namespace's own name, as upstream). */
function paramNamespaceOf(req: AdmissionRequest): string {
  return req.r === R.namespaces ? req.name : req.namespace;
}

function requestOf(req: AdmissionRequest): Json {
  const kind = { group: req.r.group, version: req.r.version, kind: req.r.kind };
  const resource = { group: req.r.group, version: req.r.version, resource: req.r.plural };
  const user = req.user;
  return {
    kind,
    resource,
    requestKind: kind,
    requestResource: resource,
    subResource: req.subresource ?? '',
    name: req.name,
    namespace: req.namespace,
    operation: req.operation,
    userInfo: { username: user?.username ?? '', uid: user?.uid ?? '', groups: user?.groups ?? [], extra: user?.extra ?? {} },
    dryRun: req.dryRun,
  };
}

/** The error of a denial: upstream's Forbidden wording (`<resource> "<name>" is forbidden: ...`) with the decision's reason and code. */
function deny(d: Denial, req: AdmissionRequest): ApiStatusError {
  const who = d.binding === undefined ? `ValidatingAdmissionPolicy '${d.policy}'` : `ValidatingAdmissionPolicy '${d.policy}' with binding '${d.binding}'`;
  const text = `${who} denied request: ${d.message}`;
  const resource = req.r.group ? `${req.r.plural}.${req.r.group}` : req.r.plural;
  const message = req.name ? `${resource} "${req.name}" is forbidden: ${text}` : `${resource} is forbidden: ${text}`;
  const details = { name: req.name, kind: req.r.plural, ...(req.r.group ? { group: req.r.group } : {}), causes: [{ message: text }] };
  return new ApiStatusError(statusOf(CODES[d.reason] ?? 422, d.reason in CODES ? d.reason : 'Invalid', message, details));
}
