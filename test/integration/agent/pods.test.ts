// The agent against a real API server, in a node namespace of its own: pods as namespaces
// with process and built-in containers, driven by the real kubectl.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { existsSync } from 'node:fs';
import { R } from '../../../src/api/resources.js';
import { connectInNetns } from '../../../src/linux/netns-socket.js';
import { httpGetInNetns } from '../../../src/workloads/agnhost.js';
import type { Pod } from '../../../src/agent/pod-types.js';
import { join } from 'node:path';
import { createPod, isReady, sandboxRecord, startAgentHarness, UNDERLAY_NETNS, waitFor, waitForPod, type AgentHarness } from './harness.js';

const NODE = 'n1';
const NODE_IP = '172.31.99.11';
const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.53';
let h: AgentHarness;

before(async () => {
  h = await startAgentHarness(NODE, NODE_IP);
  // The hostPort and hostNetwork pods below need the privileged Pod Security level (namespaces
  // enforce baseline by default); the namespace label is how upstream grants it.
  const label = await h.server.kubectl(['label', '--overwrite', 'namespace', 'default', ...['enforce', 'warn', 'audit'].map((m) => `pod-security.kubernetes.io/${m}=privileged`)]);
  assert.equal(label.code, 0, label.stderr);
});

after(async () => {
  await h?.stop();
});

const kubectl = (args: string[], input?: string) => h.server.kubectl(args, input);

async function podGet(client: AgentHarness['client'], name: string): Promise<Pod> {
  const p = await client.get<Pod>(R.pods, 'default', name);
  assert.ok(p, `pod ${name} exists`);
  return p;
}

test('the node registers: Ready, labels, addresses, kubelet endpoint and a heartbeat Lease', async () => {
  const node = await h.client.get(R.nodes, undefined, NODE);
  assert.ok(node);
  assert.equal(node.metadata.labels?.['kubernetes.io/hostname'], NODE);
  assert.equal(node.metadata.labels?.['kubernetes.io/os'], 'linux');
  assert.ok(!Object.keys(node.metadata.annotations ?? {}).some((k) => k.includes('kubelet')), 'the kubelet endpoint is in the status only');
  assert.deepEqual((node.status as { daemonEndpoints?: unknown }).daemonEndpoints, { kubeletEndpoint: { Port: 10250 } });
  const status = node.status as { conditions: { type: string; status: string; reason: string }[]; addresses: { type: string; address: string }[]; nodeInfo: { kubeletVersion: string } };
  assert.deepEqual(status.conditions.find((c) => c.type === 'Ready'), { ...status.conditions.find((c) => c.type === 'Ready'), status: 'True', reason: 'KubeletReady' });
  assert.equal(status.conditions.find((c) => c.type === 'NetworkUnavailable')?.status, 'False');
  assert.deepEqual(status.addresses, [{ type: 'InternalIP', address: NODE_IP }, { type: 'Hostname', address: NODE }]);
  assert.equal(status.nodeInfo.kubeletVersion, 'v1.32.0-flatnet');
  const lease = await h.client.get(R.leases, 'kube-node-lease', NODE);
  assert.equal((lease?.spec as { holderIdentity?: string }).holderIdentity, NODE);
  const get = await kubectl(['get', 'node', NODE]);
  assert.match(get.stdout, new RegExp(`${NODE}\\s+Ready`));
});

