// The kubelet's admission of a pod bound to the node (pod-admission.ts): upstream's reasons,
// messages and order of checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { admitPod, isActive, rejectedStatus } from '../../../src/agent/pod-admission.js';
import type { Node } from '../../../src/controllers/types.js';
import type { Pod } from '../../../src/agent/pod-types.js';

const node = (labels: Record<string, string> = {}, taints: NonNullable<Node['spec']>['taints'] = []): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1', ...labels } }, spec: { taints } });
let seq = 0;
const pod = (spec: Partial<Pod['spec']> = {}, phase?: NonNullable<Pod['status']>['phase']): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: `p${++seq}`, namespace: 'default', uid: `u${seq}` },
  spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }], ...spec },
  ...(phase ? { status: { phase } } : {}),
});

test('a free pod slot admits; one pod too many is OutOfpods with the kubelet message', () => {
  assert.deepEqual(admitPod(pod(), node(), [pod()], 2), { admit: true });
  assert.deepEqual(admitPod(pod(), node(), [pod(), pod()], 2), {
    admit: false,
    reason: 'OutOfpods',
    message: "Node didn't have enough resource: pods, requested: 1, used: 2, capacity: 2",
  });
  assert.deepEqual(rejectedStatus('OutOfpods', 'x'), { phase: 'Failed', reason: 'OutOfpods', message: 'Pod was rejected: x' });
});

test('finished pods hold no slot; running and terminating ones do', () => {
  assert.equal(isActive(pod({}, 'Succeeded')), false);
  assert.equal(isActive(pod({}, 'Failed')), false);
  assert.equal(isActive(pod({}, 'Running')), true);
  assert.equal(isActive(pod()), true);
});

test('nodeSelector and required node affinity: NodeAffinity when they do not match the node labels', () => {
  const rejected = { admit: false, reason: 'NodeAffinity', message: "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector" };
  assert.deepEqual(admitPod(pod({ nodeSelector: { disk: 'ssd' } }), node(), [], 10), rejected);
  assert.deepEqual(admitPod(pod({ nodeSelector: { disk: 'ssd' } }), node({ disk: 'ssd' }), [], 10), { admit: true });
  const affinity = (operator: string, values: string[]) => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator, values }] }] } } });
  assert.deepEqual(admitPod(pod({ affinity: affinity('In', ['a', 'b']) }), node({ zone: 'c' }), [], 10), rejected);
  assert.deepEqual(admitPod(pod({ affinity: affinity('In', ['a', 'b']) }), node({ zone: 'b' }), [], 10), { admit: true });
  assert.deepEqual(admitPod(pod({ affinity: affinity('NotIn', ['c']) }), node({ zone: 'c' }), [], 10), rejected);
});

test('the pod count is checked first, as upstream returns only its first failure', () => {
  assert.equal((admitPod(pod({ nodeSelector: { disk: 'ssd' } }), node(), [pod()], 1) as { reason: string }).reason, 'OutOfpods');
});

test('host ports: a conflict on the same protocol and port (0.0.0.0 overlaps every address) is NodePorts', () => {
  const withPort = (hostPort: number, protocol?: 'TCP' | 'UDP', hostIP?: string) => pod({ containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80, hostPort, protocol, hostIP }] }] });
  const rejected = { admit: false, reason: 'NodePorts', message: "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports" };
  assert.deepEqual(admitPod(withPort(8080), node(), [withPort(8080)], 10), rejected);
  assert.deepEqual(admitPod(withPort(8080, 'UDP'), node(), [withPort(8080)], 10), { admit: true });
  assert.deepEqual(admitPod(withPort(8081), node(), [withPort(8080)], 10), { admit: true });
  assert.deepEqual(admitPod(withPort(8080, 'TCP', '10.0.0.1'), node(), [withPort(8080, 'TCP', '10.0.0.2')], 10), { admit: true });
  assert.deepEqual(admitPod(withPort(8080, 'TCP', '10.0.0.1'), node(), [withPort(8080)], 10), rejected);
});

test('a NoExecute taint the pod does not tolerate is TaintToleration; NoSchedule is the scheduler\'s only', () => {
  const taint = { key: 'maintenance', value: 'yes', effect: 'NoExecute' };
  assert.deepEqual(admitPod(pod(), node({}, [taint]), [], 10), { admit: false, reason: 'TaintToleration', message: "Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate" });
  assert.deepEqual(admitPod(pod({ tolerations: [{ key: 'maintenance', operator: 'Exists' }] }), node({}, [taint]), [], 10), { admit: true });
  assert.deepEqual(admitPod(pod(), node({}, [{ ...taint, effect: 'NoSchedule' }]), [], 10), { admit: true });
});
