// Real packets through the proxy's rules, for both backends: a client namespace reaches Services
// programmed into a node namespace whose pods run small servers. Objects are fed to the change
// tracker directly (no API server).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { ServiceProxy } from '../../../src/proxy/proxy.js';
import { CLIENT_IP, CLUSTER_CIDR, NetLab, NODE_IP, service, slice } from './netlab.js';
import { requireRoot } from '../../support/prerequisites.js';

/** Chi-square statistic of observed counts against a uniform spread. */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
}

function countBy(values: (string | undefined)[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v ?? 'undefined', (m.get(v ?? 'undefined') ?? 0) + 1);
  return m;
}

for (const mode of ['nftables', 'iptables'] as const) {
  test(`service proxy (${mode}) with real packets`, { concurrency: false }, async (t) => {
    requireRoot(`network namespaces, ${mode} rules`);
    const lab = new NetLab(mode === 'nftables' ? 'n' : 'i');
    const proxies: ServiceProxy[] = [];
    t.after(async () => {
      for (const p of proxies) await p.stop({ cleanup: true }).catch(() => undefined);
      lab.tearDown();
    });
    await lab.setUp(3);
    const [p1, p2, p3] = lab.pods;
    const proxy = new ServiceProxy({
      nodeName: 'node-a',
      netns: lab.node,
      mode,
      nodeIPs: [NODE_IP],
      clusterCIDR: CLUSTER_CIDR,
      serviceCIDR: '10.96.0.0/16',
      healthChecks: true,
    });
    proxies.push(proxy);
    await proxy.start();
    const tr = proxy.tracker;
    const allThree = [{ ip: p1.ip }, { ip: p2.ip }, { ip: p3.ip }];

    await t.test('ClusterIP spreads new connections over all endpoints', async () => {
      tr.serviceUpdated(service({ name: 'web', clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }] }));
      tr.sliceUpdated(slice('web', [{ name: 'http', port: 8080 }], allThree));
      await proxy.syncNow();
      const answers = await lab.requests(lab.client, 'http://10.96.0.10/', 300);
      const counts = countBy(answers.map((a) => a.pod ?? a.error));
      assert.deepEqual([...counts.keys()].sort(), ['pod1', 'pod2', 'pod3'], `answers: ${JSON.stringify([...counts])}`);
      // 2 degrees of freedom: 13.8 is p = 0.001, generous on purpose.
      assert.ok(chiSquare([...counts.values()]) < 13.8, `uneven spread ${JSON.stringify([...counts])}`);
      // From outside the cluster CIDR a ClusterIP is masqueraded: the pod sees the node.
      assert.ok(answers.every((a) => a.client === '10.244.1.1'), `client addresses ${JSON.stringify(countBy(answers.map((a) => a.client)))}`);
    });

    await t.test('a pod reaching itself through its Service (hairpin) gets answers', async () => {
      const answers = await lab.requests(p1.ns, 'http://10.96.0.10/', 30);
      assert.ok(answers.every((a) => a.pod), JSON.stringify(answers.filter((a) => a.error)));
      assert.ok(answers.some((a) => a.pod === 'pod1'), 'pod1 was chosen at least once in 30 tries');
      const fromOther = (await lab.requests(p2.ns, 'http://10.96.0.10/', 10)).filter((a) => a.pod !== 'pod2');
      assert.ok(fromOther.every((a) => a.client === p2.ip), 'pod to pod keeps the pod source address');
    });

    await t.test('sessionAffinity ClientIP keeps a client on one endpoint', async () => {
      tr.serviceUpdated(service({ name: 'sticky', clusterIP: '10.96.0.11', sessionAffinity: 'ClientIP', affinityTimeout: 600 }));
      tr.sliceUpdated(slice('sticky', [{ name: 'http', port: 8080 }], allThree));
      await proxy.syncNow();
      const answers = await lab.requests(lab.client, 'http://10.96.0.11/', 40);
      const pods = new Set(answers.map((a) => a.pod ?? a.error));
      assert.equal(pods.size, 1, `one client, one endpoint: ${JSON.stringify([...pods])}`);
    });

    await t.test('NodePort reaches endpoints through the node address', async () => {
      tr.serviceUpdated(service({ name: 'np', clusterIP: '10.96.0.12', type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] }));
      tr.sliceUpdated(slice('np', [{ name: 'http', port: 8080 }], allThree));
      await proxy.syncNow();
      const answers = await lab.requests(lab.client, `http://${NODE_IP}:30080/`, 60);
      assert.deepEqual([...new Set(answers.map((a) => a.pod ?? a.error))].sort(), ['pod1', 'pod2', 'pod3']);
      assert.ok(answers.every((a) => a.client === '10.244.1.1'), 'externalTrafficPolicy Cluster masquerades');
    });

    await t.test('externalIPs reach the endpoints, masqueraded', async () => {
      tr.serviceUpdated({ ...service({ name: 'extip', clusterIP: '10.96.0.20' }), spec: { ...service({ name: 'extip', clusterIP: '10.96.0.20' }).spec, externalIPs: ['172.31.255.9'] } });
      tr.sliceUpdated(slice('extip', [{ name: 'http', port: 8080 }], allThree));
      await proxy.syncNow();
      const answers = await lab.requests(lab.client, 'http://172.31.255.9/', 30);
      assert.equal(new Set(answers.map((a) => a.pod ?? a.error)).size, 3, JSON.stringify(answers.filter((a) => a.error)));
      assert.ok(answers.every((a) => a.client === '10.244.1.1'));
    });

    await t.test('a Service without endpoints refuses connections at once', async () => {
      tr.serviceUpdated(service({ name: 'empty', clusterIP: '10.96.0.13', type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30081 }] }));
      tr.sliceUpdated(slice('empty', [{ name: 'http', port: 8080 }], []));
      await proxy.syncNow();
      const [viaVip] = await lab.requests(lab.client, 'http://10.96.0.13/', 1, 5000);
      assert.equal(viaVip.error, 'ECONNREFUSED');
      const [viaNodePort] = await lab.requests(lab.client, `http://${NODE_IP}:30081/`, 1, 5000);
      assert.equal(viaNodePort.error, 'ECONNREFUSED');
      // From the node itself (output hook) too.
      const [fromNode] = await lab.requests(lab.node, 'http://10.96.0.13/', 1, 5000);
      assert.equal(fromNode.error, 'ECONNREFUSED');
    });

    await t.test('externalTrafficPolicy Local keeps the client address and only local endpoints', async () => {
      tr.serviceUpdated(
        service({
          name: 'local',
          clusterIP: '10.96.0.14',
          type: 'LoadBalancer',
          loadBalancerIP: '172.31.255.1',
          externalTrafficPolicy: 'Local',
          healthCheckNodePort: 32000,
          ports: [{ name: 'http', port: 80, nodePort: 30082 }],
        }),
      );
      tr.sliceUpdated(slice('local', [{ name: 'http', port: 8080 }], [{ ip: p1.ip }, { ip: p2.ip, node: 'node-b' }, { ip: p3.ip, node: 'node-b' }]));
      await proxy.syncNow();
      for (const url of [`http://${NODE_IP}:30082/`, 'http://172.31.255.1/']) {
        const answers = await lab.requests(lab.client, url, 20);
        assert.deepEqual([...new Set(answers.map((a) => a.pod ?? a.error))], ['pod1'], url);
        assert.ok(answers.every((a) => a.client === CLIENT_IP), `${url}: client address kept`);
      }
      // ClusterIP traffic still uses every endpoint.
      const viaVip = await lab.requests(lab.client, 'http://10.96.0.14/', 40);
      assert.equal(new Set(viaVip.map((a) => a.pod)).size, 3);
      // Pods reaching the LoadBalancer IP or node port short-circuit to every endpoint.
      for (const url of ['http://172.31.255.1/', `http://${NODE_IP}:30082/`]) {
        const fromPod = await lab.requests(p3.ns, url, 40);
        assert.equal(new Set(fromPod.map((a) => a.pod ?? a.error)).size, 3, `${url} from a pod: ${JSON.stringify([...new Set(fromPod.map((a) => a.pod ?? a.error))])}`);
      }
      const health = await lab.requests(lab.client, `http://${NODE_IP}:32000/`, 1);
      assert.deepEqual(health[0], { service: { namespace: 'default', name: 'local' }, localEndpoints: 1, serviceProxyHealthy: true, status: 200 });
      // No local endpoint: dropped (not rejected), health check says 503.
      tr.sliceUpdated(slice('local', [{ name: 'http', port: 8080 }], [{ ip: p2.ip, node: 'node-b' }]));
      await proxy.syncNow();
      const [dropped] = await lab.requests(lab.client, `http://${NODE_IP}:30082/`, 1, 800);
      assert.equal(dropped.error, 'timeout');
      const [unhealthy] = await lab.requests(lab.client, `http://${NODE_IP}:32000/`, 1);
      assert.equal(unhealthy.status, 503);
      assert.equal(unhealthy.localEndpoints, 0);
    });

    await t.test('internalTrafficPolicy Local sends ClusterIP traffic to node-local endpoints only', async () => {
      tr.serviceUpdated(service({ name: 'itp', clusterIP: '10.96.0.18', internalTrafficPolicy: 'Local' }));
      tr.sliceUpdated(slice('itp', [{ name: 'http', port: 8080 }], [{ ip: p1.ip, node: 'node-b' }, { ip: p2.ip }, { ip: p3.ip, node: 'node-b' }]));
      await proxy.syncNow();
      const answers = await lab.requests(p1.ns, 'http://10.96.0.18/', 20);
      assert.deepEqual([...new Set(answers.map((a) => a.pod ?? a.error))], ['pod2']);
    });

    await t.test('serving-but-terminating endpoints are used only when nothing is ready', async () => {
      tr.serviceUpdated(service({ name: 'drain', clusterIP: '10.96.0.19' }));
      tr.sliceUpdated(slice('drain', [{ name: 'http', port: 8080 }], [{ ip: p1.ip, ready: false, serving: true, terminating: true }, { ip: p2.ip, ready: false, serving: false, terminating: true }]));
      await proxy.syncNow();
      const draining = await lab.requests(lab.client, 'http://10.96.0.19/', 10);
      assert.deepEqual([...new Set(draining.map((a) => a.pod ?? a.error))], ['pod1']);
      tr.sliceUpdated(slice('drain', [{ name: 'http', port: 8080 }], [{ ip: p1.ip, ready: false, serving: true, terminating: true }, { ip: p3.ip }]));
      await proxy.syncNow();
      const ready = await lab.requests(lab.client, 'http://10.96.0.19/', 10);
      assert.deepEqual([...new Set(ready.map((a) => a.pod ?? a.error))], ['pod3']);
    });

    await t.test('loadBalancerSourceRanges drops other sources', async () => {
      tr.serviceUpdated(
        service({ name: 'ranged', clusterIP: '10.96.0.15', type: 'LoadBalancer', loadBalancerIP: '172.31.255.2', loadBalancerSourceRanges: ['10.0.0.0/8'], ports: [{ name: 'http', port: 80, nodePort: 30083 }] }),
      );
      tr.sliceUpdated(slice('ranged', [{ name: 'http', port: 8080 }], allThree));
      await proxy.syncNow();
      const [blocked] = await lab.requests(lab.client, 'http://172.31.255.2/', 1, 800);
      assert.equal(blocked.error, 'timeout');
      tr.serviceUpdated(
        service({ name: 'ranged', clusterIP: '10.96.0.15', type: 'LoadBalancer', loadBalancerIP: '172.31.255.2', loadBalancerSourceRanges: ['10.0.0.0/8', '172.31.0.0/24'], ports: [{ name: 'http', port: 80, nodePort: 30083 }] }),
      );
      await proxy.syncNow();
      const [allowed] = await lab.requests(lab.client, 'http://172.31.255.2/', 1);
      assert.ok(allowed.pod, JSON.stringify(allowed));
    });

    await t.test('removed UDP endpoints lose their conntrack entries', async () => {
      tr.serviceUpdated(service({ name: 'dns', clusterIP: '10.96.0.16', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }));
      tr.sliceUpdated(slice('dns', [{ name: 'dns', port: 5353, protocol: 'UDP' }], allThree));
      await proxy.syncNow();
      const [first, again] = await lab.udp(lab.client, '10.96.0.16', 53, 40000, 2);
      assert.match(first, /^pod\d$/);
      assert.equal(again, first, 'one UDP flow sticks to its endpoint');
      const rest = allThree.filter((e) => e.ip !== lab.pods.find((p) => p.name === first)!.ip);
      tr.sliceUpdated(slice('dns', [{ name: 'dns', port: 5353, protocol: 'UDP' }], rest));
      await proxy.syncNow();
      const [after] = await lab.udp(lab.client, '10.96.0.16', 53, 40000, 1);
      assert.notEqual(after, first, 'the flow moved off the removed endpoint');
      assert.match(after, /^pod\d$/);
    });

    await t.test('an established TCP connection survives unrelated endpoint changes', async () => {
      tr.serviceUpdated(service({ name: 'echo', clusterIP: '10.96.0.17', ports: [{ name: 'echo', port: 9000 }] }));
      tr.sliceUpdated(slice('echo', [{ name: 'echo', port: 9000 }], [{ ip: p1.ip }, { ip: p2.ip }]));
      await proxy.syncNow();
      const conn = await lab.openConnection(lab.client, '10.96.0.17', 9000);
      try {
        const before = await conn.send('one');
        assert.match(before, /^pod[12]:one$/);
        tr.sliceUpdated(slice('echo', [{ name: 'echo', port: 9000 }], [{ ip: p1.ip }, { ip: p2.ip }, { ip: p3.ip }]));
        tr.sliceUpdated(slice('web', [{ name: 'http', port: 8080 }], [{ ip: p3.ip }]));
        await proxy.syncNow();
        assert.equal(await conn.send('two'), before.replace('one', 'two'));
      } finally {
        conn.close();
      }
    });

    await t.test('rules() shows each Service with its endpoints', async () => {
      const text = await proxy.rules();
      assert.match(text, /default\/web:http\n {2}10\.96\.0\.10:80\/tcp\s+-> 10\.244\.1\.4:8080 \(100%\)/);
      assert.match(text, /default\/empty:http\n(.*\n)*? {2}10\.96\.0\.13:80\/tcp\s+-> reject \(no endpoints\)/);
      assert.match(text, /nodePort 30080\/tcp\s+-> (10\.244\.1\.\d:8080 \(33\.3%\)(, )?){3}/);
    });

    await t.test('`flatnet proxy rules --netns` prints the same from the kernel', async () => {
      const out = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'proxy', 'rules', '--netns', lab.node], { encoding: 'utf8' });
      const expected = (await proxy.rules()).replace(/^/gm, '  ').replace(/ +$/gm, '');
      assert.equal(out, `namespace ${lab.node} (${mode === 'iptables' ? 'iptables (nft)' : mode}):\n${expected}`);
    });

    await t.test('deleting a Service removes its rules and a full resync is idempotent', async () => {
      tr.serviceDeleted(service({ name: 'web', clusterIP: '10.96.0.10' }));
      await proxy.syncNow();
      const [gone] = await lab.requests(lab.client, 'http://10.96.0.10/', 1, 800);
      assert.ok(gone.error, 'no answer once the Service is gone');
      const before = await proxy.rules();
      await proxy.syncNow(true);
      assert.equal(await proxy.rules(), before);
      assert.doesNotMatch(before, /default\/web:/);
    });
  });
}
