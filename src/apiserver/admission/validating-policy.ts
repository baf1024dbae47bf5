// The ValidatingAdmissionPolicy admission plugin (admissionregistration.k8s.io/v1), as
// kube-apiserver 1.32 runs it: every create, update and delete (and its subresource writes) is
// matched against each binding's policy (matchConstraints, then the binding's matchResources: rules
// by group, version, resource, subresource, operation and scope, excluded rules, namespace and
// object label selectors); a matching policy's matchConditions must all hold; then each validation
// expression runs with `object`, `oldObject`, `request`, `namespaceObject`, `variables` (and
// `params`, always null: parameter resources are refused at create). A failed validation is denied
// (Deny: 422 for reason Invalid, 403 Forbidden, 401, 413) or returned as a Warning header (Warn);
// Audit is accepted (flatnet keeps no audit log). An expression that errors follows the policy's
// failurePolicy (Fail denies, Ignore skips). Compiled policies are cached by resourceVersion; each
// evaluation is bounded like the CRD rules (src/api/crd/cel/cost.ts).
import { R, type ResourceInfo } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import { labelSelectorMatches, type LabelSelector } from '../../api/label-selector.js';
import { admissionCelEnvironment } from '../../api/crd/cel/library.js';
import { compileExpression, type CompiledExpression } from '../../api/crd/cel/expression.js';
import { costBound, inputShape, PER_CALL_LIMIT } from '../../api/crd/cel/cost.js';
import { toCelValue } from '../../api/crd/cel/values.js';
import { isObject } from '../../api/patch/json-value.js';
import type { Store } from '../../store/types.js';
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
  failurePolicy: 'Fail' | 'Ignore';
  match: MatchResources;
  conditions: { name: string; expression: CompiledExpression | { error: string; source: string } }[];
  variables: { name: string; expression: CompiledExpression | { error: string; source: string } }[];
  validations: CompiledValidation[];
}

const CODES: Record<string, number> = { Unauthorized: 401, Forbidden: 403, Invalid: 422, RequestEntityTooLarge: 413 };


function compile(source: unknown, want: 'bool' | 'string' | 'any'): CompiledExpression | { error: string; source: string } {
  const text = String(source ?? '');
  const c = compileExpression(admissionCelEnvironment(), text, want);
  return 'error' in c ? { error: c.error, source: text } : c;
}

function compilePolicy(policy: KubeObject): CompiledPolicy {
  const spec = (isObject(policy.spec) ? policy.spec : {}) as Json;
  const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);
  return {
    resourceVersion: policy.metadata.resourceVersion ?? '',
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

export class ValidatingPolicies {
  private readonly compiled = new Map<string, CompiledPolicy>();

  constructor(private readonly store: Store) {}

  /** Throws the denial of the first binding that denies; pushes the warnings of Warn bindings. */
  admit(req: AdmissionRequest, warnings: string[]): void {
    if (this.store.count(storeKey(R.validatingadmissionpolicybindings)) === 0) return;
    // Policies and bindings are not themselves subject to policies, so a bad policy cannot lock out its own repair.
    if (req.r.group === 'admissionregistration.k8s.io') return;
    // The request's namespace (or the Namespace it writes): read once for every binding.
    const ns = this.namespaceOf(req);
    for (const e of this.store.list(storeKey(R.validatingadmissionpolicybindings)).entries) {
      const binding = e.obj;
      const spec = (isObject(binding.spec) ? binding.spec : {}) as Json;
      const policyEntry = this.store.get(storeKey(R.validatingadmissionpolicies), '', String(spec.policyName ?? ''));
      if (!policyEntry) continue;
      const policy = this.policy(policyEntry.obj);
      if (!this.matches(policy.match, req, ns) || (isObject(spec.matchResources) && !this.matches(spec.matchResources as MatchResources, req, ns))) continue;
      const actions = Array.isArray(spec.validationActions) ? (spec.validationActions as string[]) : [];
      this.evaluate(policyEntry.obj.metadata.name ?? '', binding.metadata.name ?? '', policy, actions, req, ns, warnings);
    }
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

  private evaluate(policyName: string, bindingName: string, policy: CompiledPolicy, actions: string[], req: AdmissionRequest, ns: KubeObject | undefined, warnings: string[]): void {
    const who = `ValidatingAdmissionPolicy '${policyName}' with binding '${bindingName}'`;
    const vars: Json = {
      object: req.object === undefined ? null : toCelValue(req.object, undefined),
      oldObject: req.oldObject === undefined ? null : toCelValue(req.oldObject, undefined),
      request: toCelValue(requestOf(req), undefined),
      namespaceObject: ns ? toCelValue(ns, undefined) : null,
      params: null,
      variables: {},
    };
    const input = inputShape(vars.object, vars.oldObject);
    const run = (e: CompiledExpression | { error: string; source: string }, scope: Json): { value?: unknown; error?: string } => {
      if ('error' in e) return { error: `expression '${e.source}' resulted in error: ${e.error}` };
      if (costBound(e.shape, input) > PER_CALL_LIMIT) return { error: `expression '${e.source}' resulted in error: operation cancelled: the cost bound of this request exceeds ${PER_CALL_LIMIT}` };
      try {
        return { value: e.program(scope) };
      } catch (err) {
        return { error: `expression '${e.source}' resulted in error: ${String((err as Error).message).split('\n')[0]}` };
      }
    };
    const failed = (error: string): boolean => {
      if (policy.failurePolicy === 'Ignore') return true;
      throw deny(who, error, 'Forbidden', req);
    };
    const variables: Json = {};
    for (const v of policy.variables) {
      const r = run(v.expression, { ...vars, variables });
      if (r.error !== undefined) return void failed(r.error);
      variables[v.name] = r.value;
    }
    const scope = { ...vars, variables };
    for (const c of policy.conditions) {
      const r = run(c.expression, scope);
      if (r.error !== undefined) return void failed(r.error);
      if (r.value !== true) return; // a condition that does not hold: the policy does not apply
    }
    for (const v of policy.validations) {
      const r = run(v.expression, scope);
      if (r.error !== undefined) {
        failed(r.error);
        continue;
      }
      if (r.value === true) continue;
      let message = v.message ?? `failed expression: ${v.expression.source}`;
      if (v.messageExpression) {
        const m = run(v.messageExpression, scope);
        if (typeof m.value === 'string' && m.value.trim() !== '' && !/[\r\n]/.test(m.value)) message = m.value;
      }
      if (actions.includes('Warn')) warnings.push(`Validation failed for ${who}: ${message}`);
      if (actions.includes('Deny')) throw deny(who, message, v.reason, req);
    }
  }
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

function deny(who: string, message: string, reason: string, req: AdmissionRequest): ApiStatusError {
  const text = `${who} denied request: ${message}`;
  const details = { name: req.name, kind: req.r.plural, ...(req.r.group ? { group: req.r.group } : {}), causes: [{ message: text }] };
  return new ApiStatusError(statusOf(CODES[reason] ?? 422, reason, text, details));
}
