import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planReconcile } from '../../../src/runtime/reconcile.js';
import { containerIdOf, type ContainerStatusReply } from '../../../src/runtime/api.js';

function c(sandboxId: string, name: string, attempt: number, state: ContainerStatusReply['state'] = 'RUNNING'): ContainerStatusReply {
  return { id: containerIdOf(sandboxId, name, attempt), sandboxId, name, attempt, state, kind: 'process', pid: 0, initPid: 0, createdAt: '', logPath: `/l/${name}/${attempt}.log` };
}

test('a kept pod: the newest attempt of each container is adopted, the previous one kept, older ones removed', () => {
  const containers = [c('pod-a', 'web', 0, 'EXITED'), c('pod-a', 'web', 2), c('pod-a', 'web', 1, 'EXITED'), c('pod-a', 'side', 0, 'EXITED')];
  const plan = planReconcile(['pod-a'], containers, [{ uid: 'pod-a', containerNames: ['web', 'side'] }]);
  assert.deepEqual(
    plan.adopt.get('pod-a')!.map((x) => [x.name, x.attempt, x.state]),
    [
      ['web', 2, 'RUNNING'],
      ['side', 0, 'EXITED'],
    ],
  );
  assert.deepEqual(plan.removeContainers, [containerIdOf('pod-a', 'web', 0)]);
  assert.deepEqual(plan.removeSandboxes, []);
});

test('pods not kept (gone, deleting, finished, sandbox not adopted) lose their sandbox and every container', () => {
  const containers = [c('gone', 'web', 0), c('kept', 'web', 0), c('orphan-containers', 'x', 3, 'EXITED')];
  const plan = planReconcile(['gone', 'kept', 'empty'], containers, [{ uid: 'kept', containerNames: ['web'] }]);
  assert.deepEqual(plan.removeSandboxes, ['empty', 'gone', 'orphan-containers']);
  assert.deepEqual([...plan.adopt.keys()], ['kept']);
  assert.deepEqual(plan.removeContainers, []);
});

test('a container name the pod no longer declares is removed, not adopted', () => {
  const plan = planReconcile(['p'], [c('p', 'old', 0), c('p', 'web', 0)], [{ uid: 'p', containerNames: ['web'] }]);
  assert.deepEqual(plan.removeContainers, [containerIdOf('p', 'old', 0)]);
  assert.deepEqual(plan.adopt.get('p')!.map((x) => x.name), ['web']);
});

test('a kept pod the runtime knows nothing of adopts nothing (its containers start afresh)', () => {
  const plan = planReconcile([], [], [{ uid: 'new', containerNames: ['web'] }]);
  assert.equal(plan.adopt.size, 0);
  assert.deepEqual(plan.removeSandboxes, []);
});
