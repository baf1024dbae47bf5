import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { buildTable } from '../../../src/apiserver/present/tables/index.js';
import { toTable } from '../../../src/apiserver/present/index.js';

const now = Date.parse('2026-11-21T10:00:00Z');
const ago = (ms: number) => new Date(now - ms).toISOString();
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

function obj(name: string, rest: Record<string, unknown> = {}, created = ago(5 * S)): KubeObject {
  return { metadata: { name, namespace: 'default', creationTimestamp: created, uid: 'u-' + name }, ...rest };
}

function table(r: (typeof R)[keyof typeof R], objects: KubeObject[]) {
  return buildTable(r, objects, { includeObject: 'Metadata' }, now);
}

function headers(r: (typeof R)[keyof typeof R]) {
  return table(r, []).columnDefinitions.map((c) => (c.priority ? '*' : '') + c.name);
}

function cells(r: (typeof R)[keyof typeof R], o: KubeObject) {
  return table(r, [o]).rows[0].cells;
}

const running = (name: string, restartCount = 0, extra: Record<string, unknown> = {}) => ({
  name,
  ready: true,
  restartCount,
  state: { running: { startedAt: ago(M) } },
  ...extra,
});

test('pods: columns, running pod with wide cells', () => {
  assert.deepEqual(headers(R.pods), ['Name', 'Ready', 'Status', 'Restarts', 'Age', '*IP', '*Node', '*Nominated Node', '*Readiness Gates']);
  const pod = obj('web-1', {
    spec: { nodeName: 'node-1', containers: [{ name: 'a' }, { name: 'b' }] },
    status: { phase: 'Running', podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }], containerStatuses: [running('a'), { name: 'b', ready: false, restartCount: 0, state: { running: {} } }] },
  }, ago(3 * M + 2 * S));
  assert.deepEqual(cells(R.pods, pod), ['web-1', '1/2', 'Running', '0', '3m2s', '10.244.1.5', 'node-1', '<none>', '<none>']);
});

test('pods: pending pod without status has <none> wide cells', () => {
  const pod = obj('p', { spec: { containers: [{ name: 'a' }] }, status: { phase: 'Pending' } });
  assert.deepEqual(cells(R.pods, pod), ['p', '0/1', 'Pending', '0', '5s', '<none>', '<none>', '<none>', '<none>']);
});

test('pods: waiting reason and restarts with last restart age', () => {
  const pod = obj('crash', {
    spec: { containers: [{ name: 'a' }] },
    status: {
      phase: 'Running',
      containerStatuses: [{ name: 'a', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: ago(2 * M) } } }],
    },
  }, ago(2 * D + 3 * H));
  assert.deepEqual(cells(R.pods, pod).slice(0, 5), ['crash', '0/1', 'CrashLoopBackOff', '4 (2m ago)', '2d3h']);
});

test('pods: terminated reasons, exit codes and signals', () => {
  const mk = (terminated: Record<string, unknown>) =>
    obj('t', { spec: { containers: [{ name: 'a' }] }, status: { phase: 'Failed', containerStatuses: [{ name: 'a', restartCount: 0, state: { terminated } }] } });
  assert.equal(cells(R.pods, mk({ exitCode: 0, reason: 'Completed' }))[2], 'Completed');
  assert.equal(cells(R.pods, mk({ exitCode: 2 }))[2], 'ExitCode:2');
  assert.equal(cells(R.pods, mk({ exitCode: 137, signal: 9 }))[2], 'Signal:9');
  const t = table(R.pods, [mk({ exitCode: 1, reason: 'Error' })]);
  assert.equal(t.rows[0].cells[2], 'Error');
  assert.deepEqual(t.rows[0].conditions, [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }]);
});

test('pods: Completed with a running container is Running or NotReady', () => {
  const mk = (ready: boolean) =>
    obj('mix', {
      spec: { containers: [{ name: 'a' }, { name: 'b' }] },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
        containerStatuses: [{ name: 'a', restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }, running('b')],
      },
    });
  assert.equal(cells(R.pods, mk(true))[2], 'Running');
  assert.equal(cells(R.pods, mk(false))[2], 'NotReady');
});

