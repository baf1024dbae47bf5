import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planDeployment, podTemplateHash, rollingParams, REVISION_ANNOTATION, type DeploymentPlan } from '../../../src/controllers/deployment-plan.js';
import type { Deployment, ReplicaSet } from '../../../src/controllers/types.js';

function deployment(replicas: number, image: string, strategy?: Deployment['spec']['strategy']): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'uid-web', generation: 1 },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } },
      strategy,
      progressDeadlineSeconds: 600,
      revisionHistoryLimit: 10,
    },
  };
}

/** A world where the ReplicaSet controller and kubelets act instantly (or make new pods never ready). */
class World {
  rss: ReplicaSet[] = [];
  t = Date.parse('2026-01-01T00:00:00Z');
  steps = 0;
  constructor(
    public d: Deployment,
    private readonly newPodsReady = true,
  ) {}
  step(): DeploymentPlan {
    this.t += 1000;
    this.steps++;
    const plan = planDeployment(this.d, this.rss, this.t);
    if (plan.create) this.rss.push({ ...structuredClone(plan.create), metadata: { ...structuredClone(plan.create.metadata), creationTimestamp: new Date(this.t).toISOString(), uid: `uid-${plan.create.metadata.name}` } });
    for (const u of plan.update) this.rss = this.rss.map((rs) => (rs.metadata.name === u.rs.metadata.name ? structuredClone(u.rs) : rs));
    this.rss = this.rss.filter((rs) => !plan.delete.includes(rs));
    const newHash = podTemplateHash(this.d.spec.template);
    for (const rs of this.rss) {
      const n = rs.spec.replicas ?? 0;
      const ready = this.newPodsReady || !rs.metadata.name!.endsWith(newHash) ? n : 0;
      rs.status = { replicas: n, readyReplicas: ready, availableReplicas: ready, observedGeneration: 1 };
    }
    this.d = { ...this.d, metadata: { ...this.d.metadata, annotations: { [REVISION_ANNOTATION]: plan.revision ?? '' } }, status: plan.status };
    return plan;
  }
  settle(check: () => void = () => {}): void {
    for (let i = 0; i < 50; i++) {
      const plan = this.step();
      check();
      if (!plan.create && plan.update.length === 0 && plan.delete.length === 0) return;
    }
    assert.fail('did not settle');
  }
  total(): number {
    return this.rss.reduce((n, rs) => n + (rs.spec.replicas ?? 0), 0);
  }
  available(): number {
    return this.rss.reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);
  }
}

test('rolling parameters resolve percentages like upstream', () => {
  assert.deepEqual(rollingParams(deployment(3, 'a')), { maxSurge: 1, maxUnavailable: 0 });
  assert.deepEqual(rollingParams(deployment(10, 'a')), { maxSurge: 3, maxUnavailable: 2 });
  assert.deepEqual(rollingParams(deployment(4, 'a', { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } })), { maxSurge: 0, maxUnavailable: 1 });
  assert.deepEqual(rollingParams(deployment(4, 'a', { type: 'Recreate' })), { maxSurge: 0, maxUnavailable: 0 });
});

test('a new Deployment creates <name>-<hash> with the hash label, revision 1, and completes', () => {
  const w = new World(deployment(3, 'nginx:1'));
  const first = w.step();
  const hash = podTemplateHash(w.d.spec.template);
  assert.equal(first.create!.metadata.name, `web-${hash}`);
  assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
  assert.equal(first.create!.spec.selector.matchLabels!['pod-template-hash'], hash);
  assert.equal(first.create!.spec.template.metadata!.labels!['pod-template-hash'], hash);
  assert.equal(first.create!.metadata.annotations![REVISION_ANNOTATION], '1');
  assert.equal(first.create!.spec.replicas, 3);
  assert.equal(first.status.conditions.find((c) => c.type === 'Progressing')!.reason, 'NewReplicaSetCreated');
  w.settle();
  const s = w.d.status!;
  assert.deepEqual([s.replicas, s.updatedReplicas, s.readyReplicas, s.availableReplicas, s.unavailableReplicas], [3, 3, 3, 3, 0]);
  assert.deepEqual(
    s.conditions!.map((c) => [c.type, c.status, c.reason]),
    [
      ['Available', 'True', 'MinimumReplicasAvailable'],
      ['Progressing', 'True', 'NewReplicaSetAvailable'],
    ],
  );
  assert.equal(w.d.metadata.annotations![REVISION_ANNOTATION], '1');
});

test('a rolling update stays within maxSurge and maxUnavailable and ends on the new ReplicaSet', () => {
  const w = new World(deployment(10, 'nginx:1'));
  w.settle();
  w.d = { ...w.d, spec: { ...w.d.spec, template: { ...w.d.spec.template, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } }, metadata: { ...w.d.metadata, generation: 2 } };
  const { maxSurge, maxUnavailable } = rollingParams(w.d);
  w.settle(() => {
    assert.ok(w.total() <= 10 + maxSurge, `total ${w.total()}`);
    assert.ok(w.available() >= 10 - maxUnavailable, `available ${w.available()}`);
  });
  const newName = `web-${podTemplateHash(w.d.spec.template)}`;
  assert.deepEqual(
    w.rss.map((rs) => [rs.metadata.name === newName, rs.spec.replicas, rs.metadata.annotations![REVISION_ANNOTATION]]).sort(),
    [
      [false, 0, '1'],
      [true, 10, '2'],
    ],
  );
  assert.equal(w.d.metadata.annotations![REVISION_ANNOTATION], '2');
  assert.equal(w.d.status!.conditions!.find((c) => c.type === 'Progressing')!.reason, 'NewReplicaSetAvailable');
  assert.equal(w.d.status!.observedGeneration, 2);
});