test('two containers of a pod share localhost; each sees the pod hostname, resolv.conf, hosts and env', async () => {
  await createPod(h.client, {
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      containers: [
        { name: 'netexec', image: AGNHOST, args: ['netexec', '--http-port=8080', '--udp-port=8081'], readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 } },
        {
          name: 'sidecar',
          image: 'busybox:1.36',
          command: ['sh', '-c', 'echo started; while true; do sleep 1; done'],
          env: [
            { name: 'MY_POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'MY_NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          ],
        },
      ],
    },
  });
  const pod = await waitForPod(h.client, 'default', 'web', isReady, 'Ready');
  assert.equal(pod.status?.phase, 'Running');
  assert.match(pod.status?.podIP ?? '', /^10\.244\.\d+\.\d+$/);
  assert.equal(pod.status?.hostIP, NODE_IP);
  const local = await kubectl(['exec', 'web', '-c', 'sidecar', '--', 'wget', '-qO-', 'http://localhost:8080/hostname']);
  assert.equal(local.stdout, 'web', local.stderr);
  const resolv = await kubectl(['exec', 'web', '-c', 'sidecar', '--', 'cat', '/etc/resolv.conf']);
  assert.equal(resolv.stdout, 'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n');
  const hosts = await kubectl(['exec', 'web', '-c', 'sidecar', '--', 'cat', '/etc/hosts']);
  assert.match(hosts.stdout, new RegExp(`^${pod.status!.podIP!.replace(/\./g, '\\.')}\\tweb$`, 'm'));
  const hostname = await kubectl(['exec', 'web', '-c', 'sidecar', '--', 'hostname']);
  assert.equal(hostname.stdout.trim(), 'web');
  const env = await kubectl(['exec', 'web', '-c', 'sidecar', '--', 'env']);
  assert.match(env.stdout, new RegExp(`^MY_POD_IP=${pod.status!.podIP}$`, 'm'));
  assert.match(env.stdout, new RegExp(`^MY_NODE=${NODE}$`, 'm'));
  assert.match(env.stdout, /^HOSTNAME=web$/m);
  assert.match(env.stdout, /^KUBERNETES_SERVICE_HOST=10\.96\.0\.1$/m);
});

test('the node reaches its pods, and a pod sees another pod\'s own IP (no NAT)', async () => {
  await createPod(h.client, { metadata: { name: 'client', namespace: 'default' }, spec: { containers: [{ name: 'c', image: AGNHOST, args: ['netexec', '--http-port=8080'] }] } });
  const client = await waitForPod(h.client, 'default', 'client', isReady, 'Ready');
  const web = await podGet(h.client, 'web');
  assert.equal(await httpGetInNetns(h.nodeNetns, web.status!.podIP!, 8080, '/hostname', 5000), 'web');
  const dial = JSON.parse(await httpGetInNetns(h.nodeNetns, client.status!.podIP!, 8080, `/dial?request=clientip&protocol=http&host=${web.status!.podIP}&port=8080&tries=2`, 10_000)) as { responses: string[]; errors: string[] };
  assert.deepEqual(dial.errors, []);
  assert.equal(dial.responses.length, 2);
  for (const r of dial.responses) assert.equal(r.split(':')[0], client.status!.podIP);
  const udp = JSON.parse(await httpGetInNetns(h.nodeNetns, client.status!.podIP!, 8080, `/dial?request=hostname&protocol=udp&host=${web.status!.podIP}&port=8081`, 10_000)) as { responses: string[] };
  assert.deepEqual(udp.responses, ['web']);
  const echo = await httpGetInNetns(h.nodeNetns, web.status!.podIP!, 8080, '/echo?msg=hello%20there', 5000);
  assert.equal(echo, 'hello there');
});

