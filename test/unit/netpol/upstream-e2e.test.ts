// The upstream e2e cases against the evaluator (which answers `flatnet policy explain`) and the
// compiler (which produces kernel state): both must give the expected table of every probe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileNode, compiledAllows, type CompiledPod } from '../../../src/netpol/compile.js';
import { evaluateFlow } from '../../../src/netpol/evaluate.js';
import { endpointFor } from '../../../src/netpol/match.js';
import { upstreamCases } from './fixtures/upstream-e2e.js';
import { modelOf, stepObjects } from './fixtures/build.js';
import { expectedTable, formatTable, tableDiff } from './fixtures/reachability.js';
import { NODE_NAME, podIp } from './fixtures/topology.js';

test('the fixture set re-creates all 48 upstream cases', () => {
  assert.equal(upstreamCases.length, 48);
  assert.equal(new Set(upstreamCases.map((c) => c.name)).size, 48);
});

for (const c of upstreamCases) {
  test(`evaluator and compiler: ${c.name}`, () => {
    c.steps.forEach((step, stepIndex) => {
      const model = modelOf(stepObjects(c, step));
      const compiled = new Map<string, CompiledPod>(compileNode(model, NODE_NAME).map((p) => [p.ip, p]));
      for (const probe of step.probes) {
        const expected = expectedTable(c.pods, probe.expect);
        const evaluated = (from: string, to: string) =>
          evaluateFlow(model, { src: endpointFor(model, podIp(from)), dst: endpointFor(model, podIp(to)), protocol: probe.protocol, port: probe.port }).allowed;
        const kernel = (from: string, to: string) => compiledAllows(compiled, podIp(from), podIp(to), probe.protocol, probe.port);
        const where = `step ${stepIndex + 1}, ${probe.protocol}/${probe.port}`;
        const evalDiff = tableDiff(expected, evaluated);
        assert.deepEqual(evalDiff, [], `evaluator, ${where}:\n${formatTable(c.pods, evaluated)}`);
        const compiledDiff = tableDiff(expected, kernel);
        assert.deepEqual(compiledDiff, [], `compiled state, ${where}:\n${formatTable(c.pods, kernel)}`);
      }
    });
  });
}
