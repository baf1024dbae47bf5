// The compiler must produce state that answers every probe exactly as the evaluator does: for
// the upstream cases and for random policy sets, every (source, destination, protocol, port)
// — pods and outside addresses, ports inside, at the edge of and outside ranges — is checked.
// The compiled boxes must also be disjoint (the kernel's interval sets need it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileNode, compiledAllows, type CompiledPod } from '../../../src/netpol/compile.js';
import { evaluateFlow } from '../../../src/netpol/evaluate.js';
import { endpointFor } from '../../../src/netpol/match.js';
import { PROTOCOLS, type PolicyModel } from '../../../src/netpol/model.js';
import type { Box } from '../../../src/netpol/boxes.js';
import { upstreamCases } from './fixtures/upstream-e2e.js';
import { modelOf, stepObjects } from './fixtures/build.js';
import { EXTERNAL_IPS, randomPolicies } from './fixtures/random-policies.js';
import { ALL_PODS, NAMESPACES, namespaceObject, NODE_NAME, podObject } from './fixtures/topology.js';

const PORTS = [1, 69, 70, 79, 80, 81, 82, 90, 91, 443, 65535];

function overlaps(a: Box, b: Box): boolean {
  return (
    a.protocol === b.protocol &&
    a.addresses.lo <= b.addresses.hi &&
    b.addresses.lo <= a.addresses.hi &&
    a.ports.lo <= b.ports.hi &&
    b.ports.lo <= a.ports.hi
  );
}

function checkAgreement(model: PolicyModel, label: string): number {
  const compiledList = compileNode(model, NODE_NAME);
  for (const pod of compiledList) {
    for (const dir of [pod.ingress, pod.egress]) {
      dir.boxes.forEach((a, i) => dir.boxes.slice(i + 1).forEach((b) => assert.ok(!overlaps(a, b), `${label}: ${pod.pod} has overlapping boxes ${JSON.stringify(a)} ${JSON.stringify(b)}`)));
      dir.anyProtocol.forEach((a, i) => dir.anyProtocol.slice(i + 1).forEach((b) => assert.ok(a.hi < b.lo || b.hi < a.lo, `${label}: ${pod.pod} overlapping ranges`)));
    }
  }
  const compiled = new Map<string, CompiledPod>(compiledList.map((p) => [p.ip, p]));
  const addresses = [...model.policyPods().map((p) => p.ip), ...EXTERNAL_IPS];
  let checked = 0;
  for (const src of addresses) {
    for (const dst of addresses) {
      if (src === dst) continue;
      if (!model.podByIp(src) && !model.podByIp(dst)) continue;
      for (const protocol of PROTOCOLS) {
        for (const port of PORTS) {
          const evaluated = evaluateFlow(model, { src: endpointFor(model, src), dst: endpointFor(model, dst), protocol, port }).allowed;
          const kernel = compiledAllows(compiled, src, dst, protocol, port);
          if (evaluated !== kernel) assert.fail(`${label}: ${src} -> ${dst} ${protocol}/${port}: evaluator ${evaluated}, compiled ${kernel}`);
          checked++;
        }
      }
    }
  }
  return checked;
}

test('compiled state agrees with the evaluator on every upstream case', () => {
  let checked = 0;
  for (const c of upstreamCases) c.steps.forEach((step, i) => (checked += checkAgreement(modelOf(stepObjects(c, step)), `${c.name} step ${i + 1}`)));
  assert.ok(checked > 10_000);
});

test('compiled state agrees with the evaluator on 150 random policy sets', () => {
  let checked = 0;
  for (let seed = 1; seed <= 150; seed++) {
    const objects = {
      pods: ALL_PODS.map((ref) => podObject(ref, seed % 3 === 0 && ref.endsWith('b') ? { extra: 'yes' } : {})),
      namespaces: NAMESPACES.map((ns) => namespaceObject(ns)),
      policies: randomPolicies(seed, 1 + (seed % 6)),
    };
    checked += checkAgreement(modelOf(objects), `seed ${seed}`);
  }
  assert.ok(checked > 100_000);
});