test('pods: init container states', () => {
  const base = { spec: { initContainers: [{ name: 'i1' }, { name: 'i2' }], containers: [{ name: 'a' }] } };
  const withInit = (initContainerStatuses: unknown[]) =>
    obj('init', { ...base, status: { phase: 'Pending', initContainerStatuses, containerStatuses: [{ name: 'a', restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }] } });
  assert.equal(cells(R.pods, withInit([{ name: 'i1', restartCount: 0, state: { running: {} } }, { name: 'i2', state: { waiting: {} } }]))[2], 'Init:0/2');
  assert.equal(
    cells(R.pods, withInit([{ name: 'i1', state: { terminated: { exitCode: 0 } } }, { name: 'i2', state: { waiting: { reason: 'ImagePullBackOff' } } }]))[2],
    'Init:ImagePullBackOff',
  );
  assert.equal(cells(R.pods, withInit([{ name: 'i1', restartCount: 2, state: { terminated: { exitCode: 3 } } }]))[2], 'Init:ExitCode:3');
  assert.equal(cells(R.pods, withInit([{ name: 'i1', state: { terminated: { exitCode: 1, reason: 'Error' } } }]))[2], 'Init:Error');
  assert.equal(cells(R.pods, withInit([{ name: 'i1', state: { terminated: { exitCode: 0 } } }, { name: 'i2', state: { terminated: { exitCode: 0 } } }]))[2], 'PodInitializing');
});

test('pods: restartable init containers (sidecars) count toward READY', () => {
  const pod = obj('sc', {
    spec: { initContainers: [{ name: 'side', restartPolicy: 'Always' }], containers: [{ name: 'a' }] },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Initialized', status: 'True' }],
      initContainerStatuses: [{ name: 'side', ready: true, started: true, restartCount: 1, state: { running: {} } }],
      containerStatuses: [running('a')],
    },
  });
  assert.deepEqual(cells(R.pods, pod).slice(0, 4), ['sc', '2/2', 'Running', '1']);
});

test('pods: Terminating, SchedulingGated, readiness gates', () => {
  const term = obj('d', { spec: { containers: [{ name: 'a' }] }, status: { phase: 'Running', containerStatuses: [running('a')] } });
  term.metadata.deletionTimestamp = ago(S);
  assert.equal(cells(R.pods, term)[2], 'Terminating');
  const gated = obj('g', { spec: { containers: [{ name: 'a' }] }, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] } });
  assert.equal(cells(R.pods, gated)[2], 'SchedulingGated');
  const gates = obj('rg', {
    spec: { containers: [{ name: 'a' }], readinessGates: [{ conditionType: 'x/one' }, { conditionType: 'x/two' }] },
    status: { phase: 'Running', conditions: [{ type: 'x/one', status: 'True' }, { type: 'x/two', status: 'False' }], containerStatuses: [running('a')] },
  });
  assert.equal(cells(R.pods, gates)[8], '1/2');
  const evicted = obj('ev', { spec: { containers: [{ name: 'a' }] }, status: { phase: 'Failed', reason: 'Evicted' } });
  assert.equal(cells(R.pods, evicted)[2], 'Evicted');
});

test('services: types, external IPs, ports, selector', () => {
  assert.deepEqual(headers(R.services), ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', '*Selector']);
  const cluster = obj('web', { spec: { type: 'ClusterIP', clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], selector: { app: 'web', tier: 'fe' }, ports: [{ port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] } });
  assert.deepEqual(cells(R.services, cluster), ['web', 'ClusterIP', '10.96.0.20', '<none>', '80/TCP,53/UDP', '5s', 'app=web,tier=fe']);
  const np = obj('np', { spec: { type: 'NodePort', clusterIPs: ['10.96.0.21'], externalIPs: ['192.0.2.1', '192.0.2.2'], ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }] } });
  assert.deepEqual(cells(R.services, np).slice(1, 5), ['NodePort', '10.96.0.21', '192.0.2.1,192.0.2.2', '80:30080/TCP']);
  const lbPending = obj('lb', { spec: { type: 'LoadBalancer', clusterIPs: ['10.96.0.22'], ports: [{ port: 443, nodePort: 31443, protocol: 'TCP' }] } });
  assert.equal(cells(R.services, lbPending)[3], '<pending>');
  const lb = obj('lb2', { spec: { type: 'LoadBalancer', externalIPs: ['192.0.2.9'], ports: [] }, status: { loadBalancer: { ingress: [{ ip: '172.18.255.2' }, { hostname: 'lb.example' }, { ip: '172.18.255.1' }] } } });
  assert.deepEqual(cells(R.services, lb).slice(2, 5), ['<none>', '172.18.255.1,172.18.255.2,lb.example,192.0.2.9', '<none>']);
  const headless = obj('h', { spec: { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 5432, protocol: 'TCP' }] } });
  assert.equal(cells(R.services, headless)[2], 'None');
  const ext = obj('x', { spec: { type: 'ExternalName', externalName: 'db.example.com' } });
  assert.deepEqual(cells(R.services, ext).slice(1, 5), ['ExternalName', '<none>', 'db.example.com', '<none>']);
});

