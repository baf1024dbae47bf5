// The PodSecurity admission step, as kube-apiserver 1.32's plugin: pods are refused (403) when
// they violate their namespace's enforce level; pods and the pod templates of workload kinds get
// `Warning`s for the warn level and an audit record for the audit level; setting a stricter
// enforce label on a namespace answers warnings naming the existing pods it would refuse. There
// is no audit log, so audit records are log lines with upstream's annotation keys.
import type { ResourceInfo } from '../../../api/resources.js';
import type { KubeObject } from '../../../api/types.js';
import type { FieldError } from '../../../api/validation/index.js';
import { createLogger } from '../../../util/log.js';
import { ApiStatusError, errors } from '../../errors.js';
import { type Evaluation, evaluatePod, forbiddenDetail, forbiddenReason } from './evaluate.js';
import { type LevelVersion, MODES, type Policy, formatLevelVersion, isFullyPrivileged, levelRank, policyFromLabels, policyLabelsKey, sameLevelVersion } from './policy.js';
import { type PodShape, isPodResource, isSignificantPodUpdate, isWorkloadResource, podShape, templateShape } from './workloads.js';
import { recordEvaluation } from './metrics.js';

const log = createLogger('pod-security');

export const ENFORCE_POLICY_ANNOTATION = 'pod-security.kubernetes.io/enforce-policy';
export const AUDIT_VIOLATIONS_ANNOTATION = 'pod-security.kubernetes.io/audit-violations';

/** At most this many existing pods are checked when a namespace's enforce level changes (upstream's limit). */
export const MAX_PODS_CHECKED = 3000;

export interface PodSecurityWorld {
  /** The labels of a namespace, or undefined when it does not exist. */
  namespaceLabels(ns: string): Record<string, string> | undefined;
  /** The pods of a namespace. */
  podsIn(ns: string): KubeObject[];
}

export interface AdmissionOutcome {
  warnings: string[];
  /** The audit annotations upstream would attach to the request's audit event. */
  auditAnnotations: Record<string, string>;
}

export class PodSecurityAdmission {
  constructor(
    private readonly world: PodSecurityWorld,
    readonly defaults: Policy,
  ) {}

  /**
   * Checks a write of `obj` (`old` on updates) of resource `r` in namespace `ns`. Throws the 403
   * (pods) or 422 (namespace labels) upstream answers; pushes warnings for the response.
   */
  admit(r: ResourceInfo, ns: string, obj: KubeObject, old: KubeObject | undefined, warnings: string[]): void {
    let outcome: AdmissionOutcome | undefined;
    if (r.group === '' && r.plural === 'namespaces') outcome = this.admitNamespace(r, obj, old);
    else if (isPodResource(r)) outcome = this.admitPod(r, ns, obj, old);
    else if (isWorkloadResource(r)) outcome = this.admitWorkload(r, ns, obj, old);
    if (!outcome) return;
    warnings.push(...outcome.warnings);
    if (outcome.auditAnnotations[AUDIT_VIOLATIONS_ANNOTATION]) {
      log.info('audit', { resource: r.plural, ...(r.group ? { group: r.group } : {}), namespace: ns, name: obj.metadata.name, annotations: outcome.auditAnnotations });
    }
  }

  /** Parsed policies by the namespace labels that choose them (few distinct sets exist; every pod write reads one). */
  private readonly policies = new Map<string, NamespacePolicy>();

  private policyOf(ns: string): NamespacePolicy {
    const labels = this.world.namespaceLabels(ns);
    const key = policyLabelsKey(labels);
    let parsed = this.policies.get(key);
    if (!parsed) {
      const { policy, errors: errs } = policyFromLabels(labels, this.defaults);
      parsed = Object.freeze({ policy: freezePolicy(policy), error: errs.length > 0 ? errs.map((e) => `${e.field}: ${e.message}`).join(', ') : undefined });
      if (this.policies.size >= MAX_CACHED_POLICIES) this.policies.clear();
      this.policies.set(key, parsed);
    }
    return parsed;
  }

  private admitPod(r: ResourceInfo, ns: string, pod: KubeObject, old: KubeObject | undefined): AdmissionOutcome | undefined {
    const { policy, error } = this.policyOf(ns);
    if (!error && isFullyPrivileged(policy)) return undefined;
    if (old && !isSignificantPodUpdate(pod, old)) return undefined;
    const outcome = evaluate(policy, podShape(pod), { operation: old ? 'update' : 'create', resource: 'pod' }, error);
    if (outcome.denied) {
      throw errors.forbidden(r, pod.metadata.name ?? '', `violates PodSecurity ${JSON.stringify(formatLevelVersion(policy.enforce))}: ${outcome.denied}`);
    }
    return outcome;
  }

  private admitWorkload(r: ResourceInfo, ns: string, workload: KubeObject, old: KubeObject | undefined): AdmissionOutcome | undefined {
    const { policy, error } = this.policyOf(ns);
    if (!error && policy.audit.level === 'privileged' && policy.warn.level === 'privileged') return undefined;
    const shape = templateShape(r, workload);
    if (!shape) return undefined;
    return evaluate(policy, shape, { operation: old ? 'update' : 'create', resource: 'controller' }, error);
  }

