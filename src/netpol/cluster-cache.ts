// The enforcer's view of the cluster: slim copies of the Pods, Namespaces and NetworkPolicies
// its informers report, plus the pods the agent admitted directly (their IP may not have reached
// the API yet). Builds the PolicyModel for a sync and the list of admitted addresses.
import type { KubeObject } from '../api/types.js';
import { createLogger } from '../util/log.js';
import { PolicyModel, slimNamespace, slimPod, slimPolicy, type SlimNamespace, type SlimPod, type SlimPolicy } from './model.js';

const log = createLogger('netpol');

function key(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

/**
 * A policy the model cannot read still isolates the pods it selects (fail closed): it becomes
 * a policy with no rules for both directions, and the error is logged with the field at fault.
 */
function slimPolicyOrClosed(obj: KubeObject): SlimPolicy {
  try {
    return slimPolicy(obj);
  } catch (err) {
    log.error('NetworkPolicy cannot be enforced as written; its pods are isolated with nothing allowed until it is fixed', { policy: key(obj), err: (err as Error).message });
    const spec = (obj.spec ?? {}) as { podSelector?: SlimPolicy['podSelector'] };
    return { namespace: obj.metadata.namespace ?? 'default', name: obj.metadata.name ?? '', podSelector: spec.podSelector ?? {}, policyTypes: ['Ingress', 'Egress'], ingress: [], egress: [] };
  }
}

export class PolicyClusterCache {
  private readonly pods = new Map<string, SlimPod>();
  private readonly namespaces = new Map<string, SlimNamespace>();
  private readonly policies = new Map<string, SlimPolicy>();
  /** Pods admitted by the agent, by ns/name. */
  private readonly admitted = new Map<string, SlimPod & { ip: string }>();
  /** Addresses the agent gave back: informer pods still holding them are left out (by uid). */
  private readonly forgotten = new Map<string, string | undefined>();

  constructor(readonly nodeName: string) {}

  upsertPod(obj: KubeObject): void {
    const pod = slimPod(obj);
    this.pods.set(key(obj), pod);
    const gone = pod.ip !== undefined ? this.forgotten.get(pod.ip) : undefined;
    if (pod.ip !== undefined && this.forgotten.has(pod.ip) && gone !== pod.uid) this.forgotten.delete(pod.ip);
  }

  deletePod(obj: KubeObject): void {
    const old = this.pods.get(key(obj));
    this.pods.delete(key(obj));
    if (old?.ip && this.forgotten.get(old.ip) === old.uid) this.forgotten.delete(old.ip);
  }

  upsertNamespace(obj: KubeObject): void {
    this.namespaces.set(obj.metadata.name ?? '', slimNamespace(obj));
  }

  deleteNamespace(obj: KubeObject): void {
    this.namespaces.delete(obj.metadata.name ?? '');
  }

  upsertPolicy(obj: KubeObject): void {
    this.policies.set(key(obj), slimPolicyOrClosed(obj));
  }

  deletePolicy(obj: KubeObject): void {
    this.policies.delete(key(obj));
  }

  /** The agent vouches for a pod of this node with its address (after CNI ADD). */
  admit(obj: KubeObject): SlimPod & { ip: string } {
    const pod = slimPod(obj);
    if (!pod.ip) throw new Error(`admitPod: pod ${key(obj)} has no IPv4 address in status.podIP/podIPs; call it after CNI ADD with the address filled in`);
    const admitted = { ...pod, ip: pod.ip, nodeName: pod.nodeName ?? this.nodeName, terminal: false };
    this.admitted.set(key(obj), admitted);
    this.forgotten.delete(pod.ip);
    return admitted;
  }

  /** The agent gave an address back (pod deleted, CNI DEL): it is no longer admitted. */
  forget(ip: string): void {
    for (const [k, p] of this.admitted) if (p.ip === ip) this.admitted.delete(k);
    const holder = [...this.pods.values()].find((p) => p.ip === ip);
    this.forgotten.set(ip, holder?.uid);
  }

  /**
   * Informer copy + admitted copy of a pod, merged once per pair of versions: the same object is
   * handed out until either changes (the incremental compiler tells changes by object identity).
   */
  private readonly merged = new WeakMap<SlimPod, { admitted: SlimPod; pod: SlimPod }>();

  private effectivePods(): SlimPod[] {
    const out = new Map<string, SlimPod>();
    for (const [k, pod] of this.pods) {
      if (pod.ip && this.forgotten.has(pod.ip) && this.forgotten.get(pod.ip) === pod.uid) continue;
      out.set(k, pod);
    }
    for (const [k, pod] of this.admitted) {
      const known = out.get(k);
      if (!known) {
        out.set(k, pod);
        continue;
      }
      // The informer's copy has the freshest labels; the agent's copy may be first with the address.
      let m = this.merged.get(known);
      if (m?.admitted !== pod) {
        m = { admitted: pod, pod: { ...known, ip: known.ip ?? pod.ip, nodeName: known.nodeName ?? pod.nodeName } };
        this.merged.set(known, m);
      }
      out.set(k, m.pod);
    }
    return [...out.values()];
  }

  model(): PolicyModel {
    return new PolicyModel({ pods: this.effectivePods(), namespaces: this.namespaces.values(), policies: this.policies.values() });
  }

  /** Addresses of this node's pods that may send and receive (admitted, or running per the API). */
  admittedAddresses(model: PolicyModel): string[] {
    const out = new Set<string>();
    for (const pod of model.policyPods()) if (pod.nodeName === this.nodeName) out.add(pod.ip);
    return [...out];
  }
}
