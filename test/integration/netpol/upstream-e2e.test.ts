// The 48 upstream e2e cases with real packets: our compiler and nftables executor program a
// real node namespace; every case's pods probe each other with real TCP connections and UDP
// request/responses, and the observed table must equal the case's expected table. One executor
// serves every case in turn, so the cases also exercise the incremental (diff) path.
// SCTP probes are skipped: this kernel has no SCTP module (the rules are still compiled).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileNode } from '../../../src/netpol/compile.js';
import { PolicyTableExecutor } from '../../../src/netpol/executor.js';
import { renderSets } from '../../../src/netpol/render.js';
import { upstreamCases } from '../../unit/netpol/fixtures/upstream-e2e.js';
import { modelOf, stepObjects } from '../../unit/netpol/fixtures/build.js';
import { expectedTable, formatTable, tableDiff } from '../../unit/netpol/fixtures/reachability.js';
import { ALL_PODS, GATEWAY, NODE_NAME, POD_CIDR, podIp } from '../../unit/netpol/fixtures/topology.js';
import { PolicyNetLab } from './netlab.js';
import { requireRoot } from '../../support/prerequisites.js';

test('upstream NetworkPolicy e2e cases with real packets', async (t) => {
  requireRoot('network namespaces, nftables');
  const lab = new PolicyNetLab(`e${process.pid % 100000}`);
  t.after(() => lab.tearDown());
  lab.setUp();
  for (const ref of ALL_PODS) {
    lab.addPod(ref);
    await lab.serve(lab.podNetns(ref), ref, { tcp: [80, 81], udp: [80, 81] });
  }
  const executor = new PolicyTableExecutor({ podCIDR: POD_CIDR, gateway: GATEWAY }, lab.node);

  for (const c of upstreamCases) {
    await t.test(c.name, async (st) => {
      for (const [stepIndex, step] of c.steps.entries()) {
        const model = modelOf(stepObjects(c, step));
        await executor.apply(renderSets(compileNode(model, NODE_NAME), c.pods.map(podIp)));
        for (const probe of step.probes) {
          if (probe.protocol === 'SCTP') {
            st.diagnostic(`step ${stepIndex + 1}: SCTP/${probe.port} not probed: this kernel has no SCTP support (rules are compiled and unit-tested)`);
            continue;
          }
          const pairs = c.pods.flatMap((from) => c.pods.filter((to) => to !== from).map((to) => [from, to] as const));
          const expected = expectedTable(c.pods, probe.expect);
          const results = await lab.probeMany(
            probe.protocol,
            pairs.map(([from, to]) => ({ netns: lab.podNetns(from), host: podIp(to) })),
            probe.port,
            pairs.map(([from, to]) => expected.get(`${from}->${to}`) ?? false),
          );
          const observed = new Map(pairs.map(([from, to], i) => [`${from}->${to}`, results[i]]));
          const seen = (from: string, to: string) => observed.get(`${from}->${to}`) ?? false;
          assert.deepEqual(tableDiff(expected, seen), [], `step ${stepIndex + 1}, ${probe.protocol}/${probe.port}, observed:\n${formatTable(c.pods, seen)}`);
        }
      }
    });
  }
});
