// The incremental compiler must give exactly what a full compile gives, after any sequence of
// changes: policies added, edited and deleted; pods relabelled, moved to another address or node,
// finished, deleted and re-created; namespaces relabelled. Seeded random walks; the seed of a
// failing walk is in the message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { compileNode } from '../../../src/netpol/compile.js';
import { IncrementalCompiler } from '../../../src/netpol/incremental.js';
import { PolicyModel, slimNamespace, slimPod, slimPolicy } from '../../../src/netpol/model.js';
import type { KubeObject } from '../../../src/api/types.js';
import { randomPolicies } from './fixtures/random-policies.js';
import { prng } from '../../support/prng.js';
import { ALL_PODS, NAMESPACES, NODE_NAME, namespaceObject, podIp, podObject } from './fixtures/topology.js';

interface World {
  pods: Map<string, KubeObject>;
  namespaces: Map<string, KubeObject>;
  policies: Map<string, KubeObject>;
}

function modelOf(w: World): PolicyModel {
  return new PolicyModel({
    pods: [...w.pods.values()].map(slimPod),
    namespaces: [...w.namespaces.values()].map(slimNamespace),
    policies: [...w.policies.values()].map(slimPolicy),
  });
}

function mutate(w: World, rnd: () => number, seed: number, step: number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const ref = pick(ALL_PODS);
  const pod = w.pods.get(ref);
  switch (Math.floor(rnd() * 9)) {
    case 0: {
      const [p] = randomPolicies(seed * 1000 + step, 1);
      w.policies.set(`${p.metadata.namespace}/${p.metadata.name}`, p);
      return `add policy ${p.metadata.name}`;
    }
    case 1: {
      const key = pick([...w.policies.keys()]);
      if (!key) return 'no policy to delete';
      w.policies.delete(key);
      return `delete policy ${key}`;
    }
    case 2: {
      const key = pick([...w.policies.keys()]);
      if (!key) return 'no policy to edit';
      const [p] = randomPolicies(seed * 1000 + step, 1);
      const old = w.policies.get(key)!;
      w.policies.set(key, { ...old, spec: p.spec });
      return `edit policy ${key}`;
    }
    case 3:
      if (!pod) return 'no pod to relabel';
      w.pods.set(ref, { ...pod, metadata: { ...pod.metadata, labels: { pod: pick(['a', 'b', 'c']), extra: pick(['1', '2']) } } });
      return `relabel ${ref}`;
    case 4:
      if (!pod) {
        w.pods.set(ref, podObject(ref));
        return `re-create ${ref}`;
      }
      w.pods.delete(ref);
      return `delete ${ref}`;
    case 5:
      if (!pod) return 'no pod to move';
      w.pods.set(ref, { ...pod, status: { phase: 'Running', podIP: `10.244.1.${100 + Math.floor(rnd() * 50)}` } });
      return `new address for ${ref}`;
    case 6:
      if (!pod) return 'no pod to finish';
      w.pods.set(ref, { ...pod, status: { ...(pod.status as object), phase: pick(['Succeeded', 'Running']) } });
      return `phase of ${ref}`;
    case 7:
      if (!pod) return 'no pod to reschedule';
      w.pods.set(ref, { ...pod, spec: { ...(pod.spec as object), nodeName: pick([NODE_NAME, 'node-2']) } });
      return `node of ${ref}`;
    default: {
      const ns = pick(NAMESPACES);
      w.namespaces.set(ns, namespaceObject(ns, rnd() < 0.5 ? { ns: pick(NAMESPACES) } : {}));
      return `relabel namespace ${ns}`;
    }
  }
}

test('incremental compiles equal full compiles over seeded random change sequences', () => {
  let reused = 0;
  let compiledTotal = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const rnd = prng(seed);
    const w: World = {
      pods: new Map(ALL_PODS.map((ref) => [ref, podObject(ref)])),
      namespaces: new Map(NAMESPACES.map((ns) => [ns, namespaceObject(ns)])),
      policies: new Map(randomPolicies(seed, 6).map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p])),
    };
    const incremental = new IncrementalCompiler((p) => p.nodeName === NODE_NAME);
    const history: string[] = [];
    for (let step = 0; step < 60; step++) {
      // Several changes may land in one sync, as the enforcer's debounce gathers them.
      const batch = 1 + Math.floor(rnd() * 3);
      for (let i = 0; i < batch; i++) history.push(mutate(w, rnd, seed, step * 10 + i));
      history.push('|');
      const model = modelOf(w);
      const got = incremental.compile(model);
      const want = compileNode(model, NODE_NAME);
      const wrong = want.find((p, i) => !isDeepStrictEqual(p, got.pods[i]));
      assert.deepEqual(got.pods, want, `seed ${seed}, step ${step}, pod ${wrong?.pod}, after: ${history.join('; ')}`);
      compiledTotal += got.pods.length;
      reused += got.pods.length - got.recompiled;
    }
  }
  // The walk must exercise reuse, or it proves nothing about the incremental path.
  assert.ok(reused > compiledTotal / 4, `only ${reused} of ${compiledTotal} compiled pods were reused`);
});

test('a policy change recompiles only the pods either version selects', () => {
  const pods = ALL_PODS.map((ref) => podObject(ref));
  const ns = NAMESPACES.map((n) => namespaceObject(n));
  const deny = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'x', name: 'p' }, spec: { podSelector: { matchLabels: { pod: 'a' } } } };
  const model = (policies: KubeObject[]) => new PolicyModel({ pods: pods.map(slimPod), namespaces: ns.map(slimNamespace), policies: policies.map(slimPolicy) });
  const incremental = new IncrementalCompiler((p) => p.nodeName === NODE_NAME);
  assert.equal(incremental.compile(model([deny])).full, true);
  const moved = { ...deny, spec: { podSelector: { matchLabels: { pod: 'b' } } } };
  const r = incremental.compile(model([moved]));
  assert.equal(r.full, false);
  assert.equal(r.recompiled, 2, 'x/a (selected before) and x/b (selected after)');
  assert.deepEqual(r.pods, compileNode(model([moved]), NODE_NAME));
  assert.equal(r.pods.find((p) => p.ip === podIp('x/b'))?.ingressIsolated, true);
  assert.equal(incremental.compile(model([moved])).recompiled, 0, 'nothing changed, nothing compiled');
});
