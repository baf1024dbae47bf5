import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matrixPods, policyView } from '../../../src/ui/policy-view.js';
import { matrixText } from '../../../src/netpol/report.js';
import { modelOf } from '../netpol/fixtures/build.js';
import { NAMESPACES, namespaceObject, podObject, policy } from '../netpol/fixtures/topology.js';
import { parseMatrixText } from '../../e2e/ui/matrix-text.js';

const pods = ['x/a', 'x/b', 'y/a', 'y/c'];

function model(policies = [policy('x', 'deny-a', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ ports: [{ port: 81 }] }] }), policy('y', 'egress-c', { podSelector: { matchLabels: { pod: 'c' } }, egress: [] })]) {
  return modelOf({ pods: pods.map((r) => podObject(r)), namespaces: NAMESPACES.map((n) => namespaceObject(n)), policies });
}

test('the matrix cells are exactly those of `flatnet policy matrix` for the same pods', () => {
  const m = model();
  for (const ns of [undefined, 'x', 'y']) {
    const selected = matrixPods(m, ns);
    const view = policyView(m, selected);
    const cli = parseMatrixText(matrixText(m, selected));
    assert.deepEqual(view.pods, cli.pods);
    assert.deepEqual(
      view.tables.map((t) => ({ protocol: t.protocol, port: t.port, rows: t.rows })),
      cli.tables,
    );
    assert.equal(view.text, matrixText(m, selected));
  }
  const all = policyView(m, matrixPods(m));
  const tcp80 = all.tables.find((t) => t.protocol === 'TCP' && t.port === 80)!;
  const at = (src: string, dst: string) => tcp80.rows[all.pods.indexOf(src)][all.pods.indexOf(dst)];
  assert.equal(at('x/b', 'x/a'), 'X', 'deny-a allows only port 81 into x/a');
  assert.equal(at('x/a', 'x/b'), '.');
  assert.equal(at('y/c', 'x/b'), 'X', 'y/c may send nothing (egress-c)');
  assert.equal(at('x/a', 'x/a'), '-');
});

test('isolation names the policies selecting each pod per direction', () => {
  const view = policyView(model(), matrixPods(model()));
  const of = (pod: string) => view.isolation.find((i) => i.pod === pod)!;
  assert.deepEqual(of('x/a'), { pod: 'x/a', ingress: ['x/deny-a'], egress: [] });
  assert.deepEqual(of('y/a'), { pod: 'y/a', ingress: [], egress: [] });
  assert.deepEqual(of('y/c'), { pod: 'y/c', ingress: ['y/egress-c'], egress: ['y/egress-c'] }, 'an egress section without policyTypes isolates both directions');
});

test('no pods and no declared ports give empty tables with the CLI text', () => {
  const empty = modelOf({ pods: [], namespaces: NAMESPACES.map((n) => namespaceObject(n)), policies: [] });
  const view = policyView(empty, []);
  assert.deepEqual(view.tables, []);
  assert.equal(view.text, 'no running pods with an address\n');
});