test('kubectl exec: exit codes, stdin, stderr, an unknown program', async () => {
  const three = await kubectl(['exec', 'web', '-c', 'sidecar', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(three.code, 3);
  assert.equal(three.stdout, 'out\n');
  assert.match(three.stderr, /err\ncommand terminated with exit code 3/);
  const cat = await kubectl(['exec', '-i', 'web', '-c', 'sidecar', '--', 'cat'], 'through stdin\n');
  assert.equal(cat.stdout, 'through stdin\n');
  const missing = await kubectl(['exec', 'web', '-c', 'sidecar', '--', 'no-such-program']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /no-such-program.*not found/);
});

test('kubectl logs: a restarted container, --previous, --tail, --timestamps, CrashLoopBackOff', async () => {
  await createPod(h.client, {
    metadata: { name: 'crasher', namespace: 'default' },
    spec: { containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'for i in 0 1 2; do echo line $i; done; echo oops >&2; exit 7'] }] },
  });
  const pod = await waitForPod(h.client, 'default', 'crasher', (p) => p.status?.containerStatuses?.[0]?.state.waiting?.reason === 'CrashLoopBackOff', 'in CrashLoopBackOff');
  const cs = pod.status!.containerStatuses![0];
  assert.ok(cs.restartCount >= 1);
  assert.equal(cs.lastState.terminated?.exitCode, 7);
  assert.equal(cs.lastState.terminated?.reason, 'Error');
  assert.match(cs.state.waiting?.message ?? '', /^back-off 10s restarting failed container=c pod=crasher_default/);
  assert.equal(pod.status?.phase, 'Running');
  const logs = await kubectl(['logs', 'crasher']);
  assert.equal(logs.stdout, 'line 0\nline 1\nline 2\noops\n');
  const tail = await kubectl(['logs', 'crasher', '--tail=1', '--timestamps']);
  assert.match(tail.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z oops\n$/);
  const previous = await kubectl(['logs', 'crasher', '--previous']);
  assert.equal(previous.stdout, 'line 0\nline 1\nline 2\noops\n');
  const get = await kubectl(['get', 'pod', 'crasher']);
  assert.match(get.stdout, /crasher\s+0\/1\s+CrashLoopBackOff/);
});

test('kubectl logs -f follows until the container ends', async () => {
  await createPod(h.client, {
    metadata: { name: 'ticker', namespace: 'default' },
    spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'sleep 1; for i in 1 2 3; do echo tick $i; sleep 0.3; done'] }] },
  });
  await waitForPod(h.client, 'default', 'ticker', (p) => p.status?.phase === 'Running', 'Running');
  const follow = await kubectl(['logs', '-f', 'ticker']);
  assert.equal(follow.stdout, 'tick 1\ntick 2\ntick 3\n');
  const done = await waitForPod(h.client, 'default', 'ticker', (p) => p.status?.phase === 'Succeeded', 'Succeeded');
  assert.equal(done.status?.containerStatuses?.[0].state.terminated?.reason, 'Completed');
});

/** Runs `kubectl port-forward <target> <port>:<remote>` and expects /hostname through it, twice. */
async function expectForwardedHostname(target: string, remotePort: number, hostname: string): Promise<void> {
  const port = 18000 + Math.floor(Math.random() * 1000);
  const pf = spawn('kubectl', ['--kubeconfig', h.server.kubeconfig, 'port-forward', target, `${port}:${remotePort}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await waitFor('port-forward to listen', () => new Promise<boolean | undefined>((resolve) => pf.stdout.once('data', (d: Buffer) => resolve(d.toString().includes('Forwarding') || undefined))));
    for (let i = 0; i < 2; i++) {
      const body = await new Promise<string>((resolve, reject) => {
        const c = spawn('curl', ['-sS', '-m', '5', `http://127.0.0.1:${port}/hostname`]);
        let out = '';
        c.stdout.on('data', (d: Buffer) => (out += d.toString()));
        c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`curl exited ${code}`))));
      });
      assert.equal(body, hostname);
    }
  } finally {
    pf.kill();
  }
}

test('kubectl port-forward reaches a port of the pod (SPDY inside WebSocket)', async () => {
  await expectForwardedHostname('pod/web', 8080, 'web');
});

test('kubectl port-forward service/x picks a ready pod of the Service and its target port', async () => {
  await kubectl(['label', 'pod', 'web', 'app=web', '--overwrite']);
  const svc = await kubectl(['create', 'service', 'clusterip', 'web-svc', '--tcp=80:8080']);
  assert.equal(svc.code, 0, svc.stderr);
  await kubectl(['set', 'selector', 'service', 'web-svc', 'app=web']);
  await expectForwardedHostname('service/web-svc', 80, 'web');
});

