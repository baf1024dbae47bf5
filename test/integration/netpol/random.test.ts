// Random policy sets (every peer and port form) applied one after another through the executor
// to a real node namespace, compiled incrementally as the enforcer does: the kernel must take
// every diff (no rebuild), and real TCP/UDP probes between all pods must match the evaluator's
// verdicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateFlow } from '../../../src/netpol/evaluate.js';
import { PolicyTableExecutor } from '../../../src/netpol/executor.js';
import { IncrementalCompiler } from '../../../src/netpol/incremental.js';
import { endpointFor } from '../../../src/netpol/match.js';
import { renderSets } from '../../../src/netpol/render.js';
import type { Protocol } from '../../../src/netpol/model.js';
import { modelOf } from '../../unit/netpol/fixtures/build.js';
import { randomPolicies } from '../../unit/netpol/fixtures/random-policies.js';
import { ALL_PODS, GATEWAY, NAMESPACES, namespaceObject, NODE_NAME, POD_CIDR, podIp, podObject } from '../../unit/netpol/fixtures/topology.js';
import { PolicyNetLab } from './netlab.js';
import { requireRoot, requireTool } from '../../support/prerequisites.js';

test('random policy sets: kernel verdicts equal the evaluator', async (t) => {
  requireRoot('network namespaces, nftables');
  requireTool('conntrack', 'Debian package conntrack');
  const lab = new PolicyNetLab(`r${process.pid % 100000}`);
  t.after(() => lab.tearDown());
  lab.setUp();
  for (const ref of ALL_PODS) {
    lab.addPod(ref);
    await lab.serve(lab.podNetns(ref), ref, { tcp: [80, 81], udp: [80, 81] });
  }
  const executor = new PolicyTableExecutor({ podCIDR: POD_CIDR, gateway: GATEWAY }, lab.node);
  // The enforcer's compile: each policy set is a change from the one before.
  const compiler = new IncrementalCompiler((pod) => pod.nodeName === NODE_NAME);
  const probes: [Protocol, number][] = [
    ['TCP', 80],
    ['UDP', 81],
  ];
  for (let seed = 1001; seed <= 1012; seed++) {
    const model = modelOf({ pods: ALL_PODS.map((r) => podObject(r)), namespaces: NAMESPACES.map((n) => namespaceObject(n)), policies: randomPolicies(seed, 1 + (seed % 5)) });
    await executor.apply(renderSets(compiler.compile(model).pods, ALL_PODS.map(podIp)));
    assert.equal(executor.fallbacks, 0, `seed ${seed}: nftables refused a diff`);
    // The verdicts asked for are those of new flows. An earlier seed's allowed UDP probe stays in
    // conntrack as established, and a probe that draws the same ephemeral source port would ride
    // it past a policy that now denies it (about one run in 25 before this flush).
    lab.forgetFlows();
    for (const [protocol, port] of probes) {
      const pairs = ALL_PODS.flatMap((from) => ALL_PODS.filter((to) => to !== from).map((to) => [from, to] as const));
      const wants = pairs.map(([from, to]) => evaluateFlow(model, { src: endpointFor(model, podIp(from)), dst: endpointFor(model, podIp(to)), protocol, port }).allowed);
      const seen = await lab.probeMany(protocol as 'TCP' | 'UDP', pairs.map(([from, to]) => ({ netns: lab.podNetns(from), host: podIp(to) })), port, wants);
      const wrong = pairs
        .map(([from, to], i) => {
          const want = wants[i];
          return want === seen[i] ? undefined : `${from} -> ${to} ${protocol}/${port}: evaluator ${want ? 'allowed' : 'denied'}, kernel ${seen[i] ? 'allowed' : 'denied'}`;
        })
        .filter((x) => x !== undefined);
      assert.deepEqual(wrong, [], `seed ${seed}`);
    }
  }
});
