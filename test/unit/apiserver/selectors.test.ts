import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../src/api/types.js';
import { SelectorError, fieldPredicate, labelPredicate, parseLabelSelector } from '../../../src/apiserver/selectors.js';

function obj(labels: Record<string, string>, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', labels }, ...extra };
}

const labelCases: [string, Record<string, string>, boolean][] = [
  ['app=web', { app: 'web' }, true],
  ['app==web', { app: 'web' }, true],
  ['app=web', { app: 'db' }, false],
  ['app!=web', { app: 'db' }, true],
  ['app!=web', {}, true],
  ['app!=web', { app: 'web' }, false],
  ['app in (web, db)', { app: 'db' }, true],
  ['app in (web,db)', {}, false],
  ['app notin (web,db)', {}, true],
  ['app notin (web,db)', { app: 'web' }, false],
  ['app', { app: '' }, true],
  ['app', {}, false],
  ['!app', {}, true],
  ['!app', { app: 'x' }, false],
  ['app=web,tier in (fe),!canary', { app: 'web', tier: 'fe' }, true],
  ['app=web,tier in (fe),!canary', { app: 'web', tier: 'fe', canary: 'y' }, false],
  ['example.com/role=x', { 'example.com/role': 'x' }, true],
  ['replicas>2', { replicas: '3' }, true],
  ['replicas<2', { replicas: '3' }, false],
  ['', { any: 'thing' }, true],
];

for (const [selector, labels, want] of labelCases) {
  test(`label selector "${selector}" on ${JSON.stringify(labels)} -> ${want}`, () => {
    assert.equal(labelPredicate(selector)(obj(labels)), want);
  });
}

test('malformed label selectors are errors naming the selector', () => {
  for (const bad of ['app in (web', 'a=b=c', 'in in in', 'app=web,', 'Bad Key=x']) {
    assert.throws(() => parseLabelSelector(bad), SelectorError, bad);
  }
});

test('field selectors on metadata, pod and event fields', () => {
  const p = obj({}, { spec: { nodeName: 'n1' }, status: { phase: 'Running' } });
  assert.equal(fieldPredicate('/pods', 'metadata.name=p')(p), true);
  assert.equal(fieldPredicate('/pods', 'metadata.namespace==other')(p), false);
  assert.equal(fieldPredicate('/pods', 'spec.nodeName=n1,status.phase!=Failed')(p), true);
  assert.equal(fieldPredicate('/pods', 'spec.nodeName=')(p), false);
  assert.equal(fieldPredicate('/pods', 'spec.nodeName=')(obj({})), true, 'an unscheduled pod has spec.nodeName ""');
  const ev = obj({}, { involvedObject: { kind: 'Pod', name: 'web', namespace: 'ns', uid: 'u1' }, type: 'Normal' });
  assert.equal(fieldPredicate('/events', 'involvedObject.name=web,involvedObject.namespace=ns,involvedObject.uid=u1,involvedObject.kind=Pod')(ev), true);
  assert.equal(fieldPredicate('/secrets', 'type=kubernetes.io/tls')(obj({}, { type: 'kubernetes.io/tls' })), true);
});

test('an unsupported field is the upstream error', () => {
  assert.throws(() => fieldPredicate('/configmaps', 'spec.nodeName=x'), { message: 'field label not supported: spec.nodeName' });
  assert.throws(() => fieldPredicate('/pods', 'nonsense'), SelectorError);
});