test('@kubernetes/client-node port-forward (the WebSocket channel protocol with ?ports=) and exec', async () => {
  const { KubeConfig, PortForward, Exec } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(h.server.kubeconfig);
  const forward = new PortForward(kc);
  const local = net.createServer((sock) => void forward.portForward('default', 'web', [8080], sock, null, sock));
  await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve));
  try {
    const port = (local.address() as net.AddressInfo).port;
    const body = await new Promise<string>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/hostname', agent: false }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    assert.equal(body, 'web');
  } finally {
    local.close();
  }
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  const status = await new Promise<{ status?: string }>((resolve, reject) => {
    void new Exec(kc).exec('default', 'web', 'sidecar', ['sh', '-c', 'echo via-client-node'], out, null, null, false, (s) => resolve(s as { status?: string })).catch(reject);
  });
  assert.equal(status.status, 'Success');
  assert.equal(text, 'via-client-node\n');
});

test('kubectl run --rm -i attaches to the container\'s stdin and reports its exit code', async () => {
  const result = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const c = spawn('kubectl', ['--kubeconfig', h.server.kubeconfig, 'run', 'attached', '--rm', '-i', '--image=busybox', '--restart=Never', '--', 'sh'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    c.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('try pressing enter')) c.stdin.end('echo hello-from-attach; hostname; exit 4\n');
    });
    c.on('close', (code) => resolve({ code, out, err }));
  });
  assert.equal(result.code, 4, result.err);
  assert.match(result.out, /hello-from-attach\nattached\n/);
  await waitFor('the attached pod to be deleted', async () => ((await h.client.get(R.pods, 'default', 'attached')) ? undefined : true));
});

test('probes: readiness from an exec probe drives Ready; a failing liveness probe restarts the container', async () => {
  const flag = `/tmp/flatnet-t-agent-ready-${process.pid}`;
  await createPod(h.client, {
    metadata: { name: 'probed', namespace: 'default' },
    spec: {
      containers: [
        { name: 'app', image: 'busybox', command: ['sh', '-c', 'while true; do sleep 1; done'], readinessProbe: { exec: { command: ['test', '-f', flag] }, periodSeconds: 1, failureThreshold: 1 } },
        { name: 'live', image: AGNHOST, args: ['pause'], livenessProbe: { tcpSocket: { port: 9999 }, periodSeconds: 1, failureThreshold: 2 } },
      ],
    },
  });
  const running = await waitForPod(h.client, 'default', 'probed', (p) => p.status?.containerStatuses?.find((c) => c.name === 'app')?.state.running !== undefined, 'app running');
  assert.equal(isReady(running), false);
  await kubectl(['exec', 'probed', '-c', 'app', '--', 'touch', flag]);
  await waitForPod(h.client, 'default', 'probed', (p) => p.status?.containerStatuses?.find((c) => c.name === 'app')?.ready === true, 'app ready');
  await kubectl(['exec', 'probed', '-c', 'app', '--', 'rm', flag]);
  const unready = await waitForPod(h.client, 'default', 'probed', (p) => p.status?.containerStatuses?.find((c) => c.name === 'app')?.ready === false, 'app unready again');
  assert.match(unready.status!.conditions!.find((c) => c.type === 'Ready')!.message ?? '', /containers with unready status: \[.*app.*\]/);
  const restarted = await waitForPod(h.client, 'default', 'probed', (p) => (p.status?.containerStatuses?.find((c) => c.name === 'live')?.restartCount ?? 0) >= 1, 'live restarted');
  assert.ok(restarted.status!.containerStatuses!.find((c) => c.name === 'live')!.restartCount >= 1);
  const events = await kubectl(['get', 'events', '--field-selector', 'involvedObject.name=probed']);
  assert.match(events.stdout, /Unhealthy/);
  // The agent reports as upstream's kubelet does: component kubelet, the node as host and instance.
  const recorded = await h.client.list(R.events, { namespace: 'default', fieldSelector: 'involvedObject.name=probed' });
  const fromNode = (recorded.items as unknown as { reason: string; source?: { component?: string; host?: string }; reportingComponent?: string; reportingInstance?: string }[]).filter((ev) => ev.reportingComponent !== 'default-scheduler');
  assert.ok(fromNode.some((ev) => ev.reason === 'Unhealthy'), JSON.stringify(fromNode.map((ev) => ev.reason)));
  for (const ev of fromNode) {
    assert.deepEqual([ev.source?.component, ev.source?.host, ev.reportingComponent, ev.reportingInstance], ['kubelet', NODE, 'kubelet', NODE], ev.reason);
  }
});