test('a rollout whose new pods never become ready stops at maxUnavailable and reports progress', () => {
  const w = new World(deployment(4, 'nginx:1'));
  w.settle();
  const stuck = new World({ ...w.d, spec: { ...w.d.spec, template: { ...w.d.spec.template, spec: { containers: [{ name: 'c', image: 'broken' }] } } } }, false);
  stuck.rss = w.rss;
  stuck.settle(() => assert.ok(stuck.available() >= 3));
  const s = stuck.d.status!;
  assert.ok(s.updatedReplicas! < 4 || s.availableReplicas! < 4);
  assert.equal(s.conditions!.find((c) => c.type === 'Progressing')!.reason, 'ReplicaSetUpdated');
});

test('Recreate scales old to zero before the new one comes up', () => {
  const w = new World(deployment(3, 'nginx:1', { type: 'Recreate' }));
  w.settle();
  w.d = { ...w.d, spec: { ...w.d.spec, template: { ...w.d.spec.template, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } } };
  const plan = w.step();
  assert.equal(plan.create!.spec.replicas, 0);
  w.settle(() => {
    const old = w.rss.find((rs) => rs.metadata.annotations![REVISION_ANNOTATION] === '1')!;
    const fresh = w.rss.find((rs) => rs.metadata.annotations![REVISION_ANNOTATION] === '2');
    if (fresh && (fresh.spec.replicas ?? 0) > 0) assert.equal(old.status!.replicas, 0);
  });
  assert.deepEqual(w.rss.map((rs) => rs.spec.replicas).sort(), [0, 3]);
});

test('scaling changes only the replica count; rollback reuses the old ReplicaSet with a new revision', () => {
  const w = new World(deployment(2, 'nginx:1'));
  w.settle();
  w.d = { ...w.d, spec: { ...w.d.spec, replicas: 5 } };
  w.settle();
  assert.equal(w.rss.length, 1);
  assert.equal(w.rss[0]!.spec.replicas, 5);
  const v1 = w.d.spec.template;
  w.d = { ...w.d, spec: { ...w.d.spec, template: { ...v1, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } } };
  w.settle();
  w.d = { ...w.d, spec: { ...w.d.spec, template: v1 } };
  w.settle();
  assert.equal(w.rss.length, 2);
  const back = w.rss.find((rs) => rs.metadata.name === `web-${podTemplateHash(v1)}`)!;
  assert.equal(back.metadata.annotations![REVISION_ANNOTATION], '3');
  assert.equal(back.spec.replicas, 5);
  assert.equal(w.d.metadata.annotations![REVISION_ANNOTATION], '3');
});

test('old ReplicaSets beyond revisionHistoryLimit are deleted oldest first', () => {
  const w = new World({ ...deployment(1, 'v0'), spec: { ...deployment(1, 'v0').spec, revisionHistoryLimit: 2 } });
  w.settle();
  for (let i = 1; i <= 4; i++) {
    w.d = { ...w.d, spec: { ...w.d.spec, template: { ...w.d.spec.template, spec: { containers: [{ name: 'c', image: `v${i}` }] } } } };
    w.settle();
  }
  assert.deepEqual(w.rss.map((rs) => rs.metadata.annotations![REVISION_ANNOTATION]).sort(), ['3', '4', '5']);
});

test('a template annotation change (kubectl rollout restart) rolls', () => {
  const w = new World(deployment(2, 'nginx:1'));
  w.settle();
  const t = structuredClone(w.d.spec.template);
  t.metadata!.annotations = { 'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z' };
  w.d = { ...w.d, spec: { ...w.d.spec, template: t } };
  w.settle();
  assert.equal(w.rss.length, 2);
  assert.equal(w.d.metadata.annotations![REVISION_ANNOTATION], '2');
});

test('a rollout without progress past progressDeadlineSeconds reports ProgressDeadlineExceeded', () => {
  const w = new World(deployment(2, 'nginx:1'));
  w.settle();
  const stuck = new World({ ...w.d, spec: { ...w.d.spec, progressDeadlineSeconds: 5, template: { ...w.d.spec.template, spec: { containers: [{ name: 'c', image: 'broken' }] } } } }, false);
  stuck.rss = w.rss;
  stuck.settle();
  const progressing = () => stuck.d.status!.conditions!.find((c) => c.type === 'Progressing')!;
  assert.equal(progressing().reason, 'ReplicaSetUpdated');
  const plan = stuck.step();
  assert.ok(plan.recheckAfterMs !== undefined && plan.recheckAfterMs <= 5100);
  for (let i = 0; i < 6; i++) stuck.step();
  assert.deepEqual([progressing().status, progressing().reason], ['False', 'ProgressDeadlineExceeded']);
  assert.match(progressing().message!, /has timed out progressing/);
});

test('a paused Deployment does not roll out a new template but still scales', () => {
  const w = new World(deployment(2, 'nginx:1'));
  w.settle();
  w.d = { ...w.d, spec: { ...w.d.spec, paused: true, replicas: 3, template: { ...w.d.spec.template, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } } };
  w.settle();
  assert.equal(w.rss.length, 1);
  assert.equal(w.d.status!.conditions!.find((c) => c.type === 'Progressing')!.reason, 'DeploymentPaused');
  w.d = { ...w.d, spec: { ...w.d.spec, paused: false } };
  w.settle();
  assert.equal(w.rss.length, 2);
  assert.equal(w.d.metadata.annotations![REVISION_ANNOTATION], '2');
});
