// The kubelet's admission of a pod bound to the node (pod-admission.ts): upstream's reasons,
// messages and order of checks, and the resources a pod requests against the node's allocatable.
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

/** A node's allocatable as the agent reports it: 2 cpus, 4 GiB, 10 GiB of ephemeral storage. */
const alloc = (pods: number, extra: Record<string, string> = {}) => ({ cpu: '2', memory: '4194304Ki', 'ephemeral-storage': '10Gi', pods: String(pods), ...extra });
const requesting = (requests: Record<string, string>, more: Partial<Pod['spec']> = {}, phase?: NonNullable<Pod['status']>['phase']) =>
  pod({ containers: [{ name: 'c', image: 'busybox', resources: { requests } }], ...more }, phase);

test('a free pod slot admits; one pod too many is OutOfpods with the kubelet message', () => {
  assert.deepEqual(admitPod(pod(), node(), [pod()], alloc(2)), { admit: true });
  assert.deepEqual(admitPod(pod(), node(), [pod(), pod()], alloc(2)), {
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
  assert.deepEqual(admitPod(pod({ nodeSelector: { disk: 'ssd' } }), node(), [], alloc(10)), rejected);
  assert.deepEqual(admitPod(pod({ nodeSelector: { disk: 'ssd' } }), node({ disk: 'ssd' }), [], alloc(10)), { admit: true });
  const affinity = (operator: string, values: string[]) => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator, values }] }] } } });
  assert.deepEqual(admitPod(pod({ affinity: affinity('In', ['a', 'b']) }), node({ zone: 'c' }), [], alloc(10)), rejected);
  assert.deepEqual(admitPod(pod({ affinity: affinity('In', ['a', 'b']) }), node({ zone: 'b' }), [], alloc(10)), { admit: true });
  assert.deepEqual(admitPod(pod({ affinity: affinity('NotIn', ['c']) }), node({ zone: 'c' }), [], alloc(10)), rejected);
});

test('the pod count is checked first, as upstream returns only its first failure', () => {
  assert.equal((admitPod(pod({ nodeSelector: { disk: 'ssd' } }), node(), [pod()], alloc(1)) as { reason: string }).reason, 'OutOfpods');
});

test('host ports: a conflict on the same protocol and port (0.0.0.0 overlaps every address) is NodePorts', () => {
  const withPort = (hostPort: number, protocol?: 'TCP' | 'UDP', hostIP?: string) => pod({ containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80, hostPort, protocol, hostIP }] }] });
  const rejected = { admit: false, reason: 'NodePorts', message: "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports" };
  assert.deepEqual(admitPod(withPort(8080), node(), [withPort(8080)], alloc(10)), rejected);
  assert.deepEqual(admitPod(withPort(8080, 'UDP'), node(), [withPort(8080)], alloc(10)), { admit: true });
  assert.deepEqual(admitPod(withPort(8081), node(), [withPort(8080)], alloc(10)), { admit: true });
  assert.deepEqual(admitPod(withPort(8080, 'TCP', '10.0.0.1'), node(), [withPort(8080, 'TCP', '10.0.0.2')], alloc(10)), { admit: true });
  assert.deepEqual(admitPod(withPort(8080, 'TCP', '10.0.0.1'), node(), [withPort(8080)], alloc(10)), rejected);
});

test('a NoExecute taint the pod does not tolerate is TaintToleration; NoSchedule is the scheduler\'s only', () => {
  const taint = { key: 'maintenance', value: 'yes', effect: 'NoExecute' };
  assert.deepEqual(admitPod(pod(), node({}, [taint]), [], alloc(10)), { admit: false, reason: 'TaintToleration', message: "Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate" });
  assert.deepEqual(admitPod(pod({ tolerations: [{ key: 'maintenance', operator: 'Exists' }] }), node({}, [taint]), [], alloc(10)), { admit: true });
  assert.deepEqual(admitPod(pod(), node({}, [{ ...taint, effect: 'NoSchedule' }]), [], alloc(10)), { admit: true });
});

test('requests over allocatable minus the admitted pods\' requests: OutOfcpu with the kubelet\'s figures (millicores)', () => {
  const admitted = [requesting({ cpu: '1500m' }), requesting({ cpu: '300m', memory: '1Gi' })];
  assert.deepEqual(admitPod(requesting({ cpu: '200m' }), node(), admitted, alloc(10)), { admit: true });
  assert.deepEqual(admitPod(requesting({ cpu: '500m' }), node(), admitted, alloc(10)), {
    admit: false,
    reason: 'OutOfcpu',
    message: "Node didn't have enough resource: cpu, requested: 500, used: 1800, capacity: 2000",
  });
  assert.deepEqual(rejectedStatus('OutOfcpu', "Node didn't have enough resource: cpu, requested: 500, used: 1800, capacity: 2000").message, "Pod was rejected: Node didn't have enough resource: cpu, requested: 500, used: 1800, capacity: 2000");
});