test('an unknown image waits with ImageNotBuiltIn and names the built-in images', async () => {
  await createPod(h.client, { metadata: { name: 'unknown', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'docker.io/library/redis:7' }] } });
  const pod = await waitForPod(h.client, 'default', 'unknown', (p) => p.status?.containerStatuses?.[0]?.state.waiting?.reason === 'ImageNotBuiltIn', 'waiting ImageNotBuiltIn');
  assert.equal(pod.status?.phase, 'Pending');
  const msg = pod.status!.containerStatuses![0].state.waiting!.message!;
  for (const name of ['agnhost', 'nginx', 'httpd', 'busybox', 'pause']) assert.ok(msg.includes(name), `the message names ${name}: ${msg}`);
  const get = await kubectl(['get', 'pod', 'unknown']);
  assert.match(get.stdout, /unknown\s+0\/1\s+ImageNotBuiltIn/);
});

test('hostPort: the node address forwards to the pod', async () => {
  await createPod(h.client, { metadata: { name: 'hp', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80, hostPort: 18080 }] }] } });
  await waitForPod(h.client, 'default', 'hp', isReady, 'Ready');
  const page = await httpGetInNetns(UNDERLAY_NETNS, NODE_IP, 18080, '/', 5000);
  assert.match(page, /Welcome to nginx!/);
});

test('init containers run first; a missing ConfigMap holds the container until it exists', async () => {
  await createPod(h.client, {
    metadata: { name: 'initpod', namespace: 'default' },
    spec: {
      initContainers: [{ name: 'setup', image: 'busybox', command: ['sh', '-c', 'sleep 1; echo init done'] }],
      containers: [{ name: 'app', image: 'busybox', command: ['sh', '-c', 'echo mode=$MODE; sleep 3600'], env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'late-cm', key: 'mode' } } }] }],
    },
  });
  const initializing = await waitForPod(h.client, 'default', 'initpod', (p) => p.status?.initContainerStatuses?.[0]?.state.running !== undefined, 'init running');
  assert.equal(initializing.status?.containerStatuses?.[0].state.waiting?.reason, 'PodInitializing');
  assert.match((await kubectl(['get', 'pod', 'initpod'])).stdout, /Init:0\/1/);
  const blocked = await waitForPod(h.client, 'default', 'initpod', (p) => p.status?.containerStatuses?.[0]?.state.waiting?.reason === 'CreateContainerConfigError', 'CreateContainerConfigError');
  assert.match(blocked.status!.containerStatuses![0].state.waiting!.message!, /configmap "late-cm" not found/);
  assert.equal(blocked.status?.initContainerStatuses?.[0].state.terminated?.exitCode, 0);
  await h.client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late-cm', namespace: 'default' }, data: { mode: 'fast' } });
  await waitForPod(h.client, 'default', 'initpod', isReady, 'Ready once the ConfigMap exists');
  assert.equal((await kubectl(['logs', 'initpod', '-c', 'setup'])).stdout, 'init done\n');
  await waitFor('the app log', async () => ((await kubectl(['logs', 'initpod'])).stdout === 'mode=fast\n' ? true : undefined));
});