  private admitNamespace(r: ResourceInfo, ns: KubeObject, old: KubeObject | undefined): AdmissionOutcome | undefined {
    const name = ns.metadata.name ?? '';
    const next = policyFromLabels(ns.metadata.labels, this.defaults);
    if (!old) {
      if (next.errors.length > 0) throw invalidLabels(r, name, next.errors);
      return undefined;
    }
    const before = policyFromLabels(old.metadata.labels, this.defaults);
    if (next.errors.length > 0 && (before.errors.length === 0 || JSON.stringify(next.errors) !== JSON.stringify(before.errors))) {
      throw invalidLabels(r, name, next.errors);
    }
    const enforce = next.policy.enforce;
    const previous = before.policy.enforce;
    if (sameLevelVersion(enforce, previous) || enforce.level === 'privileged') return undefined;
    if (enforce.version === previous.version && levelRank(enforce.level) <= levelRank(previous.level)) return undefined;
    return { warnings: this.existingPodWarnings(name, enforce), auditAnnotations: {} };
  }

  /** Upstream's warnings for existing pods that a new enforce level would refuse: one per distinct reason, naming a pod. */
  existingPodWarnings(ns: string, enforce: LevelVersion): string[] {
    const all = prioritized(this.world.podsIn(ns));
    const pods = all.slice(0, MAX_PODS_CHECKED);
    const byReason = new Map<string, { first: string; count: number }>();
    for (const pod of pods) {
      const e = evaluatePod(enforce, podShape(pod).meta, podShape(pod).spec);
      if (e.allowed) continue;
      const reason = forbiddenReason(e);
      const seen = byReason.get(reason);
      const podName = pod.metadata.name ?? '';
      if (!seen) byReason.set(reason, { first: podName, count: 1 });
      else {
        seen.count++;
        if (podName < seen.first) seen.first = podName;
      }
    }
    const warnings: string[] = [];
    if (pods.length < all.length) warnings.push(`new PodSecurity enforce level only checked against the first ${pods.length} of ${all.length} existing pods`);
    if (byReason.size > 0) warnings.push(`existing pods in namespace ${JSON.stringify(ns)} violate the new PodSecurity enforce level ${JSON.stringify(formatLevelVersion(enforce))}`);
    const podWarnings = [...byReason].map(([reason, { first, count }]) => {
      if (count === 1) return `${first}: ${reason}`;
      if (count === 2) return `${first} (and 1 other pod): ${reason}`;
      return `${first} (and ${count - 1} other pods): ${reason}`;
    });
    return [...warnings, ...podWarnings.sort()];
  }
}

interface NamespacePolicy {
  readonly policy: Policy;
  readonly error?: string;
}

const MAX_CACHED_POLICIES = 256;

function freezePolicy(p: Policy): Policy {
  for (const mode of MODES) Object.freeze(p[mode]);
  return Object.freeze(p);
}

interface Request {
  operation: 'create' | 'update';
  /** Pods are enforced; controllers (workload kinds) are only audited and warned about. */
  resource: 'pod' | 'controller';
}

/** The evaluation of `shape` at `lv`, reusing one in `done` of the same level and version. */
function evaluateOnce(lv: LevelVersion, shape: PodShape, done: [LevelVersion, Evaluation][]): Evaluation {
  for (const [seen, e] of done) if (sameLevelVersion(seen, lv)) return e;
  const e = evaluatePod(lv, shape.meta, shape.spec);
  done.push([lv, e]);
  return e;
}

/** Evaluates enforce (pods only), audit and warn, reusing a result when two modes name the same level and version. */
function evaluate(policy: Policy, shape: PodShape, request: Request, policyError: string | undefined): AdmissionOutcome & { denied?: string } {
  const done: [LevelVersion, Evaluation][] = [];
  const auditAnnotations: Record<string, string> = {};
  if (policyError) auditAnnotations['pod-security.kubernetes.io/error'] = `Failed to parse policy: ${policyError}`;
  let denied: string | undefined;
  if (request.resource === 'pod') {
    auditAnnotations[ENFORCE_POLICY_ANNOTATION] = formatLevelVersion(policy.enforce);
    const e = evaluateOnce(policy.enforce, shape, done);
    if (!e.allowed) denied = forbiddenDetail(e);
    recordEvaluation(e.allowed ? 'allow' : 'deny', 'enforce', policy.enforce, request.operation, request.resource);
  }
  const audit = evaluateOnce(policy.audit, shape, done);
  if (!audit.allowed) {
    auditAnnotations[AUDIT_VIOLATIONS_ANNOTATION] = `would violate PodSecurity ${JSON.stringify(formatLevelVersion(policy.audit))}: ${forbiddenDetail(audit)}`;
    recordEvaluation('deny', 'audit', policy.audit, request.operation, request.resource);
  }
  const warnings: string[] = [];
  if (!denied) {
    const warn = evaluateOnce(policy.warn, shape, done);
    if (!warn.allowed) {
      warnings.push(`would violate PodSecurity ${JSON.stringify(formatLevelVersion(policy.warn))}: ${forbiddenDetail(warn)}`);
      recordEvaluation('deny', 'warn', policy.warn, request.operation, request.resource);
    }
  }
  return { warnings, auditAnnotations, denied };
}

/** One pod per controller first (pods of one owner tend to fail alike), then the rest, as upstream orders them. */
function prioritized(pods: KubeObject[]): KubeObject[] {
  const first: KubeObject[] = [];
  const rest: KubeObject[] = [];
  const owners = new Set<string>();
  for (const pod of pods) {
    const owner = pod.metadata.ownerReferences?.find((o) => o.controller)?.uid;
    if (owner === undefined || !owners.has(owner)) {
      if (owner !== undefined) owners.add(owner);
      first.push(pod);
    } else rest.push(pod);
  }
  return [...first, ...rest];
}

function invalidLabels(r: ResourceInfo, name: string, errs: { field: string; value: string; message: string }[]): ApiStatusError {
  const causes: FieldError[] = errs.map((e) => ({ type: 'FieldValueInvalid', field: e.field, message: `Invalid value: ${JSON.stringify(e.value)}: ${e.message}` }));
  return errors.invalid(r, name, causes);
}
