// Incremental compilation for one node: between two syncs only the pods whose allowances can have
// changed are compiled again; every other pod keeps the CompiledPod (and so the allow class) of the
// previous sync. A pod's allowances depend on its own fields (labels select policies, declared
// ports resolve ingress named ports), on the policies that select it, and on the peers those
// policies' rules match. So:
//   - a changed policy (old or new version) dirties the local pods either version selects;
//   - a changed pod dirties itself and the local pods selected by every policy with a rule that
//     could match the pod as a peer (old or new version: a selector peer, an ipBlock holding its
//     address, or a peer-less rule with egress named ports, which resolve on every pod);
//   - a changed namespace (labels feed namespaceSelectors) or a large batch recompiles everything.
// Pure: models in, compiled pods out. The result equals compileNode's on the same model (the unit
// test checks this on random change sequences).
import { compilePods, type CompiledPod } from './compile.js';
import { peerMatches, policySelectsPod } from './match.js';
import { isPolicyPod, policyKey, type PolicyModel, type SlimNamespace, type SlimPod, type SlimPolicy } from './model.js';

/** Above this share of changed pods a full compile is cheaper than working out who is dirty. */
const FULL_COMPILE_SHARE = 0.25;

const podKey = (p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`;

interface Snapshot {
  pods: Map<string, SlimPod>;
  policies: Map<string, SlimPolicy>;
  namespaces: Map<string, SlimNamespace>;
  compiled: Map<string, CompiledPod>;
}

export interface IncrementalResult {
  pods: CompiledPod[];
  /** Local pods compiled in this pass (the rest were reused). */
  recompiled: number;
  full: boolean;
}

/** Slim objects are replaced on every informer event; equal content is still no change. */
function same<T>(a: T | undefined, b: T | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b));
}

interface Change<T> {
  before?: T;
  after?: T;
}

function changes<T>(before: Map<string, T>, after: Map<string, T>): Change<T>[] {
  const out: Change<T>[] = [];
  for (const [k, v] of after) if (!same(before.get(k), v)) out.push({ before: before.get(k), after: v });
  for (const [k, v] of before) if (!after.has(k)) out.push({ before: v });
  return out;
}

/** Whether any rule of `policy` could match `pod` as a peer. */
function policyMayReferencePod(model: PolicyModel, policy: SlimPolicy, pod: SlimPod & { ip: string }): boolean {
  const endpoint = { kind: 'pod' as const, pod };
  for (const rule of [...policy.ingress, ...policy.egress]) {
    if (rule.peers.length === 0 && rule.ports.some((p) => typeof p.port === 'string')) return true;
    if (rule.peers.some((peer) => peerMatches(model, policy.namespace, peer, endpoint))) return true;
  }
  return false;
}

export class IncrementalCompiler {
  private last: Snapshot | undefined;

  constructor(private readonly isLocal: (pod: SlimPod) => boolean) {}

  /** Forgets the previous pass: the next compile is a full one. */
  reset(): void {
    this.last = undefined;
  }

  compile(model: PolicyModel): IncrementalResult {
    const now: Omit<Snapshot, 'compiled'> = {
      pods: new Map(model.pods.map((p) => [podKey(p), p])),
      policies: new Map(model.policies.map((p) => [policyKey(p), p])),
      namespaces: new Map(model.namespaceNames().map((n) => [n, { name: n, labels: model.namespaceLabels(n) }])),
    };
    const dirty = this.last ? this.dirtyPods(model, this.last, now) : undefined;
    const previous = this.last?.compiled;
    let recompiled = 0;
    const pods = compilePods(model, this.isLocal, (pod) => {
      const reused = dirty && !dirty.has(podKey(pod)) ? previous?.get(podKey(pod)) : undefined;
      if (!reused) recompiled++;
      return reused;
    });
    this.last = { ...now, compiled: new Map(pods.map((p) => [p.pod, p])) };
    return { pods, recompiled, full: dirty === undefined };
  }

  /** Local pods to compile again, or undefined when everything must be. */
  private dirtyPods(model: PolicyModel, last: Snapshot, now: Omit<Snapshot, 'compiled'>): Set<string> | undefined {
    if (changes(last.namespaces, now.namespaces).length > 0) return undefined;
    const podChanges = changes(last.pods, now.pods);
    if (podChanges.length > Math.max(8, FULL_COMPILE_SHARE * now.pods.size)) return undefined;
    const dirty = new Set<string>();
    // Every local pod the compile will visit (model.policyPodsIn hides pods that share an address).
    const localByNamespace = new Map<string, SlimPod[]>();
    for (const pod of model.pods) {
      if (!isPolicyPod(pod) || !this.isLocal(pod)) continue;
      const list = localByNamespace.get(pod.namespace);
      if (list) list.push(pod);
      else localByNamespace.set(pod.namespace, [pod]);
    }
    const markSelectedBy = (policy: SlimPolicy) => {
      for (const pod of localByNamespace.get(policy.namespace) ?? []) if (policySelectsPod(policy, pod)) dirty.add(podKey(pod));
    };
    for (const { before, after } of changes(last.policies, now.policies)) {
      if (before) markSelectedBy(before);
      if (after) markSelectedBy(after);
    }
    // An address held by two pods hides one of them from peers; which one can flip: start over.
    if (podChanges.length > 0) {
      const holders = new Map<string, Set<string>>();
      for (const pods of [last.pods, now.pods]) for (const [k, p] of pods) if (p.ip !== undefined) holders.set(p.ip, (holders.get(p.ip) ?? new Set()).add(k));
      const sharesAddress = (pod: SlimPod | undefined) => pod?.ip !== undefined && holders.get(pod.ip)!.size > 1;
      if (podChanges.some((c) => sharesAddress(c.before) || sharesAddress(c.after))) return undefined;
    }
    for (const { before, after } of podChanges) {
      dirty.add(podKey((after ?? before)!));
      const versions = [before, after].filter((p): p is SlimPod & { ip: string } => p !== undefined && isPolicyPod(p));
      if (versions.length === 0) continue;
      for (const policy of model.policies) {
        if (versions.some((p) => policyMayReferencePod(model, policy, p))) markSelectedBy(policy);
      }
    }
    return dirty;
  }
}
