import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../src/api/resources.js';
import { schemaFor } from '../../../src/api/schema/index.js';
import { FieldSet, changedFieldSet, fieldSetOf, formatPath, removeAt, removedFieldSet, valueAt } from '../../../src/api/patch/fieldset.js';

const ft = schemaFor(R.pods);
const base = () => ({
  metadata: { labels: { app: 'web', tier: 'x' }, finalizers: ['a.io/x'] },
  spec: {
    containers: [
      { name: 'a', image: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }], env: [{ name: 'E', value: '1' }], command: ['x'] },
      { name: 'b', image: 'busybox' },
    ],
    nodeSelector: { disk: 'ssd' },
  },
});

function slowChanged(before: unknown, now: unknown): string[] {
  return fieldSetOf(now, ft)
    .list()
    .filter((p) => (p[p.length - 1] === '.' ? !fieldSetOf(before, ft).has(p) : JSON.stringify(valueAt(before, p, ft).value) !== JSON.stringify(valueAt(now, p, ft).value)))
    .map(formatPath)
    .sort();
}

test('changedFieldSet agrees with a value-by-value comparison', () => {
  const edits: ((o: any) => void)[] = [
    (o) => (o.spec.containers[0].image = 'nginx:2'),
    (o) => o.spec.containers.push({ name: 'c', image: 'c' }),
    (o) => (o.metadata.labels.new = 'y'),
    (o) => o.metadata.finalizers.push('b.io/y'),
    (o) => (o.spec.containers[0].command = ['y']),
    (o) => o.spec.containers[0].ports.push({ containerPort: 81, protocol: 'UDP' }),
    (o) => (o.spec.containers[1].env = [{ name: 'Z', value: 'z' }]),
    (o) => (o.status = { conditions: [{ type: 'Ready', status: 'True' }] }),
  ];
  for (const [i, edit] of edits.entries()) {
    const before = base();
    const now = base();
    edit(now);
    const fast = changedFieldSet(before, now, ft).list().map(formatPath).sort();
    assert.deepEqual(fast, slowChanged(before, now), `edit ${i}`);
    assert.ok(fast.length > 0, `edit ${i} changed something`);
  }
});

test('removedFieldSet lists what disappeared', () => {
  const before = base();
  const now: any = base();
  now.spec.containers.pop();
  delete now.metadata.labels.tier;
  now.metadata.finalizers = [];
  const removed = removedFieldSet(before, now, ft).list().map(formatPath).sort();
  assert.deepEqual(removed, ['.metadata.finalizers[="a.io/x"]', '.metadata.labels.tier', '.spec.containers[name="b"]', '.spec.containers[name="b"].image', '.spec.containers[name="b"].name']);
});

test('fieldsV1 round trip, removal and path printing', () => {
  const set = fieldSetOf(base(), ft);
  assert.deepEqual(FieldSet.fromFieldsV1(set.toFieldsV1()).list().map(formatPath).sort(), set.list().map(formatPath).sort());
  const o: any = base();
  removeAt(o, ['f:spec', 'f:containers', 'k:{"name":"b"}', '.']);
  assert.deepEqual(o.spec.containers.map((c: any) => c.name), ['a']);
  removeAt(o, ['f:spec', 'f:nodeSelector', 'f:disk']);
  assert.equal(o.spec.nodeSelector, undefined, 'a map emptied by removal goes');
  assert.equal(formatPath(['f:spec', 'f:containers', 'k:{"name":"a"}', 'f:ports', 'k:{"containerPort":80,"protocol":"TCP"}', 'f:containerPort']), '.spec.containers[name="a"].ports[containerPort=80,protocol="TCP"].containerPort');
});