test('endpoints: first three ip:port then + N more', () => {
  assert.deepEqual(headers(R.endpoints), ['Name', 'Endpoints', 'Age']);
  const ep = obj('web', {
    subsets: [{ addresses: [{ ip: '10.244.1.2' }, { ip: '10.244.2.3' }], ports: [{ port: 80, protocol: 'TCP' }, { port: 443 }] }],
  });
  assert.deepEqual(cells(R.endpoints, ep), ['web', '10.244.1.2:80,10.244.2.3:80,10.244.1.2:443 + 1 more...', '5s']);
  assert.equal(cells(R.endpoints, obj('none'))[1], '<none>');
  assert.equal(cells(R.endpoints, obj('headless', { subsets: [{ addresses: [{ ip: 'fd00::1' }] }] }))[1], 'fd00::1');
  assert.equal(cells(R.endpoints, obj('v6', { subsets: [{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 80 }] }] }))[1], '[fd00::1]:80');
  assert.equal(cells(R.endpoints, obj('empty', { subsets: [{ notReadyAddresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }] }))[1], '');
});

test('endpointslices: address type, ports, endpoints', () => {
  assert.deepEqual(headers(R.endpointslices), ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age']);
  const s = obj('web-abc', {
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'named' }],
    endpoints: [{ addresses: ['10.244.1.2'] }, { addresses: ['10.244.1.3'] }, { addresses: ['10.244.1.4'] }, { addresses: ['10.244.1.5'] }],
  });
  assert.deepEqual(cells(R.endpointslices, s), ['web-abc', 'IPv4', '80,named', '10.244.1.2,10.244.1.3,10.244.1.4 + 1 more...', '5s']);
  assert.deepEqual(cells(R.endpointslices, obj('e', { addressType: 'IPv4', ports: [{}] })).slice(2, 4), ['*', '<unset>']);
  assert.deepEqual(cells(R.endpointslices, obj('e', { addressType: 'IPv4' })).slice(2, 4), ['<unset>', '<unset>']);
});

test('networkpolicies: pod selector', () => {
  assert.deepEqual(headers(R.networkpolicies), ['Name', 'Pod-Selector', 'Age']);
  assert.deepEqual(cells(R.networkpolicies, obj('deny', { spec: { podSelector: {} } })), ['deny', '<none>', '5s']);
  assert.equal(cells(R.networkpolicies, obj('web', { spec: { podSelector: { matchLabels: { app: 'web' } } } }))[1], 'app=web');
});

