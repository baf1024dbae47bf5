import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newRevision, planRevisions, revisionTemplate, type ControllerRevision, type RevisionOwner } from '../../../src/controllers/controller-revisions.js';

const owner: RevisionOwner = {
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'web', namespace: 'default', uid: 'uid-sts', annotations: { 'kubernetes.io/change-cause': 'v2' } },
  spec: { revisionHistoryLimit: 2, template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:2' }] } } },
};

const rev = (name: string, revision: number): ControllerRevision => ({ ...newRevision(owner, name, name.slice(4), revision) });

test('a revision carries the patch that restores its template, the template labels and the owner', () => {
  const r = newRevision(owner, 'web-abc', 'abc', 4);
  assert.deepEqual(r.data, { spec: { template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:2' }] }, $patch: 'replace' } } });
  assert.deepEqual(r.metadata.labels, { app: 'nginx', 'controller.kubernetes.io/hash': 'abc' });
  assert.deepEqual(r.metadata.annotations, { 'kubernetes.io/change-cause': 'v2' });
  assert.deepEqual(r.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid, o.controller]), [['StatefulSet', 'web', 'uid-sts', true]]);
  assert.equal(r.revision, 4);
  assert.deepEqual(revisionTemplate(r), owner.spec.template);
});

test('a new template gets the next number; an old one that comes back is renumbered', () => {
  assert.equal(planRevisions(owner, [], 'web-a', 'a', new Set()).create?.revision, 1);
  const plan = planRevisions(owner, [rev('web-a', 1), rev('web-b', 2)], 'web-c', 'c', new Set(['web-b']));
  assert.equal(plan.create?.metadata.name, 'web-c');
  assert.equal(plan.create?.revision, 3);
  const back = planRevisions(owner, [rev('web-a', 1), rev('web-b', 2)], 'web-a', 'a', new Set(['web-b']));
  assert.equal(back.create, undefined);
  assert.equal(back.renumber?.revision, 3);
  assert.deepEqual(planRevisions(owner, [rev('web-a', 1), rev('web-b', 2)], 'web-b', 'b', new Set()).renumber, undefined);
});

test('revisions no pod uses are deleted past revisionHistoryLimit, oldest first', () => {
  const owned = [rev('web-a', 1), rev('web-b', 2), rev('web-c', 3), rev('web-d', 4), rev('web-e', 5)];
  const plan = planRevisions(owner, owned, 'web-e', 'e', new Set(['web-a']));
  // Unused: b, c, d; the limit keeps two of them.
  assert.deepEqual(plan.delete.map((r) => r.metadata.name), ['web-b']);
});