test('hostNetwork pods run in the node namespace with the node address', async () => {
  await createPod(h.client, {
    metadata: { name: 'hostnet', namespace: 'default' },
    spec: {
      hostNetwork: true,
      containers: [
        { name: 'netexec', image: AGNHOST, args: ['netexec', '--http-port=18181', '--udp-port=-1'], ports: [{ containerPort: 18181, hostPort: 18181 }] },
        { name: 'shell', image: 'busybox', command: ['sleep', '3600'] },
      ],
    },
  });
  const pod = await waitForPod(h.client, 'default', 'hostnet', isReady, 'Ready');
  assert.equal(pod.status?.podIP, NODE_IP);
  assert.equal(await httpGetInNetns(UNDERLAY_NETNS, NODE_IP, 18181, '/hostname', 5000), 'hostnet');
  const addr = await kubectl(['exec', 'hostnet', '-c', 'shell', '--', 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
  assert.match(addr.stdout, new RegExp(NODE_IP.replace(/\./g, '\\.')));
  await kubectl(['delete', 'pod', 'hostnet']);
  assert.equal(await h.client.get(R.pods, 'default', 'hostnet'), undefined);
});

test('deletion: SIGTERM reaches the process, the sandbox goes, a recreated pod gets a new IP', async () => {
  await createPod(h.client, {
    metadata: { name: 'graceful', namespace: 'default' },
    spec: { terminationGracePeriodSeconds: 5, containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', "trap 'echo got TERM; exit 0' TERM; echo up; while true; do sleep 0.1; done"] }] },
  });
  const first = await waitForPod(h.client, 'default', 'graceful', isReady, 'Ready');
  const netns = sandboxRecord(h.dataDir, first.metadata.uid!).netns;
  const logPath = join(h.dataDir, 'pods', `default_graceful_${first.metadata.uid}`, 'c', '0.log');
  assert.ok(existsSync(`/var/run/netns/${netns}`));
  const { readLogFile } = await import('../../../src/agent/container-log.js');
  // Ready means the process was started, not that the shell has run its script: a TERM sent before
  // `trap` ran kills the shell silently (or, before the container's PID 1 exists, reaches no one).
  // "up" is printed after the trap is set, so the deletion waits for it.
  await waitFor('the container to print "up" (its TERM trap is set)', () => (readLogFile(logPath).some((e) => e.text === 'up') ? true : undefined));
  const del = await kubectl(['delete', 'pod', 'graceful']);
  assert.equal(del.code, 0, del.stderr);
  assert.equal(await h.client.get(R.pods, 'default', 'graceful'), undefined);
  assert.equal(existsSync(`/var/run/netns/${netns}`), false, 'the pod namespace is gone');
  // The pod is deleted only after its container exited, and the log takes the container's output
  // before its exit is seen (stdio closed): the log is complete now.
  assert.deepEqual(readLogFile(logPath).map((e) => e.text), ['up', 'got TERM']);
  await createPod(h.client, { metadata: { name: 'graceful', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'pause' }] } });
  const second = await waitForPod(h.client, 'default', 'graceful', isReady, 'Ready');
  assert.notEqual(second.metadata.uid, first.metadata.uid);
  assert.notEqual(second.status?.podIP, first.status?.podIP);
});

test('a restarted agent adopts running pods: same IP, containers started again', async () => {
  const before = await podGet(h.client, 'web');
  await h.stopAgent();
  const stillThere = await httpGetInNetns(h.nodeNetns, before.status!.podIP!, 8080, '/hostname', 2000).catch((err: Error) => err.message);
  assert.match(stillThere, /ECONNREFUSED/, 'the built-in server lived in the stopped agent');
  await h.startAgent();
  const after = await waitForPod(h.client, 'default', 'web', (p) => isReady(p) && p.status?.containerStatuses?.[0]?.state.running?.startedAt !== before.status?.containerStatuses?.[0]?.state.running?.startedAt, 'Ready again after the agent restart');
  assert.equal(after.status?.podIP, before.status?.podIP);
  assert.equal(await httpGetInNetns(h.nodeNetns, after.status!.podIP!, 8080, '/hostname', 5000), 'web');
  const sock = await connectInNetns(h.nodeNetns, after.status!.podIP!, 8080);
  sock.destroy();
});