test('memory and ephemeral-storage in bytes: OutOfmemory, OutOfephemeral-storage; cpu is reported before memory', () => {
  assert.deepEqual(admitPod(requesting({ memory: '3Gi' }), node(), [requesting({ memory: '1025Mi' })], alloc(10)), {
    admit: false,
    reason: 'OutOfmemory',
    message: `Node didn't have enough resource: memory, requested: ${3 * 2 ** 30}, used: ${1025 * 2 ** 20}, capacity: ${4 * 2 ** 30}`,
  });
  assert.deepEqual(admitPod(requesting({ 'ephemeral-storage': '11Gi' }), node(), [], alloc(10)), {
    admit: false,
    reason: 'OutOfephemeral-storage',
    message: `Node didn't have enough resource: ephemeral-storage, requested: ${11 * 2 ** 30}, used: 0, capacity: ${10 * 2 ** 30}`,
  });
  assert.equal((admitPod(requesting({ memory: '5Gi', cpu: '3' }), node(), [], alloc(10)) as { reason: string }).reason, 'OutOfcpu');
  // Exactly the rest fits.
  assert.deepEqual(admitPod(requesting({ memory: '3Gi' }), node(), [requesting({ memory: '1Gi' })], alloc(10)), { admit: true });
});

test('the pod slot is checked before resources, resources before node affinity, as upstream orders them', () => {
  assert.equal((admitPod(requesting({ cpu: '3' }), node(), [pod()], alloc(1)) as { reason: string }).reason, 'OutOfpods');
  assert.equal((admitPod(requesting({ cpu: '3' }, { nodeSelector: { disk: 'ssd' } }), node(), [], alloc(10)) as { reason: string }).reason, 'OutOfcpu');
});

test('finished pods free their requests; terminating ones (still admitted) hold them; a pod requesting nothing only needs a slot', () => {
  // The agent passes only active pods; a Succeeded pod is not among them.
  assert.equal(isActive(requesting({ cpu: '2' }, {}, 'Succeeded')), false);
  assert.deepEqual(admitPod(requesting({ cpu: '2' }), node(), [], alloc(10)), { admit: true });
  assert.equal((admitPod(requesting({ cpu: '1' }), node(), [requesting({ cpu: '1500m' }, {}, 'Running')], alloc(10)) as { reason: string }).reason, 'OutOfcpu');
  assert.deepEqual(admitPod(pod(), node(), [requesting({ cpu: '2', memory: '4Gi' })], alloc(10)), { admit: true });
});

test('init containers: the largest one counts when it is more than the regular containers together; pod overhead adds', () => {
  const init = (cpu: string) => ({ name: 'init', image: 'busybox', resources: { requests: { cpu } } });
  assert.deepEqual(admitPod(requesting({ cpu: '500m' }, { initContainers: [init('1')] }), node(), [requesting({ cpu: '1' })], alloc(10)), { admit: true });
  assert.deepEqual(admitPod(requesting({ cpu: '500m' }, { initContainers: [init('1100m')] }), node(), [requesting({ cpu: '1' })], alloc(10)), {
    admit: false,
    reason: 'OutOfcpu',
    message: "Node didn't have enough resource: cpu, requested: 1100, used: 1000, capacity: 2000",
  });
  assert.equal((admitPod(requesting({ cpu: '900m' }, { overhead: { cpu: '200m' } }), node(), [requesting({ cpu: '1' })], alloc(10)) as { reason: string }).reason, 'OutOfcpu');
  // The admitted pods' overhead counts as used.
  assert.equal((admitPod(requesting({ cpu: '900m' }), node(), [requesting({ cpu: '1' }, { overhead: { cpu: '200m' } })], alloc(10)) as { message: string }).message, "Node didn't have enough resource: cpu, requested: 900, used: 1200, capacity: 2000");
});

test('other resources: OutOf<name> when the node lacks them; an extended resource the node does not advertise is not checked', () => {
  assert.deepEqual(admitPod(requesting({ 'hugepages-2Mi': '4Mi' }), node(), [], alloc(10)), {
    admit: false,
    reason: 'OutOfhugepages-2Mi',
    message: `Node didn't have enough resource: hugepages-2Mi, requested: ${4 * 2 ** 20}, used: 0, capacity: 0`,
  });
  assert.deepEqual(admitPod(requesting({ 'example.com/gpu': '1' }), node(), [], alloc(10)), { admit: true });
  assert.deepEqual(admitPod(requesting({ 'example.com/gpu': '2' }), node(), [requesting({ 'example.com/gpu': '1' })], alloc(10, { 'example.com/gpu': '2' })), {
    admit: false,
    reason: 'OutOfexample.com/gpu',
    message: "Node didn't have enough resource: example.com/gpu, requested: 2, used: 1, capacity: 2",
  });
});