test('ingresses and ingressclasses', () => {
  assert.deepEqual(headers(R.ingresses), ['Name', 'Class', 'Hosts', 'Address', 'Ports', 'Age']);
  const ing = obj('web', {
    spec: { ingressClassName: 'flatnet', rules: [{ host: 'a.example' }, { host: 'b.example' }, {}, { host: 'd.example' }, { host: 'e.example' }], tls: [{ hosts: ['a.example'] }] },
    status: { loadBalancer: { ingress: [{ ip: '172.18.255.1' }] } },
  });
  assert.deepEqual(cells(R.ingresses, ing), ['web', 'flatnet', 'a.example,b.example,d.example + 2 more...', '172.18.255.1', '80, 443', '5s']);
  assert.deepEqual(cells(R.ingresses, obj('x', { spec: { rules: [{}] } })), ['x', '<none>', '*', '', '80', '5s']);
  assert.deepEqual(headers(R.ingressclasses), ['Name', 'Controller', 'Parameters', 'Age']);
  assert.deepEqual(cells(R.ingressclasses, obj('flatnet', { spec: { controller: 'flatnet.dev/ingress' } })), ['flatnet', 'flatnet.dev/ingress', '<none>', '5s']);
  assert.equal(
    cells(R.ingressclasses, obj('p', { spec: { controller: 'c', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb' } } }))[2],
    'IngressParameters.k8s.example.com/external-lb',
  );
});

test('deployments and replicasets', () => {
  assert.deepEqual(headers(R.deployments), ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', '*Containers', '*Images', '*Selector']);
  const spec = { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }, { name: 'side', image: 'busybox' }] } } };
  const d = obj('web', { spec, status: { replicas: 3, readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } }, ago(10 * M + 5 * S));
  assert.deepEqual(cells(R.deployments, d), ['web', '2/3', 3, 2, '10m', 'nginx,side', 'nginx:1.27,busybox', 'app=web']);
  assert.deepEqual(cells(R.deployments, obj('new', { spec: { ...spec, replicas: 1 } })).slice(1, 4), ['0/1', 0, 0]);
  assert.deepEqual(headers(R.replicasets), ['Name', 'Desired', 'Current', 'Ready', 'Age', '*Containers', '*Images', '*Selector']);
  assert.deepEqual(cells(R.replicasets, obj('web-5d8', { spec, status: { replicas: 3, readyReplicas: 1 } })).slice(0, 5), ['web-5d8', 3, 3, 1, '5s']);
});

test('nodes: status, roles, wide cells', () => {
  assert.deepEqual(headers(R.nodes), ['Name', 'Status', 'Roles', 'Age', 'Version', '*Internal-IP', '*External-IP', '*OS-Image', '*Kernel-Version', '*Container-Runtime']);
  const node = obj('node-1', {
    spec: { unschedulable: true },
    status: {
      conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }],
      addresses: [{ type: 'Hostname', address: 'node-1' }, { type: 'InternalIP', address: '172.18.0.11' }],
      nodeInfo: { kubeletVersion: 'v1.32.0-flatnet', osImage: 'Debian GNU/Linux 12', kernelVersion: '6.1.0', containerRuntimeVersion: 'flatnet://0.1.0' },
    },
  }, ago(49 * H));
  node.metadata.labels = { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/worker': '', 'kubernetes.io/role': 'edge' };
  assert.deepEqual(cells(R.nodes, node), [
    'node-1', 'Ready,SchedulingDisabled', 'control-plane,edge,worker', '2d1h', 'v1.32.0-flatnet', '172.18.0.11', '<none>', 'Debian GNU/Linux 12', '6.1.0', 'flatnet://0.1.0',
  ]);
  const notReady = obj('n2', { status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } });
  assert.deepEqual(cells(R.nodes, notReady), ['n2', 'NotReady', '<none>', '5s', '', '<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']);
  assert.equal(cells(R.nodes, obj('n3'))[1], 'Unknown');
});

test('namespaces, configmaps, secrets, serviceaccounts, leases', () => {
  assert.deepEqual(cells(R.namespaces, obj('default', { status: { phase: 'Active' } })), ['default', 'Active', '5s']);
  assert.deepEqual(headers(R.configmaps), ['Name', 'Data', 'Age']);
  assert.deepEqual(cells(R.configmaps, obj('cfg', { data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } })), ['cfg', 3, '5s']);
  assert.deepEqual(headers(R.secrets), ['Name', 'Type', 'Data', 'Age']);
  assert.deepEqual(cells(R.secrets, obj('tls', { type: 'kubernetes.io/tls', data: { 'tls.crt': 'x', 'tls.key': 'y' } })), ['tls', 'kubernetes.io/tls', 2, '5s']);
  assert.deepEqual(cells(R.serviceaccounts, obj('default')), ['default', 0, '5s']);
  assert.deepEqual(headers(R.leases), ['Name', 'Holder', 'Age']);
  assert.deepEqual(cells(R.leases, obj('node-1', { spec: { holderIdentity: 'node-1' } })), ['node-1', 'node-1', '5s']);
  assert.deepEqual(cells(R.leases, obj('free', { spec: {} })), ['free', '', '5s']);
});

test('events: last seen, object, source, count', () => {
  assert.deepEqual(headers(R.events), ['Last Seen', 'Type', 'Reason', 'Object', '*Subobject', '*Source', 'Message', '*First Seen', '*Count', '*Name']);
  const ev = obj('web-1.17a', {
    involvedObject: { kind: 'Pod', name: 'web-1', fieldPath: 'spec.containers{nginx}' },
    type: 'Normal',
    reason: 'Pulled',
    message: '  Container image already present \n',
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: ago(5 * M),
    lastTimestamp: ago(30 * S),
    count: 3,
  });
  assert.deepEqual(cells(R.events, ev), ['30s', 'Normal', 'Pulled', 'pod/web-1', 'spec.containers{nginx}', 'kubelet, node-1', 'Container image already present', '5m', 3, 'web-1.17a']);
  const micro = obj('e2', { involvedObject: { kind: 'Node' }, reportingComponent: 'kubelet', eventTime: ago(2 * M) });
  assert.deepEqual(cells(R.events, micro), ['2m', '', '', 'node', '', 'kubelet', '', '2m', 1, 'e2']);
  const series = obj('e3', { involvedObject: { kind: 'Pod', name: 'p' }, eventTime: ago(9 * M), series: { count: 7, lastObservedTime: ago(S * 10) } });
  assert.deepEqual([cells(R.events, series)[0], cells(R.events, series)[5], cells(R.events, series)[8]], ['10s', '<unknown>', 7]);
});

