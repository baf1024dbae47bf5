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
import { isPolicyPod, type PolicyModel, type SlimNamespace, type SlimPod, type SlimPolicy } from './model.js';

/** Above this share of changed pods a full compile is cheaper than working out who is dirty. */
const FULL_COMPILE_SHARE = 0.25;

/** Keys of slim objects, remembered per object: the cache hands back the same object until it changes. */
const keys = new WeakMap<object, string>();
function keyOf(p: { namespace: string; name: string }): string {
  let k = keys.get(p);
  if (k === undefined) keys.set(p, (k = `${p.namespace}/${p.name}`));
  return k;
}
const podKey = keyOf;

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

/**
 * What changed from `before` to the objects `after`, and `before` brought up to date in place.
 * Objects the cache did not replace are the same object, so an unchanged cluster costs one map
 * lookup per object and allocates nothing (a sync used to rebuild and compare three snapshots).
 */
function advance<T extends object>(before: Map<string, T>, after: Iterable<T>, keyOf: (o: T) => string): Change<T>[] {
  const out: Change<T>[] = [];
  let seen = 0;
  for (const o of after) {
    const k = keyOf(o);
    const old = before.get(k);
    if (old !== undefined) seen++;
    if (old === o) continue;
    if (!same(old, o)) out.push({ before: old, after: o });
    before.set(k, o);
  }
  if (seen < before.size - out.filter((c) => c.before === undefined).length) {
    const present = new Set<string>();
    for (const o of after) present.add(keyOf(o));
    for (const [k, v] of before) {
      if (present.has(k)) continue;
      out.push({ before: v });
      before.delete(k);
    }
  }
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
    const last = this.last;
    let dirty: Set<string> | undefined;
    if (last) {
      const podChanges = advance(last.pods, model.pods, podKey);
      const policyChanges = advance(last.policies, model.policies, keyOf);
      const namespaceChanges = advance(last.namespaces, model.namespaceList(), (n) => n.name);
      dirty = this.dirtyPods(model, podChanges, policyChanges, namespaceChanges, last.pods);
    }
    const previous = last?.compiled;
    let recompiled = 0;
    const pods = compilePods(model, this.isLocal, (pod) => {
      const reused = dirty && !dirty.has(podKey(pod)) ? previous?.get(podKey(pod)) : undefined;
      if (!reused) recompiled++;
      return reused;
    });
    if (last && dirty) {
      // Bring the compiled pods up to date in place: only the recompiled ones and the ones gone.
      if (recompiled > 0) for (const p of pods) last.compiled.set(p.pod, p);
      if (last.compiled.size > pods.length) {
        const present = new Set(pods.map((p) => p.pod));
        for (const k of last.compiled.keys()) if (!present.has(k)) last.compiled.delete(k);
      }
    } else {
      this.last = {
        pods: new Map(model.pods.map((p) => [podKey(p), p])),
        policies: new Map(model.policies.map((p) => [keyOf(p), p])),
        namespaces: new Map([...model.namespaceList()].map((n) => [n.name, n])),
        compiled: new Map(pods.map((p) => [p.pod, p])),
      };
    }
    return { pods, recompiled, full: dirty === undefined };
  }

  /** Local pods to compile again, or undefined when everything must be. */
  private dirtyPods(
    model: PolicyModel,
    podChanges: Change<SlimPod>[],
    policyChanges: Change<SlimPolicy>[],
    namespaceChanges: Change<SlimNamespace>[],
    lastPods: Map<string, SlimPod>,
  ): Set<string> | undefined {
    if (namespaceChanges.length > 0) return undefined;
    if (podChanges.length > Math.max(8, FULL_COMPILE_SHARE * model.pods.length)) return undefined;
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
    for (const { before, after } of policyChanges) {
      if (before) markSelectedBy(before);
      if (after) markSelectedBy(after);
    }
    // An address held by two pods hides one of them from peers; which one can flip: start over.
    if (podChanges.length > 0) {
      const holders = new Map<string, Set<string>>();
      // lastPods is already up to date: the versions before the changes are added back here.
      for (const [k, p] of lastPods) if (p.ip !== undefined) holders.set(p.ip, (holders.get(p.ip) ?? new Set()).add(k));
      for (const { before } of podChanges) if (before?.ip !== undefined) holders.set(before.ip, (holders.get(before.ip) ?? new Set()).add(podKey(before)));
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