test('gateway kinds use their CRD printer columns', () => {
  assert.deepEqual(headers(R.gatewayclasses), ['Name', 'Controller', 'Accepted', 'Age', '*Description']);
  const gc = obj('flatnet', { spec: { controllerName: 'flatnet.dev/gateway' }, status: { conditions: [{ type: 'Accepted', status: 'True' }] } });
  assert.deepEqual(cells(R.gatewayclasses, gc), ['flatnet', 'flatnet.dev/gateway', 'True', '5s', null]);
  assert.deepEqual(headers(R.gateways), ['Name', 'Class', 'Address', 'Programmed', 'Age']);
  const gw = obj('gw', {
    spec: { gatewayClassName: 'flatnet' },
    status: { addresses: [{ type: 'IPAddress', value: '172.18.255.10' }, { value: '172.18.255.11' }], conditions: [{ type: 'Accepted', status: 'True' }, { type: 'Programmed', status: 'False' }] },
  });
  assert.deepEqual(cells(R.gateways, gw), ['gw', 'flatnet', '172.18.255.10', 'False', '5s']);
  assert.deepEqual(cells(R.gateways, obj('new', { spec: { gatewayClassName: 'flatnet' } })), ['new', 'flatnet', null, null, '5s']);
  assert.deepEqual(headers(R.httproutes), ['Name', 'Hostnames', 'Age']);
  assert.deepEqual(cells(R.httproutes, obj('r', { spec: { hostnames: ['a.example', 'b.example'] } })), ['r', '["a.example","b.example"]', '5s']);
  assert.deepEqual(cells(R.grpcroutes, obj('g', { spec: {} })), ['g', null, '5s']);
  for (const r of [R.tcproutes, R.udproutes, R.tlsroutes, R.referencegrants]) {
    assert.deepEqual(headers(r), ['Name', 'Age']);
    assert.deepEqual(cells(r, obj('x')), ['x', '5s']);
  }
  const ageDef = table(R.gateways, []).columnDefinitions.find((c) => c.name === 'Age');
  assert.equal(ageDef?.type, 'date');
});

test('row objects: Metadata (default), Object, None; list metadata', () => {
  const o = obj('web', { spec: { containers: [] } });
  o.metadata.labels = { app: 'web' };
  o.metadata.managedFields = [{ manager: 'kubectl' }];
  const meta = buildTable(R.pods, [o], { includeObject: 'Metadata', listMeta: { resourceVersion: '42', continue: 'c1' } }, now);
  assert.equal(meta.kind, 'Table');
  assert.equal(meta.apiVersion, 'meta.k8s.io/v1');
  assert.deepEqual(meta.metadata, { resourceVersion: '42', continue: 'c1' });
  assert.deepEqual(meta.rows[0].object, {
    kind: 'PartialObjectMetadata',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { name: 'web', namespace: 'default', creationTimestamp: o.metadata.creationTimestamp, uid: 'u-web', labels: { app: 'web' } },
  });
  assert.equal(buildTable(R.pods, [o], { includeObject: 'Object' }, now).rows[0].object, o);
  assert.equal('object' in buildTable(R.pods, [o], { includeObject: 'None' }, now).rows[0], false);
  assert.deepEqual(buildTable(R.pods, [o], { includeObject: 'None', noHeaders: true }, now).columnDefinitions, []);
  const nameCol = meta.columnDefinitions[0];
  assert.deepEqual([nameCol.name, nameCol.format, nameCol.priority], ['Name', 'name', 0]);
  const viaContract = toTable(R.configmaps, [obj('c', { data: { k: 'v' } })], { includeObject: 'Metadata' }) as { rows: { cells: unknown[] }[] };
  assert.deepEqual(viaContract.rows[0].cells.slice(0, 2), ['c', 1]);
});
